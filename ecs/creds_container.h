/*
 * Inside the credential chain: the container credentials endpoint (ECS
 * task roles, EKS Pod Identity). No environment access of its own: the
 * caller passes what the variables say. Used by ecs/creds.c only.
 */
#ifndef ECS_CREDS_CONTAINER_H
#define ECS_CREDS_CONTAINER_H

#include "ecs/creds.h"
#include "ecs/err.h"

struct http_pool;

/* What a reload asks whether to give up: its caller's stop function. */
struct creds_stopper {
	int	(*fn)(void *arg);	/* NULL: never */
	void	*arg;
};

/* Whether st (may be NULL) says the caller behind a reload is going away. */
int creds_stopped(const struct creds_stopper *st);

/*
 * Works out the endpoint from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * (relative, against 169.254.170.2), else _FULL_URI (full: https, or http
 * to loopback or a link-local ECS/EKS address); either may be NULL.
 * Returns 1 with *url (the caller frees it) and *var (the variable's
 * name, static), 0 when neither is set, -1 with err for a refused URI.
 */
int creds_container_url(const char *relative, const char *full, char **url,
    const char **var, struct ecs_error *err);

/*
 * Fetches credentials from url through pool, retrying a failed try twice,
 * sending the authorization token read from token_file, else token (both
 * may be NULL). what names the source in messages, var the variable that
 * gave url; no message quotes a token or the body. Returns 0, -1 with
 * err (ECS_E_CREDS), or -2 with err (ECS_E_INTERRUPTED) when st said to
 * stop.
 */
int creds_container_fetch(struct http_pool *pool, const char *url,
    const char *var, const char *what, const char *token_file,
    const char *token, const struct creds_stopper *st, struct creds *out,
    struct ecs_error *err);

#endif
