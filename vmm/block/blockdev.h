/* Block devices: one image format (raw, qcow2, vpc) behind one asynchronous
 * interface. Submission and completion happen on the event loop thread only;
 * data I/O goes through aio, never on a vCPU thread. */
#ifndef WISP_BLOCKDEV_H
#define WISP_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "block/aio.h"
#include "config.h"

struct evloop;
struct blockdev;

#define BLOCKDEV_MAX_CHAIN 16 /* an image and its backing files, at most */

enum blockdev_op {
	BLOCKDEV_READ,	       /* into iov */
	BLOCKDEV_WRITE,	       /* from iov */
	BLOCKDEV_FLUSH,	       /* everything completed before is durable */
	BLOCKDEV_DISCARD,      /* [offset, offset + len) may read as zero afterwards */
	BLOCKDEV_WRITE_ZEROES, /* [offset, offset + len) reads as zero afterwards */
};

struct blockdev_req {
	enum blockdev_op op;
	uint64_t offset;	 /* bytes into the virtual disk */
	const struct iovec *iov; /* READ/WRITE: buffers, valid until done() */
	int iovcnt;
	uint64_t len; /* DISCARD/WRITE_ZEROES: bytes */
	/* Called on the loop thread, never from inside blockdev_submit(): @res is the
	 * byte count for READ/WRITE (0 for the others) or -errno. */
	void (*done)(struct blockdev_req *r, int64_t res);
	void *opaque;
	/* Private to the block layer. */
	struct aio_req aio;
	struct blockdev *bd;
	struct blockdev_req *next;
};

/* What to open and how. */
struct blockdev_opts {
	const char *format; /* "raw", "qcow2" or "vpc"; never probed */
	bool readonly;
	bool direct; /* O_DIRECT (raw only; the other formats use the page cache) */
	bool dsync;  /* O_DSYNC: every write durable when it completes (write-through) */
	enum config_aio aio;
	unsigned int depth; /* requests in flight at most (aio depth), 1..4096 */
};

/* One image format. Every function runs on the loop thread. */
struct blockdev_format {
	const char *name;
	/* Parse and check the image in bd->fd (bd->aio is ready); set bd->size and
	 * bd->priv. Return: 0 or -errno with @err filled ("wisp: FILE: ..."). */
	int (*open)(struct blockdev *bd, char *err, size_t errlen);
	/* Free bd->priv (and backing files). Nothing is in flight. */
	void (*close)(struct blockdev *bd);
	/* Start a request (checked already: in range, not a write on a read-only
	 * device). Return: 0 (done() will run) or -errno (it will not). */
	int (*read)(struct blockdev *bd, struct blockdev_req *r);
	int (*write)(struct blockdev *bd, struct blockdev_req *r);
	int (*flush)(struct blockdev *bd, struct blockdev_req *r);
	int (*discard)(struct blockdev *bd, struct blockdev_req *r);
	int (*write_zeroes)(struct blockdev *bd, struct blockdev_req *r);
	/* Wait until nothing of this device is in flight. Optional (aio_drain). */
	void (*drain)(struct blockdev *bd);
};

/* Set while an image chain is opened: loops and depth. */
struct blockdev_chain {
	unsigned int depth;
	dev_t dev[BLOCKDEV_MAX_CHAIN];
	ino_t ino[BLOCKDEV_MAX_CHAIN];
};

struct blockdev {
	const struct blockdev_format *fmt;
	const char *file; /* as given; for messages */
	char *owned_file; /* backing files: the path, freed on close */
	int fd;
	struct aio *aio;
	struct evloop *loop;
	uint64_t size; /* virtual disk size, bytes */
	bool readonly;
	bool direct; /* the data path needs sector-aligned buffers (O_DIRECT) */
	unsigned int inflight;
	void *priv;		      /* the format's state */
	struct blockdev_chain *chain; /* during open only */
	struct blockdev_opts opts;
};

/**
 * blockdev_open() - open image @file as @o->format, locked as QEMU locks images
 * (a writer excludes other writers and readers; readers share with readers;
 * locks are released on close). A format with backing files
 * opens them read-only, relative to @file's directory, refusing loops and chains
 * deeper than BLOCKDEV_MAX_CHAIN. Start-up only (before the sandbox).
 * Return: the device, or NULL with @err filled ("wisp: FILE: what is wrong").
 */
struct blockdev *blockdev_open(struct evloop *loop, const char *file, const struct blockdev_opts *o,
			       char *err, size_t errlen);

/**
 * blockdev_open_backing() - for a format's open(): the backing file @name of @bd
 * (relative to @bd's directory unless absolute) as format @format, read-only.
 * Return: the device, or NULL with @err filled.
 */
struct blockdev *blockdev_open_backing(struct blockdev *bd, const char *name, const char *format,
				       char *err, size_t errlen);

/**
 * blockdev_submit() - start @r. done() runs exactly once on the loop thread if
 * this returns 0, never from inside this call.
 * Return: 0, -EINVAL (bad op or range past the end), -EROFS (write to a read-only
 * device) or another -errno from the format.
 */
int blockdev_submit(struct blockdev *bd, struct blockdev_req *r);

/** blockdev_plug() - hold back submissions (aio_plug()); nests. */
void blockdev_plug(struct blockdev *bd);

/** blockdev_unplug() - end blockdev_plug(). */
void blockdev_unplug(struct blockdev *bd);

/**
 * blockdev_drain() - run until no request is in flight (device reset, shutdown).
 * Loop thread, never from inside a done() callback.
 */
void blockdev_drain(struct blockdev *bd);

/** blockdev_close() - drain, free and close. NULL is fine. */
void blockdev_close(struct blockdev *bd);

/** blockdev_aio_mode() - "io_uring" or "threads". */
const char *blockdev_aio_mode(const struct blockdev *bd);

/**
 * blockdev_defer() - for formats: run @a->done(@a, 0) on the loop thread soon,
 * through a no-op aio request on @bd's file (so blockdev_drain() waits for it).
 * Return: 0 or -errno.
 */
int blockdev_defer(struct blockdev *bd, struct aio_req *a);

/**
 * blockdev_complete() - for formats: request @r of @bd is over with @res; calls
 * r->done(). Loop thread, never from inside blockdev_submit().
 */
void blockdev_complete(struct blockdev *bd, struct blockdev_req *r, int64_t res);

/* iovec helpers for formats. */

/** blockdev_iov_slice() - @dst = bytes [@off, @off + @len) of @src; returns the count (<= @max). */
int blockdev_iov_slice(const struct iovec *src, int cnt, uint64_t off, uint64_t len,
		       struct iovec *dst, int max);

/** blockdev_iov_len() - total bytes of @iov. */
uint64_t blockdev_iov_len(const struct iovec *iov, int cnt);

/** blockdev_iov_zero() - zero all of @iov. */
void blockdev_iov_zero(const struct iovec *iov, int cnt);

extern const struct blockdev_format blockdev_raw, blockdev_qcow2, blockdev_vpc;

/**
 * blockdev_pread_all() / blockdev_pwrite_all() - synchronous metadata I/O of
 * exactly @len bytes at @off of @fd (loop thread, small amounts only).
 * Return: 0, -EIO at end of file, or -errno.
 */
int blockdev_pread_all(int fd, void *buf, size_t len, uint64_t off);
int blockdev_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif
