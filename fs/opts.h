/*
 * ecsfs's own mount options (-o name=value), one table entry each, with
 * their defaults and help text. --help, the man page and the README are
 * checked against this table.
 */
#ifndef FS_OPTS_H
#define FS_OPTS_H

#include <stddef.h>

struct fuse_args;

struct fs_opts {
	char	*region;		/* NULL: from the environment or profile */
	char	*profile;
	char	*endpoint;
	char	*autoscaling_endpoint;	/* NULL: AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING, ... */
	char	*logs_endpoint;		/* NULL: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, ... */
	long	 cache_ttl_ms;
	long	 negative_ttl_ms;
	long	 stale_ttl_ms;
	long	 cache_max;
	long	 max_threads;
	long	 timeout_ms;
	long	 connect_timeout_ms;
	long	 max_attempts;		/* 0: from AWS_MAX_ATTEMPTS or the profile */
	int	 dry_run;
	long	 wait_interval_ms;
	long	 wait_timeout_ms;
	long	 max_throttle_wait_ms;
	char	*rate_cluster_read;	/* "BURST:REFILL", NULL: AWS's rates */
	char	*rate_service_read;
	char	*rate_service_modify;
	char	*rate_resource_read;
	char	*rate_resource_modify;
	char	*rate_taskdef_read;
	char	*rate_autoscaling_read;
	char	*rate_autoscaling_modify;
	char	*rate_logs_read;
	long	 log_lines;		/* events a tasks/T/logs/C file starts with */
	char	*journal;		/* -o journal=FILE, or NULL */
	char	*source;		/* the SOURCE argument, if given */
};

enum fs_opt_type { FS_OPT_STRING, FS_OPT_SECONDS, FS_OPT_COUNT, FS_OPT_FLAG };

struct fs_opt_entry {
	const char		*name;		/* "cache_ttl" */
	enum fs_opt_type	 type;
	size_t			 offset;	/* into struct fs_opts */
	const char		*dflt;		/* default as text, "" for none */
	const char		*arg;		/* "SECONDS", "URL", or NULL for a flag */
	const char		*help;
	long			 min;		/* the least value (ms for SECONDS) */
};

/* NULL-name-terminated. */
extern const struct fs_opt_entry fs_opt_table[];

/* Sets every option to its default. */
void fs_opts_defaults(struct fs_opts *o);
/*
 * Takes ecsfs's own options and the SOURCE argument out of args, leaving
 * FUSE's options and the mountpoint. Returns 0, or -1 after printing an
 * error.
 */
int fs_opts_parse(struct fuse_args *args, struct fs_opts *o);
/* Prints the option table as --help shows it. */
void fs_opts_help(void);
void fs_opts_free(struct fs_opts *o);

#endif
