/*
 * libfuse 3.14 keeps an interrupt whose request is not in flight (it was
 * answered while the interrupt was on its way, as happens when a signal
 * meets a reply) on a list of its session, in case the request is still
 * to come. It lets one go each time a request arrives, answering it
 * EAGAIN, and fuse_session_destroy() frees none of them: the last such
 * interrupt before an unmount is lost memory, and the leak checker
 * cannot tell it from a request of ours never answered.
 *
 * So, once the session is over, each remaining interrupt is let go the
 * way libfuse does it: a request libfuse answers by itself (BMAP, which
 * ecsfs does not serve: ENOSYS) is handed to the session, with unique 0,
 * which no kernel request has. Before that request is answered libfuse
 * answers the oldest held interrupt, if any. Writes go to a counter, not
 * to the kernel; requests are handed in until one comes back alone.
 */
#include "fs/session.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* More than a session can hold: every interrupt is a signal to a caller. */
#define MAX_RELEASED 1000000

static int answers;		/* writes since the last request; one thread */

static ssize_t
count_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	size_t n = 0;

	(void)fd;
	(void)userdata;
	for (int i = 0; i < count; i++)
		n += iov[i].iov_len;
	answers++;
	return (ssize_t)n;
}

static ssize_t
no_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)fd;
	(void)buf;
	(void)len;
	(void)userdata;
	return 0;	/* the device is gone */
}

int
fs_session_release_interrupts(struct fuse_session *se)
{
	static const struct fuse_custom_io io = { .writev = count_writev, .read = no_read };
	struct {
		struct fuse_in_header	in;
		struct fuse_bmap_in	arg;
	} msg;
	struct fuse_buf buf;
	int fd, released = 0;

	if (fuse_session_fd(se) != -1)
		return -1;	/* still mounted: not over */
	/* The session closes this descriptor when it is destroyed. */
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fuse_session_custom_io(se, &io, fd) != 0) {
		close(fd);
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.in.len = sizeof(msg);
	msg.in.opcode = FUSE_BMAP;
	memset(&buf, 0, sizeof(buf));
	buf.mem = &msg;
	buf.size = sizeof(msg);
	while (released < MAX_RELEASED) {
		answers = 0;
		fuse_session_process_buf(se, &buf);
		if (answers < 2)
			break;
		released++;
	}
	return released;
}
