/*
 * What the control files' writes share (fs/write.c, fs/write_deploy.c,
 * fs/write_aas.c): the journal line of an attempt, the per-object lock
 * that serialises the writes of one object, the check of a mutation whose
 * answer was lost, and UpdateService with its cache, kernel and journal
 * follow-up. Not a public header: fs/write.h is.
 */
#ifndef FS_WRITE_INT_H
#define FS_WRITE_INT_H

#include <stddef.h>

#include <jansson.h>

#include "ecs/api.h"
#include "fs/fs.h"

/*
 * The journal's target for a node, the path of the node's folder under
 * the mount: "cluster/services/api", "cluster/services/api/autoscaling".
 */
void fs_write_target(const struct fs_node *n, char *out, size_t size);
/* Journals a write that failed validation (result=invalid) and sets err to why. */
int fs_write_invalid(const struct fs_node *n, const char *op, const char *data, size_t len,
    struct ecs_error *err, const char *why);
/* Journals the outcome of a call (or of a dry run) on the node's file. */
void fs_write_journal(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, const char *result, const struct ecs_error *err);
/* The journal's result word for a failed call: the AWS code, else ours. */
const char *fs_write_failure_word(const struct ecs_error *err);
/* Has the kernel drop its attributes of every file of the node's folder. */
void fs_write_invalidate_folder(const struct fs_node *n);
/*
 * Whether a failed mutation may have been applied: the request was sent
 * and no answer came back, or the call's budget ran out; or it was (it
 * was answered with success, but the answer could not be used).
 */
int fs_write_may_have_applied(const struct ecs_error *err);

/*
 * Takes the lock of the node's object (a service for every file of
 * services/S/ and services/S/autoscaling/), waiting for the write in
 * progress; release with fs_write_unlock().
 */
struct fs_write_lock *fs_write_lock(const struct fs_node *n);
void fs_write_unlock(struct fs_write_lock *l);

/* What a mutation whose answer was lost should have done to its object. */
struct fs_wanted {
	long		 desired_count;	/* >= 0: the service's desiredCount */
	json_t		*deployments;	/* non-NULL: a PRIMARY deployment not among these ids */
	const char	*field;		/* non-NULL: this member of the object ... */
	const char	*value;		/* ... has this value */
};

/*
 * What to report of a mutation that failed with err and may have been
 * applied anyway, once a fresh describe (its outcome in ferr) shows the
 * change (shown) or not: 0, journaled ok, when it shows it or when ECS
 * answered with success (err->applied); else -1 with err a timeout,
 * journaled unknown.
 */
int fs_write_settled(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, int shown, const struct ecs_error *ferr, struct ecs_error *err);
/*
 * After a mutation failed with err and may have been applied anyway,
 * describes the node's object fresh and settles what to report (as
 * fs_write_settled): 0 with *obj (a new reference, or NULL when the
 * describe failed), journaled ok; else -1 with err a timeout, journaled
 * unknown.
 */
int fs_write_settle_lost(const struct fs_node *n, const char *op, const char *old_value,
    const char *new_value, const struct fs_wanted *w, json_t **obj, struct ecs_error *err);
/*
 * Sends UpdateService (unless in dry run) and settles cache, kernel and
 * journal; w says what a lost answer's change looks like.
 */
int fs_write_update_service(const struct fs_node *n, const struct ecs_service_update *u,
    const char *old_value, const char *new_value, const struct fs_wanted *w,
    struct ecs_error *err);
/*
 * The node's object, described now (fresh) or from the cache, as a new
 * reference; a failure is journaled under op.
 */
int fs_write_current(const struct fs_node *n, const char *op, int fresh, json_t **obj,
    struct ecs_error *err);

#endif
