/*
 * IMDSv2: the token PUT with its TTL, the role name, the role's
 * credentials document. Every step has a 1 s budget and one retry; no
 * message quotes the token or the document.
 */
#include "ecs/imds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ecs/creds_process.h"
#include "ecs/http.h"
#include "ecs/xmalloc.h"

#define IMDS_DEFAULT		"http://169.254.169.254"
#define IMDS_TOKEN_TTL		"21600"
#define IMDS_TIMEOUT_MS		1000
#define IMDS_ATTEMPTS		2
#define IMDS_ROLES		"/latest/meta-data/iam/security-credentials/"

char *
imds_endpoint(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");
	char *u;
	size_t n;

	if (v != NULL && strcasecmp(v, "true") == 0)
		return NULL;
	v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	u = xstrdup(v != NULL && *v != '\0' ? v : IMDS_DEFAULT);
	n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

/* Whether this process seems to run in a container (Docker, Kubernetes). */
static int
imds_in_container(void)
{
	FILE *f;
	char line[512];
	int found = 0;

	if (access("/.dockerenv", F_OK) == 0 ||
	    getenv("KUBERNETES_SERVICE_HOST") != NULL)
		return 1;
	if ((f = fopen("/proc/1/cgroup", "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "docker") != NULL ||
		    strstr(line, "kubepods") != NULL ||
		    strstr(line, "containerd") != NULL;
	fclose(f);
	return found;
}

/*
 * One IMDS request with its retry: *status and *body (the caller frees
 * it). 0 when an answer came, -1 with err when none did.
 */
static int
imds_request(struct http_pool *pool, const char *method, const char *url,
    const char *header, long *status, char **body, struct ecs_error *err)
{
	struct http_request req;
	struct http_response resp;
	const char *headers[1];
	int attempt;

	*body = NULL;
	headers[0] = header;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.nheaders = 1;
	req.connect_timeout_ms = IMDS_TIMEOUT_MS;
	req.timeout_ms = IMDS_TIMEOUT_MS;
	for (attempt = 1; attempt <= IMDS_ATTEMPTS; attempt++) {
		if (http_do(pool, &req, &resp, err) != 0) {
			http_response_free(&resp);
			continue;
		}
		*status = resp.status;
		*body = xmalloc(resp.body.len + 1);
		if (resp.body.len > 0)
			memcpy(*body, resp.body.data, resp.body.len);
		(*body)[resp.body.len] = '\0';
		if (resp.body.data != NULL)
			explicit_bzero(resp.body.data, resp.body.len);
		http_response_free(&resp);
		if (*status >= 500 && attempt < IMDS_ATTEMPTS) {
			free(*body);
			*body = NULL;
			continue;
		}
		return 0;
	}
	return -1;
}

/* Frees a body that may hold a secret. */
static void
imds_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
imds_fetch(struct http_pool *pool, const char *endpoint, struct creds *out,
    struct ecs_error *err)
{
	char *url = NULL, *tok = NULL, *hdr = NULL, *names = NULL, *doc = NULL;
	char role[256];
	long status = 0;
	int rc = -1;

	url = xasprintf("%s/latest/api/token", endpoint);
	if (imds_request(pool, "PUT", url, "X-aws-ec2-metadata-token-ttl-"
	    "seconds: " IMDS_TOKEN_TTL, &status, &tok, err) != 0) {
		ecs_error_set(err, ECS_E_CREDS, "instance metadata (IMDSv2) at "
		    "%s: no answer to PUT /latest/api/token within 1 s, twice%s",
		    endpoint, imds_in_container() ? "; in a container this is "
		    "usually the instance's metadata hop limit of 1: set "
		    "HttpPutResponseHopLimit to 2 (aws ec2 "
		    "modify-instance-metadata-options)" : "");
		goto done;
	}
	if (status != 200) {
		ecs_error_set(err, ECS_E_CREDS, "instance metadata (IMDSv2) at "
		    "%s: PUT /latest/api/token answered HTTP %ld", endpoint,
		    status);
		goto done;
	}
	tok[strcspn(tok, "\r\n")] = '\0';
	hdr = xasprintf("X-aws-ec2-metadata-token: %s", tok);
	free(url);
	url = xasprintf("%s" IMDS_ROLES, endpoint);
	if (imds_request(pool, "GET", url, hdr, &status, &names, err) != 0 ||
	    status != 200) {
		if (names != NULL && status == 404)
			ecs_error_set(err, ECS_E_CREDS, "instance metadata "
			    "(IMDSv2) at %s: the instance has no IAM role "
			    "(no instance profile)", endpoint);
		else
			ecs_error_set(err, ECS_E_CREDS, "instance metadata "
			    "(IMDSv2) at %s: GET %s %s", endpoint, IMDS_ROLES,
			    names != NULL ? "failed" : "had no answer");
		goto done;
	}
	names[strcspn(names, "\r\n")] = '\0';
	if (names[0] == '\0' || strlen(names) >= sizeof(role) ||
	    strchr(names, '/') != NULL) {
		ecs_error_set(err, ECS_E_CREDS, "instance metadata (IMDSv2) at "
		    "%s: no usable role name", endpoint);
		goto done;
	}
	snprintf(role, sizeof(role), "%s", names);
	free(url);
	url = xasprintf("%s" IMDS_ROLES "%s", endpoint, role);
	if (imds_request(pool, "GET", url, hdr, &status, &doc, err) != 0 ||
	    status != 200) {
		ecs_error_set(err, ECS_E_CREDS, "instance metadata (IMDSv2) at "
		    "%s: GET %s%s %s", endpoint, IMDS_ROLES, role,
		    doc != NULL ? "failed" : "had no answer");
		goto done;
	}
	rc = creds_parse_json(doc, strlen(doc), "Token", 0,
	    "instance metadata (IMDSv2)", out, err);
done:
	free(url);
	imds_free(tok);
	imds_free(hdr);
	free(names);
	imds_free(doc);
	return rc;
}
