/*
 * The CloudWatch Logs operation ecsfs uses: GetLogEvents, for the latest
 * events of a container's stream and for what came after them.
 */
#include "ecs/api.h"


#include "ecs/api_int.h"
#include "ecs/client.h"
#include "ecs/xmalloc.h"

/* GetLogEvents's largest limit. */
#define LOGS_LIMIT_MAX	10000

int
ecs_logs_get_events(struct ecs_client *c, const char *group, const char *stream,
    long limit, const char *token, json_t **events, char **next_token,
    struct ecs_error *err)
{
	json_t *req = json_object(), *resp = NULL, *v, *t;
	int rc = -1;

	*events = NULL;
	if (next_token != NULL)
		*next_token = NULL;
	api_set_str(req, "logGroupName", group);
	api_set_str(req, "logStreamName", stream);
	if (limit > 0)
		json_object_set_new(req, "limit", json_integer(limit > LOGS_LIMIT_MAX ?
		    LOGS_LIMIT_MAX : limit));
	/*
	 * The latest events come with startFromHead false; a forward token
	 * must be sent with true, as the API asks.
	 */
	if (token != NULL && *token != '\0') {
		api_set_str(req, "nextToken", token);
		json_object_set_new(req, "startFromHead", json_true());
	} else
		json_object_set_new(req, "startFromHead", json_false());
	if (ecs_client_call(c, "GetLogEvents", req, &resp, err) != 0)
		goto fail;
	v = json_object_get(resp, "events");
	if (v != NULL && !json_is_array(v)) {
		api_bad_response(err, "GetLogEvents", "events");
		goto fail;
	}
	t = json_object_get(resp, "nextForwardToken");
	if (t != NULL && !json_is_string(t)) {
		api_bad_response(err, "GetLogEvents", "nextForwardToken");
		goto fail;
	}
	*events = v != NULL ? json_incref(v) : json_array();
	if (next_token != NULL && t != NULL)
		*next_token = xstrdup(json_string_value(t));
	rc = 0;
fail:
	json_decref(resp);
	json_decref(req);
	return rc;
}
