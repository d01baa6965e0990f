/*
 * Logging: to stderr when running in the foreground, to syslog (facility
 * daemon, ident "ecsfs") in the background. Never pass a secret.
 */
#ifndef FS_LOG_H
#define FS_LOG_H

void fs_log_init(int foreground, int debug);
void fs_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fs_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fs_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fs_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
