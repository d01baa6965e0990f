/*
 * A parser for the AWS shared config and credentials files: INI with
 * "[section]" headers, "key = value" lines, '#' and ';' comments, and
 * indented sub-properties (which are kept as "parent.child" keys).
 */
#ifndef ECS_INI_H
#define ECS_INI_H

#include <stddef.h>

struct ini;

/* Parses text; never fails on syntax (bad lines are skipped). Free with ini_free(). */
struct ini *ini_parse(const char *text, size_t len);
/* Reads and parses a file; NULL with errno set when it cannot be read. */
struct ini *ini_load(const char *path);
/* The value of key in section, or NULL. Borrowed: valid until ini_free(). */
const char *ini_get(const struct ini *ini, const char *section, const char *key);
/* 1 if the section exists. */
int ini_has_section(const struct ini *ini, const char *section);
void ini_free(struct ini *ini);

#endif
