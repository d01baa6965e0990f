/*
 * Renderers that know ECS objects: deployments, events, containers, the
 * stable rule, launch types and the symlinks between tasks, services and
 * container instances.
 */
#include "fs/tree.h"

#include <string.h>

#include "ecs/api.h"

/* Appends a scalar member of o, or "-" when absent or null. */
static void
member(json_t *o, const char *key, struct buf *out)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		buf_add(out, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		buf_adds(out, json_is_true(v) ? "true" : "false");
	else
		buf_addc(out, '-');
}

int
fs_render_launch_type(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	const char *lt = json_string_value(json_object_get(n->obj, "launchType"));
	json_t *cps = json_object_get(n->obj, "capacityProviderStrategy");
	json_t *item;
	size_t i;

	(void)err;
	if (lt != NULL) {
		buf_adds(out, lt);
	} else if (json_array_size(cps) > 0) {
		json_array_foreach(cps, i, item) {
			if (i > 0)
				buf_addc(out, ',');
			member(item, "capacityProvider", out);
		}
	} else if (json_is_string(json_object_get(n->obj, "capacityProviderName"))) {
		buf_adds(out, json_string_value(json_object_get(n->obj, "capacityProviderName")));
	}
	buf_addc(out, '\n');
	return 0;
}

int
fs_render_deployments(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	json_t *d;
	size_t i;

	(void)err;
	json_array_foreach(json_object_get(n->obj, "deployments"), i, d) {
		member(d, "id", out);
		buf_addc(out, ' ');
		member(d, "status", out);
		buf_addc(out, ' ');
		member(d, "rolloutState", out);
		buf_printf(out, " %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
		    " %" JSON_INTEGER_FORMAT " ",
		    json_integer_value(json_object_get(d, "desiredCount")),
		    json_integer_value(json_object_get(d, "pendingCount")),
		    json_integer_value(json_object_get(d, "runningCount")));
		if (json_is_number(json_object_get(d, "updatedAt")))
			fs_format_date(json_object_get(d, "updatedAt"), out);
		else
			buf_addc(out, '-');
		buf_addc(out, '\n');
	}
	return 0;
}

int
fs_render_events(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	const char *msg, *p;
	json_t *e;
	size_t i;

	(void)err;
	json_array_foreach(json_object_get(n->obj, "events"), i, e) {
		fs_format_date(json_object_get(e, "createdAt"), out);
		buf_addc(out, ' ');
		msg = json_string_value(json_object_get(e, "message"));
		/* One event a line, whatever the message holds. */
		for (p = msg ? msg : ""; *p != '\0'; p++)
			buf_addc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
		buf_addc(out, '\n');
	}
	return 0;
}

int
fs_service_is_stable(json_t *svc)
{
	json_t *deps = json_object_get(svc, "deployments");
	const char *status = json_string_value(json_object_get(svc, "status"));
	const char *rollout;

	if (status == NULL || strcmp(status, "ACTIVE") != 0 || json_array_size(deps) != 1)
		return 0;
	rollout = json_string_value(json_object_get(json_array_get(deps, 0), "rolloutState"));
	if (rollout != NULL && strcmp(rollout, "COMPLETED") != 0)
		return 0;
	return json_integer_value(json_object_get(svc, "runningCount")) ==
	    json_integer_value(json_object_get(svc, "desiredCount"));
}

int
fs_render_stable(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_adds(out, fs_service_is_stable(n->obj) ? "true\n" : "false\n");
	return 0;
}

int
fs_render_containers(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	json_t *c;
	size_t i;

	(void)err;
	json_array_foreach(json_object_get(n->obj, "containers"), i, c) {
		member(c, "name", out);
		buf_addc(out, ' ');
		member(c, "lastStatus", out);
		buf_addc(out, ' ');
		member(c, "exitCode", out);
		buf_addc(out, ' ');
		member(c, "healthStatus", out);
		buf_addc(out, '\n');
	}
	return 0;
}

int
fs_render_task_instance_link(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	const char *arn = json_string_value(json_object_get(n->obj, n->file->field));

	if (arn == NULL) {
		ecs_error_set(err, ECS_E_NOTFOUND, "task %s runs on no container instance",
		    n->name);
		return -1;
	}
	buf_printf(out, "../../container_instances/%s", ecs_arn_name(arn));
	return 0;
}

int
fs_render_task_link(const struct fs_node *n, struct buf *out, struct ecs_error *err)
{
	(void)err;
	buf_printf(out, "../../../tasks/%s", n->link);
	return 0;
}
