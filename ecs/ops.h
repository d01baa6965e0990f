/*
 * The table of ECS operations ecsfs calls: each with its throttling
 * category (DESIGN §3) and whether it mutates. The IAM policy test and the
 * client's per-category accounting read this table.
 */
#ifndef ECS_OPS_H
#define ECS_OPS_H

enum ecs_category {
	ECS_CAT_CLUSTER_READ,
	ECS_CAT_SERVICE_READ,
	ECS_CAT_SERVICE_MODIFY,
	ECS_CAT_RESOURCE_READ,
	ECS_CAT_RESOURCE_MODIFY,
	ECS_CAT_OTHER,
	ECS_CAT_COUNT
};

struct ecs_op {
	const char		*name;		/* "DescribeServices" */
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
