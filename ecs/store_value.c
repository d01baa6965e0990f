/* The store's cached values and the table of their recent parses. */
#include "ecs/store_value.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

/* How many parsed objects are kept for the renders of one folder. */
#define PARSED_SLOTS 64

struct sval {
	atomic_int	 refs;
	atomic_uint	 ahead_id;	/* the read-ahead batch it came in; 0 once used */
	json_t		*json;		/* a listing, or NULL */
	size_t		 len;
	char		 text[];	/* an object, when json is NULL */
};

struct sval_parsed {
	pthread_mutex_t	 lock;
	struct slot {
		struct sval	*v;	/* a reference; protected by lock */
		json_t		*obj;	/* protected by lock */
		uint64_t	 used;	/* protected by lock */
	}		 slots[PARSED_SLOTS];
	uint64_t	 clock;		/* protected by lock */
};

struct sval *
sval_listing(json_t *names)
{
	struct sval *v = xcalloc(1, sizeof(*v));

	atomic_init(&v->refs, 1);
	v->json = json_incref(names);
	return v;
}

struct sval *
sval_object(json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	size_t len = text ? strlen(text) : 2;
	struct sval *v = xmalloc(sizeof(*v) + len + 1);

	atomic_init(&v->refs, 1);
	atomic_init(&v->ahead_id, 0);
	v->json = NULL;
	v->len = len;
	memcpy(v->text, text ? text : "{}", len + 1);
	free(text);
	return v;
}

void
sval_mark_ahead(struct sval *v, unsigned id)
{
	atomic_store(&v->ahead_id, id);
}

unsigned
sval_first_use(struct sval *v)
{
	if (atomic_load(&v->ahead_id) == 0)
		return 0;
	return atomic_exchange(&v->ahead_id, 0);
}

void
sval_ref(void *p)
{
	struct sval *v = p;

	atomic_fetch_add(&v->refs, 1);
}

void
sval_unref(void *p)
{
	struct sval *v = p;

	if (v == NULL || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	json_decref(v->json);
	free(v);
}

struct sval_parsed *
sval_parsed_new(void)
{
	struct sval_parsed *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void
sval_parsed_free(struct sval_parsed *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < PARSED_SLOTS; i++) {
		sval_unref(p->slots[i].v);
		json_decref(p->slots[i].obj);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

json_t *
sval_take(struct sval_parsed *p, struct sval *v)
{
	struct slot *slot, *oldest;
	json_t *obj;
	size_t i;

	if (v->json != NULL) {
		obj = json_incref(v->json);
		sval_unref(v);
		return obj;
	}
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PARSED_SLOTS; i++) {
		slot = &p->slots[i];
		if (slot->v == v) {
			slot->used = ++p->clock;
			obj = json_incref(slot->obj);
			pthread_mutex_unlock(&p->lock);
			sval_unref(v);
			return obj;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if ((obj = json_loadb(v->text, v->len, 0, NULL)) == NULL)
		obj = json_object();
	pthread_mutex_lock(&p->lock);
	oldest = &p->slots[0];
	for (i = 1; i < PARSED_SLOTS; i++)
		if (p->slots[i].used < oldest->used)
			oldest = &p->slots[i];
	sval_unref(oldest->v);
	json_decref(oldest->obj);
	oldest->v = v;			/* the caller's reference moves here */
	oldest->obj = json_incref(obj);
	oldest->used = ++p->clock;
	pthread_mutex_unlock(&p->lock);
	return obj;
}
