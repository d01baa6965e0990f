/*
 * credential_process: runs the command a profile names, with a time
 * limit, in its own process group so that a timeout kills all of it, and
 * reads the credentials it prints. Also the JSON and ISO 8601 reading
 * shared with the container credentials source. Nothing the command
 * prints on stdout ever reaches a message: it holds the secret.
 */
#include "ecs/creds_process.h"

#include "ecs/clock.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/xmalloc.h"

#define PROCESS_TIMEOUT_MS	30000
#define PROCESS_STDOUT_MAX	(64 * 1024)
#define PROCESS_STDERR_MAX	4096

/* The running command: its pid, pipes, output and deadline. */
struct proc {
	pid_t		 pid;
	int		 fd[2];		/* stdout, stderr read ends; -1 once closed */
	struct buf	 out;
	struct buf	 errs;
	int		 too_big;	/* stdout went over PROCESS_STDOUT_MAX */
	long long	 deadline;	/* monotonic ms */
};

/*
 * The time limit in ms. Debug builds take ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS
 * so that tests need not wait 30 s; release builds ignore it.
 */
static long
process_timeout_ms(void)
{
#ifndef NDEBUG
	const char *v = getenv("ECSFS_CREDENTIAL_PROCESS_TIMEOUT_MS");
	long n;

	if (v != NULL && (n = strtol(v, NULL, 10)) > 0)
		return n;
#endif
	return PROCESS_TIMEOUT_MS;
}

/*
 * The directory the first command ran in: the one ecsfs was started from,
 * before it moved to "/" on mounting. Later runs (refreshes) run there too,
 * so a relative command keeps working.
 */
static pthread_once_t start_dir_once = PTHREAD_ONCE_INIT;
static char *start_dir;		/* set once by start_dir_init */

static void
start_dir_init(void)
{
	char cwd[4096];

	if (getcwd(cwd, sizeof(cwd)) != NULL)
		start_dir = xstrdup(cwd);
}

/*
 * Adds to fa the closing of every descriptor above 2, so that the command
 * holds none of the daemon's: not the FUSE device, not an HTTP connection,
 * not a pipe another thread is spawning with. glibc's closefrom action runs
 * close_range(3, ~0U, 0) in the child and falls back to a loop over
 * /proc/self/fd; elsewhere the parent lists /proc/self/fd itself, which
 * misses a descriptor another thread opens meanwhile without O_CLOEXEC.
 * 0, or an errno.
 */
static int
spawn_close_inherited(posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || \
    (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
	struct dirent *de;
	DIR *d;
	long fd;
	char *end;
	int rc = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || fd <= 2 ||
		    fd == dirfd(d))
			continue;
		rc = posix_spawn_file_actions_addclose(fa, (int)fd);
	}
	closedir(d);
	return rc;
#endif
}

/* Starts /bin/sh -c cmd with stdout and stderr on pipes, in a new process group. */
static int
process_spawn(const char *cmd, struct proc *pr)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;
	char sh[] = "sh", dash_c[] = "-c";
	char *copy = xstrdup(cmd);
	char *argv[] = { sh, dash_c, copy, NULL };

	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		rc = errno;
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	pthread_once(&start_dir_once, start_dir_init);
	if (start_dir != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, start_dir);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	if ((rc = spawn_close_inherited(&fa)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto done;
	}
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pr->pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
done:
	if (outp[1] != -1)
		close(outp[1]);
	if (errp[1] != -1)
		close(errp[1]);
	if (rc != 0) {
		if (outp[0] != -1)
			close(outp[0]);
		if (errp[0] != -1)
			close(errp[0]);
	} else {
		pr->fd[0] = outp[0];
		pr->fd[1] = errp[0];
	}
	free(copy);
	return rc;
}

