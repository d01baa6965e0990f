/*
 * Scrubbing secrets out of text that is about to become an error message
 * or a log line: a response body that quotes the request, a transport
 * error, a credential source's complaint.
 */
#ifndef ECS_REDACT_H
#define ECS_REDACT_H

#include <stddef.h>

#define ECS_REDACTED	"<redacted>"

/*
 * Replaces in place, ignoring case, every occurrence of each non-empty
 * secrets[i] (NULL entries are skipped) with "<redacted>", and the value
 * of any X-Amz-Security-Token header or parameter ("name:VALUE",
 * "name=VALUE", blanks allowed after the separator) up to the next white
 * space, quote, comma, semicolon or the end. Overlapping occurrences
 * become one "<redacted>". text is NUL-terminated within size bytes; the
 * result is cut to fit size, never leaving part of a secret.
 */
void ecs_redact(char *text, size_t size, const char *const *secrets, size_t n);

#endif
