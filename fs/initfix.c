/*
 * libfuse 3.14 (Debian 12's) never passes FUSE_CAP_PARALLEL_DIROPS on to
 * the kernel: its INIT reply has no line for it, so the kernel serialises
 * every lookup and readdir of a folder behind the slowest. A reader
 * whose lookup waits there cannot even be killed until the lookup ahead
 * of it ends (the kernel holds the folder's mutex, uninterruptibly).
 *
 * ecsfs's handlers are safe in parallel, so the INIT reply is mended on
 * its way out: this file defines writev(), which libfuse's replies go
 * through, and sets FUSE_PARALLEL_DIROPS in the one INIT reply when the
 * kernel offered it. Every other write goes to the system call unchanged.
 */
#include "fs/initfix.h"

#include <linux/fuse.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_int fix_fd = -1;		/* the FUSE fd whose INIT reply to mend */

void
fs_initfix_arm(int fd)
{
	atomic_store(&fix_fd, fd);
}

/* Sends iov with the INIT reply's flags mended, when it is that reply. */
ssize_t writev(int fd, const struct iovec *iov, int iovcnt);

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct iovec copy[8];
	struct fuse_init_out out;
	const struct fuse_out_header *hdr;
	int expected = fd;

	if (fd >= 0 && atomic_load(&fix_fd) == fd && iovcnt >= 2 && iovcnt <= 8 &&
	    iov[0].iov_len == sizeof(*hdr) && iov[1].iov_len >= 16 &&
	    iov[1].iov_len <= sizeof(out)) {
		hdr = iov[0].iov_base;
		memset(&out, 0, sizeof(out));
		memcpy(&out, iov[1].iov_base, iov[1].iov_len);
		if (hdr->error == 0 && out.major == FUSE_KERNEL_VERSION &&
		    atomic_compare_exchange_strong(&fix_fd, &expected, -1)) {
			out.flags |= FUSE_PARALLEL_DIROPS;
			memcpy(copy, iov, (size_t)iovcnt * sizeof(*iov));
			copy[1].iov_base = &out;
			return syscall(SYS_writev, fd, copy, iovcnt);
		}
	}
	return syscall(SYS_writev, fd, iov, iovcnt);
}
