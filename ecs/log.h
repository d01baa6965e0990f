/*
 * Log lines from below fs/: the modules of ecs/ (and cache/) report what a
 * user should see in the log (a failed credential refresh, say) through
 * one hook that the front end sets. Without a hook, lines go to stderr.
 * Never pass a secret.
 */
#ifndef ECS_LOG_H
#define ECS_LOG_H

enum ecs_log_level { ECS_LOG_INFO, ECS_LOG_WARN, ECS_LOG_ERR };

/* Sets the function that takes each formatted line; set before any thread starts. */
void ecs_log_set(void (*fn)(enum ecs_log_level level, const char *line));
void ecs_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ecs_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
