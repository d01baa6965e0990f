/*
 * ecsfs: options, start-up checks (region, credentials), mount and the
 * request loop. Errors found before mounting are one line on stderr and
 * exit status 1.
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ecs/client.h"
#include "ecs/creds.h"
#include "ecs/log.h"
#include "fs/cmd.h"
#include "fs/fs.h"
#include "fs/ino.h"
#include "fs/inval.h"
#include "fs/journal.h"
#include "fs/log.h"
#include "fs/ops.h"
#include "fs/req.h"
#include "fs/session.h"
#include "fs/wait.h"

static void
usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	    "       %s [options] /dev/fd/N\n"
	    "       %s [options] ls|cat|tee [options] [PATH...]\n\n"
	    "Mounts one region of Amazon ECS as a directory tree, or runs one\n"
	    "command on the same tree without FUSE: ls and cat print what they\n"
	    "print on the mount, tee writes its input to every PATH as a write on\n"
	    "the mount does. PATH is relative to the tree's root and may hold\n"
	    "the wildcards *, ? and [...] (quote them).\n\n", prog, prog, prog);
	fs_opts_help();
	printf("\nFUSE options (see mount.fuse3(8) for all):\n"
	    "    -h, --help                   this help\n"
	    "    -V, --version                the version\n"
	    "    -f                           stay in the foreground, log to stderr\n"
	    "    -d                           debug: foreground, every FUSE request logged\n"
	    "    -s                           one thread only\n"
	    "    -o allow_other               let other users use the mount\n"
	    "    -o auto_unmount              unmount when the daemon dies\n"
	    "    -o ro                        read-only: every write fails with EROFS\n"
	    "    -o clone_fd                  a /dev/fuse descriptor per thread\n"
	    "    -o max_idle_threads=N        idle threads kept (default: unlimited)\n"
	    "Permissions are always checked by the kernel (default_permissions).\n"
	    "\nCredentials, the first source configured (botocore's order):\n"
	    "    1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
	    "    2. an assume-role profile (role_arn with source_profile or credential_source)\n"
	    "    3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile's)\n"
	    "    4. an SSO profile (sso_session, or sso_start_url), after aws sso login\n"
	    "    5. keys in the shared credentials file\n"
	    "    6. credential_process\n"
	    "    7. keys in the config file\n"
	    "    8. the container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or\n"
	    "       _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE])\n"
	    "    9. the EC2 instance metadata service (IMDSv2)\n");
}

int
fs_ctx_setup(struct fs_ctx *ctx)
{
	struct ecs_config_overrides ov = {
		.region = ctx->opts.region,
		.endpoint = ctx->opts.endpoint,
		.endpoints = {
			[ECS_SVC_AUTOSCALING] = ctx->opts.autoscaling_endpoint,
			[ECS_SVC_LOGS] = ctx->opts.logs_endpoint,
		},
		.profile = ctx->opts.profile,
		.max_attempts = (int)ctx->opts.max_attempts,
		.connect_timeout_ms = ctx->opts.connect_timeout_ms,
		.timeout_ms = ctx->opts.timeout_ms,
		.max_throttle_wait_ms = ctx->opts.max_throttle_wait_ms,
		.rate = {
			[ECS_CAT_CLUSTER_READ] = ctx->opts.rate_cluster_read,
			[ECS_CAT_SERVICE_READ] = ctx->opts.rate_service_read,
			[ECS_CAT_SERVICE_MODIFY] = ctx->opts.rate_service_modify,
			[ECS_CAT_RESOURCE_READ] = ctx->opts.rate_resource_read,
			[ECS_CAT_RESOURCE_MODIFY] = ctx->opts.rate_resource_modify,
			[ECS_CAT_TASKDEF_READ] = ctx->opts.rate_taskdef_read,
			[ECS_CAT_AUTOSCALING_READ] = ctx->opts.rate_autoscaling_read,
			[ECS_CAT_AUTOSCALING_MODIFY] = ctx->opts.rate_autoscaling_modify,
			[ECS_CAT_LOGS_READ] = ctx->opts.rate_logs_read,
		},
	};
	struct ecs_store_config sc = {
		.ttl_ms = ctx->opts.cache_ttl_ms,
		.negative_ttl_ms = ctx->opts.negative_ttl_ms,
		.stale_ttl_ms = ctx->opts.stale_ttl_ms,
		.max_entries = (size_t)ctx->opts.cache_max,
		/* A reader waiting on another's fetch leaves only when it is going away. */
		.interrupted = fs_req_going_away,
	};
	struct ecs_error err;
	int rc;

	if (ecs_config_load(&ov, &ctx->cfg, &err) != 0 ||
	    ecs_client_validate(&ctx->cfg, &err) != 0) {
		fprintf(stderr, "ecsfs: %s\n", err.message);
		ecs_config_free(&ctx->cfg);
		return -1;
	}
	if ((ctx->creds = creds_provider_new(&ctx->cfg, &err)) == NULL) {
		fprintf(stderr, "ecsfs: %s\n", err.message);
		ecs_config_free(&ctx->cfg);
		return -1;
	}
	if ((ctx->client = ecs_client_new(&ctx->cfg, ctx->creds)) == NULL) {
		fprintf(stderr, "ecsfs: cannot set up the ECS client for %s\n", ctx->cfg.endpoint);
		creds_provider_free(ctx->creds);
		ecs_config_free(&ctx->cfg);
		return -1;
	}
	/* A call gives up only when its caller is going away. */
	ecs_client_set_interrupt(ctx->client, fs_req_going_away);
	ctx->store = ecs_store_new(ctx->client, &sc);
	ctx->uid = getuid();
	ctx->gid = getgid();
	ctx->mount_time = time(NULL);
	atomic_init(&ctx->dry_run, ctx->opts.dry_run);
	fs_journal_init();
	if (ctx->opts.journal != NULL && (rc = fs_journal_open(ctx->opts.journal)) != 0) {
		fprintf(stderr, "ecsfs: %s: %s\n", ctx->opts.journal, strerror(-rc));
		fs_ctx_teardown(ctx);
		return -1;
	}
	return 0;
}

