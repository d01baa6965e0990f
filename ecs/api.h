/*
 * Typed ECS operations. List calls follow nextToken with maxResults 100
 * and return every page; Describe and batch calls split their input into
 * the API's batch sizes (DescribeClusters 100, DescribeServices 10,
 * DescribeTasks 100, DescribeContainerInstances 100,
 * UpdateContainerInstancesState 10) and concatenate the results.
 *
 * Every function returns 0 or -1 with err filled (see ecs/err.h; on
 * success err->request_id is that of the last request). Every json_t
 * returned through an out parameter is a new reference the caller
 * releases with json_decref(); on failure out parameters are NULL.
 */
#ifndef ECS_API_H
#define ECS_API_H

#include <stddef.h>

#include <jansson.h>

#include "ecs/err.h"

struct ecs_client;

/* *arns: array of ARN strings. */
int ecs_list_clusters(struct ecs_client *c, json_t **arns, struct ecs_error *err);
/* *clusters: array of Cluster objects; *failures: array of Failure objects (may be empty). */
int ecs_describe_clusters(struct ecs_client *c, const char *const *names, size_t n,
    json_t **clusters, json_t **failures, struct ecs_error *err);

int ecs_list_services(struct ecs_client *c, const char *cluster, json_t **arns,
    struct ecs_error *err);
int ecs_describe_services(struct ecs_client *c, const char *cluster,
    const char *const *names, size_t n, json_t **services, json_t **failures,
    struct ecs_error *err);

/*
 * What UpdateService changes: desired_count < 0 leaves it alone, and so
 * does a NULL task_definition (else "family:revision" or an ARN).
 */
struct ecs_service_update {
	long		 desired_count;
	int		 force_new_deployment;
	const char	*task_definition;
};
/* *service_out: the Service object UpdateService returned. */
int ecs_update_service(struct ecs_client *c, const char *cluster, const char *service,
    const struct ecs_service_update *u, json_t **service_out, struct ecs_error *err);

/* Filters may be NULL. desired_status NULL means ECS's default (RUNNING). */
struct ecs_task_filter {
	const char	*service_name;
	const char	*container_instance;
	const char	*desired_status;
};
int ecs_list_tasks(struct ecs_client *c, const char *cluster,
    const struct ecs_task_filter *f, json_t **arns, struct ecs_error *err);
int ecs_describe_tasks(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, json_t **tasks, json_t **failures,
    struct ecs_error *err);
/* *task_out: the Task object StopTask returned. */
int ecs_stop_task(struct ecs_client *c, const char *cluster, const char *task,
    const char *reason, json_t **task_out, struct ecs_error *err);

/* status may be NULL (every status ECS lists by default). */
int ecs_list_container_instances(struct ecs_client *c, const char *cluster,
    const char *status, json_t **arns, struct ecs_error *err);
int ecs_describe_container_instances(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, json_t **instances, json_t **failures,
    struct ecs_error *err);
int ecs_update_container_instances_state(struct ecs_client *c, const char *cluster,
    const char *const *ids, size_t n, const char *status, json_t **instances,
    json_t **failures, struct ecs_error *err);

/*
 * Task definitions. *td_out: the TaskDefinition object of td, which is
 * "family:revision", a family (its latest ACTIVE revision) or an ARN.
 * One that does not exist fails with ECS_E_INVALID (ECS's
 * ClientException), as ECS answers.
 */
int ecs_describe_task_definition(struct ecs_client *c, const char *td, json_t **td_out,
    struct ecs_error *err);
/*
 * The ARNs of the revisions of exactly family (ListTaskDefinitions with
 * familyPrefix, other families of that prefix left out) whose status is
 * status (NULL: ACTIVE), every page, sorted by revision, oldest first.
 */
int ecs_list_task_definitions(struct ecs_client *c, const char *family, const char *status,
    json_t **arns, struct ecs_error *err);

/*
 * Application Auto Scaling, for ECS services' desired count: namespace
 * "ecs", dimension "ecs:service:DesiredCount", resource ids
 * "service/CLUSTER/SERVICE" (ecs_aas_resource_id). Pages of the largest
 * MaxResults (50 targets, 10 policies) are followed through NextToken as
 * List calls are.
 */
#define ECS_AAS_NAMESPACE	"ecs"
#define ECS_AAS_DIMENSION	"ecs:service:DesiredCount"
/* "service/CLUSTER/SERVICE"; the caller frees it. */
char *ecs_aas_resource_id(const char *cluster, const char *service);
/*
 * *targets: array of ScalableTarget objects of the ids given (n == 0: of
 * every ECS service of the region), of the desired-count dimension.
 */
int ecs_aas_describe_scalable_targets(struct ecs_client *c, const char *const *ids,
    size_t n, json_t **targets, struct ecs_error *err);
/* *policies: array of ScalingPolicy objects of one resource id. */
int ecs_aas_describe_scaling_policies(struct ecs_client *c, const char *id,
    json_t **policies, struct ecs_error *err);
/* What RegisterScalableTarget changes: < 0 leaves a value alone. */
struct ecs_aas_target_update {
	long	min_capacity;
	long	max_capacity;
	int	suspended;	/* 1: all three suspension flags on, 0: off, -1: unchanged */
};
int ecs_aas_register_scalable_target(struct ecs_client *c, const char *id,
    const struct ecs_aas_target_update *u, struct ecs_error *err);

/*
 * CloudWatch Logs. *events: the stream's events as GetLogEvents returns
 * them ({timestamp, message, ingestionTime}), oldest first. With
 * token NULL: the latest limit events (startFromHead false); else the
 * events after the position token names (a nextForwardToken of an
 * earlier answer), at most limit of them (limit <= 0: as many as fit in
 * an answer; above 10000: 10000), so that an answer holding limit events
 * may have more after it. *next_token (may be NULL): the nextForwardToken
 * to ask for what comes after, a string the caller frees. A group or
 * stream that does not exist fails with ECS_E_NOTFOUND.
 */
int ecs_logs_get_events(struct ecs_client *c, const char *group, const char *stream,
    long limit, const char *token, json_t **events, char **next_token,
    struct ecs_error *err);

/* The last path element of an ARN ("arn:...:service/cluster/api" -> "api"); borrowed from arn. */
const char *ecs_arn_name(const char *arn);

#endif
