/*
 * The control files' writes (DESIGN §4): desired_count, restart, stop and
 * an instance's status (task_definition and rollback: fs/write_deploy.c,
 * autoscaling/: fs/write_aas.c). Each parses and validates its input before
 * anything is sent, checks that its target exists, honours dry run, calls
 * the API inside write() so the writer sees the result, puts the returned
 * object in the cache (read-your-writes), has the kernel's cached
 * attributes invalidated, and journals the attempt. Writes of one object
 * are serialised; a mutation whose answer was lost is checked against a
 * fresh describe before anything is reported.
 */
#include "fs/write.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/api.h"
#include "ecs/xmalloc.h"
#include "fs/inval.h"
#include "fs/journal.h"
#include "fs/log.h"
#include "fs/parse.h"
#include "fs/tree.h"
#include "fs/write_int.h"

/* The folder of each object kind's folders, and what a subfolder adds. */
static const struct {
	const char	*folder;
	const char	*sub;
} target_folders[FS_DIR_COUNT] = {
	[FS_SERVICE] = { "services", "" },
	[FS_SERVICE_AUTOSCALING] = { "services", "/autoscaling" },
	[FS_TASK] = { "tasks", "" },
	[FS_INSTANCE] = { "container_instances", "" },
};

void
fs_write_target(const struct fs_node *n, char *out, size_t size)
{
	if (n->name != NULL && target_folders[n->dir].folder != NULL)
		snprintf(out, size, "%s/%s/%s%s", n->cluster, target_folders[n->dir].folder,
		    n->name, target_folders[n->dir].sub);
	else if (n->cluster != NULL)
		snprintf(out, size, "%s", n->cluster);
	else
		snprintf(out, size, ".ecsfs");
}

/* The key of the node's object for the write lock: its services/S folder for autoscaling/. */
static void
lock_key(const struct fs_node *n, char *out, size_t size)
{
	struct fs_node obj = *n;

	if (obj.dir == FS_SERVICE_AUTOSCALING)
		obj.dir = FS_SERVICE;
	fs_write_target(&obj, out, size);
}

/* A printable copy of what was written, for the journal; the caller frees it. */
static char *
shown_input(const char *data, size_t len)
{
	size_t i, n;
	struct buf b;

	len = fs_parse_chomp(data, len);
	n = len > 64 ? 64 : len;
	buf_init(&b);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(&b, "\\x%02x", c);
		else
			buf_addc(&b, (char)c);
	}
	if (len > n)
		buf_printf(&b, "...(%zu bytes)", len);
	return buf_steal(&b);
}

int
fs_write_invalid(const struct fs_node *n, const char *op, const char *data, size_t len,
    struct ecs_error *err, const char *why)
{
	struct fs_journal_entry e = { .op = op, .field = n->file ? n->file->name : "-",
	    .result = "invalid", .err = err };
	char target[512];
	char *shown = shown_input(data, len);

	ecs_error_clear(err);
	ecs_error_set(err, ECS_E_INVALID, "%s", why);
	fs_write_target(n, target, sizeof(target));
	e.target = target;
	e.new_value = shown;
	fs_journal_add(&e);
	free(shown);
	return -1;
}

int
fs_write_reject(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err, const char *why)
{
	return fs_write_invalid(n, "write", data, len, err, why);
}

void
fs_write_journal(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, const char *result, const struct ecs_error *err)
{
	struct fs_journal_entry e = { .op = op, .field = n->file->name,
	    .old_value = old_value, .new_value = new_value, .result = result, .err = err };
	char target[512];

	fs_write_target(n, target, sizeof(target));
	e.target = target;
	fs_journal_add(&e);
}

const char *
fs_write_failure_word(const struct ecs_error *err)
{
	return err->aws_code[0] != '\0' ? err->aws_code : ecs_strerror(err->code);
}

