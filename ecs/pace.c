/*
 * The pacer: a token bucket per ECS throttling category whose tokens may
 * go below zero, each negative token being promised to a request that
 * sleeps until its turn (so waiters are served in order and a wait is
 * known before it starts), and the adaptive fill rate that follows
 * ThrottlingException feedback the way the AWS SDKs' adaptive mode does.
 */
#include "ecs/pace.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs/xmalloc.h"

/* The SDKs' CUBIC constants and their floor on the fill rate. */
#define CUBIC_BETA	0.7
#define CUBIC_C		0.4
#define MIN_RATE	0.5
/* The send rate is measured per half second and smoothed, as the SDKs do. */
#define SLOT_US		500000
#define SMOOTHING	0.8
/* Largest burst or refill a rate option takes. */
#define RATE_MAX	1000000
#define RATE_DECIMALS	6

struct bucket {
	struct pace_rate cfg;
	double		 cap;		/* the burst less the slack's tokens, >= 1 */
	double		 tokens;	/* below zero: promised to waiters */
	uint64_t	 stamp_us;	/* when tokens was brought up to date */
	/* After a throttle the rate follows a cubic curve from cut_us on. */
	uint64_t	 cut_us;	/* 0: the rate is the configured refill */
	double		 w_max;		/* the rate the cut started from */
	double		 k;		/* seconds to climb back to w_max */
	/* The measured send rate. */
	double		 measured;
	uint64_t	 slot;
	unsigned long	 slot_count;
	/* Throttled without a success since then (0: not throttled). */
	uint64_t	 throttled_since_us;
	uint64_t	 next_probe_us;	/* while refusing: when a probe may go */
	/* Figures for pace_stats(). */
	uint64_t	 waits;
	uint64_t	 wait_us;
	uint64_t	 max_wait_us;
	uint64_t	 busy;
	uint64_t	 cuts;
};

struct pace {
	struct pace_config	 cfg;
	pthread_mutex_t		 lock;
	struct bucket		 b[ECS_CAT_COUNT];	/* protected by lock */
};

static const struct pace_rate default_rates[ECS_CAT_COUNT] = {
	[ECS_CAT_CLUSTER_READ] = { 50, 20 },
	[ECS_CAT_SERVICE_READ] = { 100, 20 },
	[ECS_CAT_SERVICE_MODIFY] = { 50, 5 },
	[ECS_CAT_RESOURCE_READ] = { 100, 20 },
	[ECS_CAT_RESOURCE_MODIFY] = { 100, 40 },
	/* ECS's "task definition read" bucket. */
	[ECS_CAT_TASKDEF_READ] = { 50, 20 },
	/*
	 * Application Auto Scaling publishes no request rates: conservative
	 * defaults, which -o rate_autoscaling_* can raise.
	 */
	[ECS_CAT_AUTOSCALING_READ] = { 20, 10 },
	[ECS_CAT_AUTOSCALING_MODIFY] = { 10, 2 },
	/* GetLogEvents: 25 requests per second per account and region. */
	[ECS_CAT_LOGS_READ] = { 25, 25 },
	[ECS_CAT_OTHER] = { 0, 0 },
};

struct pace_rate
pace_default_rate(enum ecs_category cat)
{
	struct pace_rate none = { 0, 0 };

	if ((unsigned)cat >= ECS_CAT_COUNT)
		return none;
	return default_rates[cat];
}

/*
 * Parses a decimal number "D[.D]" without a sign, exponent or blanks, at
 * most RATE_DECIMALS decimals (none when whole). Returns the end or NULL.
 */
static const char *
parse_decimal(const char *s, int whole, double *out)
{
	double v = 0, scale = 1;
	int digits = 0, decimals = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		v = v * 10 + (*s - '0');
		if (v > RATE_MAX)
			return NULL;
	}
	if (digits == 0)
		return NULL;
	if (*s == '.' && !whole) {
		for (s++; *s >= '0' && *s <= '9'; s++, decimals++) {
			if (decimals == RATE_DECIMALS)
				return NULL;
			scale /= 10;
			v += (*s - '0') * scale;
		}
		if (decimals == 0)
			return NULL;
	}
	*out = v;
	return s;
}

