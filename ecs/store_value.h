/*
 * The values ecs/store.c keeps in its cache: listings kept parsed, and
 * described objects kept as compact JSON text (a sixth of the memory of a
 * parsed jansson object), parsed again when read, with a small table of
 * recent parses so that the renders of one folder's files parse its
 * object once. Used by ecs/store.c only.
 */
#ifndef ECS_STORE_VALUE_H
#define ECS_STORE_VALUE_H

#include <jansson.h>

struct sval;
struct sval_parsed;

/* A value holding a listing (takes a reference of its own to names). */
struct sval *sval_listing(json_t *names);
/* A value holding obj (borrowed) as compact text. */
struct sval *sval_object(json_t *obj);
/* Marks v as read ahead, in read-ahead batch id (> 0). */
void sval_mark_ahead(struct sval *v, unsigned id);
/* The read-ahead batch of v the first time a reader uses it; else 0. */
unsigned sval_first_use(struct sval *v);
/* Reference counting, as the cache's ref/unref callbacks. */
void sval_ref(void *v);
void sval_unref(void *v);

/* The table of recent parses; thread-safe. */
struct sval_parsed *sval_parsed_new(void);
void sval_parsed_free(struct sval_parsed *p);
/*
 * The JSON of v as a new reference: the listing itself, or the object
 * parsed from its text (or found among the recent parses). Takes over the
 * caller's reference to v.
 */
json_t *sval_take(struct sval_parsed *p, struct sval *v);

#endif
