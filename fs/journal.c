/*
 * The journal of mutations: a ring of formatted lines under one mutex,
 * plus a log line for each.
 */
#include "fs/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs/creds.h"
#include "ecs/xmalloc.h"
#include "fs/fs.h"
#include "fs/log.h"
#include "fs/req.h"

static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static char *journal_lines[FS_JOURNAL_MAX];	/* protected by journal_lock */
static size_t journal_next;			/* protected by journal_lock */
static size_t journal_count;			/* protected by journal_lock */
static int journal_fd = -1;			/* -o journal=FILE; set before threads */

void
fs_journal_init(void)
{
	pthread_mutex_lock(&journal_lock);
	journal_next = 0;
	journal_count = 0;
	pthread_mutex_unlock(&journal_lock);
}

int
fs_journal_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return -errno;
	journal_fd = fd;
	return 0;
}

void
fs_journal_free(void)
{
	size_t i;

	if (journal_fd >= 0) {
		close(journal_fd);
		journal_fd = -1;
	}
	pthread_mutex_lock(&journal_lock);
	for (i = 0; i < FS_JOURNAL_MAX; i++) {
		free(journal_lines[i]);
		journal_lines[i] = NULL;
	}
	journal_count = 0;
	pthread_mutex_unlock(&journal_lock);
}

/* Appends " key=value", quoting the value when it holds spaces or quotes. */
static void
add_field(struct buf *b, const char *key, const char *value)
{
	const char *p;
	int quote = 0;

	if (value == NULL || *value == '\0')
		value = "-";
	for (p = value; *p != '\0'; p++)
		if (*p == ' ' || *p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			quote = 1;
	buf_printf(b, " %s=", key);
	if (!quote) {
		buf_adds(b, value);
		return;
	}
	buf_addc(b, '"');
	for (p = value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, (unsigned char)*p < 0x20 ? ' ' : *p);
	}
	buf_addc(b, '"');
}

/* The command name of pid, from /proc, into name. */
static void
command_name(pid_t pid, char *name, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(name, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(name, (int)size, f) != NULL)
		name[strcspn(name, "\n")] = '\0';
	fclose(f);
}

/* The principal ARN that signs the mount's calls, into buf; "-" when unknown. */
static const char *
principal(char *buf, size_t size)
{
	struct fs_ctx *ctx = fs_ctx_get();
	struct creds_identity ci;

	snprintf(buf, size, "-");
	if (ctx == NULL || ctx->creds == NULL)
		return buf;
	creds_identity(ctx->creds, &ci);
	if (ci.arn[0] != '\0')
		snprintf(buf, size, "%s", ci.arn);
	return buf;
}

void
fs_journal_add(const struct fs_journal_entry *e)
{
	struct fs_caller fc;
	char when[32], comm[32], num[32], id[512];
	struct timespec ts;
	struct tm tm;
	struct buf b;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fs_req_caller(&fc);
	if (fc.pid == 0) {
		/* No FUSE request: the commands' own process made the change. */
		fc.uid = getuid();
		fc.gid = getgid();
		fc.pid = getpid();
	}
	command_name(fc.pid, comm, sizeof(comm));
	buf_init(&b);
	buf_adds(&b, when);
	snprintf(num, sizeof(num), "%u", (unsigned)fc.uid);
	add_field(&b, "uid", num);
	snprintf(num, sizeof(num), "%d", (int)fc.pid);
	add_field(&b, "pid", num);
	add_field(&b, "comm", comm);
	add_field(&b, "principal", principal(id, sizeof(id)));
	add_field(&b, "op", e->op);
	add_field(&b, "target", e->target);
	add_field(&b, "field", e->field);
	add_field(&b, "old", e->old_value);
	add_field(&b, "new", e->new_value);
	add_field(&b, "result", e->result);
	add_field(&b, "request_id", e->err ? e->err->request_id : NULL);
	add_field(&b, "message", e->err && e->err->code != ECS_OK ? e->err->message : NULL);
	fs_log_info("journal: %s", b.data);
	buf_addc(&b, '\n');
	line = buf_steal(&b);
	pthread_mutex_lock(&journal_lock);
	/* One write per line: O_APPEND keeps lines of several writers whole. */
	if (journal_fd >= 0 && write(journal_fd, line, strlen(line)) < 0)
		fs_log_warn("journal: writing the journal file: %s", strerror(errno));
	free(journal_lines[journal_next]);
	journal_lines[journal_next] = line;
	journal_next = (journal_next + 1) % FS_JOURNAL_MAX;
	if (journal_count < FS_JOURNAL_MAX)
		journal_count++;
	pthread_mutex_unlock(&journal_lock);
}

void
fs_journal_render(struct buf *out)
{
	size_t i, start;

	pthread_mutex_lock(&journal_lock);
	start = (journal_next + FS_JOURNAL_MAX - journal_count) % FS_JOURNAL_MAX;
	for (i = 0; i < journal_count; i++)
		buf_adds(out, journal_lines[(start + i) % FS_JOURNAL_MAX]);
	pthread_mutex_unlock(&journal_lock);
}
