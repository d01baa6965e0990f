/*
 * The insides of the client, shared by its two halves: ecs/client.c (a
 * call's steps: pacing, retries, the verdict) and ecs/client_attempt.c
 * (one attempt: sign, send, read the answer).
 */
#ifndef ECS_CLIENT_INT_H
#define ECS_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "ecs/client_endpoint.h"
#include "ecs/err.h"
#include "ecs/ops.h"

struct ecs_config;
struct creds_provider;
struct http_pool;
struct pace;
struct client_stats;

struct ecs_client {
	const struct ecs_config	*cfg;
	struct creds_provider	*creds;
	struct http_pool	*http;
	/* Where each service the client calls is (ecs_services[].option set). */
	struct client_endpoint	 ep[ECS_SVC_COUNT];
	struct pace		*pace;		/* thread-safe itself */
	struct client_stats	*st;		/* thread-safe itself */
	/* Whether the caller is going away; set before any call, NULL: never. */
	int			(*interrupted)(void);
	atomic_int		 shut;		/* set once by ecs_client_shutdown() */
	pthread_mutex_t		 sleep_lock;
	pthread_cond_t		 sleep_cond;	/* on CLOCK_MONOTONIC; broadcast at shutdown */
};

/* One call in progress: what it sends, its bounds and its counts so far. */
struct call {
	struct ecs_client	*c;
	const char		*op;
	const struct ecs_op	*e;		/* NULL: not in ecs_ops[] */
	const struct ecs_service *svc;		/* e's service, else ECS */
	const struct client_endpoint *ep;	/* where svc is */
	enum ecs_category	 cat;
	int			 mutating;
	char			*body;
	char			*target;
	int64_t			 start;		/* monotonic ms */
	int64_t			 deadline;	/* monotonic ms, moved on by token waits */
	uint64_t		 throttle_until;	/* pacer time */
	long			 throttle_wait_ms;
	int			 max_attempts;
	int			 n;		/* attempts sent */
	int			 failures;	/* 5xx answers and transport failures */
	int			 nthrottled;
	int			 refreshed;	/* credentials reloaded once */
	int			 retry;		/* the next attempt is a retry */
	int			 maybe_sent;	/* the last attempt's, when unanswered */
	int			 permanent;	/* the last attempt's failure would recur */
	uint64_t		 token_wait;	/* why the pacer said no, in us */
};

/* What one attempt came to. */
enum outcome {
	OUT_OK,			/* a 2xx answer, parsed */
	OUT_ANSWER,		/* an error answer */
	OUT_NO_ANSWER,		/* no answer; k->maybe_sent says if it left */
	OUT_NOT_SENT,		/* nothing sent: no credentials, cannot sign, stopped */
};

/* Whether the client is shut down or the caller of this thread's call is going away. */
static inline int
client_stopping(const struct ecs_client *c)
{
	return atomic_load(&c->shut) || (c->interrupted != NULL && c->interrupted());
}

/*
 * Signs and sends one request of k, to its service's endpoint, that must
 * end by k->deadline, and reads its answer: *resp (a new reference) on
 * OUT_OK, err otherwise. Every error text is scrubbed of the credentials
 * used.
 */
enum outcome client_attempt(struct call *k, json_t **resp, struct ecs_error *err);

#endif
