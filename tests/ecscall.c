/*
 * ecscall: one AWS API call (ECS, Application Auto Scaling, CloudWatch
 * Logs) from the command line, for the integration tests and for
 * debugging. "ecscall OP [JSON]" sends a raw call through
 * ecs_client_call(); the lower-case forms ("list-services CLUSTER") go
 * through the typed API with its pagination and batching. The response
 * is printed as pretty JSON on stdout.
 *
 * --interrupt-after MS makes the client's interrupt function say "the
 * caller is going away" once MS ms have passed since the call began, and
 * --shutdown-after MS calls ecs_client_shutdown() from another thread;
 * SIGTERM does the same at once (from a thread that waits for it, as the
 * daemon does). An error that may have been applied says so.
 *
 * Exit status: 0 success, 1 the call failed, 2 usage, 3 configuration or
 * credentials.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ecs/api.h"
#include "ecs/buf.h"
#include "ecs/clock.h"
#include "ecs/client.h"
#include "ecs/config.h"
#include "ecs/creds.h"
#include "ecs/err.h"
#include "ecs/ops.h"

#define EXIT_CALL	1
#define EXIT_USAGE	2
#define EXIT_SETUP	3

/* --interrupt-after: when the caller goes away (monotonic ms), 0: never. */
static _Atomic int64_t interrupt_at;
/* --shutdown-after, in ms; 0: not asked. */
static long shutdown_after_ms;

/* The client the shutdown threads may shut down; NULL once it is freed. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ecs_client *live_client;	/* protected by live_mu */

/* Shuts the live client down, if there still is one. */
static void
shutdown_live(void)
{
	pthread_mutex_lock(&live_mu);
	if (live_client != NULL)
		ecs_client_shutdown(live_client);
	pthread_mutex_unlock(&live_mu);
}

/* The client's interrupt function: the caller goes away at interrupt_at. */
static int
interrupted(void)
{
	int64_t at = atomic_load(&interrupt_at);

	return at != 0 && ecs_now_ms() >= at;
}

/* Shuts the client down after shutdown_after_ms. */
static void *
shutdown_later(void *arg)
{
	struct timespec ts;

	ts.tv_sec = shutdown_after_ms / 1000;
	ts.tv_nsec = (shutdown_after_ms % 1000) * 1000000L;
	(void)arg;
	while (nanosleep(&ts, &ts) == -1)
		;
	shutdown_live();
	return NULL;
}

/* Waits for SIGTERM (blocked in every thread), then shuts the client down. */
static void *
shutdown_on_sigterm(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigwait(&set, &sig) == 0)
		shutdown_live();
	return NULL;
}

/* A typed command: fills *out with the JSON to print. */
struct command {
	const char	*name;
	int		 min_args;	/* after the command name */
	int		 max_args;	/* -1: any number */
	const char	*args;		/* for the usage text */
	int		(*run)(struct ecs_client *, int, char **, json_t **,
			    struct ecs_error *);
};

/* Wraps an array in {"key": array}; steals the array. */
static json_t *
wrap(const char *key, json_t *arr)
{
	json_t *o = json_object();

	json_object_set_new(o, key, arr);
	return o;
}

/* Wraps a Describe result in {"key": items, "failures": failures}; steals both. */
static json_t *
wrap2(const char *key, json_t *items, json_t *failures)
{
	json_t *o = wrap(key, items);

	json_object_set_new(o, "failures", failures);
	return o;
}

/* ecscall list-clusters */
static int
cmd_list_clusters(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *arns;

	(void)argc;
	(void)argv;
	if (ecs_list_clusters(c, &arns, err) != 0)
		return -1;
	*out = wrap("clusterArns", arns);
	return 0;
}

/* ecscall describe-clusters NAME... */
static int
cmd_describe_clusters(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *items, *failures;

	if (ecs_describe_clusters(c, (const char *const *)argv, (size_t)argc,
	    &items, &failures, err) != 0)
		return -1;
	*out = wrap2("clusters", items, failures);
	return 0;
}

/* ecscall list-services CLUSTER */
static int
cmd_list_services(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *arns;

	(void)argc;
	if (ecs_list_services(c, argv[0], &arns, err) != 0)
		return -1;
	*out = wrap("serviceArns", arns);
	return 0;
}

/* ecscall describe-services CLUSTER NAME... */
static int
cmd_describe_services(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *items, *failures;

	if (ecs_describe_services(c, argv[0], (const char *const *)argv + 1,
	    (size_t)argc - 1, &items, &failures, err) != 0)
		return -1;
	*out = wrap2("services", items, failures);
	return 0;
}

