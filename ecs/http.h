/*
 * HTTP over libcurl with connection reuse: a pool of easy handles (each
 * keeps its connections alive) sharing DNS and TLS sessions, safe to use
 * from any number of threads. The connection cache is per handle: libcurl
 * does not support sharing it between concurrent threads.
 */
#ifndef ECS_HTTP_H
#define ECS_HTTP_H

#include <stddef.h>

#include "ecs/buf.h"
#include "ecs/err.h"

struct http_pool;

struct http_request {
	const char		*method;	/* "POST", "GET", "PUT" */
	const char		*url;
	const char *const	*headers;	/* "Name: value" lines */
	size_t			 nheaders;
	const void		*body;		/* may be NULL */
	size_t			 body_len;
	long			 connect_timeout_ms;
	long			 timeout_ms;	/* the whole transfer */
	/*
	 * Polled during the transfer, at least every HTTP_POLL_MS and at once
	 * after http_pool_wake(): nonzero aborts it with ECS_E_INTERRUPTED.
	 * on_wire says whether the request may already have been sent. May
	 * be NULL.
	 */
	int			(*stop)(void *arg, int on_wire);
	void			*stop_arg;
	/*
	 * Not safe to send twice (a mutation): it goes on a connection of its
	 * own, so that libcurl never resends it after a kept-alive connection
	 * closes.
	 */
	int			 once;
};

#define HTTP_POLL_MS	100

struct http_response {
	long		status;
	struct buf	body;			/* owned; free with http_response_free() */
	char		request_id[80];		/* x-amzn-RequestId, or "" */
	char		error_type[128];	/* x-amzn-ErrorType, or "" */
	/*
	 * When no response arrived: 0 when the request cannot have reached
	 * the server (DNS, connect, TLS handshake), 1 when it may have.
	 */
	int		maybe_sent;
	/*
	 * When no response arrived: 1 when trying again cannot help (the
	 * server's certificate is not trusted, the URL is unusable).
	 */
	int		permanent;
};

/* ca_bundle may be NULL for the system store. Free with http_pool_free(). */
struct http_pool *http_pool_new(const char *ca_bundle);
void http_pool_free(struct http_pool *pool);
/*
 * Performs one request. Returns 0 when a response arrived, whatever its
 * status; -1 with err when none did: ECS_E_TIMEOUT (timeout_ms passed),
 * ECS_E_UNREACHABLE (refused, DNS, TLS, dropped or empty reply),
 * ECS_E_INTERRUPTED (req->stop said so); resp->maybe_sent then says
 * whether the request may have reached the server.
 * resp is initialised by the call in both cases.
 */
int http_do(struct http_pool *pool, const struct http_request *req,
    struct http_response *resp, struct ecs_error *err);
void http_response_free(struct http_response *resp);
/* Makes every transfer in progress look at its stop function now. Any thread. */
void http_pool_wake(struct http_pool *pool);

#endif
