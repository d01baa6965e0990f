/*
 * Deploying and rolling back task-definition revisions (services/S/
 * task_definition and services/S/rollback). A deploy names its revision
 * ("family:revision", a task-definition ARN, or a family for its latest
 * ACTIVE revision), which DescribeTaskDefinition checks before anything
 * else is sent; a rollback deploys the newest ACTIVE revision of the
 * running family older than the running one. Both are one UpdateService
 * taskDefinition=ARN, serialised with the service's other writes, dry run
 * and journal as every write (old and new as family:revision), and the
 * service's wait file verifies the deployment they start.
 */
#include "fs/write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/api.h"
#include "ecs/xmalloc.h"
#include "fs/parse.h"
#include "fs/write_int.h"

#define TD_MAX		FS_PARSE_TD_MAX

/* "family:revision" of a task-definition ARN (or of such a name) into out; "-" without one. */
static void
td_name_of_arn(const char *arn, char *out, size_t size)
{
	snprintf(out, size, "%s", arn != NULL ? ecs_arn_name(arn) : "-");
}

/* The revision of "family:revision" or of its ARN, or -1. */
static long long
revision_of(const char *name)
{
	const char *colon = name != NULL ? strrchr(name, ':') : NULL;
	size_t l;

	if (colon == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    fs_parse_task_definition(name, strlen(name), &l) != 0)
		return -1;
	return strtoll(colon + 1, NULL, 10);
}

/* UpdateService to the task definition arn; a lost answer is checked against it. */
static int
deploy(const struct fs_node *n, const char *arn, const char *oldv, const char *newv,
    struct ecs_error *err)
{
	struct ecs_service_update u = { .desired_count = -1, .task_definition = arn };
	struct fs_wanted w = { .desired_count = -1, .field = "taskDefinition", .value = arn };

	return fs_write_update_service(n, &u, oldv, newv, &w, err);
}

int
fs_write_task_definition(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	size_t l;
	const char *arn, *status, *cur;
	char oldv[TD_MAX], newv[TD_MAX];
	struct fs_write_lock *lock;
	json_t *td = NULL, *svc = NULL;
	char *want;
	int rc = -1;

	if (fs_parse_task_definition(data, len, &l) != 0)
		return fs_write_invalid(n, "UpdateService", data, len, err, "task_definition "
		    "takes family:revision, a task definition ARN or a family");
	want = xstrndup(data, l);
	lock = fs_write_lock(n);
	/* What the service ran when last described, for the lines of a refusal. */
	td_name_of_arn(json_string_value(json_object_get(n->obj, "taskDefinition")), oldv,
	    sizeof(oldv));
	if (ecs_describe_task_definition(n->ctx->client, want, &td, err) != 0) {
		fs_write_journal(n, "UpdateService", oldv, want, fs_write_failure_word(err), err);
		goto out;
	}
	arn = json_string_value(json_object_get(td, "taskDefinitionArn"));
	status = json_string_value(json_object_get(td, "status"));
	td_name_of_arn(arn, newv, sizeof(newv));
	if (arn == NULL || status == NULL || strcmp(status, "ACTIVE") != 0) {
		ecs_error_set(err, ECS_E_INVALID, "task definition %s is %s: only an ACTIVE "
		    "revision can be deployed", newv, status != NULL ? status : "unknown");
		fs_write_journal(n, "UpdateService", oldv, newv, "invalid", err);
		goto out;
	}
	if (fs_write_current(n, "UpdateService", 1, &svc, err) != 0)
		goto out;
	cur = json_string_value(json_object_get(svc, "taskDefinition"));
	td_name_of_arn(cur, oldv, sizeof(oldv));
	if (cur != NULL && strcmp(cur, arn) == 0) {
		/* A pipeline that runs again deploys nothing new: restart does that. */
		ecs_error_clear(err);
		fs_write_journal(n, "UpdateService", oldv, newv, "unchanged", NULL);
		rc = 0;
		goto out;
	}
	rc = deploy(n, arn, oldv, newv, err);
out:
	fs_write_unlock(lock);
	json_decref(svc);
	json_decref(td);
	free(want);
	return rc;
}

/*
 * The ARN in arns (a JSON array of task-definition ARNs) of the highest
 * revision below below, or NULL; borrowed from arns.
 */
static const char *
newest_older(json_t *arns, long long below)
{
	const char *best = NULL, *arn;
	long long rev, best_rev = 0;
	json_t *v;
	size_t i;

	json_array_foreach(arns, i, v) {
		if ((arn = json_string_value(v)) == NULL)
			continue;
		rev = revision_of(arn);
		if (rev > 0 && rev < below && rev > best_rev) {
			best = arn;
			best_rev = rev;
		}
	}
	return best;
}

int
fs_write_rollback(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	char oldv[TD_MAX], newv[TD_MAX], family[TD_MAX];
	struct fs_write_lock *lock;
	json_t *svc = NULL, *arns = NULL;
	const char *cur, *prev;
	long long rev;
	int rc = -1;

	if (!fs_parse_is_text(data, fs_parse_chomp(data, len)))
		return fs_write_invalid(n, "UpdateService", data, len, err,
		    "rollback takes a line of text (any, e.g. 1)");
	lock = fs_write_lock(n);
	/* Older than what runs now, as ECS says it now. */
	if (fs_write_current(n, "UpdateService", 1, &svc, err) != 0)
		goto out;
	cur = json_string_value(json_object_get(svc, "taskDefinition"));
	td_name_of_arn(cur, oldv, sizeof(oldv));
	snprintf(family, sizeof(family), "%s", oldv);
	family[strcspn(family, ":")] = '\0';
	if ((rev = revision_of(oldv)) < 0) {
		ecs_error_set(err, ECS_E_PROTOCOL, "the service's task definition %s has no "
		    "revision to roll back from", oldv);
		fs_write_journal(n, "UpdateService", oldv, NULL, "invalid", err);
		goto out;
	}
	if (ecs_list_task_definitions(n->ctx->client, family, "ACTIVE", &arns, err) != 0) {
		fs_write_journal(n, "UpdateService", oldv, NULL, fs_write_failure_word(err), err);
		goto out;
	}
	if ((prev = newest_older(arns, rev)) == NULL) {
		ecs_error_clear(err);
		ecs_error_set(err, ECS_E_INVALID, "no ACTIVE revision of %s older than %s to "
		    "roll back to", family, oldv);
		fs_write_journal(n, "UpdateService", oldv, NULL, "invalid", err);
		goto out;
	}
	td_name_of_arn(prev, newv, sizeof(newv));
	rc = deploy(n, prev, oldv, newv, err);
out:
	fs_write_unlock(lock);
	json_decref(arns);
	json_decref(svc);
	return rc;
}
