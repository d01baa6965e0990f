/*
 * ecsfs: options, start-up checks (region, credentials), mount and the
 * request loop. Errors found before mounting are one line on stderr and
 * exit status 1.
 */
#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecs/client.h"
#include "ecs/creds.h"
#include "fs/fs.h"
#include "fs/journal.h"
#include "fs/log.h"
#include "fs/ops.h"

static void
usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n\n"
	    "Mounts one region of Amazon ECS as a directory tree.\n\n", prog);
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
	    "Permissions are always checked by the kernel (default_permissions).\n");
}

/* Loads configuration and credentials and builds the client and store. */
static int
ctx_setup(struct fs_ctx *ctx)
{
	struct ecs_config_overrides ov = {
		.region = ctx->opts.region,
		.endpoint = ctx->opts.endpoint,
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
		},
	};
	struct ecs_store_config sc = {
		.ttl_ms = ctx->opts.cache_ttl_ms,
		.negative_ttl_ms = ctx->opts.negative_ttl_ms,
		.stale_ttl_ms = ctx->opts.stale_ttl_ms,
		.max_entries = (size_t)ctx->opts.cache_max,
	};
	struct ecs_error err;

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
	/* A reader that gives up (Ctrl-C) stops waiting for ECS at once. */
	ecs_client_set_interrupt(ctx->client, fuse_interrupted);
	ctx->store = ecs_store_new(ctx->client, &sc);
	ctx->uid = getuid();
	ctx->gid = getgid();
	ctx->mount_time = time(NULL);
	atomic_init(&ctx->dry_run, ctx->opts.dry_run);
	fs_journal_init();
	return 0;
}

static void
ctx_teardown(struct fs_ctx *ctx)
{
	fs_journal_free();
	ecs_store_free(ctx->store);
	ecs_client_free(ctx->client);
	creds_provider_free(ctx->creds);
	ecs_config_free(&ctx->cfg);
	fs_opts_free(&ctx->opts);
}

int
main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cli = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fs_ctx ctx;
	struct fuse *fuse = NULL;
	int rc = 1, mounted = 0, ready = 0;

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
	if (ctx_setup(&ctx) != 0)
		goto out;
	ready = 1;
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-ofsname=ecsfs");
	fuse_opt_add_arg(&args, "-osubtype=ecsfs");
	if ((fuse = fuse_new(&args, &fs_operations, sizeof(fs_operations), &ctx)) == NULL)
		goto out;
	if (fuse_mount(fuse, cli.mountpoint) != 0)
		goto out;
	mounted = 1;
	fs_log_init(cli.foreground, cli.debug);
	if (fuse_daemonize(cli.foreground) != 0)
		goto out;
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0)
		goto out;
	fs_log_info("mounted %s: region %s, endpoint %s, credentials from %s%s",
	    cli.mountpoint, ctx.cfg.region, ctx.cfg.endpoint, creds_source(ctx.creds),
	    ctx.opts.dry_run ? ", dry run" : "");
	if (cli.singlethread) {
		rc = fuse_loop(fuse);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, cli.clone_fd);
		if (cli.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop, cli.max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, (unsigned int)ctx.opts.max_threads);
		rc = fuse_loop_mt(fuse, loop);
	}
	/* A loop ended by SIGTERM, SIGINT or SIGHUP returns the signal: a clean exit. */
	rc = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
	fuse_remove_signal_handlers(fuse_get_session(fuse));
	fs_log_info("unmounted %s", cli.mountpoint);
out:
	if (mounted)
		fuse_unmount(fuse);
	if (fuse != NULL)
		fuse_destroy(fuse);
	if (loop != NULL)
		fuse_loop_cfg_destroy(loop);
	if (ready)
		ctx_teardown(&ctx);
	else
		fs_opts_free(&ctx.opts);
	free(cli.mountpoint);
	fuse_opt_free_args(&args);
	return rc;
}
