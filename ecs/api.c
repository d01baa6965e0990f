/*
 * The typed ECS operations ecsfs uses, on top of ecs_client_call(): the
 * request shapes of the ECS model, List pagination (maxResults 100,
 * nextToken, shared with the other services' listings through
 * ecs/api_int.h) and the splitting of Describe and batch calls into the
 * sizes the API accepts. Application Auto Scaling and CloudWatch Logs
 * have files of their own.
 */
#include "ecs/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/api_int.h"
#include "ecs/client.h"
#include "ecs/clock.h"
#include "ecs/ops.h"
#include "ecs/xmalloc.h"

#define LIST_PAGE_SIZE		100
/*
 * The bounds of one whole listing. ECS's largest lists (10,000 clusters,
 * 5,000 services or container instances in a cluster) take at most 100
 * pages; a server that keeps handing out tokens past 1,000 pages, or for
 * two minutes, is not ECS, and the reader waiting on it must get an answer.
 */
#define LIST_MAX_PAGES		1000
#define LIST_BUDGET_MS		120000

const struct api_paging api_ecs_paging = { "maxResults", "nextToken",
    LIST_PAGE_SIZE };

void
api_set_str(json_t *req, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(req, key, json_string(value));
}

void
api_keep_request_id(struct ecs_error *err)
{
	char rid[sizeof(err->request_id)];

	memcpy(rid, err->request_id, sizeof(rid));
	ecs_error_clear(err);
	memcpy(err->request_id, rid, sizeof(rid));
}

void
api_bad_response(struct ecs_error *err, const char *op, const char *key)
{
	const struct ecs_op *e = ecs_op_find(op);
	long status = err->http_status;

	api_keep_request_id(err);
	/* Only a success is parsed for its content: a mutation answered so was made. */
	err->http_status = status;
	err->applied = e != NULL && e->mutating;
	ecs_error_set(err, ECS_E_PROTOCOL, "%s response has no valid \"%s\"", op,
	    key);
}

/*
 * A listing bound: the default, or in debug builds the value of the
 * environment variable name, so that tests need not fetch 1,000 pages.
 */
static long
list_limit(const char *name, long dflt)
{
#ifndef NDEBUG
	const char *v = getenv(name);
	long n;

	if (v != NULL && (n = strtol(v, NULL, 10)) > 0)
		return n;
#else
	(void)name;
#endif
	return dflt;
}

int
api_list_all(struct ecs_client *c, const char *op, const struct api_paging *pg,
    json_t *base, const char *key, json_t **out, struct ecs_error *err)
{
	json_t *all, *seen, *req = NULL, *resp = NULL, *items, *next;
	const char *token = NULL;
	long max_pages = list_limit("ECSFS_LIST_MAX_PAGES", LIST_MAX_PAGES);
	long budget = list_limit("ECSFS_LIST_BUDGET_MS", LIST_BUDGET_MS);
	int64_t start = ecs_now_ms();
	long pages = 0;
	int rc = -1;

	*out = NULL;
	all = json_array();
	seen = json_object();	/* every token handed out, as keys */
	for (;;) {
		req = json_deep_copy(base);
		json_object_set_new(req, pg->max_key, json_integer(pg->page_size));
		if (token != NULL)
			json_object_set_new(req, pg->token_key, json_string(token));
		if (ecs_client_call(c, op, req, &resp, err) != 0)
			goto fail;
		pages++;
		items = json_object_get(resp, key);
		if (items != NULL && !json_is_array(items)) {
			api_bad_response(err, op, key);
			goto fail;
		}
		if (items != NULL)
			json_array_extend(all, items);
		next = json_object_get(resp, pg->token_key);
		token = NULL;
		if (json_is_string(next) && json_string_length(next) > 0)
			token = json_string_value(next);
		if (token == NULL)
			break;
		if (json_object_get(seen, token) != NULL) {
			api_keep_request_id(err);
			ecs_error_set(err, ECS_E_PROTOCOL, "%s: page %ld repeats "
			    "the nextToken of an earlier page; the listing "
			    "would never end", op, pages);
			goto fail;
		}
		if (pages >= max_pages) {
			api_keep_request_id(err);
			ecs_error_set(err, ECS_E_PROTOCOL, "%s: still a nextToken "
			    "after %ld pages; stopped listing", op, pages);
			goto fail;
		}
		if (ecs_now_ms() - start >= budget) {
			api_keep_request_id(err);
			ecs_error_set(err, ECS_E_TIMEOUT, "%s: the listing took "
			    "more than %ld %s (%ld pages); stopped", op,
			    budget % 1000 == 0 ? budget / 1000 : budget,
			    budget % 1000 == 0 ? "s" : "ms", pages);
			goto fail;
		}
		json_object_set_new(seen, token, json_true());
		/* The token lives on in seen once resp is gone. */
		token = json_object_iter_key(json_object_iter_at(seen, token));
		json_decref(req);
		json_decref(resp);
		req = resp = NULL;
	}
	*out = all;
	all = NULL;
	rc = 0;
fail:
	json_decref(req);
	json_decref(resp);
	json_decref(seen);
	json_decref(all);
	return rc;
}

