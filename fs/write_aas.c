/*
 * The writable files of services/S/autoscaling/: min_capacity,
 * max_capacity and suspended, each one RegisterScalableTarget of the
 * service's target. The value is checked against the target's other
 * bound (min above max is refused before anything is sent), a write that
 * changes nothing sends nothing, dry run and the journal work as for
 * every write, and the region's cached target listing is dropped after a
 * change so that the next read, and the desired_count check, see it.
 */
#include "fs/write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/api.h"
#include "fs/parse.h"
#include "fs/tree.h"
#include "fs/write_int.h"

#define OP "RegisterScalableTarget"

/* An integer member of a target, or -1. */
static long long
capacity(json_t *t, const char *key)
{
	json_t *v = json_object_get(t, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Whether target t (a fresh describe) shows what u changes. */
static int
target_shows(json_t *t, const struct ecs_aas_target_update *u)
{
	if (t == NULL)
		return 0;
	if (u->min_capacity >= 0 && capacity(t, "MinCapacity") != u->min_capacity)
		return 0;
	if (u->max_capacity >= 0 && capacity(t, "MaxCapacity") != u->max_capacity)
		return 0;
	if (u->suspended >= 0 && !(u->suspended ? fs_aas_suspended(t) : fs_aas_resumed(t)))
		return 0;
	return 1;
}

/*
 * After RegisterScalableTarget failed with err and may have been applied,
 * describes the target fresh: 0 when it shows the change (journaled ok,
 * err cleared), else -1 with err a timeout (journaled unknown).
 */
static int
settle_lost(const struct fs_node *n, const char *id, const struct ecs_aas_target_update *u,
    const char *oldv, const char *newv, struct ecs_error *err)
{
	struct ecs_error ferr;
	json_t *ts = NULL;
	int shown;

	ecs_error_clear(&ferr);
	shown = ecs_aas_describe_scalable_targets(n->ctx->client, &id, 1, &ts, &ferr) == 0 &&
	    target_shows(json_array_get(ts, 0), u);
	json_decref(ts);
	return fs_write_settled(n, OP, oldv, newv, shown, &ferr, err);
}

/* Sends the change (unless in dry run), then drops what the cache and the kernel hold. */
static int
register_target(const struct fs_node *n, const struct ecs_aas_target_update *u,
    const char *oldv, const char *newv, struct ecs_error *err)
{
	struct fs_ctx *ctx = n->ctx;
	char *id;
	int rc = 0;

	ecs_error_clear(err);
	if (atomic_load(&ctx->dry_run)) {
		fs_write_journal(n, OP, oldv, newv, "dry-run", NULL);
		return 0;
	}
	id = ecs_aas_resource_id(n->cluster, n->name);
	if (ecs_aas_register_scalable_target(ctx->client, id, u, err) != 0) {
		if (!fs_write_may_have_applied(err)) {
			fs_write_journal(n, OP, oldv, newv, fs_write_failure_word(err), err);
			rc = -1;
		} else {
			rc = settle_lost(n, id, u, oldv, newv, err);
		}
	} else {
		fs_write_journal(n, OP, oldv, newv, "ok", err);
	}
	free(id);
	/* Even a failure may follow a change made elsewhere: read it fresh. */
	ecs_store_targets_refresh(ctx->store);
	fs_write_invalidate_folder(n);
	return rc;
}

/*
 * The service's target: from the region's cached listing, or (fresh)
 * described afresh, for a write the cache says would change nothing,
 * since the listing may be cache_ttl old. A service whose target went
 * away is ENOENT. A failure is journaled.
 */
static int
current_target(const struct fs_node *n, int fresh, json_t **t, struct ecs_error *err)
{
	char *id;
	const char *ids[1];
	json_t *arr = NULL;
	int rc = -1;

	*t = NULL;
	if (!fresh) {
		rc = ecs_store_scalable_target(n->ctx->store, n->cluster, n->name, t, err);
	} else {
		id = ecs_aas_resource_id(n->cluster, n->name);
		ids[0] = id;
		if (ecs_aas_describe_scalable_targets(n->ctx->client, ids, 1, &arr, err) == 0) {
			rc = json_array_size(arr) > 0 && json_is_object(json_array_get(arr, 0));
			if (rc == 1)
				*t = json_incref(json_array_get(arr, 0));
		}
		json_decref(arr);
		free(id);
	}
	if (rc == 0)
		ecs_error_set(err, ECS_E_NOTFOUND, "%s/%s has no scalable target any more",
		    n->cluster, n->name);
	if (rc <= 0) {
		fs_write_journal(n, OP, NULL, NULL, fs_write_failure_word(err), err);
		return -1;
	}
	return 0;
}

/* min_capacity (is_max 0) or max_capacity (1): N, within the other bound. */
static int
write_capacity(const struct fs_node *n, const char *data, size_t len, int is_max,
    struct ecs_error *err)
{
	struct ecs_aas_target_update u = { .min_capacity = -1, .max_capacity = -1,
	    .suspended = -1 };
	const char *name = is_max ? "max_capacity" : "min_capacity";
	char oldv[32], newv[32], why[160];
	struct fs_write_lock *lock;
	long long value, old, other;
	json_t *t = NULL;
	int sign, fresh, rc = -1;

	if (fs_parse_count(data, len, &sign, &value) != 0 || sign != 0) {
		snprintf(why, sizeof(why), "%s takes N (0 to 2147483647)", name);
		return fs_write_invalid(n, OP, data, len, err, why);
	}
	lock = fs_write_lock(n);
	for (fresh = 0; ; fresh++) {
		if (current_target(n, fresh, &t, err) != 0)
			goto out;
		old = capacity(t, is_max ? "MaxCapacity" : "MinCapacity");
		other = capacity(t, is_max ? "MinCapacity" : "MaxCapacity");
		if (other >= 0 && (is_max ? value < other : value > other)) {
			snprintf(why, sizeof(why), "%s %lld is %s autoscaling/%s %lld: %s it "
			    "first", name, value, is_max ? "below" : "above",
			    is_max ? "min_capacity" : "max_capacity", other,
			    is_max ? "lower" : "raise");
			rc = fs_write_invalid(n, OP, data, len, err, why);
			goto out;
		}
		/* "Unchanged" is said only on what AWS says now. */
		if (value != old || fresh)
			break;
		json_decref(t);
		t = NULL;
	}
	snprintf(oldv, sizeof(oldv), "%lld", old);
	snprintf(newv, sizeof(newv), "%lld", value);
	if (value == old) {
		ecs_error_clear(err);
		fs_write_journal(n, OP, oldv, newv, "unchanged", NULL);
		rc = 0;
		goto out;
	}
	if (is_max)
		u.max_capacity = (long)value;
	else
		u.min_capacity = (long)value;
	rc = register_target(n, &u, oldv, newv, err);
out:
	json_decref(t);
	fs_write_unlock(lock);
	return rc;
}

int
fs_write_min_capacity(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	return write_capacity(n, data, len, 0, err);
}

int
fs_write_max_capacity(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	return write_capacity(n, data, len, 1, err);
}

/* true: all three suspension flags on; false: all three off. */
int
fs_write_suspended(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct ecs_aas_target_update u = { .min_capacity = -1, .max_capacity = -1 };
	struct fs_write_lock *lock;
	const char *oldv;
	json_t *t = NULL;
	int on, fresh, unchanged, rc = -1;

	if (fs_parse_bool(data, len, &on) != 0)
		return fs_write_invalid(n, OP, data, len, err, "suspended takes true or false");
	lock = fs_write_lock(n);
	/* Partly suspended reads false; writing false clears every flag. */
	for (fresh = 0; ; fresh++) {
		if (current_target(n, fresh, &t, err) != 0)
			goto out;
		unchanged = on ? fs_aas_suspended(t) : fs_aas_resumed(t);
		/* "Unchanged" is said only on what AWS says now. */
		if (!unchanged || fresh)
			break;
		json_decref(t);
		t = NULL;
	}
	oldv = fs_aas_suspended(t) ? "true" : "false";
	if (unchanged) {
		ecs_error_clear(err);
		fs_write_journal(n, OP, oldv, on ? "true" : "false", "unchanged", NULL);
		rc = 0;
		goto out;
	}
	u.suspended = on;
	rc = register_target(n, &u, oldv, on ? "true" : "false", err);
out:
	json_decref(t);
	fs_write_unlock(lock);
	return rc;
}
