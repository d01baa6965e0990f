/*
 * The inode table: a hash table by number over every inode, and one by
 * path over the current inode of each path, under one mutex.
 */
#include "fs/ino.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define ROOT_INO 1
#define NBUCKETS 4096

struct ino_entry {
	uint64_t		 ino;
	uint64_t		 nlookup;	/* protected by ino_lock */
	char			*path;
	int			 current;	/* in by_path; protected by ino_lock */
	struct fs_snap		*snap;		/* a file's version, or NULL */
	void			*priv;		/* a private inode's */
	void			(*priv_free)(void *);
	struct ino_entry	*next_ino;	/* protected by ino_lock */
	struct ino_entry	*next_path;	/* protected by ino_lock */
};

static pthread_mutex_t ino_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ino_entry *by_ino[NBUCKETS];	/* protected by ino_lock */
static struct ino_entry *by_path[NBUCKETS];	/* protected by ino_lock */
static uint64_t next_ino = ROOT_INO + 1;	/* protected by ino_lock */
static size_t ino_count;			/* protected by ino_lock */

/* FNV-1a of a string. */
static size_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)(h % NBUCKETS);
}

static size_t
hash_ino(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 52) % NBUCKETS;
}

/* The current entry of path, or NULL. Called with ino_lock held. */
static struct ino_entry *
find_path(const char *path)
{
	struct ino_entry *e;

	for (e = by_path[hash_str(path)]; e != NULL; e = e->next_path)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

/* The entry of ino, or NULL. Called with ino_lock held. */
static struct ino_entry *
find_ino(uint64_t ino)
{
	struct ino_entry *e;

	for (e = by_ino[hash_ino(ino)]; e != NULL; e = e->next_ino)
		if (e->ino == ino)
			return e;
	return NULL;
}

/* Takes e out of by_path. Called with ino_lock held. */
static void
unlink_path(struct ino_entry *e)
{
	struct ino_entry **pp;

	if (!e->current)
		return;
	for (pp = &by_path[hash_str(e->path)]; *pp != e; pp = &(*pp)->next_path)
		;
	*pp = e->next_path;
	e->current = 0;
}

/* Makes e the current entry of its path. Called with ino_lock held. */
static void
link_path(struct ino_entry *e)
{
	struct ino_entry *old = find_path(e->path);
	size_t hp = hash_str(e->path);

	if (old != NULL)
		unlink_path(old);
	e->next_path = by_path[hp];
	by_path[hp] = e;
	e->current = 1;
}

/* Links a new entry by number. Called with ino_lock held. */
static struct ino_entry *
insert(const char *path, uint64_t ino)
{
	struct ino_entry *e = xcalloc(1, sizeof(*e));
	size_t hi = hash_ino(ino);

	e->ino = ino;
	e->path = xstrdup(path);
	e->next_ino = by_ino[hi];
	by_ino[hi] = e;
	ino_count++;
	return e;
}

/* Drops a reference to a snapshot. Called with ino_lock held. */
static void
snap_unref_locked(struct fs_snap *s)
{
	if (s != NULL && --s->refs == 0)
		free(s);
}

void
fs_snap_unref(struct fs_snap *s)
{
	pthread_mutex_lock(&ino_lock);
	snap_unref_locked(s);
	pthread_mutex_unlock(&ino_lock);
}

/* Frees an entry taken out of both tables. */
static void
entry_free(struct ino_entry *e)
{
	if (e->priv_free != NULL)
		e->priv_free(e->priv);
	pthread_mutex_lock(&ino_lock);
	snap_unref_locked(e->snap);
	pthread_mutex_unlock(&ino_lock);
	free(e->path);
	free(e);
}

void
fs_ino_init(void)
{
	pthread_mutex_lock(&ino_lock);
	if (find_ino(ROOT_INO) == NULL)
		link_path(insert("/", ROOT_INO));
	pthread_mutex_unlock(&ino_lock);
}

void
fs_ino_free(void)
{
	struct ino_entry *e, *next, *all = NULL;
	size_t i;

	pthread_mutex_lock(&ino_lock);
	for (i = 0; i < NBUCKETS; i++) {
		for (e = by_ino[i]; e != NULL; e = next) {
			next = e->next_ino;
			e->next_ino = all;
			all = e;
		}
		by_ino[i] = NULL;
		by_path[i] = NULL;
	}
	ino_count = 0;
	pthread_mutex_unlock(&ino_lock);
	for (e = all; e != NULL; e = next) {
		next = e->next_ino;
		entry_free(e);
	}
}

uint64_t
fs_ino_ref(const char *path)
{
	struct ino_entry *e;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_path(path)) == NULL || e->snap != NULL) {
		e = insert(path, next_ino++);
		link_path(e);
	}
	e->nlookup++;
	ino = e->ino;
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

