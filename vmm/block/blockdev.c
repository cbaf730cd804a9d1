/* Block devices: opening an image in its named format (never probed), backing
 * chains, image locks shared with QEMU, and the checks every request passes
 * before its format sees it. Loop thread only, except blockdev_open() at start-up. */
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

static const struct blockdev_format *const formats[] = {&blockdev_raw, &blockdev_qcow2,
							&blockdev_vpc};

/*
 * Image locks, as QEMU's file-posix driver takes them, so that wisp and QEMU
 * (or two wisps) never write one image at once: shared open-file-description
 * locks on single bytes, at LOCK_PERM + bit for each permission this open uses
 * and at LOCK_UNSHARED + bit for each permission it does not let others have.
 * Bits: 0 consistent read, 1 write, 2 write unchanged, 3 resize (QEMU 10 locks
 * these four; its old graph-mod bit 4 is neither used nor refused here). A
 * conflict is someone else's lock on LOCK_UNSHARED + a bit we use, or on
 * LOCK_PERM + a bit we do not share.
 */
#define LOCK_PERM 100
#define LOCK_UNSHARED 200
#define PERM_READ 1U
#define PERM_WRITE 2U
#define PERM_RESIZE 8U
#define PERM_ALL 15U

/* 0, -EAGAIN (someone holds a conflicting lock) or another -errno. */
static int lock_byte(int fd, int at)
{
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EACCES ? -EAGAIN : -errno;
}

/* 1 when another open file description holds a lock on byte @at. */
static int byte_taken(int fd, int at)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

/*
 * Lock @fd for an open using permissions @perm and sharing @shared with others,
 * then look for conflicts (locks first, so two openers racing see each other).
 * Return: 0 (also where the file system has no OFD locks: nothing to honour
 * then), -EAGAIN on a conflict.
 */
static int lock_image(int fd, unsigned int perm, unsigned int shared)
{
	int ret;

	for (int i = 0; i < 4; i++) {
		if ((perm >> i & 1) && (ret = lock_byte(fd, LOCK_PERM + i)))
			return ret == -EAGAIN ? ret : 0;
		if (!(shared >> i & 1) && (ret = lock_byte(fd, LOCK_UNSHARED + i)))
			return ret == -EAGAIN ? ret : 0;
	}
	for (int i = 0; i < 4; i++) {
		if ((perm >> i & 1) && byte_taken(fd, LOCK_UNSHARED + i) == 1)
			return -EAGAIN;
		if (!(shared >> i & 1) && byte_taken(fd, LOCK_PERM + i) == 1)
			return -EAGAIN;
	}
	return 0;
}

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
		snprintf(err, errlen, "wisp: %s: format %s is not supported (raw, qcow2 or vpc)",
			 file, o->format ? o->format : "(none)");
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
	/* What QEMU takes for a -drive: formats that keep metadata also need the file
	 * to keep its size (and resize it themselves when writable). */
	unsigned int perm = PERM_READ, shared = PERM_ALL & ~PERM_WRITE;

	if (fmt != &blockdev_raw)
		shared &= ~PERM_RESIZE;
	if (!o->readonly)
		perm |= PERM_WRITE | (fmt != &blockdev_raw ? PERM_RESIZE : 0);
	if (lock_image(bd->fd, perm, shared)) {
		snprintf(err, errlen,
			 "wisp: -drive file=%s: the image is in use by another process (locked)",
			 file);
		goto fail;
	}
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

/* Read or write all of [@off, @off + @len), resuming after short transfers. */
static int rw_all(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	while (len) {
		ssize_t n =
			write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int blockdev_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return rw_all(fd, buf, len, off, false);
}

int blockdev_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return rw_all(fd, (void *)buf, len, off, true);
}
