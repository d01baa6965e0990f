/*
 * Allocation wrappers that abort on failure, so that error paths are kept
 * for I/O, HTTP and parsing rather than for out-of-memory.
 */
#ifndef ECS_XMALLOC_H
#define ECS_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees with free(); none returns NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