/* ecscall list-tasks CLUSTER [SERVICE] */
static int
cmd_list_tasks(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	struct ecs_task_filter f;
	json_t *arns;

	memset(&f, 0, sizeof(f));
	if (argc > 1)
		f.service_name = argv[1];
	if (ecs_list_tasks(c, argv[0], &f, &arns, err) != 0)
		return -1;
	*out = wrap("taskArns", arns);
	return 0;
}

/* ecscall describe-tasks CLUSTER ID... */
static int
cmd_describe_tasks(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *items, *failures;

	if (ecs_describe_tasks(c, argv[0], (const char *const *)argv + 1,
	    (size_t)argc - 1, &items, &failures, err) != 0)
		return -1;
	*out = wrap2("tasks", items, failures);
	return 0;
}

/* ecscall list-container-instances CLUSTER [STATUS] */
static int
cmd_list_container_instances(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *arns;

	if (ecs_list_container_instances(c, argv[0], argc > 1 ? argv[1] : NULL,
	    &arns, err) != 0)
		return -1;
	*out = wrap("containerInstanceArns", arns);
	return 0;
}

/* ecscall describe-container-instances CLUSTER ID... */
static int
cmd_describe_container_instances(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *items, *failures;

	if (ecs_describe_container_instances(c, argv[0],
	    (const char *const *)argv + 1, (size_t)argc - 1, &items, &failures,
	    err) != 0)
		return -1;
	*out = wrap2("containerInstances", items, failures);
	return 0;
}

/* ecscall describe-task-definition TD */
static int
cmd_describe_task_definition(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *td;

	(void)argc;
	if (ecs_describe_task_definition(c, argv[0], &td, err) != 0)
		return -1;
	*out = wrap("taskDefinition", td);
	return 0;
}

/* ecscall list-task-definitions FAMILY [STATUS] */
static int
cmd_list_task_definitions(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *arns;

	if (ecs_list_task_definitions(c, argv[0], argc > 1 ? argv[1] : NULL, &arns,
	    err) != 0)
		return -1;
	*out = wrap("taskDefinitionArns", arns);
	return 0;
}

/* ecscall describe-scalable-targets [CLUSTER/SERVICE...] */
static int
cmd_describe_scalable_targets(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *targets;
	char **ids;
	int i, rc;

	ids = calloc((size_t)argc + 1, sizeof(*ids));
	for (i = 0; i < argc; i++) {
		char *slash = strchr(argv[i], '/');

		if (slash == NULL) {
			fprintf(stderr, "ecscall: want CLUSTER/SERVICE, not %s\n",
			    argv[i]);
			exit(EXIT_USAGE);
		}
		*slash = '\0';
		ids[i] = ecs_aas_resource_id(argv[i], slash + 1);
	}
	rc = ecs_aas_describe_scalable_targets(c, (const char *const *)ids,
	    (size_t)argc, &targets, err);
	for (i = 0; i < argc; i++)
		free(ids[i]);
	free(ids);
	if (rc != 0)
		return -1;
	*out = wrap("ScalableTargets", targets);
	return 0;
}

/* ecscall describe-scaling-policies RESOURCE_ID */
static int
cmd_describe_scaling_policies(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	json_t *policies;

	(void)argc;
	if (ecs_aas_describe_scaling_policies(c, argv[0], &policies, err) != 0)
		return -1;
	*out = wrap("ScalingPolicies", policies);
	return 0;
}

/* A capacity argument: "-" leaves it alone. */
static long
capacity(const char *s)
{
	char *end;
	long v;

	if (strcmp(s, "-") == 0)
		return -1;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "ecscall: bad capacity: %s\n", s);
		exit(EXIT_USAGE);
	}
	return v;
}

/* ecscall register-scalable-target RESOURCE_ID MIN|- MAX|- [true|false] */
static int
cmd_register_scalable_target(struct ecs_client *c, int argc, char **argv,
    json_t **out, struct ecs_error *err)
{
	struct ecs_aas_target_update u;

	u.min_capacity = capacity(argv[1]);
	u.max_capacity = capacity(argv[2]);
	u.suspended = argc > 3 ? strcmp(argv[3], "true") == 0 : -1;
	if (ecs_aas_register_scalable_target(c, argv[0], &u, err) != 0)
		return -1;
	*out = json_object();
	return 0;
}

/* ecscall get-log-events GROUP STREAM [LIMIT [TOKEN]] */
static int
cmd_get_log_events(struct ecs_client *c, int argc, char **argv, json_t **out,
    struct ecs_error *err)
{
	json_t *events;
	char *next;

