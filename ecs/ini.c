/*
 * The AWS shared config and credentials file parser. It reads what
 * botocore's configparser (RawConfigParser) reads: "[section]" headers,
 * "key = value" or "key: value" lines, full-line '#' and ';' comments,
 * continuation lines indented deeper than their key, and a key with an
 * empty value followed by indented "child = value" lines, which becomes
 * "key.child" entries. Keys match case-insensitively (configparser lowers
 * them), sub-keys and section names exactly, and a "[DEFAULT]" section
 * supplies keys to every other section.
 *
 * Where botocore refuses a whole file, this parser keeps going: lines
 * outside a section and lines without '=' or ':' are skipped, and a key
 * or section given twice takes its last value (as the Java SDK does).
 * A '#' or ';' after whitespace starts a comment, as the Java and C++
 * SDKs read it (botocore and the CLI keep such text in the value).
 */
#include "ecs/ini.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecs/buf.h"
#include "ecs/xmalloc.h"

struct ini_entry {
	char	*section;
	char	*key;		/* lowercased; "parent.child" for a sub-key */
	size_t	 plen;		/* length of the parent in a sub-key, else 0 */
	char	*value;
};

struct ini {
	struct ini_entry	*entries;
	size_t			 nentries;
	char			**sections;
	size_t			 nsections;
};

/* The key being read, kept until its continuation lines have been seen. */
struct ini_pending {
	int		 open;
	char		*section;	/* borrowed from ini->sections */
	char		*key;
	struct buf	 value;		/* configparser's lines joined by '\n' */
};

#define INI_DEFAULT	"DEFAULT"

/* Returns the stored name of section, or NULL. */
static char *
ini_find_section(const struct ini *ini, const char *section)
{
	size_t i;

	for (i = 0; i < ini->nsections; i++) {
		if (strcmp(ini->sections[i], section) == 0)
			return ini->sections[i];
	}
	return NULL;
}

/* Returns the stored name of section, adding it if new. */
static char *
ini_add_section(struct ini *ini, const char *section)
{
	char *s;

	if ((s = ini_find_section(ini, section)) != NULL)
		return s;
	ini->sections = xrealloc(ini->sections,
	    (ini->nsections + 1) * sizeof(*ini->sections));
	s = xstrdup(section);
	ini->sections[ini->nsections++] = s;
	return s;
}

/* Whether entry e is key (the parent part case-insensitively, a child exactly). */
static int
ini_key_match(const struct ini_entry *e, const char *key)
{
	if (e->plen == 0)
		return strcasecmp(e->key, key) == 0;
	return strncasecmp(e->key, key, e->plen) == 0 && key[e->plen] == '.' &&
	    strcmp(e->key + e->plen + 1, key + e->plen + 1) == 0;
}

/* Returns the entry for key in section, or NULL. */
static struct ini_entry *
ini_find(const struct ini *ini, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ini->nentries; i++) {
		if (ini->entries[i].section == section &&
		    ini_key_match(&ini->entries[i], key))
			return &ini->entries[i];
	}
	return NULL;
}

/* Stores key = value in section (a stored name); a later value replaces an earlier one. */
static void
ini_set(struct ini *ini, char *section, const char *key, size_t plen,
    const char *value)
{
	struct ini_entry *e;
	char *k;
	size_t i;

	k = xstrdup(key);
	for (i = 0; k[i] != '\0' && (plen == 0 || i < plen); i++)
		k[i] = (char)tolower((unsigned char)k[i]);
	if ((e = ini_find(ini, section, k)) != NULL) {
		free(e->value);
		e->value = xstrdup(value);
		free(k);
		return;
	}
	ini->entries = xrealloc(ini->entries,
	    (ini->nentries + 1) * sizeof(*ini->entries));
	e = &ini->entries[ini->nentries++];
	e->section = section;
	e->key = k;
	e->plen = plen;
	e->value = xstrdup(value);
}

/* Trims trailing whitespace in place. */
static void
ini_rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Trims leading and trailing whitespace in place. */
static char *
ini_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	ini_rtrim(s);
	return s;
}

/*
 * Stores a finished key. A value that starts with an empty line is a
 * sub-section (botocore's _parse_nested): each "child = value" line
 * becomes "key.child"; a line without '=' there is skipped.
 */
static void
ini_finish(struct ini *ini, struct ini_pending *p)
{
	char *v, *line, *next, *eq, *child, *full;

	if (!p->open)
		return;
	buf_adds(&p->value, "");
	v = p->value.data;
	ini_rtrim(v);
	if (v[0] == '\n') {
		ini_set(ini, p->section, p->key, 0, "");
		for (line = v + 1; line != NULL; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			line = ini_trim(line);
			if (*line == '\0' || (eq = strchr(line, '=')) == NULL)
				continue;
			*eq = '\0';
			child = ini_trim(line);
			if (*child == '\0')
				continue;
			full = xasprintf("%s.%s", p->key, child);
			ini_set(ini, p->section, full, strlen(p->key),
			    ini_trim(eq + 1));
			free(full);
		}
	} else
		ini_set(ini, p->section, p->key, 0, v);
	free(p->key);
	p->key = NULL;
	buf_free(&p->value);
	p->open = 0;
}