void
fs_ctx_teardown(struct fs_ctx *ctx)
{
	fs_journal_free();
	ecs_store_free(ctx->store);
	ecs_client_free(ctx->client);
	creds_provider_free(ctx->creds);
	ecs_config_free(&ctx->cfg);
}

/* A limit in seconds from /proc/sys/fs/fuse, 0 when unset or absent. */
static long
fuse_sysctl(const char *name)
{
	char path[128];
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/fs/fuse/%s", name);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v > 0 ? v : 0;
}

/*
 * Since Linux 6.14 a system may abort a FUSE connection whose request
 * goes unanswered for longer than fs.fuse.max_request_timeout (or
 * default_request_timeout). A blocked wait is answered at each poll, so
 * polls must come well within that limit.
 */
static void
fit_request_timeout(struct fs_ctx *ctx)
{
	long a = fuse_sysctl("max_request_timeout"), b = fuse_sysctl("default_request_timeout");
	long limit = a == 0 ? b : b == 0 ? a : a < b ? a : b;
	long want;

	if (limit == 0 || ctx->opts.wait_interval_ms < (limit - 1) * 1000)
		return;
	want = limit * 1000 / 2 > 1000 ? limit * 1000 / 2 : 1000;
	fs_log_warn("wait_interval %ld ms is too close to the kernel's FUSE request timeout "
	    "of %ld s: polling every %ld ms instead", ctx->opts.wait_interval_ms, limit, want);
	ctx->opts.wait_interval_ms = want;
}

/* Lines from below fs/ go to the same log. */
static void
log_hook(enum ecs_log_level level, const char *line)
{
	if (level == ECS_LOG_INFO)
		fs_log_info("%s", line);
	else
		fs_log_warn("%s", line);
}

/*
 * Stopping on SIGTERM, SIGINT or SIGHUP: the handler ends the session and
 * wakes the stopper thread, which makes every call in flight give up and
 * wakes the main thread out of the session loop.
 */
static struct fuse_session *stop_se;	/* set before the handlers */
static struct fs_ctx *stop_ctx;		/* likewise */
static pthread_t main_thread;		/* likewise */
static int stop_pipe[2] = { -1, -1 };	/* likewise */
static atomic_int stop_signal;		/* the signal that stops us, or 0 */
static atomic_int loop_over;		/* the session loop has returned */

static void
on_stop_signal(int sig)
{
	int expected = 0;

	if (stop_se != NULL)
		fuse_session_exit(stop_se);
	if (atomic_compare_exchange_strong(&stop_signal, &expected, sig) &&
	    stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], "x", 1);
}

static void
on_wake_signal(int sig)
{
	(void)sig;
}