	if (ecs_logs_get_events(c, argv[0], argv[1], argc > 2 ? capacity(argv[2]) : 0,
	    argc > 3 ? argv[3] : NULL, &events, &next, err) != 0)
		return -1;
	*out = wrap("events", events);
	if (next != NULL)
		json_object_set_new(*out, "nextForwardToken", json_string(next));
	free(next);
	return 0;
}

static const struct command commands[] = {
	{ "list-clusters", 0, 0, "", cmd_list_clusters },
	{ "describe-clusters", 1, -1, "NAME...", cmd_describe_clusters },
	{ "list-services", 1, 1, "CLUSTER", cmd_list_services },
	{ "describe-services", 2, -1, "CLUSTER NAME...", cmd_describe_services },
	{ "list-tasks", 1, 2, "CLUSTER [SERVICE]", cmd_list_tasks },
	{ "describe-tasks", 2, -1, "CLUSTER ID...", cmd_describe_tasks },
	{ "list-container-instances", 1, 2, "CLUSTER [STATUS]",
	    cmd_list_container_instances },
	{ "describe-container-instances", 2, -1, "CLUSTER ID...",
	    cmd_describe_container_instances },
	{ "describe-task-definition", 1, 1, "TASK_DEFINITION",
	    cmd_describe_task_definition },
	{ "list-task-definitions", 1, 2, "FAMILY [STATUS]",
	    cmd_list_task_definitions },
	{ "describe-scalable-targets", 0, -1, "[CLUSTER/SERVICE...]",
	    cmd_describe_scalable_targets },
	{ "describe-scaling-policies", 1, 1, "service/CLUSTER/SERVICE",
	    cmd_describe_scaling_policies },
	{ "register-scalable-target", 3, 4,
	    "service/CLUSTER/SERVICE MIN|- MAX|- [true|false]",
	    cmd_register_scalable_target },
	{ "get-log-events", 2, 4, "GROUP STREAM [LIMIT [TOKEN]]",
	    cmd_get_log_events },
	{ NULL, 0, 0, NULL, NULL }
};

static void
usage(void)
{
	const struct command *cmd;

	fprintf(stderr, "usage: ecscall [-r region] [-e endpoint] [-p profile] "
	    "[-t timeout_ms] [-c connect_timeout_ms] [-a max_attempts] "
	    "[-w max_throttle_wait_ms] [-R CATEGORY=BURST:REFILL] [--stats] "
	    "[--interrupt-after MS] "
	    "[--shutdown-after MS] OP [JSON]\n");
	for (cmd = commands; cmd->name != NULL; cmd++)
		fprintf(stderr, "       ecscall [options] %s %s\n", cmd->name,
		    cmd->args);
	exit(EXIT_USAGE);
}

/* Parses a positive number option, or exits with the usage. */
static long
number(const char *s, const char *what)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "ecscall: bad %s: %s\n", what, s);
		usage();
	}
	return v;
}

/* Parses -R CATEGORY=BURST:REFILL into ov, or exits with the usage. */
static void
rate_option(struct ecs_config_overrides *ov, char *arg)
{
	char *eq = strchr(arg, '=');
	int i;

	if (eq != NULL) {
		*eq = '\0';
		for (i = 0; i < ECS_CAT_COUNT; i++)
			if (strcmp(ecs_category_name((enum ecs_category)i), arg) == 0) {
				ov->rate[i] = eq + 1;
				return;
			}
	}
	fprintf(stderr, "ecscall: bad rate: want CATEGORY=BURST:REFILL\n");
	usage();
}

/* Prints err as one line on stderr. */
static void
print_error(const struct ecs_error *err)
{
	fprintf(stderr, "ecscall: %s: ", ecs_strerror(err->code));
	if (err->aws_code[0] != '\0')
		fprintf(stderr, "%s: ", err->aws_code);
	fprintf(stderr, "%s", err->message);
	if (err->request_id[0] != '\0')
		fprintf(stderr, " (request id %s)", err->request_id);
	if (err->maybe_applied)
		fprintf(stderr, " (may have been applied)");
	if (err->applied)
		fprintf(stderr, " (applied: answered %ld)", err->http_status);
	fprintf(stderr, "\n");
}

/* Sends OP with a raw JSON body. */
static int
run_raw(struct ecs_client *c, const char *op, const char *text, json_t **out,
    struct ecs_error *err)
{
	json_error_t jerr;
	json_t *req;
	int rc;