/* Reads both pipes until they close or the deadline passes; 0, or -1 on timeout. */
static int
process_read(struct proc *pr)
{
	struct pollfd pfd[2];
	char chunk[4096];
	long long left;
	nfds_t n;
	ssize_t r;
	int i;

	while (pr->fd[0] != -1 || pr->fd[1] != -1) {
		if ((left = pr->deadline - ecs_now_ms()) <= 0)
			return -1;
		n = 0;
		for (i = 0; i < 2; i++) {
			if (pr->fd[i] == -1)
				continue;
			pfd[n].fd = pr->fd[i];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		if (poll(pfd, n, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < (int)n; i++) {
			if (pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, chunk, sizeof(chunk));
			if (r == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (pfd[i].fd == pr->fd[0]) {
				if (r <= 0) {
					close(pr->fd[0]);
					pr->fd[0] = -1;
				} else if (pr->out.len + (size_t)r >
				    PROCESS_STDOUT_MAX)
					pr->too_big = 1;
				else
					buf_add(&pr->out, chunk, (size_t)r);
			} else {
				if (r <= 0) {
					close(pr->fd[1]);
					pr->fd[1] = -1;
				} else if (pr->errs.len < PROCESS_STDERR_MAX)
					buf_add(&pr->errs, chunk, (size_t)r);
			}
		}
	}
	return 0;
}

/* Waits for the command to exit until the deadline; 0, or -1 on timeout. */
static int
process_wait(struct proc *pr, int *status)
{
	pid_t r;

	for (;;) {
		r = waitpid(pr->pid, status, WNOHANG);
		if (r == pr->pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return 0;
		if (ecs_now_ms() >= pr->deadline)
			return -1;
		usleep(10000);
	}
}

/* Kills the command's process group and reaps it. */
static void
process_kill(struct proc *pr)
{
	int status;

	kill(-pr->pid, SIGKILL);
	while (waitpid(pr->pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* The first non-empty line of the command's stderr, cleaned up, in line[n]. */
static void
process_stderr_line(const struct proc *pr, char *line, size_t n)
{
	const char *s = pr->errs.data != NULL ? pr->errs.data : "";
	size_t i = 0;

	line[0] = '\0';
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	for (; *s != '\0' && *s != '\n' && *s != '\r' && i + 1 < n; s++)
		line[i++] = iscntrl((unsigned char)*s) ? ' ' : *s;
	while (i > 0 && isspace((unsigned char)line[i - 1]))
		i--;
	line[i] = '\0';
}

int
creds_process_run(const char *cmd, const char *what, struct creds *out,
    struct ecs_error *err)
{
	struct proc pr;
	char line[200], msg[sizeof(err->message)];
	long timeout = process_timeout_ms();
	int rc = -1, status = 0, e;

	memset(&pr, 0, sizeof(pr));
	pr.fd[0] = pr.fd[1] = -1;
	buf_init(&pr.out);
	buf_init(&pr.errs);
	pr.deadline = ecs_now_ms() + timeout;
	if ((e = process_spawn(cmd, &pr)) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "%s: cannot run /bin/sh: %s",
		    what, strerror(e));
		goto done;
	}
	if (process_read(&pr) != 0 || process_wait(&pr, &status) != 0) {
		process_kill(&pr);
		if (timeout % 1000 == 0)
			ecs_error_set(err, ECS_E_CREDS, "%s did not finish "
			    "within %ld s", what, timeout / 1000);
		else
			ecs_error_set(err, ECS_E_CREDS, "%s did not finish "
			    "within %ld ms", what, timeout);
		goto done;
	}
	process_stderr_line(&pr, line, sizeof(line));
	if (WIFSIGNALED(status)) {
		ecs_error_set(err, ECS_E_CREDS, "%s was killed by signal %d%s%s",
		    what, WTERMSIG(status), line[0] != '\0' ? ": " : "", line);
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "%s failed with exit status "
		    "%d%s%s", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    line[0] != '\0' ? ": " : "", line);
		goto done;
	}
	if (pr.too_big) {
		ecs_error_set(err, ECS_E_CREDS, "%s printed more than %d bytes",
		    what, PROCESS_STDOUT_MAX);
		goto done;
	}
	if (creds_parse_json(pr.out.data != NULL ? pr.out.data : "",
	    pr.out.len, "SessionToken", 1, what, out, err) != 0) {
		if (line[0] != '\0') {
			memcpy(msg, err->message, sizeof(msg));
			ecs_error_set(err, ECS_E_CREDS, "%s (stderr: %s)", msg,
			    line);
		}
		goto done;
	}
	rc = 0;
done:
	if (pr.fd[0] != -1)
		close(pr.fd[0]);
	if (pr.fd[1] != -1)
		close(pr.fd[1]);
	/* The output holds the secret key: wipe it before freeing. */
	if (pr.out.data != NULL)
		explicit_bzero(pr.out.data, pr.out.cap);
	buf_free(&pr.out);
	buf_free(&pr.errs);
	return rc;
}

/* Copies the string member key of o into dst[n]; 0, 1 when absent, -1 when too long. */
static int
json_member_copy(json_t *o, const char *key, char *dst, size_t n)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 1;
	if (!json_is_string(v) || (len = json_string_length(v)) == 0)
		return 1;
	if (len >= n)
		return -1;
	memcpy(dst, json_string_value(v), len + 1);
	return 0;
}

int
creds_parse_json(const char *text, size_t len, const char *token_key,
    int want_version, const char *what, struct creds *out,
    struct ecs_error *err)
{
	struct creds c;
	struct {
		const char	*key;
		char		*dst;
		size_t		 size;
		int		 required;
	} fields[] = {
		{ "AccessKeyId", c.access_key, sizeof(c.access_key), 1 },
		{ "SecretAccessKey", c.secret_key, sizeof(c.secret_key), 1 },
		{ token_key, c.session_token, sizeof(c.session_token), 0 },
	};
	json_t *root, *v;
	size_t i;
	int rc = -1, r;

	memset(&c, 0, sizeof(c));
	/* json_error_t is not used: its text can quote the secret. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || !json_is_object(root)) {
		ecs_error_set(err, ECS_E_CREDS, "%s: the output is not a JSON "
		    "object", what);
		goto done;
	}
	if (want_version) {
		v = json_object_get(root, "Version");
		if (!json_is_integer(v) || json_integer_value(v) != 1) {
			if (json_is_integer(v))
				ecs_error_set(err, ECS_E_CREDS, "%s: unsupported "
				    "Version %lld (want 1)", what,
				    (long long)json_integer_value(v));
			else
				ecs_error_set(err, ECS_E_CREDS, "%s: the output "
				    "has no \"Version\": 1", what);
			goto done;
		}
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		r = json_member_copy(root, fields[i].key, fields[i].dst,
		    fields[i].size);
		if (r == -1) {
			ecs_error_set(err, ECS_E_CREDS, "%s: %s is longer than "
			    "%zu bytes", what, fields[i].key,
			    fields[i].size - 1);
			goto done;
		}
		if (r == 1 && fields[i].required) {
			ecs_error_set(err, ECS_E_CREDS, "%s: the output has no "
			    "%s", what, fields[i].key);
			goto done;
		}
	}
	v = json_object_get(root, "Expiration");
	if (v != NULL && !json_is_null(v) && (!json_is_string(v) ||
	    creds_parse_time(json_string_value(v), &c.expiration) != 0)) {
		ecs_error_set(err, ECS_E_CREDS, "%s: Expiration \"%.40s\" is "
		    "not an ISO 8601 time", what,
		    json_is_string(v) ? json_string_value(v) : "(not a string)");
		goto done;
	}
	*out = c;
	rc = 0;
done:
	explicit_bzero(&c, sizeof(c));
	json_decref(root);
	return rc;
}

/* Reads exactly n digits at *p into *out and moves *p past them. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

int
creds_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) ||
	    (*s != 'T' && *s != 't' && *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (*s == '.' || *s == ',') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (digits(&s, 2, &om))
			return -1;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}