/*
 * Calls a batch operation over n ids, batch at a time: each request is a
 * copy of base (borrowed) with the ids under idkey. Appends the arrays
 * under key and "failures" of every response to *items and *failures.
 * A mutation's answer that names neither an item nor a failure is a bad
 * response (the change was made, but what came of it is unknown).
 */
static int
batch_all(struct ecs_client *c, const char *op, json_t *base, const char *idkey,
    const char *const *ids, size_t n, size_t batch, const char *key,
    json_t **items, json_t **failures, struct ecs_error *err)
{
	const struct ecs_op *e = ecs_op_find(op);
	json_t *all, *fails, *req = NULL, *resp = NULL, *arr, *v, *f;
	size_t i, j;
	int rc = -1;

	*items = NULL;
	if (failures != NULL)
		*failures = NULL;
	ecs_error_clear(err);
	all = json_array();
	fails = json_array();
	for (i = 0; i < n; i += batch) {
		req = json_deep_copy(base);
		arr = json_array();
		for (j = i; j < n && j < i + batch; j++) {
			if (ids[j] == NULL) {
				json_decref(arr);
				ecs_error_set(err, ECS_E_INVALID, "%s: NULL id", op);
				goto fail;
			}
			json_array_append_new(arr, json_string(ids[j]));
		}
		json_object_set_new(req, idkey, arr);
		if (ecs_client_call(c, op, req, &resp, err) != 0)
			goto fail;
		v = json_object_get(resp, key);
		f = json_object_get(resp, "failures");
		if ((v != NULL && !json_is_array(v)) || (e != NULL && e->mutating &&
		    json_array_size(v) + json_array_size(f) == 0)) {
			api_bad_response(err, op, key);
			goto fail;
		}
		if (v != NULL)
			json_array_extend(all, v);
		if (json_is_array(f))
			json_array_extend(fails, f);
		json_decref(req);
		json_decref(resp);
		req = resp = NULL;
	}
	*items = all;
	all = NULL;
	if (failures != NULL) {
		*failures = fails;
		fails = NULL;
	}
	rc = 0;
fail:
	json_decref(req);
	json_decref(resp);
	json_decref(all);
	json_decref(fails);
	return rc;
}

/* Calls op with req (stolen) and returns the object under key in *out. */
static int
call_one(struct ecs_client *c, const char *op, json_t *req, const char *key,
    json_t **out, struct ecs_error *err)
{
	json_t *resp = NULL, *v;
	int rc = -1;

	*out = NULL;
	if (ecs_client_call(c, op, req, &resp, err) != 0)
		goto fail;
	v = json_object_get(resp, key);
	if (!json_is_object(v)) {
		api_bad_response(err, op, key);
		goto fail;
	}
	*out = json_incref(v);
	rc = 0;
fail:
	json_decref(req);
	json_decref(resp);
	return rc;
}

int
ecs_list_clusters(struct ecs_client *c, json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	rc = api_list_all(c, "ListClusters", &api_ecs_paging, base, "clusterArns",
	    arns, err);
	json_decref(base);
	return rc;
}

int
ecs_describe_clusters(struct ecs_client *c, const char *const *names, size_t n,
    json_t **clusters, json_t **failures, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	rc = batch_all(c, "DescribeClusters", base, "clusters", names, n, 100,
	    "clusters", clusters, failures, err);
	json_decref(base);
	return rc;
}

int
ecs_list_services(struct ecs_client *c, const char *cluster, json_t **arns,
    struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	rc = api_list_all(c, "ListServices", &api_ecs_paging, base, "serviceArns",
	    arns, err);
	json_decref(base);
	return rc;
}

int
ecs_describe_services(struct ecs_client *c, const char *cluster,
    const char *const *names, size_t n, json_t **services, json_t **failures,
    struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	rc = batch_all(c, "DescribeServices", base, "services", names, n, 10,
	    "services", services, failures, err);
	json_decref(base);
	return rc;
}

int
ecs_update_service(struct ecs_client *c, const char *cluster, const char *service,
    const struct ecs_service_update *u, json_t **service_out, struct ecs_error *err)
{
	json_t *req = json_object();

	api_set_str(req, "cluster", cluster);
	api_set_str(req, "service", service);
	if (u != NULL && u->desired_count >= 0)
		json_object_set_new(req, "desiredCount", json_integer(u->desired_count));
	if (u != NULL && u->force_new_deployment)
		json_object_set_new(req, "forceNewDeployment", json_true());
	if (u != NULL)
		api_set_str(req, "taskDefinition", u->task_definition);
	return call_one(c, "UpdateService", req, "service", service_out, err);
}

int
ecs_list_tasks(struct ecs_client *c, const char *cluster,
    const struct ecs_task_filter *f, json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	if (f != NULL) {
		api_set_str(base, "serviceName", f->service_name);
		api_set_str(base, "containerInstance", f->container_instance);
		api_set_str(base, "desiredStatus", f->desired_status);
	}
	rc = api_list_all(c, "ListTasks", &api_ecs_paging, base, "taskArns", arns,
	    err);
	json_decref(base);
	return rc;
}

