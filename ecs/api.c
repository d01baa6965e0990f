/*
 * The typed ECS operations ecsfs uses, on top of ecs_client_call(): the
 * request shapes of the ECS model, List pagination (maxResults 100,
 * nextToken) and the splitting of Describe and batch calls into the
 * sizes the API accepts.
 */
#include "ecs/api.h"

#include <stdlib.h>
#include <string.h>

#include "ecs/client.h"
#include "ecs/clock.h"
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

/* Sets key to a string when value is given; the request owns the copy. */
static void
set_str(json_t *req, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(req, key, json_string(value));
}

/* Empties err but for the request id of the last response. */
static void
error_keep_request_id(struct ecs_error *err)
{
	char rid[sizeof(err->request_id)];

	memcpy(rid, err->request_id, sizeof(rid));
	ecs_error_clear(err);
	memcpy(err->request_id, rid, sizeof(rid));
}

/* Says err that a response lacks what the operation must return. */
static void
bad_response(struct ecs_error *err, const char *op, const char *key)
{
	error_keep_request_id(err);
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

/*
 * Calls a List operation page by page, starting from the request base
 * (borrowed; a copy gets maxResults and nextToken), and collects the
 * arrays under key of every page into *out. A token handed out twice
 * would loop for ever, so it fails the listing (ECS_E_PROTOCOL), as do
 * more than LIST_MAX_PAGES pages; a listing still going after
 * LIST_BUDGET_MS fails with ECS_E_TIMEOUT.
 */
static int
list_all(struct ecs_client *c, const char *op, json_t *base, const char *key,
    json_t **out, struct ecs_error *err)
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
		json_object_set_new(req, "maxResults", json_integer(LIST_PAGE_SIZE));
		if (token != NULL)
			json_object_set_new(req, "nextToken", json_string(token));
		if (ecs_client_call(c, op, req, &resp, err) != 0)
			goto fail;
		pages++;
		items = json_object_get(resp, key);
		if (items != NULL && !json_is_array(items)) {
			bad_response(err, op, key);
			goto fail;
		}
		if (items != NULL)
			json_array_extend(all, items);
		next = json_object_get(resp, "nextToken");
		token = NULL;
		if (json_is_string(next) && json_string_length(next) > 0)
			token = json_string_value(next);
		if (token == NULL)
			break;
		if (json_object_get(seen, token) != NULL) {
			error_keep_request_id(err);
			ecs_error_set(err, ECS_E_PROTOCOL, "%s: page %ld repeats "
			    "the nextToken of an earlier page; the listing "
			    "would never end", op, pages);
			goto fail;
		}
		if (pages >= max_pages) {
			error_keep_request_id(err);
			ecs_error_set(err, ECS_E_PROTOCOL, "%s: still a nextToken "
			    "after %ld pages; stopped listing", op, pages);
			goto fail;
		}
		if (ecs_now_ms() - start >= budget) {
			error_keep_request_id(err);
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
 */
static int
batch_all(struct ecs_client *c, const char *op, json_t *base, const char *idkey,
    const char *const *ids, size_t n, size_t batch, const char *key,
    json_t **items, json_t **failures, struct ecs_error *err)
{
	json_t *all, *fails, *req = NULL, *resp = NULL, *arr, *v;
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
		if (v != NULL && !json_is_array(v)) {
			bad_response(err, op, key);
			goto fail;
		}
		if (v != NULL)
			json_array_extend(all, v);
		v = json_object_get(resp, "failures");
		if (json_is_array(v))
			json_array_extend(fails, v);
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
		bad_response(err, op, key);
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

	rc = list_all(c, "ListClusters", base, "clusterArns", arns, err);
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

	set_str(base, "cluster", cluster);
	rc = list_all(c, "ListServices", base, "serviceArns", arns, err);
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

	set_str(base, "cluster", cluster);
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

	set_str(req, "cluster", cluster);
	set_str(req, "service", service);
	if (u != NULL && u->desired_count >= 0)
		json_object_set_new(req, "desiredCount", json_integer(u->desired_count));
	if (u != NULL && u->force_new_deployment)
		json_object_set_new(req, "forceNewDeployment", json_true());
	return call_one(c, "UpdateService", req, "service", service_out, err);
}

int
ecs_list_tasks(struct ecs_client *c, const char *cluster,
    const struct ecs_task_filter *f, json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	set_str(base, "cluster", cluster);
	if (f != NULL) {
		set_str(base, "serviceName", f->service_name);
		set_str(base, "containerInstance", f->container_instance);
		set_str(base, "desiredStatus", f->desired_status);
	}
	rc = list_all(c, "ListTasks", base, "taskArns", arns, err);
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

	set_str(base, "cluster", cluster);
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

	set_str(req, "cluster", cluster);
	set_str(req, "task", task);
	set_str(req, "reason", reason);
	return call_one(c, "StopTask", req, "task", task_out, err);
}

int
ecs_list_container_instances(struct ecs_client *c, const char *cluster,
    const char *status, json_t **arns, struct ecs_error *err)
{
	json_t *base = json_object();
	int rc;

	set_str(base, "cluster", cluster);
	set_str(base, "status", status);
	rc = list_all(c, "ListContainerInstances", base, "containerInstanceArns",
	    arns, err);
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

	set_str(base, "cluster", cluster);
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

	set_str(base, "cluster", cluster);
	set_str(base, "status", status);
	rc = batch_all(c, "UpdateContainerInstancesState", base,
	    "containerInstances", ids, n, 10, "containerInstances", instances,
	    failures, err);
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
