/*
 * Parsing of ecsfs's own -o options: each is one entry of fs_opt_table,
 * turned into a fuse_opt template at parse time.
 */
#define FUSE_USE_VERSION 312
#include "fs/opts.h"

#include <errno.h>
#include <fuse.h>
#include <fuse_opt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define OPT(field) offsetof(struct fs_opts, field)

const struct fs_opt_entry fs_opt_table[] = {
	{ "region", FS_OPT_STRING, OPT(region), "", "REGION",
	    "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region)", 0 },
	{ "profile", FS_OPT_STRING, OPT(profile), "", "NAME",
	    "profile of ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE, default)", 0 },
	{ "endpoint", FS_OPT_STRING, OPT(endpoint), "", "URL",
	    "ECS endpoint (else AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, the profile's, https://ecs.REGION.amazonaws.com)", 0 },
	{ "autoscaling_endpoint", FS_OPT_STRING, OPT(autoscaling_endpoint), "", "URL",
	    "Application Auto Scaling endpoint (else AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING, AWS_ENDPOINT_URL, the profile's, https://application-autoscaling.REGION.amazonaws.com)", 0 },
	{ "logs_endpoint", FS_OPT_STRING, OPT(logs_endpoint), "", "URL",
	    "CloudWatch Logs endpoint (else AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, AWS_ENDPOINT_URL, the profile's, https://logs.REGION.amazonaws.com)", 0 },
	{ "cache_ttl", FS_OPT_SECONDS, OPT(cache_ttl_ms), "10", "SECONDS",
	    "how long described state is served from the cache", 0 },
	{ "negative_ttl", FS_OPT_SECONDS, OPT(negative_ttl_ms), "5", "SECONDS",
	    "how long a name that does not exist is remembered", 0 },
	{ "stale_ttl", FS_OPT_SECONDS, OPT(stale_ttl_ms), "300", "SECONDS",
	    "how old a cached value may be served when the endpoint fails", 0 },
	{ "cache_max", FS_OPT_COUNT, OPT(cache_max), "100000", "N",
	    "most cache entries kept (least recently used dropped beyond; 0: no bound)", 0 },
	{ "max_threads", FS_OPT_COUNT, OPT(max_threads), "256", "N",
	    "most threads serving requests at once (a blocked wait holds none)", 1 },
	{ "timeout", FS_OPT_SECONDS, OPT(timeout_ms), "15", "SECONDS",
	    "time budget of one API call, retries included", 1 },
	{ "connect_timeout", FS_OPT_SECONDS, OPT(connect_timeout_ms), "3", "SECONDS",
	    "time budget of one TCP/TLS connect", 1 },
	{ "max_attempts", FS_OPT_COUNT, OPT(max_attempts), "8", "N",
	    "attempts per API call (else AWS_MAX_ATTEMPTS, the profile's max_attempts)", 1 },
	{ "dry_run", FS_OPT_FLAG, OPT(dry_run), "off", NULL,
	    "validate writes and journal them, send nothing that mutates", 0 },
	{ "journal", FS_OPT_STRING, OPT(journal), "", "FILE",
	    "append every journal line to FILE too (created 0600, one write per line)", 0 },
	{ "wait_interval", FS_OPT_SECONDS, OPT(wait_interval_ms), "5", "SECONDS",
	    "how often a reader of a wait file polls ECS", 1 },
	{ "wait_timeout", FS_OPT_SECONDS, OPT(wait_timeout_ms), "600", "SECONDS",
	    "how long a wait file blocks before it fails with ETIMEDOUT", 1 },
	{ "max_throttle_wait", FS_OPT_SECONDS, OPT(max_throttle_wait_ms), "60", "SECONDS",
	    "longest wait for a rate-limit token, or of throttling without a break, before calls fail with EAGAIN", 1 },
	{ "rate_cluster_read", FS_OPT_STRING, OPT(rate_cluster_read), "50:20", "BURST:REFILL",
	    "client-side rate of ListClusters, DescribeClusters (calls, calls/s)", 0 },
	{ "rate_service_read", FS_OPT_STRING, OPT(rate_service_read), "100:20", "BURST:REFILL",
	    "client-side rate of ListServices, DescribeServices", 0 },
	{ "rate_service_modify", FS_OPT_STRING, OPT(rate_service_modify), "50:5", "BURST:REFILL",
	    "client-side rate of UpdateService", 0 },
	{ "rate_resource_read", FS_OPT_STRING, OPT(rate_resource_read), "100:20", "BURST:REFILL",
	    "client-side rate of ListTasks, DescribeTasks, container instance reads", 0 },
	{ "rate_resource_modify", FS_OPT_STRING, OPT(rate_resource_modify), "100:40",
	    "BURST:REFILL", "client-side rate of StopTask, UpdateContainerInstancesState", 0 },
	{ "rate_taskdef_read", FS_OPT_STRING, OPT(rate_taskdef_read), "50:20", "BURST:REFILL",
	    "client-side rate of DescribeTaskDefinition, ListTaskDefinitions (ECS's published rate)", 0 },
	{ "rate_autoscaling_read", FS_OPT_STRING, OPT(rate_autoscaling_read), "20:10",
	    "BURST:REFILL", "client-side rate of DescribeScalableTargets, DescribeScalingPolicies "
	    "(a conservative default: Application Auto Scaling publishes no rate)", 0 },
	{ "rate_autoscaling_modify", FS_OPT_STRING, OPT(rate_autoscaling_modify), "10:2",
	    "BURST:REFILL", "client-side rate of RegisterScalableTarget "
	    "(a conservative default: Application Auto Scaling publishes no rate)", 0 },
	{ "rate_logs_read", FS_OPT_STRING, OPT(rate_logs_read), "25:25", "BURST:REFILL",
	    "client-side rate of GetLogEvents (CloudWatch Logs' published 25 per second)", 0 },
	{ "log_lines", FS_OPT_COUNT, OPT(log_lines), "1000", "N",
	    "log events a tasks/TASK/logs/CONTAINER file starts with (the latest ones)", 1 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

#define KEY_NONOPT_BASE 1000

/* Parse state passed through fuse_opt_parse. */
struct parse_state {
	struct fs_opts	*o;
	char		*nonopt[3];	/* positional arguments seen */
	int		 nnonopt;
	int		 failed;
};

/* Stores text as the value of option e. Returns 0 or -1 after an error message. */
static int
opt_set(struct fs_opts *o, const struct fs_opt_entry *e, const char *text)
{
	void *field = (char *)o + e->offset;
	char *end;
	double d;
	long l;

	switch (e->type) {
	case FS_OPT_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(text);
		return 0;
	case FS_OPT_FLAG:
		*(int *)field = 1;
		return 0;
	case FS_OPT_SECONDS:
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0' || !isfinite(d) ||
		    d < 0 || d > 86400.0 * 365 || (long)(d * 1000.0 + 0.5) < e->min)
			break;
		*(long *)field = (long)(d * 1000.0 + 0.5);
		return 0;
	case FS_OPT_COUNT:
		errno = 0;
		l = strtol(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0' || l < e->min || l > INT_MAX)
			break;
		*(long *)field = l;
		return 0;
	}
	fprintf(stderr, "ecsfs: invalid value for -o %s: '%s' (want %s%s)\n", e->name, text,
	    e->arg, e->min > 0 ? " above 0" : "");
	return -1;
}

void
fs_opts_defaults(struct fs_opts *o)
{
	const struct fs_opt_entry *e;

	memset(o, 0, sizeof(*o));
	for (e = fs_opt_table; e->name != NULL; e++)
		if (e->type == FS_OPT_SECONDS || e->type == FS_OPT_COUNT)
			opt_set(o, e, e->dflt);
	/* max_attempts defaults to the SDK chain; 0 lets config decide. */
	o->max_attempts = 0;
}

static int
opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct parse_state *ps = data;
	const struct fs_opt_entry *e;
	const char *eq;

	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT) {
		if (ps->nnonopt >= 2) {
			fprintf(stderr, "ecsfs: too many arguments: '%s'\n", arg);
			ps->failed = 1;
			return -1;
		}
		ps->nonopt[ps->nnonopt++] = xstrdup(arg);
		return 0;
	}
	if (key < KEY_NONOPT_BASE)
		return 1;
	e = &fs_opt_table[key - KEY_NONOPT_BASE];
	eq = strchr(arg, '=');
	if (opt_set(ps->o, e, eq ? eq + 1 : "") != 0) {
		ps->failed = 1;
		return -1;
	}
	return 0;
}

