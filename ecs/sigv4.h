/*
 * AWS Signature Version 4, header form. Pure: no I/O, no clock, no global
 * state, so it can be tested against the official vectors byte for byte.
 */
#ifndef ECS_SIGV4_H
#define ECS_SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char	*name;		/* any case; trimmed and lower-cased when signed */
	const char	*value;		/* trimmed, inner runs of spaces folded */
};

struct sigv4_input {
	const char			*method;	/* "POST" */
	const char			*path;		/* raw, as on the request line: "/" */
	const char			*query;		/* raw, without '?'; NULL or "" for none */
	const struct sigv4_header	*headers;	/* must include host; not x-amz-date */
	size_t				 nheaders;
	const void			*body;
	size_t				 body_len;
	const char			*region;
	const char			*service;	/* "ecs" */
	const char			*access_key;
	const char			*secret_key;
	const char			*session_token;	/* NULL or "" without one */
	time_t				 when;		/* signing time, UTC */
	int				 normalize_path; /* 1 for every service but S3 */
	int				 sign_body;	/* add and sign x-amz-content-sha256 */
};

/*
 * The results. The caller adds to its request the headers X-Amz-Date:
 * amz_date, X-Amz-Security-Token (when a token was given), X-Amz-Content-
 * Sha256: content_sha256 (when sign_body) and Authorization: authorization.
 * Free with sigv4_output_free().
 */
struct sigv4_output {
	char	*canonical_request;
	char	*string_to_sign;
	char	*authorization;		/* the whole header value */
	char	 signature[65];		/* lower-case hex */
	char	 amz_date[17];		/* YYYYMMDDTHHMMSSZ */
	char	 content_sha256[65];	/* hex SHA-256 of the body */
};

/* Signs in; returns 0, or -1 on malformed input (out is then empty). */
int sigv4_sign(const struct sigv4_input *in, struct sigv4_output *out);
void sigv4_output_free(struct sigv4_output *out);

#endif
