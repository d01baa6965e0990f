/*
 * The .ecsfs folder (the mount's own state) and the refresh files.
 */
#include "fs/tree.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ecs/client.h"
#include "ecs/creds.h"
#include "fs/inval.h"
#include "fs/journal.h"
#include "fs/reqstats.h"
#include "fs/wait.h"

int
fs_render_version(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)n;
	(void)err;
	buf_adds(out, "ecsfs " ECSFS_VERSION "\n");
	return 0;
}

int
fs_render_region(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_printf(out, "%s\n", n->ctx->cfg.region);
	return 0;
}

int
fs_render_endpoint(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_printf(out, "%s\n", n->ctx->cfg.endpoint);
	return 0;
}

int
fs_render_stats(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	ecs_client_stats(n->ctx->client, out);
	ecs_store_stats(n->ctx->store, out);
	buf_printf(out, "waits_open %zu\n", fs_wait_count());
	fs_reqstats_render(out);
	return 0;
}

/* The credential source, the principal and the expiry: never a secret. */
int
fs_render_identity(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	struct creds_identity id;
	char when[32];
	struct tm tm;

	(void)err;
	creds_identity(n->ctx->creds, &id);
	buf_printf(out, "source %s\n", id.source);
	buf_printf(out, "principal %s\n", id.arn[0] != '\0' ? id.arn : "unknown");
	buf_printf(out, "account %s\n", id.account[0] != '\0' ? id.account : "unknown");
	if (id.expiration != 0) {
		gmtime_r(&id.expiration, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else
		snprintf(when, sizeof(when), "never");
	buf_printf(out, "expiration %s\n", when);
	if (id.error[0] != '\0')
		buf_printf(out, "principal_error %s\n", id.error);
	return 0;
}

int
fs_render_dry_run(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_adds(out, atomic_load(&n->ctx->dry_run) ? "1\n" : "0\n");
	return 0;
}

int
fs_render_journal(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)n;
	(void)err;
	fs_journal_render(out);
	return 0;
}

int
fs_write_refresh(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	char prefix[512];

	(void)data;
	(void)len;
	(void)err;
	ecs_store_refresh(n->ctx->store, n->dir == FS_META ? NULL : n->cluster);
	/* The kernel looks every name up again, and so sees the new state. */
	snprintf(prefix, sizeof(prefix), "/%s%s", n->dir == FS_META ? "" : n->cluster,
	    n->dir == FS_META ? "" : "/");
	fs_inval_prefix(prefix);
	return 0;
}
