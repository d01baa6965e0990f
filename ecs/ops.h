/*
 * The AWS services and operations ecsfs calls. One row per service says
 * how to reach and sign it (DESIGN §3): its SigV4 name, the X-Amz-Target
 * prefix of its JSON protocol, the AWS_ENDPOINT_URL_<SUFFIX> variable and
 * the key of a profile's [services] section that name its endpoint, the
 * host name prefix of its regional endpoint, and its IAM action prefix.
 * One row per operation gives its service, its throttling category and
 * whether it mutates. The IAM policy test, the client's routing and its
 * per-category accounting read these tables.
 */
#ifndef ECS_OPS_H
#define ECS_OPS_H

enum ecs_service_id {
	ECS_SVC_ECS,
	ECS_SVC_AUTOSCALING,	/* Application Auto Scaling */
	ECS_SVC_LOGS,		/* CloudWatch Logs */
	ECS_SVC_STS,
	ECS_SVC_SSO,		/* the SSO portal (role credentials) */
	ECS_SVC_SSO_OIDC,
	ECS_SVC_COUNT
};

struct ecs_service {
	const char	*signing_name;	/* SigV4 service: "ecs", "application-autoscaling" */
	const char	*target_prefix;	/* "AnyScaleFrontendService.", NULL: not JSON 1.1 */
	const char	*env_suffix;	/* AWS_ENDPOINT_URL_<this> */
	const char	*config_key;	/* "application_auto_scaling" in [services NAME] */
	const char	*host_prefix;	/* https://<this>.REGION.amazonaws.com */
	const char	*iam_prefix;	/* "application-autoscaling" in "application-autoscaling:X" */
	const char	*title;		/* "Application Auto Scaling", for messages */
	/*
	 * The -o option that names its endpoint ("endpoint" for ECS), or
	 * NULL: the client does not call it (STS and SSO have their own).
	 */
	const char	*option;
};

/* Indexed by enum ecs_service_id. */
extern const struct ecs_service ecs_services[ECS_SVC_COUNT];

enum ecs_category {
	ECS_CAT_CLUSTER_READ,
	ECS_CAT_SERVICE_READ,
	ECS_CAT_SERVICE_MODIFY,
	ECS_CAT_RESOURCE_READ,
	ECS_CAT_RESOURCE_MODIFY,
	ECS_CAT_TASKDEF_READ,
	ECS_CAT_AUTOSCALING_READ,
	ECS_CAT_AUTOSCALING_MODIFY,
	ECS_CAT_LOGS_READ,
	ECS_CAT_OTHER,
	ECS_CAT_COUNT
};

struct ecs_op {
	const char		*name;		/* "DescribeServices" */
	enum ecs_service_id	 service;
	enum ecs_category	 category;
	int			 mutating;
};

/* NULL-name-terminated. */
extern const struct ecs_op ecs_ops[];

/* The entry for name, or NULL. */
const struct ecs_op *ecs_op_find(const char *name);
/* "cluster_read", "service_read", ... */
const char *ecs_category_name(enum ecs_category cat);

#endif
