/*
 * What ecs/store.c and ecs/store_jobs.c share: the store itself, its kind
 * table, its cache keys, and the jobs its threads run. Not a public
 * header: ecs/store.h is.
 */
#ifndef ECS_STORE_INT_H
#define ECS_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ecs/err.h"
#include "ecs/store.h"

struct cache;
struct sahead;
struct spool;
struct sval_parsed;

typedef int (*describe_fn)(struct ecs_client *, const char *, const char *const *,
    size_t, json_t **, json_t **, struct ecs_error *);

struct kind_entry {
	const char	*obj_type;	/* cache key type of an object */
	const char	*list_type;	/* cache key type of the listing */
	const char	*name_field;	/* the member holding the name or ARN */
	size_t		 batch;		/* the Describe batch limit */
	unsigned	 pool_cat;	/* the throttling category, for the pool */
	describe_fn	 describe;
};

/* One entry per kind (ecs/store.c). */
extern const struct kind_entry store_kinds[ECS_KIND_COUNT];

/* Failed fetches remembered with what AWS said, for their readers. */
#define STORE_ERRORS	32

/* The stopped tasks of a cluster, listed with its tasks: "Lstop/<cluster>/". */
#define STOPPED_TYPE "Lstop"

/*
 * While an endpoint is failing (unreachable, timing out, 5xx), a miss is
 * answered at once from a stale value or with the remembered error instead
 * of waiting out another timeout: until `until` (monotonic ms), with code.
 */
struct store_down {
	_Atomic uint64_t	 until;
	_Atomic int		 code;
};

struct ecs_store {
	struct ecs_client	*client;	/* borrowed */
	struct cache		*cache;		/* thread-safe itself */
	struct sval_parsed	*parsed;	/* thread-safe itself */
	struct spool		*pool;		/* thread-safe itself */
	int			 interruptible;	/* immutable: an interrupted callback was given */
	struct sahead		*ahead;		/* thread-safe itself */
	struct store_down	 down;		/* ECS's endpoint */
	atomic_uint		 ahead_ids;	/* the last read-ahead batch id */
	atomic_ulong		 prefetched;	/* objects stored by read-ahead */
	atomic_ulong		 prefetch_used;	/* of those, first used by a reader */
	atomic_ulong		 prefetch_calls;
	/*
	 * The tasks of the service or instance listed last, sorted: siblings
	 * to batch with when the cluster's own task listing is not cached
	 * (reading tasks through services/S/tasks/ symlinks).
	 */
	pthread_mutex_t		 hint_lock;
	char			*hint_cluster;	/* protected by hint_lock */
	json_t			*hint_names;	/* protected by hint_lock */
	pthread_mutex_t		 err_lock;
	struct store_err {
		char			 key[160];	/* protected by err_lock */
		struct ecs_error	 err;		/* protected by err_lock */
	}			 errs[STORE_ERRORS];
	unsigned		 err_next;	/* protected by err_lock */
	/*
	 * Application Auto Scaling (ecs/store_aas.c): set while it refuses to
	 * describe targets (warned once), and its own endpoint-down window.
	 */
	atomic_int		 aas_denied;
	struct store_down	 aas_down;
};

/* The cache key of type for cluster and name; the caller frees it. */
char *store_key(const char *type, const char *cluster, const char *name);
/* The cache key of an object; the caller frees it. */
char *store_object_key(enum ecs_kind kind, const char *cluster, const char *name);
/* The name of an object of kind (borrowed from obj), or NULL. */
const char *store_object_name(enum ecs_kind kind, json_t *obj);
/* A new sorted array of the names in an array of ARNs. */
json_t *store_names_from_arns(json_t *arns);
/* Records the outcome of a call for the endpoint-down window. */
void store_note_outcome(struct ecs_store *s, const struct ecs_error *err);
/* Records the outcome of a call to d's endpoint: a failure opens its window, else closes it. */
void store_down_note(struct store_down *d, const struct ecs_error *err);
/* 0 when d's endpoint (named what) may be called now; else -1 with the remembered error. */
int store_down_check(struct store_down *d, const char *what, struct ecs_error *err);
/*
 * Serves key from a stale value after a failed fetch, if one is young
 * enough; else leaves err as it is. Returns 0 when served.
 */
int store_serve_stale(struct ecs_store *s, const char *key, json_t **out, struct ecs_error *err);
/* Remembers names (borrowed) as the task hint of cluster. */
void store_hint_set(struct ecs_store *s, const char *cluster, json_t *names);

/* One Describe batch: names of one kind and cluster, their keys and claims. */
struct desc_job {
	struct ecs_store	*s;
	enum ecs_kind		 kind;
	char			*cluster;
	size_t			 n;
	char			**names;	/* owned */
	char			**keys;		/* owned */
	uint64_t		*claims;
	unsigned		 ahead_id;	/* 0 for a reader's own batch */
};

/*
 * Queues the listing under key (every object of kind in cluster, or the
 * tasks of owner) for the claim, which the job settles. Strings are copied.
 */
void sjob_list(struct ecs_store *s, const char *key, uint64_t claim, enum ecs_kind kind,
    const char *cluster, const char *owner, enum ecs_kind owner_kind);
/* A new, empty Describe batch; hand it to sjob_desc_submit(). */
struct desc_job *sjob_desc_new(struct ecs_store *s, enum ecs_kind kind, const char *cluster);
/* Adds name with the claim on key (the job takes key over). */
void sjob_desc_add(struct desc_job *j, const char *name, char *key, uint64_t claim);
/* Queues the batch (ahead: read-ahead); the job settles every claim in it. */
void sjob_desc_submit(struct desc_job *j, int ahead);
/* Remembers err as the last failure of key, for sjob_last_error(). */
void sjob_note_error(struct ecs_store *s, const char *key, const struct ecs_error *err);
/*
 * The whole error (AWS code, message, request id) of the last failed
 * fetch of key with this code, for a reader the cache only told the code:
 * 1 with *err, else 0.
 */
int sjob_last_error(struct ecs_store *s, const char *key, int code, struct ecs_error *err);
#endif