int
pace_parse_rate(enum ecs_category cat, const char *text, struct pace_rate *out,
    struct ecs_error *err)
{
	struct pace_rate dflt = pace_default_rate(cat);
	struct pace_rate r = { 0, 0 };
	const char *s = text;

	if (s == NULL)
		s = "";
	if ((s = parse_decimal(s, 1, &r.burst)) == NULL || *s++ != ':' ||
	    (s = parse_decimal(s, 0, &r.refill)) == NULL || *s != '\0' ||
	    r.burst < 1 || r.refill <= 0 || r.refill > RATE_MAX)
		goto bad;
	*out = r;
	return 0;
bad:
	ecs_error_clear(err);
	ecs_error_set(err, ECS_E_CONFIG, "bad rate_%s '%.40s%s': want BURST:REFILL, "
	    "e.g. %.0f:%g (BURST a whole number of calls from 1 to %d, REFILL "
	    "calls per second above 0, up to %d decimals)", ecs_category_name(cat),
	    text != NULL ? text : "", text != NULL && strlen(text) > 40 ? "..." : "",
	    dflt.burst > 0 ? dflt.burst : 100, dflt.refill > 0 ? dflt.refill : 20,
	    RATE_MAX, RATE_DECIMALS);
	return -1;
}

static uint64_t
real_now_us(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
real_sleep_us(void *arg, uint64_t us)
{
	struct timespec ts;

	(void)arg;
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return 0;
}

/* The cube root of x >= 0 by Newton's method, starting above the root. */
static double
cube_root(double x)
{
	double y, prev;
	int i;

	if (x <= 0)
		return 0;
	y = x > 1 ? x : 1;
	for (i = 0; i < 200; i++) {
		prev = y;
		y -= (y * y * y - x) / (3 * y * y);
		if (prev - y < 1e-12 * prev)
			break;
	}
	return y;
}

static double
min_rate(const struct bucket *b)
{
	return b->cfg.refill < MIN_RATE ? b->cfg.refill : MIN_RATE;
}

/* The fill rate at now: the configured refill, or the cubic curve after a cut. */
static double
rate_at(const struct bucket *b, uint64_t now)
{
	double t, r;

	if (b->cut_us == 0)
		return b->cfg.refill;
	t = (now > b->cut_us ? (double)(now - b->cut_us) / 1e6 : 0) - b->k;
	r = CUBIC_C * t * t * t + b->w_max;
	if (r < min_rate(b))
		r = min_rate(b);
	if (r > b->cfg.refill)
		r = b->cfg.refill;
	return r;
}

/* Adds the tokens earned since the last update, up to the burst. */
static void
bucket_update(struct bucket *b, uint64_t now)
{
	double r;

	if (now <= b->stamp_us)
		return;
	r = rate_at(b, b->stamp_us + (now - b->stamp_us) / 2);
	b->tokens += (double)(now - b->stamp_us) / 1e6 * r;
	if (b->tokens > b->cap)
		b->tokens = b->cap;
	b->stamp_us = now;
	/* Back at the configured rate: the cut is over. */
	if (b->cut_us != 0 && now > b->cut_us + (uint64_t)(b->k * 1e6) &&
	    rate_at(b, now) >= b->cfg.refill)
		b->cut_us = 0;
}

/* Counts a request sent at when into the measured send rate. */
static void
measure(struct bucket *b, uint64_t when)
{
	uint64_t slot = when / SLOT_US;
	double current;

	if (slot > b->slot) {
		current = (double)b->slot_count /
		    ((double)(slot - b->slot) * SLOT_US / 1e6);
		b->measured = current * SMOOTHING + b->measured * (1 - SMOOTHING);
		b->slot_count = 0;
		b->slot = slot;
	}
	b->slot_count++;
}

struct pace *
pace_new(const struct pace_config *cfg)
{
	struct pace *p = xcalloc(1, sizeof(*p));
	uint64_t now;
	int i;

	p->cfg = *cfg;
	if (p->cfg.now_us == NULL)
		p->cfg.now_us = real_now_us;
	if (p->cfg.sleep_us == NULL)
		p->cfg.sleep_us = real_sleep_us;
	pthread_mutex_init(&p->lock, NULL);
	now = p->cfg.now_us(p->cfg.clock_arg);
	for (i = 0; i < ECS_CAT_COUNT; i++) {
		p->b[i].cfg = cfg->rate[i];
		p->b[i].cap = cfg->rate[i].burst -
		    cfg->rate[i].refill * (double)cfg->slack_us / 1e6;
		if (p->b[i].cap < 1)
			p->b[i].cap = 1;
		p->b[i].tokens = p->b[i].cap;
		p->b[i].stamp_us = now;
		p->b[i].slot = now / SLOT_US;
	}
	return p;
}

void
pace_free(struct pace *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

uint64_t
pace_now(struct pace *p)
{
	return p->cfg.now_us(p->cfg.clock_arg);
}

/* Whether cat is paced at all. */
static int
paced(const struct pace *p, enum ecs_category cat)
{
	return (unsigned)cat < ECS_CAT_COUNT && p->b[cat].cfg.refill > 0;
}

/*
 * Whether cat refuses a request at now: throttled for busy_after_us and
 * not a probe's turn (*probe is then set). p->lock held.
 */
static int
refusing(struct pace *p, struct bucket *b, uint64_t now, uint64_t *since_us,
    int *probe)
{
	*probe = 0;
	if (p->cfg.busy_after_us == 0 || b->throttled_since_us == 0 ||
	    now < b->throttled_since_us + p->cfg.busy_after_us)
		return 0;
	*since_us = now - b->throttled_since_us;
	if (now < b->next_probe_us)
		return 1;
	*probe = 1;
	return 0;
}

int
pace_acquire(struct pace *p, enum ecs_category cat, uint64_t until_us,
    struct pace_ticket *t, uint64_t *wait_us)
{
	struct bucket *b;
	uint64_t now, wait = 0, since = 0;
	double need;
	int probe;

	memset(t, 0, sizeof(*t));
	t->cat = cat;
	if (wait_us != NULL)
		*wait_us = 0;
	pthread_mutex_lock(&p->lock);
	now = p->cfg.now_us(p->cfg.clock_arg);
	t->taken_us = t->due_us = now;
	if (!paced(p, cat)) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	b = &p->b[cat];
	if (refusing(p, b, now, &since, &probe)) {
		pthread_mutex_unlock(&p->lock);
		if (wait_us != NULL)
			*wait_us = since;
		return PACE_REFUSING;
	}
	bucket_update(b, now);
	b->tokens -= 1;
	if (b->tokens < 0) {
		need = -b->tokens / rate_at(b, now) * 1e6;
		wait = (uint64_t)need + ((double)(uint64_t)need < need);
		if (now + wait > until_us) {
			b->tokens += 1;
			pthread_mutex_unlock(&p->lock);
			if (wait_us != NULL)
				*wait_us = wait;
			return PACE_TOO_FAR;
		}
		b->waits++;
		b->wait_us += wait;
		if (wait > b->max_wait_us)
			b->max_wait_us = wait;
	}
	/* The next probe goes a period of the current rate after this one. */
	if (probe)
		b->next_probe_us = now + wait + (uint64_t)(1e6 / rate_at(b, now));
	measure(b, now + wait);
	pthread_mutex_unlock(&p->lock);
	t->due_us = now + wait;
	t->waited_us = wait;
	if (wait > 0 && p->cfg.sleep_us(p->cfg.clock_arg, wait) != 0) {
		pace_refund(p, t);
		return PACE_STOPPED;
	}
	return PACE_OK;
}

void
pace_refund(struct pace *p, const struct pace_ticket *t)
{
	struct bucket *b;

	if (!paced(p, t->cat))
		return;
	b = &p->b[t->cat];
	pthread_mutex_lock(&p->lock);
	bucket_update(b, p->cfg.now_us(p->cfg.clock_arg));
	b->tokens += 1;
	if (b->tokens > b->cap)
		b->tokens = b->cap;
	if (b->slot_count > 0 && (t->due_us / SLOT_US) == b->slot)
		b->slot_count--;
	pthread_mutex_unlock(&p->lock);
}

void
pace_feedback(struct pace *p, const struct pace_ticket *t, int throttled)
{
	struct bucket *b;
	uint64_t now;
	double base;

	if (!paced(p, t->cat))
		return;
	b = &p->b[t->cat];
	pthread_mutex_lock(&p->lock);
	if (!throttled) {
		/* ECS took a request: the category is open again. */
		b->throttled_since_us = 0;
		b->next_probe_us = 0;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	now = p->cfg.now_us(p->cfg.clock_arg);
	if (b->throttled_since_us == 0)
		b->throttled_since_us = now > 0 ? now : 1;
	bucket_update(b, now);
	/* ECS's bucket is empty, whatever ours says. */
	if (b->tokens > 0)
		b->tokens = 0;
	/*
	 * One cut per round: requests that asked for their token before the
	 * last cut were paced at the old rate and say nothing about the new.
	 */
	if (b->cut_us == 0 || t->taken_us >= b->cut_us) {
		base = rate_at(b, now);
		if (b->measured > 0 && b->measured < base)
			base = b->measured;
		b->w_max = base;
		b->k = cube_root(base * (1 - CUBIC_BETA) / CUBIC_C);
		b->cut_us = now > 0 ? now : 1;
		b->cuts++;
	}
	pthread_mutex_unlock(&p->lock);
}

void
pace_note_busy(struct pace *p, enum ecs_category cat)
{
	if (!paced(p, cat))
		return;
	pthread_mutex_lock(&p->lock);
	p->b[cat].busy++;
	pthread_mutex_unlock(&p->lock);
}

/* Formats v with up to 3 decimals and no trailing zeros. */
static const char *
fmt_num(char *out, size_t size, double v)
{
	size_t len;

	snprintf(out, size, "%.3f", v);
	len = strlen(out);
	while (len > 0 && out[len - 1] == '0')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
	return out;
}

void
pace_stats(struct pace *p, struct buf *out)
{
	char n1[32], n2[32], n3[32];
	uint64_t now;
	int i;

	pthread_mutex_lock(&p->lock);
	now = p->cfg.now_us(p->cfg.clock_arg);
	for (i = 0; i < ECS_CAT_COUNT; i++) {
		struct bucket *b = &p->b[i];
		const char *name = ecs_category_name((enum ecs_category)i);

		if (b->cfg.refill <= 0)
			continue;
		bucket_update(b, now);
		buf_printf(out, "category.%s.burst %s\n", name,
		    fmt_num(n1, sizeof(n1), b->cfg.burst));
		buf_printf(out, "category.%s.refill %s\n", name,
		    fmt_num(n2, sizeof(n2), b->cfg.refill));
		buf_printf(out, "category.%s.rate %s\n", name,
		    fmt_num(n3, sizeof(n3), rate_at(b, now)));
		buf_printf(out, "category.%s.tokens %llu\n", name,
		    (unsigned long long)(b->tokens > 0 ? b->tokens : 0));
		buf_printf(out, "category.%s.queued %llu\n", name,
		    (unsigned long long)(b->tokens < 0 ? -b->tokens + 0.999 : 0));
		buf_printf(out, "category.%s.waits %llu\n", name,
		    (unsigned long long)b->waits);
		buf_printf(out, "category.%s.wait_ms %llu\n", name,
		    (unsigned long long)(b->wait_us / 1000));
		buf_printf(out, "category.%s.max_wait_ms %llu\n", name,
		    (unsigned long long)(b->max_wait_us / 1000));
		buf_printf(out, "category.%s.busy %llu\n", name,
		    (unsigned long long)b->busy);
		buf_printf(out, "category.%s.rate_cuts %llu\n", name,
		    (unsigned long long)b->cuts);
	}
	pthread_mutex_unlock(&p->lock);
}

/*
 * Brings cat's bucket up to now and gives its fill rate and its tokens
 * (both 0 when cat is not paced).
 */
static void
bucket_now(struct pace *p, enum ecs_category cat, double *rate,
    double *tokens)
{
	struct bucket *b;

	*rate = *tokens = 0;
	if (!paced(p, cat))
		return;
	b = &p->b[cat];
	pthread_mutex_lock(&p->lock);
	bucket_update(b, p->cfg.now_us(p->cfg.clock_arg));
	*rate = rate_at(b, b->stamp_us);
	*tokens = b->tokens;
	pthread_mutex_unlock(&p->lock);
}

double
pace_rate_now(struct pace *p, enum ecs_category cat)
{
	double rate, tokens;

	bucket_now(p, cat, &rate, &tokens);
	return rate;
}

double
pace_tokens_now(struct pace *p, enum ecs_category cat)
{
	double rate, tokens;

	bucket_now(p, cat, &rate, &tokens);
	return tokens;
}
