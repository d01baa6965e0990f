/* An endpoint URL as libcurl parses it, and as SigV4 signs its host and path. */
#include "ecs/client_endpoint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ecs/xmalloc.h"

int
client_endpoint_parse(struct client_endpoint *ep, const char *title,
    const char *endpoint, struct ecs_error *err)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t len, i;
	int rc = -1;

	memset(ep, 0, sizeof(*ep));
	if (endpoint == NULL) {
		ecs_error_set(err, ECS_E_CONFIG, "no %s endpoint", title);
		return -1;
	}
	len = strlen(endpoint);
	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	ep->url = xasprintf("%.*s/", (int)len, endpoint);
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, ep->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		ecs_error_set(err, ECS_E_CONFIG, "bad %s endpoint URL: %s", title,
		    endpoint);
		goto fail;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		ecs_error_set(err, ECS_E_CONFIG,
		    "%s endpoint %s: scheme must be http or https", title, endpoint);
		goto fail;
	}
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	/* The AWS SDKs sign the Host without a default port. */
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port != NULL &&
	    !(strcasecmp(scheme, "http") == 0 && strcmp(port, "80") == 0) &&
	    !(strcasecmp(scheme, "https") == 0 && strcmp(port, "443") == 0))
		ep->host = xasprintf("%s:%s", host, port);
	else
		ep->host = xstrdup(host);
	ep->path = xstrdup(path);
	rc = 0;
fail:
	if (rc != 0)
		client_endpoint_free(ep);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

void
client_endpoint_free(struct client_endpoint *ep)
{
	free(ep->url);
	free(ep->host);
	free(ep->path);
	memset(ep, 0, sizeof(*ep));
}
