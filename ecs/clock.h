/* The monotonic clock, in milliseconds, for timeouts and deadlines. */
#ifndef ECS_CLOCK_H
#define ECS_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t ecs_now_ms(void);

#endif