	if ((req = json_loads(text != NULL ? text : "{}", 0, &jerr)) == NULL ||
	    !json_is_object(req)) {
		fprintf(stderr, "ecscall: the request must be a JSON object: %s\n",
		    req == NULL ? jerr.text : "not an object");
		json_decref(req);
		exit(EXIT_USAGE);
	}
	rc = ecs_client_call(c, op, req, out, err);
	json_decref(req);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stats", no_argument, NULL, 'S' },
		{ "interrupt-after", required_argument, NULL, 'I' },
		{ "shutdown-after", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ecs_config_overrides ov;
	struct ecs_config cfg;
	struct ecs_error err;
	struct creds_provider *creds = NULL;
	struct ecs_client *client = NULL;
	const struct command *cmd = NULL;
	json_t *out = NULL;
	char *text;
	long interrupt_after_ms = 0;
	pthread_t th;
	sigset_t term;
	int ch, stats = 0, nargs, rc, status = EXIT_SETUP;

	/* libcurl runs with CURLOPT_NOSIGNAL: a peer that goes away must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	memset(&ov, 0, sizeof(ov));
	memset(&cfg, 0, sizeof(cfg));
	while ((ch = getopt_long(argc, argv, "+r:e:p:t:c:a:w:R:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			ov.region = optarg;
			break;
		case 'e':
			ov.endpoint = optarg;
			break;
		case 'p':
			ov.profile = optarg;
			break;
		case 't':
			ov.timeout_ms = number(optarg, "timeout");
			break;
		case 'c':
			ov.connect_timeout_ms = number(optarg, "connect timeout");
			break;
		case 'a':
			ov.max_attempts = (int)number(optarg, "max attempts");
			break;
		case 'w':
			ov.max_throttle_wait_ms = number(optarg, "max throttle wait");
			break;
		case 'R':
			rate_option(&ov, optarg);
			break;
		case 'S':
			stats = 1;
			break;
		case 'I':
			interrupt_after_ms = number(optarg, "interrupt delay");
			break;
		case 'D':
			shutdown_after_ms = number(optarg, "shutdown delay");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (argv[0][0] >= 'a' && argv[0][0] <= 'z') {
		for (cmd = commands; cmd->name != NULL; cmd++)
			if (strcmp(cmd->name, argv[0]) == 0)
				break;
		nargs = argc - 1;
		if (cmd->name == NULL || nargs < cmd->min_args ||
		    (cmd->max_args >= 0 && nargs > cmd->max_args))
			usage();
	} else if (argc > 2)
		usage();

	ecs_error_clear(&err);
	if (ecs_config_load(&ov, &cfg, &err) != 0) {
		print_error(&err);
		goto done;
	}
	if ((creds = creds_provider_new(&cfg, &err)) == NULL) {
		print_error(&err);
		goto done;
	}
	if ((client = ecs_client_new(&cfg, creds)) == NULL) {
		fprintf(stderr, "ecscall: cannot set up a client for endpoint %s\n",
		    cfg.endpoint != NULL ? cfg.endpoint : "(none)");
		goto done;
	}

	/* SIGTERM is taken by a thread of its own, never by a call's thread. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	pthread_mutex_lock(&live_mu);
	live_client = client;
	pthread_mutex_unlock(&live_mu);
	if (pthread_create(&th, NULL, shutdown_on_sigterm, client) == 0)
		pthread_detach(th);
	if (shutdown_after_ms > 0 &&
	    pthread_create(&th, NULL, shutdown_later, client) == 0)
		pthread_detach(th);
	ecs_client_set_interrupt(client, interrupted);
	if (interrupt_after_ms > 0)
		atomic_store(&interrupt_at, ecs_now_ms() + interrupt_after_ms);

	if (cmd != NULL)
		rc = cmd->run(client, argc - 1, argv + 1, &out, &err);
	else
		rc = run_raw(client, argv[0], argc > 1 ? argv[1] : NULL, &out, &err);
	if (rc != 0) {
		print_error(&err);
		status = EXIT_CALL;
	} else {
		text = json_dumps(out, JSON_INDENT(2));
		printf("%s\n", text != NULL ? text : "null");
		free(text);
		status = 0;
	}
	if (stats) {
		struct buf b;

		buf_init(&b);
		ecs_client_stats(client, &b);
		fprintf(stderr, "%s", b.data != NULL ? b.data : "");
		buf_free(&b);
	}
done:
	json_decref(out);
	pthread_mutex_lock(&live_mu);
	live_client = NULL;
	pthread_mutex_unlock(&live_mu);
	ecs_client_free(client);
	if (creds != NULL)
		creds_provider_free(creds);
	ecs_config_free(&cfg);
	return status;
}