void
fs_write_invalidate_folder(const struct fs_node *n)
{
	const struct fs_file *f;
	char target[512], path[1024];

	fs_write_target(n, target, sizeof(target));
	for (f = fs_dirs[n->dir].files; f != NULL && f->name != NULL; f++) {
		snprintf(path, sizeof(path), "/%s/%s", target, f->name);
		fs_inval_queue(path);
	}
}

/* s, or "-" when it is NULL. */
static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/*
 * One lock per object being written, so that a write's read-modify-write
 * (a relative desired_count, a restart's look at the deployments before)
 * is not interleaved with another write of the same object; writes of
 * different objects run in parallel. An entry lives while a write holds
 * or waits for it.
 */
struct fs_write_lock {
	struct fs_write_lock	*next;		/* protected by target_locks_mutex */
	int			 users;		/* protected by target_locks_mutex */
	pthread_mutex_t		 mutex;		/* held by the write in progress */
	char			 key[512];	/* the object's folder */
};

static pthread_mutex_t target_locks_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct fs_write_lock *target_locks;	/* protected by target_locks_mutex */

struct fs_write_lock *
fs_write_lock(const struct fs_node *n)
{
	struct fs_write_lock *l;
	char key[512];

	lock_key(n, key, sizeof(key));
	pthread_mutex_lock(&target_locks_mutex);
	for (l = target_locks; l != NULL; l = l->next)
		if (strcmp(l->key, key) == 0)
			break;
	if (l == NULL) {
		l = xcalloc(1, sizeof(*l));
		pthread_mutex_init(&l->mutex, NULL);
		snprintf(l->key, sizeof(l->key), "%s", key);
		l->next = target_locks;
		target_locks = l;
	}
	l->users++;
	pthread_mutex_unlock(&target_locks_mutex);
	pthread_mutex_lock(&l->mutex);
	return l;
}

/* Releases a lock from fs_write_lock(), freeing its entry when nobody waits. */
void
fs_write_unlock(struct fs_write_lock *l)
{
	struct fs_write_lock **pp;

	pthread_mutex_unlock(&l->mutex);
	pthread_mutex_lock(&target_locks_mutex);
	if (--l->users == 0) {
		for (pp = &target_locks; *pp != l; pp = &(*pp)->next)
			;
		*pp = l->next;
		pthread_mutex_destroy(&l->mutex);
		free(l);
	}
	pthread_mutex_unlock(&target_locks_mutex);
}

/* A timeout counts as sent: it can only be told apart from "never sent" below the client. */
int
fs_write_may_have_applied(const struct ecs_error *err)
{
	return err->maybe_applied || err->applied || err->code == ECS_E_TIMEOUT;
}

/* The id of the PRIMARY deployment of a service, or NULL; borrowed from svc. */
static const char *
primary_deployment(json_t *svc)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(svc, "deployments"), i, d)
		if (json_is_string(json_object_get(d, "status")) &&
		    strcmp(json_string_value(json_object_get(d, "status")), "PRIMARY") == 0)
			return json_string_value(json_object_get(d, "id"));
	return NULL;
}

/* The ids of every deployment of a service, as a new JSON array. */
static json_t *
deployment_ids(json_t *svc)
{
	json_t *ids = json_array(), *d;
	size_t i;

	json_array_foreach(json_object_get(svc, "deployments"), i, d)
		if (json_is_string(json_object_get(d, "id")))
			json_array_append(ids, json_object_get(d, "id"));
	return ids;
}

