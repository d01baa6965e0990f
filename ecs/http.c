/*
 * HTTP requests over libcurl. A pool of easy handles is reused across
 * requests and threads: each handle keeps its own connections alive, so
 * taking the most recently returned one finds a warm connection. The
 * handles share DNS and TLS sessions through one CURLSH with a lock per
 * data kind. The connection cache itself is not shared: libcurl does not
 * support sharing connections between concurrent threads.
 *
 * Each handle runs in a multi handle of its own (which holds its
 * connections), so that a transfer can be watched: it wakes at least
 * every HTTP_POLL_MS, or at once after http_pool_wake(), to ask its stop
 * function whether to go on. When a transfer fails, libcurl's timings
 * tell whether the request can have left: nothing is sent before the
 * pre-transfer mark (DNS, connect and TLS all come before it).
 *
 * Transfers run with CURLOPT_NOSIGNAL, so the program must ignore SIGPIPE
 * (libfuse's fuse_set_signal_handlers() does).
 */
#include "ecs/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ecs/xmalloc.h"

/* Idle handles kept; a handle returned to a full pool is cleaned up. */
#define HTTP_POOL_MAX		32
/* No ECS response comes near this; a bigger one is not from ECS. */
#define HTTP_BODY_MAX		(64UL * 1024 * 1024)

/* An easy handle and the multi handle that runs it and keeps its connections. */
struct http_conn {
	CURL			*easy;
	CURLM			*multi;
	struct http_conn	*prev, *next;	/* in pool->active; protected by pool->lock */
};

struct http_pool {
	pthread_mutex_t	 lock;
	struct http_conn *idle[HTTP_POOL_MAX];	/* protected by lock */
	size_t		 nidle;			/* protected by lock */
	struct http_conn *active;		/* protected by lock: transfers running */
	CURLSH		*share;
	pthread_mutex_t	 share_locks[CURL_LOCK_DATA_LAST];
	char		*ca_bundle;
};

/* What the callbacks of one transfer write into. */
struct http_xfer {
	struct http_response	*resp;
	int			 too_big;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc;

/* Frees a handle pair (the multi first lets go of the connections). */
static void
conn_free(struct http_conn *h)
{
	if (h == NULL)
		return;
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	free(h);
}

/* Initialises libcurl once per process. */
static void
http_global_init(void)
{
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Takes the share lock for one kind of data. */
static void
share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct http_pool *pool = arg;

	(void)handle;
	(void)access;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&pool->share_locks[data]);
}

/* Releases the share lock for one kind of data. */
static void
share_unlock(CURL *handle, curl_lock_data data, void *arg)
{
	struct http_pool *pool = arg;

	(void)handle;
	if ((unsigned)data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&pool->share_locks[data]);
}

