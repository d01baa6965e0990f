/*
 * The files of services/S/autoscaling/ that the field renderer cannot
 * show: whether scaling is suspended, and the scaling policies. The
 * folder's object is the service's ScalableTarget (fs/node.c loads it);
 * min_capacity and max_capacity are its MinCapacity and MaxCapacity.
 */
#include "fs/tree.h"

#include <stdlib.h>
#include <string.h>

#include "ecs/store.h"
#include "ecs/xmalloc.h"

/* The three flags of a target's SuspendedState. */
static const char *const suspension_flags[] = {
	"DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended",
};

/* How many of the three suspension flags of target are set. */
static int
flags_set(json_t *target)
{
	json_t *st = json_object_get(target, "SuspendedState");
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(suspension_flags) / sizeof(suspension_flags[0]); i++)
		n += json_is_true(json_object_get(st, suspension_flags[i]));
	return n;
}

int
fs_aas_suspended(json_t *target)
{
	return flags_set(target) == 3;
}

int
fs_aas_resumed(json_t *target)
{
	return flags_set(target) == 0;
}

int
fs_render_aas_suspended(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_adds(out, fs_aas_suspended(n->obj) ? "true\n" : "false\n");
	return 0;
}

static int
cmp_policy(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "PolicyName"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "PolicyName"));

	return strcmp(x ? x : "", y ? y : "");
}

/* One line per scaling policy, sorted by name: "NAME TYPE". */
int
fs_render_aas_policies(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	json_t *policies, **v;
	const char *name, *type;
	size_t i, count;

	if (ecs_store_scaling_policies(n->ctx->store, n->cluster, n->name, &policies, err) != 0)
		return -1;
	count = json_array_size(policies);
	v = xcalloc(count ? count : 1, sizeof(*v));
	for (i = 0; i < count; i++)
		v[i] = json_array_get(policies, i);
	qsort(v, count, sizeof(*v), cmp_policy);
	for (i = 0; i < count; i++) {
		name = json_string_value(json_object_get(v[i], "PolicyName"));
		type = json_string_value(json_object_get(v[i], "PolicyType"));
		if (name == NULL)
			continue;
		buf_printf(out, "%s %s\n", name, type != NULL ? type : "-");
	}
	free(v);
	json_decref(policies);
	return 0;
}
