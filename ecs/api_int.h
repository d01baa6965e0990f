/*
 * What the typed operations of ecs/api.c, ecs/api_aas.c and
 * ecs/api_logs.c share: the paging of List-style calls and the helpers
 * that build requests and report bad responses.
 */
#ifndef ECS_API_INT_H
#define ECS_API_INT_H

#include <jansson.h>

#include "ecs/err.h"

struct ecs_client;

/* How a service pages: its request keys and its largest page. */
struct api_paging {
	const char	*max_key;	/* "maxResults" */
	const char	*token_key;	/* "nextToken", in the request and the response */
	int		 page_size;
};

/* ECS's: maxResults 100, nextToken. */
extern const struct api_paging api_ecs_paging;

/* Sets key to a string when value is given; the request owns the copy. */
void api_set_str(json_t *req, const char *key, const char *value);
/* Empties err but for the request id of the last response. */
void api_keep_request_id(struct ecs_error *err);
/*
 * Says err (ECS_E_PROTOCOL) that a success response lacks what op must
 * return; for a mutation, sets err->applied.
 */
void api_bad_response(struct ecs_error *err, const char *op, const char *key);

/*
 * Calls a List-style operation page by page, starting from the request
 * base (borrowed; a copy gets pg's page size and token), and collects
 * the arrays under key of every page into *out (a new reference). A token
 * handed out twice would loop for ever, so it fails the listing
 * (ECS_E_PROTOCOL), as do more than 1,000 pages; a listing still going
 * after two minutes fails with ECS_E_TIMEOUT.
 */
int api_list_all(struct ecs_client *c, const char *op, const struct api_paging *pg,
    json_t *base, const char *key, json_t **out, struct ecs_error *err);

#endif