static void *
stopper_main(void *arg)
{
	char c;

	(void)arg;
	while (read(stop_pipe[0], &c, 1) == -1)
		;
	if (atomic_load(&stop_signal) == 0)
		return NULL;	/* closed at exit */
	fs_req_shutdown();
	ecs_client_shutdown(stop_ctx->client);
	/* Until the loop has seen it: a wake that lands before its wait is lost. */
	while (!atomic_load(&loop_over)) {
		pthread_kill(main_thread, SIGUSR1);
		usleep(100000);
	}
	return NULL;
}

/* Installs the stop and wake handlers; SIGPIPE is ignored. */
static int
set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_wake_signal;	/* no SA_RESTART: interrupts the loop's wait */
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cli = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fs_ctx ctx;
	struct fuse_session *se = NULL;
	pthread_t stopper;
	int rc = 1, mounted = 0, ready = 0, stopper_started = 0;

	/* No core file, no ptrace by others: the daemon holds credentials. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (fs_cmd_verb(argc, argv) >= 0)
		return fs_cmd_main(argc, argv);
	memset(&ctx, 0, sizeof(ctx));
	fs_opts_defaults(&ctx.opts);
	if (fs_opts_parse(&args, &ctx.opts) != 0)
		goto out;
	if (fuse_parse_cmdline(&args, &cli) != 0)
		goto out;
	if (cli.show_help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (cli.show_version) {
		printf("ecsfs %s (libfuse %s)\n", ECSFS_VERSION, fuse_pkgversion());
		rc = 0;
		goto out;
	}
	if (cli.mountpoint == NULL) {
		fprintf(stderr, "ecsfs: no mountpoint (see %s --help)\n", argv[0]);
		goto out;
	}
	ctx.single_thread = cli.singlethread;
	fs_req_single_thread(cli.singlethread);
	if (fs_ctx_setup(&ctx) != 0)
		goto out;
	ready = 1;
	fs_ctx_set(&ctx);
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-ofsname=ecsfs");
	fuse_opt_add_arg(&args, "-osubtype=ecsfs");
	if ((se = fuse_session_new(&args, &fs_ll_ops, sizeof(fs_ll_ops), &ctx)) == NULL)
		goto out;
	ctx.se = se;
	if (fuse_session_mount(se, cli.mountpoint) != 0)
		goto out;
	mounted = 1;
	fs_log_init(cli.foreground, cli.debug);
	ecs_log_set(log_hook);
	fit_request_timeout(&ctx);
	if (fuse_daemonize(cli.foreground) != 0)
		goto out;
	stop_se = se;
	stop_ctx = &ctx;
	main_thread = pthread_self();
	if (pipe(stop_pipe) != 0 || set_signals() != 0)
		goto out;
	if (fs_thread_create(&stopper, stopper_main, NULL) != 0)
		goto out;
	stopper_started = 1;
	fs_log_info("mounted %s: region %s, endpoint %s, Application Auto Scaling %s, "
	    "CloudWatch Logs %s, credentials from %s%s", cli.mountpoint, ctx.cfg.region,
	    ctx.cfg.endpoint, ctx.cfg.endpoints[ECS_SVC_AUTOSCALING],
	    ctx.cfg.endpoints[ECS_SVC_LOGS], creds_source(ctx.creds),
	    ctx.opts.dry_run ? ", dry run" : "");
	if (cli.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, cli.clone_fd);
		if (cli.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop, cli.max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, (unsigned int)ctx.opts.max_threads);
		rc = fuse_session_loop_mt(se, loop);
	}
	atomic_store(&loop_over, 1);
	/* A loop ended by a stop signal is a clean exit. */
	rc = rc == 0 || atomic_load(&stop_signal) != 0 ? 0 : 1;
	fs_req_shutdown();
	fs_wait_stop();
	fs_ops_cleanup();
	fs_inval_stop();
	fs_log_info("unmounted %s", cli.mountpoint);
out:
	if (mounted)
		fuse_session_unmount(se);
	if (se != NULL) {
		int n = fs_session_release_interrupts(se);

		if (n > 0)
			fs_log_debug("%d interrupts came after their answers", n);
		fuse_session_destroy(se);
	}
	if (loop != NULL)
		fuse_loop_cfg_destroy(loop);
	atomic_store(&loop_over, 1);
	if (stopper_started) {
		close(stop_pipe[1]);
		stop_pipe[1] = -1;
		pthread_join(stopper, NULL);
		close(stop_pipe[0]);
	}
	fs_ino_free();
	if (ready)
		fs_ctx_teardown(&ctx);
	fs_opts_free(&ctx.opts);
	free(cli.mountpoint);
	fuse_opt_free_args(&args);
	return rc;
}