/* 1 when the JSON array of strings ids holds id. */
static int
has_id(json_t *ids, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(ids, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* 1 when obj, described after the mutation, shows what w wants. */
static int
shows(json_t *obj, const struct fs_wanted *w)
{
	const char *s;

	if (w->desired_count >= 0 && (!json_is_integer(json_object_get(obj, "desiredCount")) ||
	    json_integer_value(json_object_get(obj, "desiredCount")) != w->desired_count))
		return 0;
	if (w->deployments != NULL && ((s = primary_deployment(obj)) == NULL ||
	    has_id(w->deployments, s)))
		return 0;
	if (w->field != NULL && ((s = json_string_value(json_object_get(obj, w->field))) == NULL ||
	    strcmp(s, w->value) != 0))
		return 0;
	return 1;
}

int
fs_write_settled(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, int shown, const struct ecs_error *ferr, struct ecs_error *err)
{
	struct ecs_error note;
	char why[256];

	snprintf(why, sizeof(why), "%.255s", err->message);
	if (shown || err->applied) {
		note = *err;
		/* A lost answer's request id never came back. */
		if (!err->applied)
			note.request_id[0] = '\0';
		if (shown)
			snprintf(note.message, sizeof(note.message), "%s (%s); a fresh "
			    "describe (request %.79s) shows the change applied", err->applied ?
			    "the answer could not be read" : "the answer was lost", why,
			    ferr->request_id[0] != '\0' ? ferr->request_id : "-");
		/* Answered with success: made, whatever a describe shows. */
		else if (ferr->code != ECS_OK)
			snprintf(note.message, sizeof(note.message), "ECS accepted the change "
			    "(HTTP %ld) but the answer could not be read (%.200s); a fresh "
			    "describe failed (%.120s)", err->http_status, why, ferr->message);
		else
			snprintf(note.message, sizeof(note.message), "ECS accepted the change "
			    "(HTTP %ld) but the answer could not be read (%.200s); a fresh "
			    "describe does not show it yet", err->http_status, why);
		fs_write_journal(n, op, old_value, new_value, "ok", &note);
		ecs_error_clear(err);
		return 0;
	}
	if (ferr->code != ECS_OK)
		ecs_error_set(err, ECS_E_TIMEOUT, "the answer was lost (%s) and the state "
		    "could not be read (%s): the change may or may not be applied",
		    why, ferr->message);
	else
		ecs_error_set(err, ECS_E_TIMEOUT, "the answer was lost (%s) and the state "
		    "does not show the change yet: it may still be applied", why);
	fs_write_journal(n, op, old_value, new_value, "unknown", err);
	return -1;
}

int
fs_write_settle_lost(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, const struct fs_wanted *w, json_t **obj, struct ecs_error *err)
{
	int kind = fs_dirs[n->dir].obj_kind;
	struct ecs_error ferr;
	int shown;

	*obj = NULL;
	ecs_error_clear(&ferr);
	shown = ecs_store_fetch(n->ctx->store, kind, n->cluster, n->name, obj, &ferr) == 0 &&
	    shows(*obj, w);
	if (shown && w->deployments != NULL)
		new_value = primary_deployment(*obj);
	if (fs_write_settled(n, op, old_value, new_value, shown, &ferr, err) == 0)
		return 0;
	json_decref(*obj);
	*obj = NULL;
	return -1;
}

int
fs_write_update_service(const struct fs_node *n, const struct ecs_service_update *u,
    const char *old_value, const char *new_value, const struct fs_wanted *w,
    struct ecs_error *err)
{
	struct fs_ctx *ctx = n->ctx;
	json_t *svc = NULL;
	char deployment[128];

	if (atomic_load(&ctx->dry_run)) {
		ecs_error_clear(err);
		fs_write_journal(n, "UpdateService", old_value, new_value, "dry-run", NULL);
		return 0;
	}
	if (ecs_update_service(ctx->client, n->cluster, n->name, u, &svc, err) != 0) {
		if (!fs_write_may_have_applied(err)) {
			fs_write_journal(n, "UpdateService", old_value, new_value,
			    fs_write_failure_word(err), err);
			return -1;
		}
		if (fs_write_settle_lost(n, "UpdateService", old_value, new_value, w, &svc,
		    err) != 0)
			return -1;
		fs_write_invalidate_folder(n);
		json_decref(svc);
		return 0;
	}
	ecs_store_put(ctx->store, ECS_KIND_SERVICE, n->cluster, n->name, svc);
	fs_write_invalidate_folder(n);
	if (u->force_new_deployment) {
		/* The new PRIMARY deployment is what the restart made. */
		snprintf(deployment, sizeof(deployment), "%s", or_dash(primary_deployment(svc)));
		new_value = deployment;
	}
	fs_write_journal(n, "UpdateService", old_value, new_value, "ok", err);
	json_decref(svc);
	return 0;
}

int
fs_write_current(const struct fs_node *n, const char *op, int fresh, json_t **obj,
    struct ecs_error *err)
{
	int kind = fs_dirs[n->dir].obj_kind;
	int rc = fresh ? ecs_store_fetch(n->ctx->store, kind, n->cluster, n->name, obj, err) :
	    ecs_store_get(n->ctx->store, kind, n->cluster, n->name, obj, err);

	if (rc != 0)
		fs_write_journal(n, op, NULL, NULL, fs_write_failure_word(err), err);
	return rc;
}

/*
 * Refuses a desired count that the service's Application Auto Scaling
 * would move back: one below its minimum while scaling out is not
 * suspended, or above its maximum while scaling in is not (writing true
 * to autoscaling/suspended suspends both). Returns 0 when target may be
 * sent, else -1 with err (ERANGE), journaled with the autoscaling/ file to
 * change first. The region's cached target listing answers (one call per
 * cache_ttl for any number of writes). A listing that is throttled fails
 * the write as a throttled call would (EAGAIN, nothing sent); one that
 * cannot be read otherwise (an endpoint out of reach) leaves the write
 * alone, with a warning, as a refused one does (ecs/store_aas.c).
 */
static int
check_scaling_range(const struct fs_node *n, long long target, const char *oldv,
    const char *newv, struct ecs_error *err)
{
	json_t *t = NULL, *st;
	struct ecs_error terr;
	long long min, max;
	int rc;

	rc = ecs_store_scalable_target(n->ctx->store, n->cluster, n->name, &t, &terr);
	if (rc < 0 && (terr.code == ECS_E_THROTTLED || terr.code == ECS_E_BUSY ||
	    terr.code == ECS_E_INTERRUPTED)) {
		/* Try later, as for any throttled call: the answer is there. */
		*err = terr;
		snprintf(err->message, sizeof(err->message), "the scaling range could not be "
		    "read: %.440s", terr.message);
		fs_write_journal(n, "UpdateService", oldv, newv, fs_write_failure_word(err), err);
		return -1;
	}
	if (rc < 0)
		fs_log_warn("%s: %s/%s: scalable target unknown (%s): desired_count %s not "
		    "checked against a scaling range", __func__, n->cluster, n->name,
		    terr.message, newv);
	if (rc <= 0)
		return 0;
	min = json_integer_value(json_object_get(t, "MinCapacity"));
	max = json_integer_value(json_object_get(t, "MaxCapacity"));
	st = json_object_get(t, "SuspendedState");
	if (target < min && json_is_true(json_object_get(st, "DynamicScalingOutSuspended")))
		min = target;
	if (target > max && json_is_true(json_object_get(st, "DynamicScalingInSuspended")))
		max = target;
	json_decref(t);
	if (target >= min && target <= max)
		return 0;
	ecs_error_clear(err);
	if (target < min)
		ecs_error_set(err, ECS_E_RANGE, "desired_count %lld is below "
		    "autoscaling/min_capacity %lld, which auto scaling would restore: lower it "
		    "or write true to autoscaling/suspended first", target, min);
	else
		ecs_error_set(err, ECS_E_RANGE, "desired_count %lld is above "
		    "autoscaling/max_capacity %lld, which auto scaling would restore: raise it "
		    "or write true to autoscaling/suspended first", target, max);
	fs_write_journal(n, "UpdateService", oldv, newv, "out-of-range", err);
	return -1;
}

int
fs_write_desired_count(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct ecs_service_update u = { .desired_count = -1 };
	struct fs_wanted w = { .desired_count = -1 };
	struct fs_write_lock *lock;
	char oldv[32], newv[32];
	long long value, now, target;
	json_t *svc;
	int sign, rc = -1;

	if (fs_parse_count(data, len, &sign, &value) != 0)
		return fs_write_invalid(n, "UpdateService", data, len, err,
		    "desired_count takes N, +N or -N (0 to 2147483647)");
	lock = fs_write_lock(n);
	/*
	 * A relative change starts from the value ECS has now, not a cached
	 * one, read under the lock; +0 and -0 change nothing and send nothing.
	 */
	if (fs_write_current(n, "UpdateService", sign != 0 && value != 0, &svc, err) != 0)
		goto out;
	now = json_integer_value(json_object_get(svc, "desiredCount"));
	json_decref(svc);
	target = sign == 0 ? value : now + sign * value;
	if (target < 0)
		target = 0;	/* scale_down below zero stops at zero */
	if (target > INT32_MAX) {
		rc = fs_write_invalid(n, "UpdateService", data, len, err,
		    "desired_count would exceed 2147483647");
		goto out;
	}
	snprintf(oldv, sizeof(oldv), "%lld", now);
	snprintf(newv, sizeof(newv), "%lld", target);
	if (sign != 0 && target == now) {
		ecs_error_clear(err);
		fs_write_journal(n, "UpdateService", oldv, newv, "unchanged", NULL);
		rc = 0;
		goto out;
	}
	if (check_scaling_range(n, target, oldv, newv, err) != 0)
		goto out;
	u.desired_count = (long)target;
	w.desired_count = (long)target;
	rc = fs_write_update_service(n, &u, oldv, newv, &w, err);
out:
	fs_write_unlock(lock);
	return rc;
}

int
fs_write_restart(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct ecs_service_update u = { .desired_count = -1, .force_new_deployment = 1 };
	struct fs_wanted w = { .desired_count = -1 };
	struct fs_write_lock *lock;
	char oldv[128];
	json_t *svc;
	int rc = -1;

	if (!fs_parse_is_text(data, fs_parse_chomp(data, len)))
		return fs_write_invalid(n, "UpdateService", data, len, err,
		    "restart takes a line of text (any, e.g. 1)");
	lock = fs_write_lock(n);
	if (fs_write_current(n, "UpdateService", 0, &svc, err) != 0)
		goto out;
	snprintf(oldv, sizeof(oldv), "%s", or_dash(primary_deployment(svc)));
	w.deployments = deployment_ids(svc);
	json_decref(svc);
	rc = fs_write_update_service(n, &u, oldv, "force-new-deployment", &w, err);
	json_decref(w.deployments);
out:
	fs_write_unlock(lock);
	return rc;
}

int
fs_write_stop(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct fs_wanted w = { .desired_count = -1, .field = "desiredStatus", .value = "STOPPED" };
	struct fs_ctx *ctx = n->ctx;
	struct fs_write_lock *lock;
	char oldv[32], *reason = NULL;
	json_t *task = NULL;
	size_t reason_len;
	int rc = -1;

	if (fs_parse_stop_reason(data, len, &reason_len) != 0)
		return fs_write_invalid(n, "StopTask", data, len, err,
		    "stop takes a reason: 1 to 255 characters of text on one line");
	lock = fs_write_lock(n);
	if (fs_write_current(n, "StopTask", 0, &task, err) != 0)
		goto out;
	snprintf(oldv, sizeof(oldv), "%s",
	    or_dash(json_string_value(json_object_get(task, "desiredStatus"))));
	json_decref(task);
	task = NULL;
	reason = xstrndup(data, reason_len);
	if (atomic_load(&ctx->dry_run)) {
		ecs_error_clear(err);
		fs_write_journal(n, "StopTask", oldv, "STOPPED", "dry-run", NULL);
		rc = 0;
	} else if (ecs_stop_task(ctx->client, n->cluster, n->name, reason, &task, err) != 0) {
		if (!fs_write_may_have_applied(err))
			fs_write_journal(n, "StopTask", oldv, "STOPPED", fs_write_failure_word(err), err);
		else if ((rc = fs_write_settle_lost(n, "StopTask", oldv, "STOPPED", &w, &task,
		    err)) == 0)
			fs_write_invalidate_folder(n);
	} else {
		ecs_store_put(ctx->store, ECS_KIND_TASK, n->cluster, n->name, task);
		fs_write_invalidate_folder(n);
		fs_write_journal(n, "StopTask", oldv, "STOPPED", "ok", err);
		rc = 0;
	}
out:
	json_decref(task);
	free(reason);
	fs_write_unlock(lock);
	return rc;
}

int
fs_write_instance_status(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct fs_wanted w = { .desired_count = -1, .field = "status" };
	struct fs_ctx *ctx = n->ctx;
	struct fs_write_lock *lock;
	const char *want, *reason;
	json_t *ci = NULL, *cis = NULL, *failures = NULL;
	char oldv[32];
	int rc = -1;

	if ((want = fs_parse_instance_status(data, len)) == NULL)
		return fs_write_invalid(n, "UpdateContainerInstancesState", data, len, err,
		    "status takes ACTIVE or DRAINING");
	w.value = want;
	lock = fs_write_lock(n);
	if (fs_write_current(n, "UpdateContainerInstancesState", 0, &ci, err) != 0)
		goto out;
	snprintf(oldv, sizeof(oldv), "%s", or_dash(json_string_value(json_object_get(ci, "status"))));
	json_decref(ci);
	ci = NULL;
	if (atomic_load(&ctx->dry_run)) {
		ecs_error_clear(err);
		fs_write_journal(n, "UpdateContainerInstancesState", oldv, want, "dry-run", NULL);
		rc = 0;
		goto out;
	}
	if (ecs_update_container_instances_state(ctx->client, n->cluster, &n->name, 1, want,
	    &cis, &failures, err) != 0) {
		if (!fs_write_may_have_applied(err))
			fs_write_journal(n, "UpdateContainerInstancesState", oldv, want,
			    fs_write_failure_word(err), err);
		else if ((rc = fs_write_settle_lost(n, "UpdateContainerInstancesState", oldv,
		    want, &w, &ci, err)) == 0)
			fs_write_invalidate_folder(n);
		goto out;
	}
	if (json_array_size(cis) == 0) {
		reason = json_string_value(json_object_get(json_array_get(failures, 0), "reason"));
		ecs_error_set(err, reason && strcmp(reason, "MISSING") == 0 ? ECS_E_NOTFOUND :
		    ECS_E_INVALID, "%s", reason ? reason : "no container instance updated");
		fs_write_journal(n, "UpdateContainerInstancesState", oldv, want,
		    reason ? reason : "failed", err);
		goto out;
	}
	ecs_store_put(ctx->store, ECS_KIND_INSTANCE, n->cluster, n->name,
	    json_array_get(cis, 0));
	fs_write_invalidate_folder(n);
	fs_write_journal(n, "UpdateContainerInstancesState", oldv, want, "ok", err);
	rc = 0;
out:
	json_decref(ci);
	json_decref(cis);
	json_decref(failures);
	fs_write_unlock(lock);
	return rc;
}

/* The mount's own dry_run setting: "0" or "1"; the change is journaled too. */
int
fs_write_dry_run(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	int old, on;

	if (fs_parse_flag(data, len, &on) != 0)
		return fs_write_invalid(n, "SetDryRun", data, len, err, "dry_run takes 0 or 1");
	old = atomic_exchange(&n->ctx->dry_run, on);
	fs_write_journal(n, "SetDryRun", old ? "1" : "0", on ? "1" : "0", "ok", NULL);
	return 0;
}
