/* Block devices: opening an image in its named format (never probed), backing
 * chains, and the checks every request passes before its format sees it.
 * Loop thread only, except blockdev_open() at start-up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/blockdev.h"

static const struct blockdev_format *const formats[] = {&blockdev_raw, &blockdev_qcow2};

static struct blockdev *open_in_chain(struct evloop *loop, const char *file,
				      const struct blockdev_opts *o, struct blockdev_chain *chain,
				      char *err, size_t errlen)
{
	const struct blockdev_format *fmt = NULL;
	struct blockdev *bd;
	struct stat st;
	int flags;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (o->format && !strcmp(o->format, formats[i]->name))
			fmt = formats[i];
	if (!fmt) {
		snprintf(err, errlen, "wisp: %s: format %s is not supported (raw or qcow2)", file,
			 o->format ? o->format : "(none)");
		return NULL;
	}
	if (chain->depth >= BLOCKDEV_MAX_CHAIN) {
		snprintf(err, errlen, "wisp: %s: backing chain deeper than %d images", file,
			 BLOCKDEV_MAX_CHAIN);
		return NULL;
	}
	if (!(bd = calloc(1, sizeof(*bd)))) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	bd->fmt = fmt;
	bd->file = file;
	bd->loop = loop;
	bd->opts = *o;
	bd->readonly = o->readonly;
	bd->direct = o->direct && fmt == &blockdev_raw;
	flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (bd->direct ? O_DIRECT : 0) |
		(o->dsync ? O_DSYNC : 0);
	bd->fd = open(file, flags);
	if (bd->fd < 0 || fstat(bd->fd, &st) < 0) {
		snprintf(err, errlen, "wisp: -drive file=%s: %s", file, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "wisp: -drive file=%s: not a file or block device", file);
		goto fail;
	}
	for (unsigned int i = 0; i < chain->depth; i++)
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
			snprintf(err, errlen,
				 "wisp: %s: backing file loop (the image is its own"
				 " backing file, directly or through others)",
				 file);
			goto fail;
		}
	chain->dev[chain->depth] = st.st_dev;
	chain->ino[chain->depth] = st.st_ino;
	chain->depth++;
	bd->aio = aio_create(loop, bd->fd, o->aio, o->depth ? o->depth : 64, err, errlen);
	if (!bd->aio)
		goto fail;
	bd->chain = chain;
	if (fmt->open(bd, err, errlen))
		goto fail;
	bd->chain = NULL;
	return bd;
fail:
	if (!bd->priv)
		bd->fmt = NULL; /* close() frees what a failed open() left in bd->priv */
	blockdev_close(bd);
	return NULL;
}

struct blockdev *blockdev_open(struct evloop *loop, const char *file, const struct blockdev_opts *o,
			       char *err, size_t errlen)
{
	struct blockdev_chain chain = {0};

	return open_in_chain(loop, file, o, &chain, err, errlen);
}

struct blockdev *blockdev_open_backing(struct blockdev *bd, const char *name, const char *format,
				       char *err, size_t errlen)
{
	struct blockdev_opts o = bd->opts;
	const char *slash = strrchr(bd->file, '/');
	struct blockdev *b;
	char *path;
	size_t dir = slash && name[0] != '/' ? (size_t)(slash - bd->file) + 1 : 0;

	if (!(path = malloc(dir + strlen(name) + 1))) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	memcpy(path, bd->file, dir);
	strcpy(path + dir, name);
	o.format = format;
	o.readonly = true;
	o.direct = false;
	b = open_in_chain(bd->loop, path, &o, bd->chain, err, errlen);
	if (!b)
		free(path);
	else
		b->owned_file = path;
	return b;
}

int blockdev_submit(struct blockdev *bd, struct blockdev_req *r)
{
	uint64_t len;
	int ret;

	switch (r->op) {
	case BLOCKDEV_READ:
	case BLOCKDEV_WRITE:
		if (r->iovcnt < 0 || r->iovcnt > IOV_MAX)
			return -EINVAL;
		len = blockdev_iov_len(r->iov, r->iovcnt);
		break;
	case BLOCKDEV_DISCARD:
	case BLOCKDEV_WRITE_ZEROES:
		len = r->len;
		break;
	case BLOCKDEV_FLUSH:
		len = 0;
		break;
	default:
		return -EINVAL;
	}
	if (r->op != BLOCKDEV_FLUSH && (r->offset > bd->size || len > bd->size - r->offset))
		return -EINVAL;
	if (bd->readonly && r->op != BLOCKDEV_READ)
		return -EROFS;
	r->bd = bd;
	switch (r->op) {
	case BLOCKDEV_READ:
		ret = bd->fmt->read(bd, r);
		break;
	case BLOCKDEV_WRITE:
		ret = bd->fmt->write(bd, r);
		break;
	case BLOCKDEV_FLUSH:
		ret = bd->fmt->flush(bd, r);
		break;
	case BLOCKDEV_DISCARD:
		ret = bd->fmt->discard(bd, r);
		break;
	default:
		ret = bd->fmt->write_zeroes(bd, r);
		break;
	}
	if (!ret)
		bd->inflight++;
	return ret;
}

void blockdev_complete(struct blockdev *bd, struct blockdev_req *r, int64_t res)
{
	bd->inflight--;
	r->done(r, res);
}

void blockdev_plug(struct blockdev *bd)
{
	aio_plug(bd->aio);
}

void blockdev_unplug(struct blockdev *bd)
{
	aio_unplug(bd->aio);
}

void blockdev_drain(struct blockdev *bd)
{
	if (bd->fmt && bd->fmt->drain)
		bd->fmt->drain(bd);
	else
		aio_drain(bd->aio);
}

void blockdev_close(struct blockdev *bd)
{
	if (!bd)
		return;
	if (bd->aio)
		blockdev_drain(bd);
	if (bd->fmt && bd->fmt->close)
		bd->fmt->close(bd);
	aio_free(bd->aio);
	if (bd->fd >= 0)
		close(bd->fd);
	free(bd->owned_file);
	free(bd);
}

const char *blockdev_aio_mode(const struct blockdev *bd)
{
	return aio_mode(bd->aio);
}

int blockdev_defer(struct blockdev *bd, struct aio_req *a)
{
	/* A zero-length discard is a no-op that aio completes on the loop. */
	a->op = AIO_DISCARD;
	a->offset = 0;
	a->len = 0;
	a->iov = NULL;
	a->iovcnt = 0;
	return aio_submit(bd->aio, a);
}

int blockdev_iov_slice(const struct iovec *src, int cnt, uint64_t off, uint64_t len,
		       struct iovec *dst, int max)
{
	int n = 0;

	for (int i = 0; i < cnt && len && n < max; i++) {
		if (off >= src[i].iov_len) {
			off -= src[i].iov_len;
			continue;
		}
		size_t take = src[i].iov_len - off;

		if (take > len)
			take = len;
		dst[n++] = (struct iovec){(uint8_t *)src[i].iov_base + off, take};
		len -= take;
		off = 0;
	}
	return n;
}

uint64_t blockdev_iov_len(const struct iovec *iov, int cnt)
{
	uint64_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

void blockdev_iov_zero(const struct iovec *iov, int cnt)
{
	for (int i = 0; i < cnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
}
