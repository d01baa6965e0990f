/*
 * The render and write functions behind the tables of fs/tree.c, and the
 * few names the path parser needs.
 */
#ifndef FS_TREE_H
#define FS_TREE_H

#include "fs/fs.h"

#define FS_META_NAME ".ecsfs"

/* The symlink entry of a tasks/ folder (services/S/tasks/T, container_instances/I/tasks/T). */
extern const struct fs_file fs_task_link;
/* The file entry of a logs/ folder (tasks/T/logs/CONTAINER); its render is fs/logs.c's. */
extern const struct fs_file fs_log_file;

/* fs/render.c: generic renderers driven by fs_file.field. */
int fs_render_field(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_date(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_basename(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_json(const struct fs_node *, struct buf *, struct ecs_error *);
/* Appends an epoch-seconds JSON number as ISO 8601 UTC ("" when not a number). */
void fs_format_date(json_t *v, struct buf *out);
/* Appends an epoch-milliseconds JSON number as ISO 8601 UTC with milliseconds. */
void fs_format_date_ms(json_t *v, struct buf *out);

/* fs/render_ecs.c: object-specific renderers. */
int fs_render_launch_type(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_deployments(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_events(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_stable(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_containers(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_task_instance_link(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_task_link(const struct fs_node *, struct buf *, struct ecs_error *);
/* The ServicesStable rule (DESIGN §5) on a Service object. */
int fs_service_is_stable(json_t *service);

/* fs/render_aas.c: services/S/autoscaling/, whose object is the ScalableTarget. */
int fs_render_aas_suspended(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_aas_policies(const struct fs_node *, struct buf *, struct ecs_error *);
/* Whether all three suspension flags of a ScalableTarget are set; none of them. */
int fs_aas_suspended(json_t *target);
int fs_aas_resumed(json_t *target);

/* fs/meta.c: the .ecsfs folder and refresh files. */
int fs_render_version(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_region(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_endpoint(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_stats(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_identity(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_dry_run(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_render_journal(const struct fs_node *, struct buf *, struct ecs_error *);
int fs_write_refresh(const struct fs_node *, const char *, size_t, struct ecs_error *);

/*
 * A subfolder of an object's folder with a file table of its own, which
 * only some objects have (services/S/autoscaling): the path parser finds
 * it here, and a folder lists it where it resolves (fs/node.c).
 */
struct fs_subdir {
	enum fs_dir_kind	 parent;
	const char		*name;
	enum fs_dir_kind	 dir;
};
/* NULL-name-terminated (fs/tree.c). */
extern const struct fs_subdir fs_subdirs[];

#endif
