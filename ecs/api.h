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

/* What UpdateService changes: desired_count < 0 leaves it alone. */
struct ecs_service_update {
	long	desired_count;
	int	force_new_deployment;
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

/* The last path element of an ARN ("arn:...:service/cluster/api" -> "api"); borrowed from arn. */
const char *ecs_arn_name(const char *arn);

#endif
