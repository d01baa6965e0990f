/*
 * The Application Auto Scaling operations ecsfs uses, for the desired
 * count of ECS services: the scalable targets (in batches of 50 resource
 * ids, each listing paged through NextToken), their scaling policies and
 * RegisterScalableTarget.
 */
#include "ecs/api.h"

#include <stdlib.h>

#include "ecs/api_int.h"
#include "ecs/client.h"
#include "ecs/xmalloc.h"

/* The largest ResourceIds list and MaxResults of DescribeScalableTargets. */
#define AAS_TARGETS_BATCH	50
/* DescribeScalingPolicies's largest MaxResults. */
#define AAS_POLICIES_PAGE	10

static const struct api_paging aas_targets_paging = { "MaxResults", "NextToken",
    AAS_TARGETS_BATCH };
static const struct api_paging aas_policies_paging = { "MaxResults", "NextToken",
    AAS_POLICIES_PAGE };

char *
ecs_aas_resource_id(const char *cluster, const char *service)
{
	return xasprintf("service/%s/%s", cluster, service);
}

/* A request naming the ECS namespace and the desired-count dimension. */
static json_t *
aas_request(void)
{
	json_t *req = json_object();

	api_set_str(req, "ServiceNamespace", ECS_AAS_NAMESPACE);
	api_set_str(req, "ScalableDimension", ECS_AAS_DIMENSION);
	return req;
}

int
ecs_aas_describe_scalable_targets(struct ecs_client *c, const char *const *ids,
    size_t n, json_t **targets, struct ecs_error *err)
{
	json_t *all = json_array(), *base = NULL, *arr, *page = NULL;
	size_t i, j;
	int rc = -1;

	*targets = NULL;
	ecs_error_clear(err);
	/* n == 0: one listing of the whole namespace. */
	for (i = 0; i == 0 || i < n; i += AAS_TARGETS_BATCH) {
		base = aas_request();
		if (n > 0) {
			arr = json_array();
			for (j = i; j < n && j < i + AAS_TARGETS_BATCH; j++) {
				if (ids[j] == NULL) {
					json_decref(arr);
					ecs_error_set(err, ECS_E_INVALID,
					    "DescribeScalableTargets: NULL id");
					goto fail;
				}
				json_array_append_new(arr, json_string(ids[j]));
			}
			json_object_set_new(base, "ResourceIds", arr);
		}
		if (api_list_all(c, "DescribeScalableTargets", &aas_targets_paging,
		    base, "ScalableTargets", &page, err) != 0)
			goto fail;
		json_array_extend(all, page);
		json_decref(page);
		json_decref(base);
		page = base = NULL;
		if (n == 0)
			break;
	}
	*targets = all;
	all = NULL;
	rc = 0;
fail:
	json_decref(base);
	json_decref(all);
	return rc;
}

int
ecs_aas_describe_scaling_policies(struct ecs_client *c, const char *id,
    json_t **policies, struct ecs_error *err)
{
	json_t *base = aas_request();
	int rc;

	api_set_str(base, "ResourceId", id);
	rc = api_list_all(c, "DescribeScalingPolicies", &aas_policies_paging, base,
	    "ScalingPolicies", policies, err);
	json_decref(base);
	return rc;
}

int
ecs_aas_register_scalable_target(struct ecs_client *c, const char *id,
    const struct ecs_aas_target_update *u, struct ecs_error *err)
{
	json_t *req = aas_request(), *resp = NULL, *st;
	int rc;

	api_set_str(req, "ResourceId", id);
	if (u != NULL && u->min_capacity >= 0)
		json_object_set_new(req, "MinCapacity", json_integer(u->min_capacity));
	if (u != NULL && u->max_capacity >= 0)
		json_object_set_new(req, "MaxCapacity", json_integer(u->max_capacity));
	if (u != NULL && u->suspended >= 0) {
		/* The three together: scale-in, scale-out and scheduled scaling. */
		st = json_object();
		json_object_set_new(st, "DynamicScalingInSuspended",
		    json_boolean(u->suspended));
		json_object_set_new(st, "DynamicScalingOutSuspended",
		    json_boolean(u->suspended));
		json_object_set_new(st, "ScheduledScalingSuspended",
		    json_boolean(u->suspended));
		json_object_set_new(req, "SuspendedState", st);
	}
	rc = ecs_client_call(c, "RegisterScalableTarget", req, &resp, err);
	json_decref(resp);
	json_decref(req);
	return rc;
}
