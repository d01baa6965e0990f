/*
 * Client-side pacing of ECS API calls: one token bucket per throttling
 * category (DESIGN §3), shared by every thread, so that the requests of
 * any number of parallel readers never exceed the sustained rate ECS
 * allows. A request takes a token before it is sent and waits for one
 * when the bucket is empty; waiters are served in the order they came.
 *
 * When ECS still answers ThrottlingException (another client of the same
 * account spends the same buckets), the category's bucket is emptied and
 * its fill rate cut to 0.7 of the rate the client was sending at, then
 * recovers along a cubic curve back to the configured refill: the AWS
 * SDKs' "adaptive" retry mode (CUBIC, beta 0.7, C 0.4, at least 0.5/s).
 *
 * Once a category has been throttled without a break for busy_after_us,
 * its requests are refused at once (PACE_REFUSING) instead of each
 * waiting its own bound, except for one probe per period of the current
 * rate, whose success (pace_feedback) opens the category again.
 *
 * Thread-safe. The clock and the sleep are injectable for tests.
 */
#ifndef ECS_PACE_H
#define ECS_PACE_H

#include <stdint.h>

#include "ecs/buf.h"
#include "ecs/err.h"
#include "ecs/ops.h"

/* A bucket's size and refill. refill 0 means "not paced". */
struct pace_rate {
	double	burst;		/* tokens; a whole number >= 1 */
	double	refill;		/* tokens per second */
};

/*
 * The default rate of cat: the published numbers of ECS (DESIGN §3) and
 * CloudWatch Logs, conservative ones for Application Auto Scaling, which
 * publishes none; ECS_CAT_OTHER is not paced.
 */
struct pace_rate pace_default_rate(enum ecs_category cat);

/*
 * Parses "BURST:REFILL" ("100:20", "50:2.5"): BURST a whole number from 1
 * to 1000000, REFILL calls per second above 0 and at most 1000000, with up
 * to 6 decimals. Locale-independent. Returns 0, or -1 with err
 * (ECS_E_CONFIG) saying in one line what is wrong, naming the option
 * "rate_" plus the category name.
 */
int pace_parse_rate(enum ecs_category cat, const char *text, struct pace_rate *out,
    struct ecs_error *err);

/*
 * How much later than its token a request may reach ECS's bucket (the
 * spread of latencies between taking a token and ECS counting it). A
 * bucket keeps refill x slack tokens back from its burst, so that a
 * request delayed less than that never finds ECS's bucket emptier than
 * ours.
 */
#define PACE_SLACK_US	100000

struct pace_config {
	struct pace_rate	 rate[ECS_CAT_COUNT];
	uint64_t		 slack_us;	/* usually PACE_SLACK_US */
	/* Throttled this long without a success: refuse (0: never). */
	uint64_t		 busy_after_us;
	/*
	 * Monotonic microseconds and a sleep; NULL for the real ones. The
	 * sleep returns nonzero when it was cut short (its caller is going
	 * away).
	 */
	uint64_t		(*now_us)(void *arg);
	int			(*sleep_us)(void *arg, uint64_t us);
	void			*clock_arg;
};

/* What pace_acquire() returns. */
enum pace_result {
	PACE_OK = 0,
	PACE_TOO_FAR = -1,	/* the token would be due after the bound */
	PACE_STOPPED = -2,	/* the sleep was cut short; the token is given back */
	PACE_REFUSING = -3,	/* throttled for busy_after_us and not a probe's turn */
};

/* What pace_acquire() hands out, to give back to pace_feedback(). */
struct pace_ticket {
	enum ecs_category	 cat;
	uint64_t		 taken_us;	/* when the token was asked for */
	uint64_t		 due_us;	/* when it was due (the send time) */
	uint64_t		 waited_us;	/* how long the caller slept for it */
};

struct pace;

/* A new pacer; free with pace_free(). cfg is copied. */
struct pace *pace_new(const struct pace_config *cfg);
void pace_free(struct pace *p);

/* The pacer's clock, in microseconds. */
uint64_t pace_now(struct pace *p);

/*
 * Takes a token of cat, sleeping until it is due. A token that would be
 * due after until_us (pace_now() time) is not taken: returns PACE_TOO_FAR
 * at once and *wait_us, if not NULL, is how long the wait would have
 * been. A category that has been throttled for busy_after_us gives
 * PACE_REFUSING at once, *wait_us being how long it has been throttled,
 * unless this request is its probe. A sleep cut short gives PACE_STOPPED
 * and the token back. Otherwise returns PACE_OK with *t filled.
 */
int pace_acquire(struct pace *p, enum ecs_category cat, uint64_t until_us,
    struct pace_ticket *t, uint64_t *wait_us);

/* Gives back the token of t, with which nothing was sent. */
void pace_refund(struct pace *p, const struct pace_ticket *t);

/*
 * Reports how the request sent with t fared: throttled or not (any other
 * answer, an error included, counts as not throttled).
 */
void pace_feedback(struct pace *p, const struct pace_ticket *t, int throttled);

/* Counts a call that failed because its token was too far away. */
void pace_note_busy(struct pace *p, enum ecs_category cat);

/*
 * Appends "key value" lines per paced category: category.NAME.burst,
 * .refill, .rate (the current fill rate), .tokens (available now),
 * .queued (tokens promised to waiting requests), .waits (requests that
 * slept for their token), .wait_ms, .max_wait_ms, .busy (calls failed
 * because their token was too far away) and .rate_cuts.
 */
void pace_stats(struct pace *p, struct buf *out);

/* The current fill rate of cat (tokens per second), for tests. */
double pace_rate_now(struct pace *p, enum ecs_category cat);
/* The tokens cat holds now (negative: promised to waiters), for tests. */
double pace_tokens_now(struct pace *p, enum ecs_category cat);

#endif
