/*
 * The shape of the tree (DESIGN §1): for each directory kind, its fixed
 * subfolders and its table of files. A file is one entry: name, mode,
 * flags, the JSON member it shows, its render and write functions.
 */
#include "fs/tree.h"

#include <string.h>

#include "ecs/store.h"
#include "fs/logs.h"
#include "fs/write.h"

#define RO 0444
#define RW 0644

static const struct fs_file meta_files[] = {
	{ "version", RO, 0, NULL, fs_render_version, NULL },
	{ "region", RO, 0, NULL, fs_render_region, NULL },
	{ "endpoint", RO, 0, NULL, fs_render_endpoint, NULL },
	{ "stats", RO, FS_F_VOLATILE, NULL, fs_render_stats, NULL },
	{ "identity", RO, FS_F_VOLATILE, NULL, fs_render_identity, NULL },
	{ "dry_run", RW, 0, NULL, fs_render_dry_run, fs_write_dry_run },
	{ "journal", RO, FS_F_VOLATILE, NULL, fs_render_journal, NULL },
	{ "refresh", RW, FS_F_WRITEONLY, NULL, NULL, fs_write_refresh },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct fs_file cluster_files[] = {
	{ "status", RO, 0, "status", fs_render_field, NULL },
	{ "arn", RO, 0, "clusterArn", fs_render_field, NULL },
	{ "running_tasks_count", RO, 0, "runningTasksCount", fs_render_field, NULL },
	{ "pending_tasks_count", RO, 0, "pendingTasksCount", fs_render_field, NULL },
	{ "active_services_count", RO, 0, "activeServicesCount", fs_render_field, NULL },
	{ "registered_container_instances_count", RO, 0,
	    "registeredContainerInstancesCount", fs_render_field, NULL },
	{ "cluster.json", RO, 0, NULL, fs_render_json, NULL },
	{ "refresh", RW, FS_F_WRITEONLY, NULL, NULL, fs_write_refresh },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct fs_file service_files[] = {
	{ "desired_count", RW, 0, "desiredCount", fs_render_field, fs_write_desired_count },
	{ "running_count", RO, 0, "runningCount", fs_render_field, NULL },
	{ "pending_count", RO, 0, "pendingCount", fs_render_field, NULL },
	{ "status", RO, 0, "status", fs_render_field, NULL },
	{ "launch_type", RO, 0, "launchType", fs_render_launch_type, NULL },
	{ "task_definition", RW, 0, "taskDefinition", fs_render_basename,
	    fs_write_task_definition },
	{ "rollback", RW, FS_F_WRITEONLY, NULL, NULL, fs_write_rollback },
	{ "deployments", RO, 0, NULL, fs_render_deployments, NULL },
	{ "events", RO, 0, NULL, fs_render_events, NULL },
	{ "restart", RW, FS_F_WRITEONLY, NULL, NULL, fs_write_restart },
	{ "stable", RO, 0, NULL, fs_render_stable, NULL },
	{ "wait", RO, FS_F_UNLISTED | FS_F_STREAM, NULL, NULL, NULL },
	{ "service.json", RO, 0, NULL, fs_render_json, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/* services/S/autoscaling: the folder's object is the service's ScalableTarget. */
static const struct fs_file autoscaling_files[] = {
	{ "min_capacity", RW, 0, "MinCapacity", fs_render_field, fs_write_min_capacity },
	{ "max_capacity", RW, 0, "MaxCapacity", fs_render_field, fs_write_max_capacity },
	{ "suspended", RW, 0, NULL, fs_render_aas_suspended, fs_write_suspended },
	{ "policies", RO, 0, NULL, fs_render_aas_policies, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct fs_file task_files[] = {
	{ "last_status", RO, 0, "lastStatus", fs_render_field, NULL },
	{ "desired_status", RO, 0, "desiredStatus", fs_render_field, NULL },
	{ "task_definition", RO, 0, "taskDefinitionArn", fs_render_basename, NULL },
	{ "group", RO, 0, "group", fs_render_field, NULL },
	{ "launch_type", RO, 0, "launchType", fs_render_launch_type, NULL },
	{ "started_at", RO, 0, "startedAt", fs_render_date, NULL },
	{ "stopped_at", RO, 0, "stoppedAt", fs_render_date, NULL },
	{ "stopped_reason", RO, 0, "stoppedReason", fs_render_field, NULL },
	{ "health_status", RO, 0, "healthStatus", fs_render_field, NULL },
	{ "containers", RO, 0, NULL, fs_render_containers, NULL },
	{ "container_instance", 0777, FS_F_SYMLINK, "containerInstanceArn",
	    fs_render_task_instance_link, NULL },
	{ "task.json", RO, 0, NULL, fs_render_json, NULL },
	{ "stop", RW, FS_F_WRITEONLY, NULL, NULL, fs_write_stop },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct fs_file instance_files[] = {
	{ "status", RW, 0, "status", fs_render_field, fs_write_instance_status },
	{ "ec2_instance_id", RO, 0, "ec2InstanceId", fs_render_field, NULL },
	{ "agent_connected", RO, 0, "agentConnected", fs_render_field, NULL },
	{ "running_tasks_count", RO, 0, "runningTasksCount", fs_render_field, NULL },
	{ "pending_tasks_count", RO, 0, "pendingTasksCount", fs_render_field, NULL },
	{ "container_instance.json", RO, 0, NULL, fs_render_json, NULL },
	{ "wait", RO, FS_F_UNLISTED | FS_F_STREAM, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct fs_file fs_task_link = {
	"task", 0777, FS_F_SYMLINK, NULL, fs_render_task_link, NULL
};

/* A container's log: its stream's latest events, growing as they come. */
const struct fs_file fs_log_file = {
	"log", RO, FS_F_GROWING, NULL, fs_render_log, NULL
};

const struct fs_dir fs_dirs[FS_DIR_COUNT] = {
	[FS_ROOT] = { { NULL }, NULL, ECS_KIND_CLUSTER },
	[FS_META] = { { NULL }, meta_files, -1 },
	[FS_CLUSTER] = { { "services", "tasks", "container_instances", NULL },
	    cluster_files, ECS_KIND_CLUSTER },
	[FS_SERVICES] = { { NULL }, NULL, ECS_KIND_SERVICE },
	[FS_SERVICE] = { { "tasks", NULL }, service_files, ECS_KIND_SERVICE },
	[FS_SERVICE_TASKS] = { { NULL }, NULL, ECS_KIND_TASK },
	[FS_SERVICE_AUTOSCALING] = { { NULL }, autoscaling_files, -1 },
	[FS_TASKS] = { { NULL }, NULL, ECS_KIND_TASK },
	[FS_TASK] = { { "logs", NULL }, task_files, ECS_KIND_TASK },
	[FS_TASK_LOGS] = { { NULL }, NULL, ECS_KIND_TASK },
	[FS_INSTANCES] = { { NULL }, NULL, ECS_KIND_INSTANCE },
	[FS_INSTANCE] = { { "tasks", NULL }, instance_files, ECS_KIND_INSTANCE },
	[FS_INSTANCE_TASKS] = { { NULL }, NULL, ECS_KIND_TASK },
};

const struct fs_subdir fs_subdirs[] = {
	{ FS_SERVICE, "autoscaling", FS_SERVICE_AUTOSCALING },
	{ FS_DIR_COUNT, NULL, FS_DIR_COUNT }
};

const struct fs_file *
fs_dir_file(enum fs_dir_kind dir, const char *name)
{
	const struct fs_file *f = fs_dirs[dir].files;

	for (; f != NULL && f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}
