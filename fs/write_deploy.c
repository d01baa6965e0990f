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

/* Longer than any task-definition ARN (a 255-character family, a partition, a region). */
#define TD_MAX		512
#define FAMILY_MAX	255

/* Whether s[0..len) is a family name: 1 to 255 letters, digits, '-' and '_'. */
static int
family_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > FAMILY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* Whether s[0..len) is a revision number: 1 to 2147483647, no leading zero. */
static int
revision_ok(const char *s, size_t len)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 10 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 2147483647LL;
}

/* Whether s[0..len) is "family" (need_rev 0) or "family:revision". */
static int
family_rev_ok(const char *s, size_t len, int need_rev)
{
	const char *colon = memchr(s, ':', len);

	if (colon == NULL)
		return !need_rev && family_ok(s, len);
	return family_ok(s, (size_t)(colon - s)) &&
	    revision_ok(colon + 1, len - (size_t)(colon - s) - 1);
}

/* Whether s[0..len) holds only characters of set (a NUL-terminated list) and is not empty. */
static int
only(const char *s, size_t len, const char *set)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

#define LOWER_DIGITS	"abcdefghijklmnopqrstuvwxyz0123456789-"

/*
 * Whether a write names a task definition: "family:revision", a family,
 * or arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/family:revision.
 */
static int
td_ok(const char *s, size_t len)
{
	static const char res[] = "task-definition/";
	const char *p = s + 4, *end = s + len, *c;
	int field;

	if (len > TD_MAX)
		return 0;
	if (len < 4 || memcmp(s, "arn:", 4) != 0)
		return family_rev_ok(s, len, 0);
	/* partition, service, region, account: then the resource. */
	for (field = 0; field < 4; field++) {
		if ((c = memchr(p, ':', (size_t)(end - p))) == NULL)
			return 0;
		if ((field == 0 && !only(p, (size_t)(c - p), LOWER_DIGITS)) ||
		    (field == 1 && ((size_t)(c - p) != 3 || memcmp(p, "ecs", 3) != 0)) ||
		    (field == 2 && !only(p, (size_t)(c - p), LOWER_DIGITS)) ||
		    (field == 3 && ((size_t)(c - p) != 12 || !only(p, 12, "0123456789"))))
			return 0;
		p = c + 1;
	}
	if ((size_t)(end - p) <= sizeof(res) - 1 || memcmp(p, res, sizeof(res) - 1) != 0)
		return 0;
	p += sizeof(res) - 1;
	return family_rev_ok(p, (size_t)(end - p), 1);
}

/* "family:revision" of a task-definition ARN (or of such a name) into out; "-" without one. */
static void
td_name_of_arn(const char *arn, char *out, size_t size)
{
	snprintf(out, size, "%s", arn != NULL ? ecs_arn_name(arn) : "-");
}

/* The revision of "...family:revision", or -1. */
static long long
revision_of(const char *name)
{
	const char *colon = name != NULL ? strrchr(name, ':') : NULL;

	if (colon == NULL || !revision_ok(colon + 1, strlen(colon + 1)))
		return -1;
	return strtoll(colon + 1, NULL, 10);
}

int
fs_write_task_definition(const struct fs_node *n, const char *data, size_t len,
    struct ecs_error *err)
{
	struct ecs_service_update u = { .desired_count = -1 };
	struct fs_wanted w = { .desired_count = -1, .field = "taskDefinition" };
	size_t l = fs_parse_chomp(data, len);
	const char *arn, *status, *cur;
	char oldv[TD_MAX], newv[TD_MAX];
	struct fs_write_lock *lock;
	json_t *td = NULL, *svc = NULL;
	char *want;
	int rc = -1;

	if (!td_ok(data, l))
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
	u.task_definition = arn;
	w.value = arn;
	rc = fs_write_update_service(n, &u, oldv, newv, &w, err);
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
	struct ecs_service_update u = { .desired_count = -1 };
	struct fs_wanted w = { .desired_count = -1, .field = "taskDefinition" };
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
	if ((rev = revision_of(oldv)) < 0 || !family_ok(family, strlen(family))) {
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
	u.task_definition = prev;
	w.value = prev;
	rc = fs_write_update_service(n, &u, oldv, newv, &w, err);
out:
	fs_write_unlock(lock);
	json_decref(arns);
	json_decref(svc);
	return rc;
}
