/*
 * Mends libfuse 3.14's INIT reply so that the kernel runs lookups and
 * readdirs of one folder in parallel (fs/initfix.c says why).
 */
#ifndef FS_INITFIX_H
#define FS_INITFIX_H

/* Mends the next INIT reply written to fd; call before the session loop. */
void fs_initfix_arm(int fd);

#endif