uint64_t
fs_ino_ref_file(const char *path, const char *data, size_t len, struct fs_snap **snap)
{
	struct ino_entry *e;
	struct fs_snap *s;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	e = find_path(path);
	if (e == NULL || e->snap == NULL || e->snap->len != len ||
	    (len > 0 && memcmp(e->snap->data, data, len) != 0)) {
		s = xmalloc(sizeof(*s) + len + 1);
		s->refs = 1;
		clock_gettime(CLOCK_REALTIME, &s->mtime);
		s->len = len;
		if (len > 0)
			memcpy(s->data, data, len);
		s->data[len] = '\0';
		e = insert(path, next_ino++);
		e->snap = s;
		link_path(e);
	}
	e->nlookup++;
	ino = e->ino;
	if (snap != NULL) {
		e->snap->refs++;
		*snap = e->snap;
	}
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

/* A new inode holding priv, with one lookup; path's current one when current is set. */
static uint64_t
new_priv(const char *path, void *priv, void (*priv_free)(void *), int current)
{
	struct ino_entry *e;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	e = insert(path, next_ino++);
	e->priv = priv;
	e->priv_free = priv_free;
	e->nlookup = 1;
	if (current)
		link_path(e);
	ino = e->ino;
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

uint64_t
fs_ino_new_private(const char *path, void *priv, void (*priv_free)(void *))
{
	return new_priv(path, priv, priv_free, 0);
}

void *
fs_ino_ref_priv(const char *path, void (*priv_free)(void *), uint64_t *ino)
{
	struct ino_entry *e;
	void *priv = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_path(path)) != NULL && e->priv != NULL && e->priv_free == priv_free) {
		e->nlookup++;
		*ino = e->ino;
		priv = e->priv;
	}
	pthread_mutex_unlock(&ino_lock);
	return priv;
}

uint64_t
fs_ino_new_current(const char *path, void *priv, void (*priv_free)(void *))
{
	return new_priv(path, priv, priv_free, 1);
}

void
fs_ino_retire(uint64_t ino)
{
	struct ino_entry *e;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL && (e->snap != NULL || e->priv != NULL))
		unlink_path(e);
	pthread_mutex_unlock(&ino_lock);
}

void
fs_ino_forget(uint64_t ino, uint64_t n)
{
	struct ino_entry *e, **pp;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) == NULL || ino == ROOT_INO) {
		pthread_mutex_unlock(&ino_lock);
		return;
	}
	e->nlookup = e->nlookup > n ? e->nlookup - n : 0;
	if (e->nlookup > 0) {
		pthread_mutex_unlock(&ino_lock);
		return;
	}
	for (pp = &by_ino[hash_ino(ino)]; *pp != e; pp = &(*pp)->next_ino)
		;
	*pp = e->next_ino;
	unlink_path(e);
	ino_count--;
	pthread_mutex_unlock(&ino_lock);
	entry_free(e);
}

char *
fs_ino_path(uint64_t ino)
{
	struct ino_entry *e;
	char *path = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL)
		path = xstrdup(e->path);
	pthread_mutex_unlock(&ino_lock);
	return path;
}

struct fs_snap *
fs_ino_snap(uint64_t ino)
{
	struct ino_entry *e;
	struct fs_snap *s = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL && e->snap != NULL) {
		s = e->snap;
		s->refs++;
	}
	pthread_mutex_unlock(&ino_lock);
	return s;
}

void *
fs_ino_priv(uint64_t ino)
{
	struct ino_entry *e;
	void *priv = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL)
		priv = e->priv;
	pthread_mutex_unlock(&ino_lock);
	return priv;
}

void *
fs_ino_priv_as(uint64_t ino, void (*priv_free)(void *))
{
	struct ino_entry *e;
	void *priv = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL && e->priv_free == priv_free)
		priv = e->priv;
	pthread_mutex_unlock(&ino_lock);
	return priv;
}

uint64_t
fs_ino_find(const char *path)
{
	struct ino_entry *e;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	e = find_path(path);
	ino = e != NULL ? e->ino : 0;
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

char **
fs_ino_paths_under(const char *prefix)
{
	size_t len = strlen(prefix), i, m = 0, cap;
	struct ino_entry *e;
	char **out;

	pthread_mutex_lock(&ino_lock);
	cap = ino_count + 1;
	out = xcalloc(cap, sizeof(*out));
	for (i = 0; i < NBUCKETS; i++)
		for (e = by_path[i]; e != NULL; e = e->next_path)
			if (m + 1 < cap && e->snap != NULL &&
			    strncmp(e->path, prefix, len) == 0)
				out[m++] = xstrdup(e->path);
	pthread_mutex_unlock(&ino_lock);
	out[m] = NULL;
	return out;
}

size_t
fs_ino_count(void)
{
	size_t n;

	pthread_mutex_lock(&ino_lock);
	n = ino_count;
	pthread_mutex_unlock(&ino_lock);
	return n;
}
