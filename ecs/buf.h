/*
 * A growable byte buffer, always NUL-terminated so that its data can be
 * used as a C string.
 */
#ifndef ECS_BUF_H
#define ECS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* owned; NUL-terminated */
	size_t	 len;
	size_t	 cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the data to the caller, who frees it; the buffer is left empty. */
char *buf_steal(struct buf *b);

#endif