struct http_pool *
http_pool_new(const char *ca_bundle)
{
	struct http_pool *pool;
	int i;

	pthread_once(&http_once, http_global_init);
	if (http_init_rc != CURLE_OK)
		return NULL;

	pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&pool->share_locks[i], NULL);
	if (ca_bundle != NULL && *ca_bundle != '\0')
		pool->ca_bundle = xstrdup(ca_bundle);

	if ((pool->share = curl_share_init()) == NULL)
		goto fail;
	if (curl_share_setopt(pool->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(pool->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(pool->share, CURLSHOPT_USERDATA, pool) != CURLSHE_OK ||
	    curl_share_setopt(pool->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(pool->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		goto fail;
	return pool;
fail:
	http_pool_free(pool);
	return NULL;
}

void
http_pool_free(struct http_pool *pool)
{
	size_t i;
	int j;

	if (pool == NULL)
		return;
	/* Handles go before the share they use. */
	for (i = 0; i < pool->nidle; i++)
		conn_free(pool->idle[i]);
	if (pool->share != NULL)
		curl_share_cleanup(pool->share);
	for (j = 0; j < CURL_LOCK_DATA_LAST; j++)
		pthread_mutex_destroy(&pool->share_locks[j]);
	pthread_mutex_destroy(&pool->lock);
	free(pool->ca_bundle);
	free(pool);
}

/* Takes an idle handle, the most recently used first, or makes a new one. */
static struct http_conn *
pool_take(struct http_pool *pool)
{
	struct http_conn *h = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->nidle > 0)
		h = pool->idle[--pool->nidle];
	pthread_mutex_unlock(&pool->lock);
	if (h != NULL)
		return h;
	h = xcalloc(1, sizeof(*h));
	if ((h->easy = curl_easy_init()) == NULL ||
	    (h->multi = curl_multi_init()) == NULL ||
	    curl_easy_setopt(h->easy, CURLOPT_SHARE, pool->share) != CURLE_OK) {
		conn_free(h);
		return NULL;
	}
	return h;
}

/* Returns a handle to the pool, or cleans it up when the pool is full. */
static void
pool_give(struct http_pool *pool, struct http_conn *h)
{
	pthread_mutex_lock(&pool->lock);
	if (pool->nidle < HTTP_POOL_MAX) {
		pool->idle[pool->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	if (h != NULL)
		conn_free(h);
}

/* Lists h among the running transfers, or takes it off the list. */
static void
pool_active(struct http_pool *pool, struct http_conn *h, int on)
{
	pthread_mutex_lock(&pool->lock);
	if (on) {
		h->prev = NULL;
		h->next = pool->active;
		if (pool->active != NULL)
			pool->active->prev = h;
		pool->active = h;
	} else {
		if (h->prev != NULL)
			h->prev->next = h->next;
		else
			pool->active = h->next;
		if (h->next != NULL)
			h->next->prev = h->prev;
		h->prev = h->next = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
}

void
http_pool_wake(struct http_pool *pool)
{
	struct http_conn *h;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	for (h = pool->active; h != NULL; h = h->next)
		curl_multi_wakeup(h->multi);
	pthread_mutex_unlock(&pool->lock);
}

/* Appends received body bytes, refusing a body beyond HTTP_BODY_MAX. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * nmemb;

	if (x->resp->body.len + len > HTTP_BODY_MAX) {
		x->too_big = 1;
		return 0;
	}
	buf_add(&x->resp->body, data, len);
	return len;
}

/* Copies a header value, trimmed, into dst when the header is called name. */
static void
header_match(const char *line, size_t len, const char *name, char *dst,
    size_t size)
{
	size_t nlen = strlen(name), vlen;
	const char *v, *end;

	if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
		return;
	v = line + nlen + 1;
	end = line + len;
	while (v < end && isspace((unsigned char)*v))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	vlen = (size_t)(end - v);
	if (vlen >= size)
		vlen = size - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* Picks the request id and error type out of the response headers. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * nmemb;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue): forget the last one. */
		x->resp->request_id[0] = '\0';
		x->resp->error_type[0] = '\0';
		return len;
	}
	header_match(data, len, "x-amzn-RequestId", x->resp->request_id,
	    sizeof(x->resp->request_id));
	if (x->resp->request_id[0] == '\0')
		header_match(data, len, "x-amz-request-id", x->resp->request_id,
		    sizeof(x->resp->request_id));
	header_match(data, len, "x-amzn-ErrorType", x->resp->error_type,
	    sizeof(x->resp->error_type));
	return len;
}

/* Sets the options of one transfer on a new or reset handle. */
static int
setup(struct http_pool *pool, CURL *h, const struct http_request *req,
    struct curl_slist *headers, struct http_xfer *x, char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do {					\
	if (rc == CURLE_OK)					\
		rc = curl_easy_setopt(h, opt, val);		\
} while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 15L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ?
	    req->connect_timeout_ms : 0L);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
	if (pool->ca_bundle != NULL)
		SET(CURLOPT_CAINFO, pool->ca_bundle);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	if (req->once)
		SET(CURLOPT_FRESH_CONNECT, 1L);
	if (strcmp(req->method, "GET") == 0)
		SET(CURLOPT_HTTPGET, 1L);
	else {
		if (strcmp(req->method, "POST") == 0)
			SET(CURLOPT_POST, 1L);
		else
			SET(CURLOPT_CUSTOMREQUEST, req->method);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* Whether the request of h may have left: libcurl got past the pre-transfer mark. */
static int
on_wire(CURL *h)
{
	curl_off_t pre = 0;
	long size = 0;

	curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &size);
	return pre > 0 || size > 0;
}

/* Whether rc is a failure that comes before anything is sent. */
static int
before_sending(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_FAILED_INIT:
		return 1;
	default:
		return 0;
	}
}

/* Whether rc is a failure that the same request would meet again. */
static int
permanent(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return 1;
	default:
		return 0;
	}
}

/*
 * Runs the transfer of h, asking req->stop between steps. Returns the
 * transfer's result, or CURLE_ABORTED_BY_CALLBACK when stopped.
 */
static CURLcode
run(struct http_pool *pool, struct http_conn *h, const struct http_request *req)
{
	CURLcode rc = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	pool_active(pool, h, 1);
	for (;;) {
		if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
		if (running == 0) {
			rc = CURLE_GOT_NOTHING;
			while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
				if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->easy)
					rc = msg->data.result;
			break;
		}
		if (req->stop != NULL && req->stop(req->stop_arg, on_wire(h->easy))) {
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(h->multi, NULL, 0, HTTP_POLL_MS, NULL) != CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
	}
	pool_active(pool, h, 0);
	/* A transfer cut short closes its connection. */
	curl_multi_remove_handle(h->multi, h->easy);
	return rc;
}

int
http_do(struct http_pool *pool, const struct http_request *req,
    struct http_response *resp, struct ecs_error *err)
{
	struct curl_slist *headers = NULL, *tmp;
	struct http_xfer x;
	char errbuf[CURL_ERROR_SIZE];
	struct http_conn *h = NULL;
	CURLcode rc;
	size_t i;
	int ret = -1;

	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body);
	x.resp = resp;
	x.too_big = 0;
	errbuf[0] = '\0';

	/* No "Expect: 100-continue" round trip before a large body. */
	if ((headers = curl_slist_append(NULL, "Expect:")) == NULL)
		goto nomem;
	for (i = 0; i < req->nheaders; i++) {
		if ((tmp = curl_slist_append(headers, req->headers[i])) == NULL)
			goto nomem;
		headers = tmp;
	}
	if ((h = pool_take(pool)) == NULL)
		goto nomem;
	if (setup(pool, h->easy, req, headers, &x, errbuf) != 0) {
		ecs_error_clear(err);
		ecs_error_set(err, ECS_E_INTERNAL, "%s: cannot set up the transfer",
		    req->url);
		goto give;
	}

	rc = run(pool, h, req);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &resp->status);
		ret = 0;
		goto give;
	}
	resp->maybe_sent = !before_sending(rc) &&
	    (on_wire(h->easy) || rc == CURLE_SEND_ERROR);
	resp->permanent = permanent(rc);
	/* Whatever arrived of a broken response is not a response. */
	resp->status = 0;
	buf_reset(&resp->body);
	ecs_error_clear(err);
	if (x.too_big) {
		ecs_error_set(err, ECS_E_PROTOCOL,
		    "%s %s: response body larger than %lu bytes", req->method,
		    req->url, HTTP_BODY_MAX);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		ecs_error_set(err, ECS_E_INTERRUPTED, "%s %s: interrupted", req->method,
		    req->url);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		ecs_error_set(err, ECS_E_TIMEOUT, "%s %s: %s", req->method,
		    req->url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	} else {
		ecs_error_set(err, ECS_E_UNREACHABLE, "%s %s: %s", req->method,
		    req->url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	}
give:
	/* An idle handle keeps its connections but no pointer into this call. */
	curl_easy_reset(h->easy);
	pool_give(pool, h);
	goto done;
nomem:
	ecs_error_clear(err);
	ecs_error_set(err, ECS_E_INTERNAL, "out of memory");
done:
	curl_slist_free_all(headers);
	return ret;
}

void
http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
}
