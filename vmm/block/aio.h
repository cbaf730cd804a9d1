/* Asynchronous file I/O for disk devices: io_uring (liburing) with many requests
 * in flight, or a small thread pool where io_uring is not available.
 * Submission and completion both happen on the event loop thread. */
#ifndef WISP_AIO_H
#define WISP_AIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "config.h"

struct evloop;
struct aio;

enum aio_op {
	AIO_READ,	  /* preadv into iov */
	AIO_WRITE,	  /* pwritev from iov */
	AIO_FLUSH,	  /* fdatasync */
	AIO_DISCARD,	  /* punch a hole: [offset, offset + len) reads as zero afterwards;
			   * -EOPNOTSUPP (nothing changed) where the file system cannot */
	AIO_WRITE_ZEROES, /* [offset, offset + len) becomes zero, stays allocated (written
			   * with zeroes where the file system refuses FALLOC_FL_ZERO_RANGE) */
};

struct aio_req {
	enum aio_op op;
	uint64_t offset;
	const struct iovec *iov; /* READ/WRITE: guest buffers, valid until done() */
	int iovcnt;
	uint64_t len; /* DISCARD/WRITE_ZEROES: bytes */
	/* Called on the loop thread once the whole request is done (short transfers
	 * are resubmitted internally): @res is the byte count (0 for FLUSH, DISCARD,
	 * WRITE_ZEROES) or -errno. A READ past the end of file fills with zeroes. */
	void (*done)(struct aio_req *r, int64_t res);
	void *opaque;
	/* Private to aio.c. */
	uint64_t done_bytes;
	struct aio_req *next;
};

/**
 * aio_create() - an I/O context for file @fd whose completions run on @loop.
 * @mode:  CONFIG_AIO_IO_URING fails when io_uring cannot be set up; DEFAULT falls
 *         back to threads then; THREADS never tries io_uring
 * @depth: requests in flight at most, 1..4096 (more are queued inside aio)
 * Threads mode starts its worker threads here (before the sandbox is entered).
 * Return: the context, or NULL with @err filled ("wisp: ..." one line).
 */
struct aio *aio_create(struct evloop *loop, int fd, enum config_aio mode, unsigned int depth,
		       char *err, size_t errlen);

/**
 * aio_submit() - start @r. @r and its iov must stay valid until r->done() runs.
 * done() is never called from inside aio_submit().
 * Return: 0 (done() will be called exactly once), or -errno (done() is not called):
 * -EINVAL for an unknown op, no done(), iovcnt outside 0..IOV_MAX or a range past
 * INT64_MAX.
 */
int aio_submit(struct aio *a, struct aio_req *r);

/**
 * aio_plug() - hold back submissions until the matching aio_unplug(), so that a
 * device that pops several requests from one kick hands them to the kernel in
 * one system call. Nests. done() callbacks run plugged already.
 */
void aio_plug(struct aio *a);

/** aio_unplug() - end aio_plug(); the outermost one submits what was held back. */
void aio_unplug(struct aio *a);

/** aio_mode() - "io_uring" or "threads": what this context really uses. */
const char *aio_mode(const struct aio *a);

/**
 * aio_drain() - wait until no request is in flight, running their done()
 * callbacks. For device reset and shutdown. Loop thread (or with the loop stopped),
 * never from inside a done() callback.
 */
void aio_drain(struct aio *a);

/**
 * aio_free() - drain, then free (and join the worker threads). NULL is fine.
 * Does not close the file. Not from inside a done() callback.
 */
void aio_free(struct aio *a);

#endif
