/*
 * fs/session.c against the real libfuse: a session fed an INIT and then
 * interrupts of requests that are not in flight holds those interrupts;
 * fs_session_release_interrupts() frees every one (the sanitizer build's
 * leak checker fails this test if one is left), and none of an interrupt
 * whose request did come.
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <string.h>

#include "fs/session.h"
#include "tests/unit/check.h"

static const struct fuse_lowlevel_ops no_ops;

/* Hands one request of opcode op with unique id and argument arg to se. */
static void
feed(struct fuse_session *se, uint32_t op, uint64_t unique, const void *arg, size_t size)
{
	char msg[sizeof(struct fuse_in_header) + 128];
	struct fuse_in_header *in = (struct fuse_in_header *)msg;
	struct fuse_buf buf;

	memset(msg, 0, sizeof(msg));
	in->len = (uint32_t)(sizeof(*in) + size);
	in->opcode = op;
	in->unique = unique;
	in->nodeid = FUSE_ROOT_ID;
	memcpy(msg + sizeof(*in), arg, size);
	memset(&buf, 0, sizeof(buf));
	buf.mem = msg;
	buf.size = in->len;
	fuse_session_process_buf(se, &buf);
}

static struct fuse_session *
started(void)
{
	char name[] = "test_session";
	char *argv[] = { name, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_init_in init;
	struct fuse_session *se;

	se = fuse_session_new(&args, &no_ops, sizeof(no_ops), NULL);
	if (se == NULL)
		return NULL;
	/* Over already: its answers (to no device) are not reported. */
	fuse_session_exit(se);
	memset(&init, 0, sizeof(init));
	init.major = FUSE_KERNEL_VERSION;
	init.minor = 31;
	init.max_readahead = 65536;
	feed(se, FUSE_INIT, 2, &init, sizeof(init));
	fuse_opt_free_args(&args);
	return se;
}

/* An interrupt of request target, itself request id. */
static void
interrupt(struct fuse_session *se, uint64_t id, uint64_t target)
{
	struct fuse_interrupt_in in = { .unique = target };

	feed(se, FUSE_INTERRUPT, id, &in, sizeof(in));
}

int
main(void)
{
	struct fuse_session *se;
	struct fuse_getattr_in ga;

	/* Nothing held: nothing to release. */
	CHECK((se = started()) != NULL);
	CHECK_INT(fs_session_release_interrupts(se), 0);
	fuse_session_destroy(se);

	/* Three interrupts of requests already answered. */
	CHECK((se = started()) != NULL);
	interrupt(se, 11, 10);
	interrupt(se, 13, 12);
	interrupt(se, 15, 14);
	CHECK_INT(fs_session_release_interrupts(se), 3);
	fuse_session_destroy(se);

	/*
	 * An interrupt read before its request (another thread had it):
	 * the request takes it when it comes, and nothing is left.
	 */
	CHECK((se = started()) != NULL);
	interrupt(se, 21, 20);
	memset(&ga, 0, sizeof(ga));
	feed(se, FUSE_GETATTR, 20, &ga, sizeof(ga));
	CHECK_INT(fs_session_release_interrupts(se), 0);
	fuse_session_destroy(se);

	return check_done();
}