/* Cuts a comment off line: from a '#' or ';' that follows whitespace. Returns 1 if it did. */
static int
ini_strip_comment(char *line)
{
	char *s;

	for (s = line; *s != '\0'; s++) {
		if ((*s == '#' || *s == ';') && s > line &&
		    isspace((unsigned char)s[-1])) {
			*s = '\0';
			return 1;
		}
	}
	return 0;
}

/*
 * Turns the text inside "[...]" into a section name: trimmed, and for
 * "profile NAME" with the whitespace in between reduced to one space and
 * quotes around NAME removed, as botocore's shlex split does.
 */
static char *
ini_section_name(char *h)
{
	char *name;
	size_t n;

	h = ini_trim(h);
	if (strncmp(h, "profile", 7) != 0 || !isspace((unsigned char)h[7]))
		return xstrdup(h);
	name = ini_trim(h + 7);
	n = strlen(name);
	if (n >= 2 && (name[0] == '"' || name[0] == '\'') &&
	    name[n - 1] == name[0]) {
		name[n - 1] = '\0';
		name++;
	}
	return xasprintf("profile %s", name);
}

/* Handles one line (without its end-of-line); see the file comment. */
static void
ini_line(struct ini *ini, char *line, char **cursect, size_t *indent,
    struct ini_pending *p)
{
	char *v, *close, *name, *delim, *key;
	size_t ind;
	int commented;

	commented = ini_strip_comment(line);
	v = ini_trim(line);
	if (*v == '#' || *v == ';')
		return;
	if (*v == '\0') {
		/* An empty line inside a value is kept, a comment line is not. */
		if (p->open && !commented)
			buf_addc(&p->value, '\n');
		return;
	}
	ind = (size_t)(v - line);
	if (p->open && ind > *indent) {
		buf_addc(&p->value, '\n');
		buf_adds(&p->value, v);
		return;
	}
	ini_finish(ini, p);
	*indent = ind;
	if (v[0] == '[' && (close = strrchr(v, ']')) != NULL && close > v + 1) {
		*close = '\0';
		name = ini_section_name(v + 1);
		/* Keys under a blank header belong nowhere. */
		*cursect = *name != '\0' ? ini_add_section(ini, name) : NULL;
		free(name);
		return;
	}
	if (*cursect == NULL)
		return;
	delim = v + strcspn(v, "=:");
	if (*delim == '\0')
		return;
	*delim = '\0';
	key = ini_trim(v);
	if (*key == '\0')
		return;
	p->open = 1;
	p->section = *cursect;
	p->key = xstrdup(key);
	buf_init(&p->value);
	buf_adds(&p->value, ini_trim(delim + 1));
}

struct ini *
ini_parse(const char *text, size_t len)
{
	struct ini *ini;
	struct ini_pending p;
	char *copy, *line, *end, *cursect = NULL;
	size_t indent = 0;

	memset(&p, 0, sizeof(p));
	ini = xcalloc(1, sizeof(*ini));
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	line = copy;
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	while (line < copy + len) {
		/* A line ends at "\n", "\r\n" or a lone "\r" (universal newlines). */
		end = line + strcspn(line, "\r\n");
		if (end < copy + len) {
			if (end[0] == '\r' && end[1] == '\n')
				*end++ = '\0';
			*end++ = '\0';
		}
		ini_line(ini, line, &cursect, &indent, &p);
		line = end;
		if (end >= copy + len)
			break;
	}
	ini_finish(ini, &p);
	free(copy);
	return ini;
}

struct ini *
ini_load(const char *path)
{
	struct ini *ini = NULL;
	struct buf b;
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd, saved;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t)n);
	}
	ini = ini_parse(b.data != NULL ? b.data : "", b.len);
fail:
	saved = errno;
	close(fd);
	buf_free(&b);
	errno = saved;
	return ini;
}

const char *
ini_get(const struct ini *ini, const char *section, const char *key)
{
	const struct ini_entry *e;
	const char *s, *d;

	if (ini == NULL || (s = ini_find_section(ini, section)) == NULL)
		return NULL;
	if ((e = ini_find(ini, s, key)) != NULL)
		return e->value;
	/* Every section inherits the keys of [DEFAULT]. */
	if (strcmp(section, INI_DEFAULT) == 0 ||
	    (d = ini_find_section(ini, INI_DEFAULT)) == NULL)
		return NULL;
	if ((e = ini_find(ini, d, key)) != NULL)
		return e->value;
	return NULL;
}

int
ini_has_section(const struct ini *ini, const char *section)
{
	/* configparser does not count [DEFAULT] as a section. */
	if (ini == NULL || strcmp(section, INI_DEFAULT) == 0)
		return 0;
	return ini_find_section(ini, section) != NULL;
}

void
ini_free(struct ini *ini)
{
	size_t i;

	if (ini == NULL)
		return;
	for (i = 0; i < ini->nentries; i++) {
		free(ini->entries[i].key);
		free(ini->entries[i].value);
	}
	for (i = 0; i < ini->nsections; i++)
		free(ini->sections[i]);
	free(ini->entries);
	free(ini->sections);
	free(ini);
}
