/*
 * The cached, batched view of one region's ECS state. Listings cost List
 * calls only; an object missing from the cache is described together with
 * up to batch-1 listed-but-uncached siblings of the same kind and cluster
 * (the names that follow it in sorted order), so that a glob over a folder
 * costs ceil(N / batch) Describe calls. Concurrent readers of one missing
 * object share one call, made on the store's own threads: a reader that
 * goes away (see ecs_store_config.interrupted) stops waiting, and the call
 * goes on for the others. A read in a collection not listed yet lists it
 * first. When the misses of one listing scan it, the batches that follow
 * are described ahead of the reader, in parallel (a window that grows as
 * the scan goes on, at most max_inflight calls per throttling category).
 * When a fetch fails, a value up to stale_ttl old is served instead.
 *
 * Every json_t handed out is a new reference the caller releases with
 * json_decref(), and must not be modified. Names are plain names (not
 * ARNs): cluster and service names, task and container instance ids.
 */
#ifndef ECS_STORE_H
#define ECS_STORE_H

#include <stddef.h>

#include <jansson.h>

#include "ecs/buf.h"
#include "ecs/err.h"

struct ecs_client;
struct ecs_store;

struct ecs_store_config {
	long	ttl_ms;
	long	negative_ttl_ms;
	long	stale_ttl_ms;
	size_t	max_entries;
	/*
	 * Whether the calling thread's caller is going away (the front end
	 * answers for its request). A reader waiting for a fetch asks it
	 * every 20 ms and, when it answers non-zero, fails with
	 * ECS_E_INTERRUPTED; the fetch goes on for the other readers.
	 * NULL: readers wait until the fetch ends.
	 */
	int	(*interrupted)(void);
	/* Describe/List calls the store's threads make at once per
	 * throttling category; 0: 8. */
	unsigned max_inflight;
};

/* The kinds of object the store knows; each has a listing and a describe. */
enum ecs_kind {
	ECS_KIND_CLUSTER,
	ECS_KIND_SERVICE,
	ECS_KIND_TASK,
	ECS_KIND_INSTANCE,
	ECS_KIND_COUNT
};

/*
 * client is borrowed and must outlive the store. Free with
 * ecs_store_free(), which shuts the client down (ecs_client_shutdown:
 * calls in flight end at once, later ones fail), joins the store's
 * threads and fails the fetches still queued; free the client after it.
 */
struct ecs_store *ecs_store_new(struct ecs_client *client, const struct ecs_store_config *cfg);
void ecs_store_free(struct ecs_store *s);

/*
 * The sorted names of every object of kind in cluster (cluster is ignored
 * for ECS_KIND_CLUSTER), as a JSON array of strings.
 */
int ecs_store_list(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    json_t **names, struct ecs_error *err);
/* The task ids of a service, or of a container instance (owner_kind says which). */
int ecs_store_list_tasks_of(struct ecs_store *s, enum ecs_kind owner_kind,
    const char *cluster, const char *owner, json_t **ids, struct ecs_error *err);
/*
 * The described object (Cluster, Service, Task or ContainerInstance).
 * A name that does not exist fails with ECS_E_NOTFOUND.
 */
int ecs_store_get(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t **obj, struct ecs_error *err);
/*
 * Whether name exists, as cheaply as possible: clusters from their listing,
 * others from a cached listing when there is one, else by describing the
 * object. Returns 1, 0, or -1 with err.
 */
int ecs_store_exists(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, struct ecs_error *err);

/*
 * Describes name now, whatever the cache holds, and caches the result:
 * for writes relative to the current value and for pollers.
 */
int ecs_store_fetch(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t **obj, struct ecs_error *err);
/*
 * Describes several names of one kind and cluster now (in batches), caches
 * what came back and returns it as an array of objects; missing names are
 * simply absent.
 */
int ecs_store_fetch_many(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *const *names, size_t n, json_t **objs, struct ecs_error *err);
/*
 * The Application Auto Scaling target of a service (a ScalableTarget
 * object), from the region's listing of ECS targets, which is cached like
 * a listing (one paged DescribeScalableTargets per cache_ttl whatever the
 * number of services). Returns 1 with *target, 0 when the service has
 * none (*target NULL), or -1 with err.
 */
int ecs_store_scalable_target(struct ecs_store *s, const char *cluster, const char *service,
    json_t **target, struct ecs_error *err);
/* Drops the cached target listing, after a RegisterScalableTarget. */
void ecs_store_targets_refresh(struct ecs_store *s);
/* The scaling policies of a service (an array of ScalingPolicy objects), cached for cache_ttl. */
int ecs_store_scaling_policies(struct ecs_store *s, const char *cluster, const char *service,
    json_t **policies, struct ecs_error *err);
/*
 * A task definition by ARN (a TaskDefinition object), cached: a revision's
 * content never changes.
 */
int ecs_store_task_definition(struct ecs_store *s, const char *arn, json_t **td,
    struct ecs_error *err);

/* Replaces the cached object with obj (borrowed), as returned by a write. */
void ecs_store_put(struct ecs_store *s, enum ecs_kind kind, const char *cluster,
    const char *name, json_t *obj);
/* Drops everything cached about cluster, or everything when cluster is NULL. */
void ecs_store_refresh(struct ecs_store *s, const char *cluster);
/* Appends "key value" lines: cache hits, misses, waits, stale serves, entries. */
void ecs_store_stats(struct ecs_store *s, struct buf *out);

#endif