int
fs_opts_parse(struct fuse_args *args, struct fs_opts *o)
{
	struct parse_state ps = { .o = o };
	struct fuse_opt *spec;
	size_t n = 0, i;
	int rc = -1;

	for (n = 0; fs_opt_table[n].name != NULL; n++)
		;
	spec = xcalloc(n + 1, sizeof(*spec));
	for (i = 0; i < n; i++) {
		const struct fs_opt_entry *e = &fs_opt_table[i];

		spec[i].templ = e->type == FS_OPT_FLAG ? xstrdup(e->name) :
		    xasprintf("%s=", e->name);
		spec[i].offset = -1U;
		spec[i].value = KEY_NONOPT_BASE + (int)i;
	}
	if (fuse_opt_parse(args, &ps, spec, opt_proc) != 0 || ps.failed)
		goto out;
	/* "ecsfs [SOURCE] MOUNTPOINT": FUSE wants only the mountpoint. */
	if (ps.nnonopt == 2) {
		o->source = ps.nonopt[0];
		ps.nonopt[0] = NULL;
		fuse_opt_add_arg(args, ps.nonopt[1]);
	} else if (ps.nnonopt == 1) {
		fuse_opt_add_arg(args, ps.nonopt[0]);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free((char *)spec[i].templ);
	free(spec);
	for (i = 0; i < 3; i++)
		free(ps.nonopt[i]);
	return rc;
}

void
fs_opts_help(void)
{
	const struct fs_opt_entry *e;
	char left[64];

	printf("ecsfs options:\n");
	for (e = fs_opt_table; e->name != NULL; e++) {
		if (e->arg != NULL)
			snprintf(left, sizeof(left), "-o %s=%s", e->name, e->arg);
		else
			snprintf(left, sizeof(left), "-o %s", e->name);
		if (strlen(left) > 28)
			printf("    %s\n    %-28s %s", left, "", e->help);
		else
			printf("    %-28s %s", left, e->help);
		if (e->dflt[0] != '\0')
			printf(" (default: %s)", e->dflt);
		printf("\n");
	}
}

void
fs_opts_free(struct fs_opts *o)
{
	free(o->region);
	free(o->profile);
	free(o->endpoint);
	free(o->autoscaling_endpoint);
	free(o->logs_endpoint);
	free(o->source);
	free(o->journal);
	free(o->rate_cluster_read);
	free(o->rate_service_read);
	free(o->rate_service_modify);
	free(o->rate_resource_read);
	free(o->rate_resource_modify);
	free(o->rate_taskdef_read);
	free(o->rate_autoscaling_read);
	free(o->rate_autoscaling_modify);
	free(o->rate_logs_read);
}
