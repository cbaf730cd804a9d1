/* The body of the image-format fuzz targets (fuzz_qcow2, fuzz_vhd): the input is an
 * image file, put in a memfd and opened writable with the given format; then a few
 * reads and writes (each run to completion on the event loop) at places the image's
 * own size suggests. Anything may fail with an error; nothing may crash, leak or hang.
 * Included by one target each, so its statics are the target's own. */
#ifndef WISP_FUZZ_IMAGE_H
#define WISP_FUZZ_IMAGE_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/blockdev.h"
#include "evloop.h"

static struct evloop loop;
static uint8_t buf[8192];

static void on_done(struct blockdev_req *r, int64_t res)
{
	*(int *)r->opaque = 1;
	(void)res;
}

static void io(struct blockdev *bd, enum blockdev_op op, uint64_t off, uint64_t len)
{
	bool data = op == BLOCKDEV_READ || op == BLOCKDEV_WRITE;
	uint64_t half = data ? len / 2 : 0;
	struct iovec iov[2] = {{buf, half}, {buf + half, data ? len - half : 0}};
	int done = 0;
	struct blockdev_req r = {.op = op,
				 .offset = off,
				 .iov = iov,
				 .iovcnt = data ? 2 : 0,
				 .len = len,
				 .done = on_done,
				 .opaque = &done};

	if (blockdev_submit(bd, &r))
		return;
	while (!done)
		if (evloop_run_once(&loop, 10000) < 0)
			abort();
}

static int fuzz_image(const char *format, const uint8_t *data, size_t size)
{
	struct blockdev_opts o = {.format = format, .aio = CONFIG_AIO_DEFAULT, .depth = 8};
	char path[64], err[512];
	struct blockdev *bd;
	int fd;

	if (!loop.epfd && evloop_init(&loop))
		abort();
	fd = memfd_create(format, MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	bd = blockdev_open(&loop, path, &o, err, sizeof(err));
	if (bd) {
		uint64_t s = bd->size & ~511ULL, mid = (s / 2) & ~511ULL;

		if (s >= sizeof(buf)) {
			io(bd, BLOCKDEV_READ, 0, sizeof(buf));
			io(bd, BLOCKDEV_READ, s - sizeof(buf), sizeof(buf));
			memset(buf, 0xa5, sizeof(buf));
			io(bd, BLOCKDEV_WRITE, mid, 4096);
			io(bd, BLOCKDEV_WRITE, 512, 1024);
			io(bd, BLOCKDEV_WRITE_ZEROES, 0, s < 65536 ? s : 65536);
			io(bd, BLOCKDEV_READ, mid, 4096);
			io(bd, BLOCKDEV_FLUSH, 0, 0);
		}
		blockdev_close(bd);
	}
	close(fd);
	return 0;
}

#endif
