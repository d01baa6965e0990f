/*
 * The inode table: two hash tables over one set of entries, by number and
 * by path, under one mutex.
 */
#include "fs/ino.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ecs/xmalloc.h"

#define ROOT_INO 1
#define NBUCKETS 4096

struct ino_entry {
	uint64_t		 ino;
	uint64_t		 nlookup;	/* protected by ino_lock */
	char			*path;
	struct ino_entry	*next_ino;	/* protected by ino_lock */
	struct ino_entry	*next_path;	/* protected by ino_lock */
};

static pthread_mutex_t ino_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ino_entry *by_ino[NBUCKETS];	/* protected by ino_lock */
static struct ino_entry *by_path[NBUCKETS];	/* protected by ino_lock */
static uint64_t next_ino = ROOT_INO + 1;	/* protected by ino_lock */
static size_t ino_count;			/* protected by ino_lock */

/* FNV-1a of a string. */
static size_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)(h % NBUCKETS);
}

static size_t
hash_ino(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 52) % NBUCKETS;
}

/* The entry of path, or NULL. Called with ino_lock held. */
static struct ino_entry *
find_path(const char *path)
{
	struct ino_entry *e;

	for (e = by_path[hash_str(path)]; e != NULL; e = e->next_path)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

/* The entry of ino, or NULL. Called with ino_lock held. */
static struct ino_entry *
find_ino(uint64_t ino)
{
	struct ino_entry *e;

	for (e = by_ino[hash_ino(ino)]; e != NULL; e = e->next_ino)
		if (e->ino == ino)
			return e;
	return NULL;
}

/* Links a new entry. Called with ino_lock held. */
static struct ino_entry *
insert(uint64_t ino, const char *path)
{
	struct ino_entry *e = xcalloc(1, sizeof(*e));
	size_t hi = hash_ino(ino), hp = hash_str(path);

	e->ino = ino;
	e->path = xstrdup(path);
	e->next_ino = by_ino[hi];
	by_ino[hi] = e;
	e->next_path = by_path[hp];
	by_path[hp] = e;
	ino_count++;
	return e;
}

void
fs_ino_init(void)
{
	pthread_mutex_lock(&ino_lock);
	if (find_ino(ROOT_INO) == NULL)
		insert(ROOT_INO, "/");
	pthread_mutex_unlock(&ino_lock);
}

void
fs_ino_free(void)
{
	struct ino_entry *e, *next;
	size_t i;

	pthread_mutex_lock(&ino_lock);
	for (i = 0; i < NBUCKETS; i++) {
		for (e = by_ino[i]; e != NULL; e = next) {
			next = e->next_ino;
			free(e->path);
			free(e);
		}
		by_ino[i] = NULL;
		by_path[i] = NULL;
	}
	ino_count = 0;
	pthread_mutex_unlock(&ino_lock);
}

uint64_t
fs_ino_ref(const char *path)
{
	struct ino_entry *e;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_path(path)) == NULL)
		e = insert(next_ino++, path);
	e->nlookup++;
	ino = e->ino;
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

void
fs_ino_forget(uint64_t ino, uint64_t n)
{
	struct ino_entry *e, **pp;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) == NULL || ino == ROOT_INO) {
		pthread_mutex_unlock(&ino_lock);
		return;
	}
	e->nlookup = e->nlookup > n ? e->nlookup - n : 0;
	if (e->nlookup > 0) {
		pthread_mutex_unlock(&ino_lock);
		return;
	}
	for (pp = &by_ino[hash_ino(ino)]; *pp != e; pp = &(*pp)->next_ino)
		;
	*pp = e->next_ino;
	for (pp = &by_path[hash_str(e->path)]; *pp != e; pp = &(*pp)->next_path)
		;
	*pp = e->next_path;
	ino_count--;
	pthread_mutex_unlock(&ino_lock);
	free(e->path);
	free(e);
}

char *
fs_ino_path(uint64_t ino)
{
	struct ino_entry *e;
	char *path = NULL;

	pthread_mutex_lock(&ino_lock);
	if ((e = find_ino(ino)) != NULL)
		path = xstrdup(e->path);
	pthread_mutex_unlock(&ino_lock);
	return path;
}

uint64_t
fs_ino_find(const char *path)
{
	struct ino_entry *e;
	uint64_t ino;

	pthread_mutex_lock(&ino_lock);
	e = find_path(path);
	ino = e != NULL ? e->ino : 0;
	pthread_mutex_unlock(&ino_lock);
	return ino;
}

uint64_t *
fs_ino_under(const char *prefix, size_t *n)
{
	size_t len = strlen(prefix), i, cap, m = 0;
	struct ino_entry *e;
	uint64_t *out;

	pthread_mutex_lock(&ino_lock);
	cap = ino_count > 0 ? ino_count : 1;
	out = xcalloc(cap, sizeof(*out));
	for (i = 0; i < NBUCKETS; i++)
		for (e = by_ino[i]; e != NULL; e = e->next_ino)
			if (m < cap && strncmp(e->path, prefix, len) == 0)
				out[m++] = e->ino;
	pthread_mutex_unlock(&ino_lock);
	*n = m;
	return out;
}

size_t
fs_ino_count(void)
{
	size_t n;

	pthread_mutex_lock(&ino_lock);
	n = ino_count;
	pthread_mutex_unlock(&ino_lock);
	return n;
}
