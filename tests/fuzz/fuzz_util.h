/*
 * Helpers shared by the libFuzzer harnesses: splitting an input into
 * NUL-separated fields, which is how the multi-part harnesses (config,
 * sigv4) receive strings that cannot hold a NUL themselves.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An input cut into fields; each field is a NUL-terminated copy. */
struct fuzz_fields {
	char	*copy;		/* the input with a NUL appended; owns every field */
	char	*rest;		/* what follows the last field taken */
	size_t	 rest_len;
	int	 done;	/* the last field has been taken */
};

/* Copies data so that fields can be taken from it; free with fuzz_fields_free(). */
static inline void
fuzz_fields_init(struct fuzz_fields *f, const uint8_t *data, size_t size)
{
	f->copy = malloc(size + 1);
	if (f->copy == NULL)
		abort();
	if (size > 0)
		memcpy(f->copy, data, size);
	f->copy[size] = '\0';
	f->rest = f->copy;
	f->rest_len = size;
	f->done = 0;
}

/*
 * The next field: the text up to the next NUL (or the end). Returns NULL
 * once the input is used up, so that short inputs leave later fields unset.
 */
static inline char *
fuzz_field(struct fuzz_fields *f)
{
	char *s = f->rest;
	size_t n;

	if (f->done)
		return NULL;
	n = strnlen(s, f->rest_len);
	if (n == f->rest_len) {
		f->rest += n;
		f->rest_len = 0;
		f->done = 1;
	} else {
		f->rest += n + 1;
		f->rest_len -= n + 1;
	}
	return s;
}

static inline void
fuzz_fields_free(struct fuzz_fields *f)
{
	free(f->copy);
}

#endif
