/* The raw format: the virtual disk is the file (or block device), byte for byte.
 * A thin layer on aio; loop thread only. */
#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "block/blockdev.h"

static void raw_done(struct aio_req *a, int64_t res)
{
	struct blockdev_req *r = a->opaque;

	blockdev_complete(r->bd, r, res);
}

static int raw_submit(struct blockdev *bd, struct blockdev_req *r, enum aio_op op)
{
	r->aio = (struct aio_req){.op = op,
				  .offset = r->offset,
				  .iov = r->iov,
				  .iovcnt = r->iovcnt,
				  .len = r->len,
				  .done = raw_done,
				  .opaque = r};
	return aio_submit(bd->aio, &r->aio);
}

static int raw_read(struct blockdev *bd, struct blockdev_req *r)
{
	return raw_submit(bd, r, AIO_READ);
}

static int raw_write(struct blockdev *bd, struct blockdev_req *r)
{
	return raw_submit(bd, r, AIO_WRITE);
}

static int raw_flush(struct blockdev *bd, struct blockdev_req *r)
{
	return raw_submit(bd, r, AIO_FLUSH);
}

static int raw_discard(struct blockdev *bd, struct blockdev_req *r)
{
	return raw_submit(bd, r, AIO_DISCARD);
}

static int raw_write_zeroes(struct blockdev *bd, struct blockdev_req *r)
{
	return raw_submit(bd, r, AIO_WRITE_ZEROES);
}

static int raw_open(struct blockdev *bd, char *err, size_t errlen)
{
	struct stat st;
	uint64_t size;

	if (fstat(bd->fd, &st) < 0) {
		snprintf(err, errlen, "wisp: -drive file=%s: %s", bd->file, strerror(errno));
		return -errno;
	}
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(bd->fd, BLKGETSIZE64, &size) < 0)
		size = 0;
	bd->size = size;
	return 0;
}

const struct blockdev_format blockdev_raw = {
	.name = "raw",
	.open = raw_open,
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
};