int
ecs_describe_tasks(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, json_t **tasks, json_t **failures,
    struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	rc = batch_all(c, "DescribeTasks", base, "tasks", ids, n, 100, "tasks",
	    tasks, failures, err);
	json_decref(base);
	return rc;
}

int
ecs_stop_task(struct ecs_client *c, const char *cluster, const char *task,
    const char *reason, json_t **task_out, struct ecs_error *err)
{
	json_t *req = json_object();

	api_set_str(req, "cluster", cluster);
	api_set_str(req, "task", task);
	api_set_str(req, "reason", reason);
	return call_one(c, "StopTask", req, "task", task_out, err);
}

int
ecs_list_container_instances(struct ecs_client *c, const char *cluster,
    const char *status, json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	api_set_str(base, "status", status);
	rc = api_list_all(c, "ListContainerInstances", &api_ecs_paging, base,
	    "containerInstanceArns", arns, err);
	json_decref(base);
	return rc;
}

int
ecs_describe_container_instances(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, json_t **instances, json_t **failures,
    struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	rc = batch_all(c, "DescribeContainerInstances", base, "containerInstances",
	    ids, n, 100, "containerInstances", instances, failures, err);
	json_decref(base);
	return rc;
}

int
ecs_update_container_instances_state(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, const char *status, json_t **instances,
    json_t **failures, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	api_set_str(base, "cluster", cluster);
	api_set_str(base, "status", status);
	rc = batch_all(c, "UpdateContainerInstancesState", base,
	    "containerInstances", ids, n, 10, "containerInstances", instances,
	    failures, err);
	json_decref(base);
	return rc;
}

int
ecs_describe_task_definition(struct ecs_client *c, const char *td, json_t **td_out,
    struct ecs_error *err)
{
	json_t *req = json_object();
	char msg[sizeof(err->message)];
	int rc;

	api_set_str(req, "taskDefinition", td);
	rc = call_one(c, "DescribeTaskDefinition", req, "taskDefinition", td_out,
	    err);
	/* ECS says only "Unable to describe task definition.": name it. */
	if (rc != 0 && err->code == ECS_E_INVALID && td != NULL) {
		snprintf(msg, sizeof(msg), "%s", err->message);
		snprintf(err->message, sizeof(err->message), "task definition "
		    "%.200s: %.280s", td, msg);
	}
	return rc;
}

/*
 * The revision of a task-definition ARN of exactly family
 * ("arn:...:task-definition/FAMILY:REV"), or -1 when it is another
 * family's or not such an ARN.
 */
static long
taskdef_revision(const char *arn, const char *family)
{
	const char *p = strstr(arn != NULL ? arn : "", ":task-definition/");
	size_t n = strlen(family);
	char *end;
	long rev;

	if (p == NULL)
		return -1;
	p += strlen(":task-definition/");
	if (strncmp(p, family, n) != 0 || p[n] != ':')
		return -1;
	p += n + 1;
	if (*p < '0' || *p > '9')
		return -1;
	rev = strtol(p, &end, 10);
	return *end == '\0' && rev > 0 ? rev : -1;
}

/* qsort()'s order of revisions, oldest first. */
static int
taskdef_cmp(const void *a, const void *b)
{
	const long *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

int
ecs_list_task_definitions(struct ecs_client *c, const char *family, const char *status,
    json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object(), *all = NULL, *v;
	long (*revs)[2] = NULL;	/* revision, index in all */
	size_t i, n = 0;
	int rc = -1;

	*arns = NULL;
	if (family == NULL || *family == '\0') {
		ecs_error_clear(err);
		ecs_error_set(err, ECS_E_INVALID, "ListTaskDefinitions: no family");
		goto fail;
	}
	api_set_str(base, "familyPrefix", family);
	api_set_str(base, "status", status != NULL ? status : "ACTIVE");
	api_set_str(base, "sort", "ASC");
	if (api_list_all(c, "ListTaskDefinitions", &api_ecs_paging, base,
	    "taskDefinitionArns", &all, err) != 0)
		goto fail;
	revs = xcalloc(json_array_size(all) + 1, sizeof(*revs));
	json_array_foreach(all, i, v) {
		long rev = taskdef_revision(json_string_value(v), family);

		/* "api" is a prefix of "api-worker" too: only api's own. */
		if (rev < 0)
			continue;
		revs[n][0] = rev;
		revs[n][1] = (long)i;
		n++;
	}
	qsort(revs, n, sizeof(*revs), taskdef_cmp);
	*arns = json_array();
	for (i = 0; i < n; i++)
		json_array_append(*arns, json_array_get(all, (size_t)revs[i][1]));
	rc = 0;
fail:
	free(revs);
	json_decref(all);
	json_decref(base);
	return rc;
}

const char *
ecs_arn_name(const char *arn)
{
	const char *p;

	if (arn == NULL)
		return NULL;
	if ((p = strrchr(arn, '/')) != NULL)
		return p + 1;
	/* "arn:aws:ecs:region:account:cluster-name" has no slash. */
	if (strncmp(arn, "arn:", 4) == 0 && (p = strrchr(arn, ':')) != NULL)
		return p + 1;
	return arn;
}
