/*
 * The ECS operations ecsfs calls, with the throttling category AWS puts
 * each in and whether it changes anything.
 */
#include "ecs/ops.h"

#include <stddef.h>
#include <string.h>

const struct ecs_op ecs_ops[] = {
	{ "ListClusters", ECS_CAT_CLUSTER_READ, 0 },
	{ "DescribeClusters", ECS_CAT_CLUSTER_READ, 0 },
	{ "ListServices", ECS_CAT_SERVICE_READ, 0 },
	{ "DescribeServices", ECS_CAT_SERVICE_READ, 0 },
	{ "UpdateService", ECS_CAT_SERVICE_MODIFY, 1 },
	{ "ListTasks", ECS_CAT_RESOURCE_READ, 0 },
	{ "DescribeTasks", ECS_CAT_RESOURCE_READ, 0 },
	{ "StopTask", ECS_CAT_RESOURCE_MODIFY, 1 },
	{ "ListContainerInstances", ECS_CAT_RESOURCE_READ, 0 },
	{ "DescribeContainerInstances", ECS_CAT_RESOURCE_READ, 0 },
	{ "UpdateContainerInstancesState", ECS_CAT_RESOURCE_MODIFY, 1 },
	{ NULL, ECS_CAT_OTHER, 0 }
};

static const char *const category_names[ECS_CAT_COUNT] = {
	[ECS_CAT_CLUSTER_READ] = "cluster_read",
	[ECS_CAT_SERVICE_READ] = "service_read",
	[ECS_CAT_SERVICE_MODIFY] = "service_modify",
	[ECS_CAT_RESOURCE_READ] = "resource_read",
	[ECS_CAT_RESOURCE_MODIFY] = "resource_modify",
	[ECS_CAT_OTHER] = "other",
};

const struct ecs_op *
ecs_op_find(const char *name)
{
	const struct ecs_op *op;

	if (name == NULL)
		return NULL;
	for (op = ecs_ops; op->name != NULL; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

const char *
ecs_category_name(enum ecs_category cat)
{
	if ((unsigned)cat >= ECS_CAT_COUNT)
		return "other";
	return category_names[cat];
}
