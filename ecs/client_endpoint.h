/*
 * Where the client sends one service's requests: an endpoint URL split
 * into the request URL, the Host header and the path that SigV4 signs.
 * Used by ecs/client.c only.
 */
#ifndef ECS_CLIENT_ENDPOINT_H
#define ECS_CLIENT_ENDPOINT_H

#include "ecs/err.h"

struct client_endpoint {
	char	*url;		/* endpoint + "/" */
	char	*host;		/* the Host header value, without a default port */
	char	*path;		/* the request path, for signing */
};

/*
 * Splits endpoint (of the service called title, for messages) into ep,
 * whose strings client_endpoint_free() frees. Returns 0, or -1 with err
 * (ECS_E_CONFIG) when libcurl cannot parse it or its scheme is not http
 * or https; ep is then empty.
 */
int client_endpoint_parse(struct client_endpoint *ep, const char *title,
    const char *endpoint, struct ecs_error *err);
void client_endpoint_free(struct client_endpoint *ep);

#endif
