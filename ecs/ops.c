/*
 * The AWS services ecsfs talks to, and the operations it calls with the
 * throttling category AWS puts each in and whether it changes anything.
 */
#include "ecs/ops.h"

#include <stddef.h>
#include <string.h>

/*
 * The services' names as the SDKs know them (botocore's signingName,
 * targetPrefix, the endpoint variables' and the [services] section's
 * service ids) and their regional host names.
 */
const struct ecs_service ecs_services[ECS_SVC_COUNT] = {
	/*  signing name, target prefix, env suffix, config key,
	 *  host prefix, IAM prefix, title, option */
	[ECS_SVC_ECS] = { "ecs", "AmazonEC2ContainerServiceV20141113.", "ECS",
	    "ecs", "ecs", "ecs", "ECS", "endpoint" },
	[ECS_SVC_AUTOSCALING] = { "application-autoscaling",
	    "AnyScaleFrontendService.", "APPLICATION_AUTO_SCALING",
	    "application_auto_scaling", "application-autoscaling",
	    "application-autoscaling", "Application Auto Scaling",
	    "autoscaling_endpoint" },
	[ECS_SVC_LOGS] = { "logs", "Logs_20140328.", "CLOUDWATCH_LOGS",
	    "cloudwatch_logs", "logs", "logs", "CloudWatch Logs",
	    "logs_endpoint" },
	[ECS_SVC_STS] = { "sts", NULL, "STS", "sts", "sts", "sts", "STS",
	    NULL },
	[ECS_SVC_SSO] = { "awsssoportal", NULL, "SSO", "sso", "portal.sso",
	    "sso", "SSO", NULL },
	[ECS_SVC_SSO_OIDC] = { "sso-oauth", NULL, "SSO_OIDC", "sso_oidc",
	    "oidc", "sso-oauth", "SSO OIDC", NULL },
};

const struct ecs_op ecs_ops[] = {
	{ "ListClusters", ECS_SVC_ECS, ECS_CAT_CLUSTER_READ, 0 },
	{ "DescribeClusters", ECS_SVC_ECS, ECS_CAT_CLUSTER_READ, 0 },
	{ "ListServices", ECS_SVC_ECS, ECS_CAT_SERVICE_READ, 0 },
	{ "DescribeServices", ECS_SVC_ECS, ECS_CAT_SERVICE_READ, 0 },
	{ "UpdateService", ECS_SVC_ECS, ECS_CAT_SERVICE_MODIFY, 1 },
	{ "ListTasks", ECS_SVC_ECS, ECS_CAT_RESOURCE_READ, 0 },
	{ "DescribeTasks", ECS_SVC_ECS, ECS_CAT_RESOURCE_READ, 0 },
	{ "StopTask", ECS_SVC_ECS, ECS_CAT_RESOURCE_MODIFY, 1 },
	{ "ListContainerInstances", ECS_SVC_ECS, ECS_CAT_RESOURCE_READ, 0 },
	{ "DescribeContainerInstances", ECS_SVC_ECS, ECS_CAT_RESOURCE_READ, 0 },
	{ "UpdateContainerInstancesState", ECS_SVC_ECS, ECS_CAT_RESOURCE_MODIFY, 1 },
	{ "DescribeTaskDefinition", ECS_SVC_ECS, ECS_CAT_TASKDEF_READ, 0 },
	{ "ListTaskDefinitions", ECS_SVC_ECS, ECS_CAT_TASKDEF_READ, 0 },
	{ "DescribeScalableTargets", ECS_SVC_AUTOSCALING, ECS_CAT_AUTOSCALING_READ, 0 },
	{ "DescribeScalingPolicies", ECS_SVC_AUTOSCALING, ECS_CAT_AUTOSCALING_READ, 0 },
	{ "RegisterScalableTarget", ECS_SVC_AUTOSCALING, ECS_CAT_AUTOSCALING_MODIFY, 1 },
	{ "GetLogEvents", ECS_SVC_LOGS, ECS_CAT_LOGS_READ, 0 },
	{ NULL, ECS_SVC_ECS, ECS_CAT_OTHER, 0 }
};

static const char *const category_names[ECS_CAT_COUNT] = {
	[ECS_CAT_CLUSTER_READ] = "cluster_read",
	[ECS_CAT_SERVICE_READ] = "service_read",
	[ECS_CAT_SERVICE_MODIFY] = "service_modify",
	[ECS_CAT_RESOURCE_READ] = "resource_read",
	[ECS_CAT_RESOURCE_MODIFY] = "resource_modify",
	[ECS_CAT_TASKDEF_READ] = "taskdef_read",
	[ECS_CAT_AUTOSCALING_READ] = "autoscaling_read",
	[ECS_CAT_AUTOSCALING_MODIFY] = "autoscaling_modify",
	[ECS_CAT_LOGS_READ] = "logs_read",
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
