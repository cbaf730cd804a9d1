/* vpc (VHD, Virtual PC / Hyper-V) images: fixed and dynamic disks, read and
 * write; differencing disks are refused. Loop thread only. A fixed disk is raw
 * data and a footer: requests go straight to aio. A dynamic disk runs one
 * request at a time, in block-sized pieces: guest data through aio, metadata
 * (the BAT, kept in memory; one block's sector bitmap, cached) by small
 * synchronous pread/pwrite. A new block goes where the last one ends: first a
 * footer past it (flushed), then zeroed bitmap and data, the guest's bytes, the
 * bitmap bits, a flush, and only then the BAT entry; a crash leaves unreferenced
 * space at worst. The image is hostile: every field is checked at open against
 * the file, and guest data never lands on metadata. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/blockdev.h"

#define FOOTER 512
#define DYN_HEADER 1024
#define TYPE_FIXED 2
#define TYPE_DYNAMIC 3
#define TYPE_DIFF 4
#define UNALLOC 0xffffffffU
#define MAX_GEOMETRY (65535ULL * 16 * 255) /* sectors: "use current_size" */
#define MAX_SECTORS 0xff000000ULL	   /* 2040 GiB, as QEMU */
#define MAX_BLOCK (1U << 28)
#define MAX_BAT_BYTES (64U << 20)
#define MAX_IOV 1024 /* IOV_MAX */

enum wait { W_NONE, W_READ, W_WRITE, W_ZERO, W_AZERO, W_ADATA, W_AFLUSH, W_FLUSH };

struct vpc {
	struct blockdev *bd;
	int fd;
	bool dynamic;
	uint8_t footer[FOOTER]; /* as on disk, rewritten past each new block */
	uint32_t bs, bm;	/* block and bitmap bytes */
	uint32_t entries;
	uint64_t bat_off;
	uint32_t *bat; /* host order */
	uint64_t free; /* where the next block goes */
	/* one block's bitmap */
	uint32_t bm_idx;
	uint64_t bm_host; /* where that bitmap is */
	bool bm_valid;
	uint8_t *bmap;
	/* requests: a queue, one at a time */
	struct blockdev_req *head, *tail, *cur;
	bool kick_pending, in_start;
	struct aio_req kick, io;
	struct iovec *sub;
	int subcnt;
	enum wait wait;
	uint64_t pos, total;
	uint64_t goff, n, in, rpos; /* the piece: guest offset, bytes, offset in block */
	uint64_t run;		    /* bytes of the read in flight */
	uint64_t newb;		    /* the block being allocated */
};

static uint64_t be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static uint32_t be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

/* One's complement of the byte sum, the checksum field (at @at) counted as zero. */
static uint32_t checksum(const uint8_t *p, size_t len, size_t at)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < at || i >= at + 4)
			sum += p[i];
	return ~sum;
}

/* ---- fixed disks: the data is the file's first bytes ---- */

static void fixed_done(struct aio_req *a, int64_t res)
{
	struct blockdev_req *r = a->opaque;

	blockdev_complete(r->bd, r, res);
}

static int fixed_submit(struct blockdev *bd, struct blockdev_req *r, enum aio_op op)
{
	r->aio = (struct aio_req){.op = op,
				  .offset = r->offset,
				  .iov = r->iov,
				  .iovcnt = r->iovcnt,
				  .len = r->len,
				  .done = fixed_done,
				  .opaque = r};
	return aio_submit(bd->aio, &r->aio);
}

/* ---- dynamic disks ---- */

static uint64_t block_host(const struct vpc *v, uint32_t idx)
{
	return (uint64_t)v->bat[idx] * 512;
}

/* The bitmap of block @idx into v->bmap. */
static int bitmap_load(struct vpc *v, uint32_t idx)
{
	int ret;

	if (v->bm_valid && v->bm_idx == idx)
		return 0;
	v->bm_valid = false;
	if ((ret = blockdev_pread_all(v->fd, v->bmap, v->bm, block_host(v, idx))))
		return ret;
	v->bm_idx = idx;
	v->bm_host = block_host(v, idx);
	v->bm_valid = true;
	return 0;
}

/* Sector @s of the cached block: bit 7 of byte 0 is sector 0. */
static bool bit(const struct vpc *v, uint64_t s)
{
	return v->bmap[s / 8] >> (7 - s % 8) & 1;
}

/* Set the bits of sectors [@first, @last] and write the changed bytes. */
static int bits_set(struct vpc *v, uint64_t first, uint64_t last, bool whole)
{
	bool dirty = whole;

	for (uint64_t s = first; s <= last; s++)
		if (!bit(v, s)) {
			v->bmap[s / 8] |= (uint8_t)(0x80 >> (s % 8));
			dirty = true;
		}
	if (!dirty)
		return 0;
	if (whole)
		return blockdev_pwrite_all(v->fd, v->bmap, v->bm, v->bm_host);
	return blockdev_pwrite_all(v->fd, v->bmap + first / 8, (size_t)(last / 8 - first / 8 + 1),
				   v->bm_host + first / 8);
}

static void advance(struct vpc *v);
static void start_next(struct vpc *v);

static void finish(struct vpc *v, int64_t res)
{
	struct blockdev_req *r = v->cur;

	v->cur = NULL;
	if (res < 0)
		v->bm_valid = false; /* it may differ from the disk now */
	blockdev_complete(v->bd, r, res);
	start_next(v);
}

static int submit_io(struct vpc *v, enum aio_op op, uint64_t off, const struct iovec *iov, int cnt,
		     uint64_t len, enum wait w)
{
	v->wait = w;
	v->io.op = op;
	v->io.offset = off;
	v->io.iov = iov;
	v->io.iovcnt = cnt;
	v->io.len = len;
	return aio_submit(v->bd->aio, &v->io) ? -EIO : 1;
}

/* The rest of a read piece from v->rpos on: runs of set bits are read, runs
 * of clear bits are zero. Return: 0 done, 1 started, -errno. */
static int read_runs(struct vpc *v)
{
	struct blockdev_req *r = v->cur;
	uint32_t idx = (uint32_t)(v->goff / v->bs);
	struct iovec *sub = v->sub;
	int ret;

	while (v->rpos < v->n) {
		uint64_t s = (v->in + v->rpos) / 512, end = (v->in + v->n) / 512, e = s + 1;
		bool set;

		if ((ret = bitmap_load(v, idx)))
			return ret;
		set = bit(v, s);
		while (e < end && bit(v, e) == set)
			e++;
		uint64_t len = e * 512 - (v->in + v->rpos);
		int cnt =
			blockdev_iov_slice(r->iov, r->iovcnt, v->pos + v->rpos, len, sub, MAX_IOV);

		if (!set) {
			blockdev_iov_zero(sub, cnt);
			v->rpos += len;
			continue;
		}
		v->run = len;
		return submit_io(v, AIO_READ, block_host(v, idx) + v->bm + v->in + v->rpos, sub,
				 cnt, 0, W_READ);
	}
	return 0;
}

/* A piece that needs a new block: its footer first. Return: 1 started or -errno. */
static int alloc_block(struct vpc *v)
{
	uint64_t end = v->free + v->bm + v->bs;
	int ret;

	if (v->free / 512 >= UNALLOC)
		return -ENOSPC;
	if ((ret = blockdev_pwrite_all(v->fd, v->footer, FOOTER, end)) || fdatasync(v->fd))
		return ret ? ret : -errno;
	v->newb = v->free;
	return submit_io(v, AIO_WRITE_ZEROES, v->newb, NULL, 0, v->bm + v->bs, W_AZERO);
}

/* Return: 0 done, 1 started, -errno. */
static int piece(struct vpc *v)
{
	struct blockdev_req *r = v->cur;
	uint32_t idx = (uint32_t)(v->goff / v->bs);
	uint64_t host;

	v->rpos = 0;
	if (idx >= v->entries) /* the size check at open makes this impossible */
		return -EIO;
	if (r->op == BLOCKDEV_READ) {
		if (v->bat[idx] == UNALLOC) {
			int cnt = blockdev_iov_slice(r->iov, r->iovcnt, v->pos, v->n, v->sub,
						     MAX_IOV);

			blockdev_iov_zero(v->sub, cnt);
			return 0;
		}
		return read_runs(v);
	}
	if (r->op != BLOCKDEV_WRITE) { /* discard, write-zeroes */
		if (v->bat[idx] == UNALLOC)
			return 0;
		return submit_io(v, AIO_WRITE_ZEROES, block_host(v, idx) + v->bm + v->in, NULL, 0,
				 v->n, W_ZERO);
	}
	v->subcnt = blockdev_iov_slice(r->iov, r->iovcnt, v->pos, v->n, v->sub, MAX_IOV);
	if (v->bat[idx] == UNALLOC)
		return alloc_block(v);
	host = block_host(v, idx) + v->bm + v->in;
	return submit_io(v, AIO_WRITE, host, v->sub, v->subcnt, 0, W_WRITE);
}

static void advance(struct vpc *v)
{
	struct blockdev_req *r = v->cur;
	int ret;

	if (r->op == BLOCKDEV_FLUSH) {
		if ((ret = submit_io(v, AIO_FLUSH, 0, NULL, 0, 0, W_FLUSH)) < 0)
			finish(v, ret);
		return;
	}
	while (v->pos < v->total) {
		v->goff = r->offset + v->pos;
		v->in = v->goff % v->bs;
		v->n = v->bs - v->in < v->total - v->pos ? v->bs - v->in : v->total - v->pos;
		if ((ret = piece(v)) < 0) {
			finish(v, ret);
			return;
		}
		if (ret > 0)
			return;
		v->pos += v->n;
	}
	finish(v, r->op == BLOCKDEV_READ || r->op == BLOCKDEV_WRITE ? (int64_t)v->total : 0);
}

/* The guest's bytes of a piece are in its block: mark their sectors. */
static int mark_written(struct vpc *v, bool whole)
{
	uint32_t idx = (uint32_t)(v->goff / v->bs);
	int ret;

	if (!whole && (ret = bitmap_load(v, idx)))
		return ret;
	ret = bits_set(v, v->in / 512, (v->in + v->n - 1) / 512, whole);
	if (ret)
		v->bm_valid = false;
	return ret;
}

static void on_io(struct aio_req *a, int64_t res)
{
	struct vpc *v = a->opaque;
	uint32_t idx = (uint32_t)(v->goff / v->bs), be;
	int ret = 0;

	if (res < 0) {
		finish(v, res);
		return;
	}
	switch (v->wait) {
	case W_READ:
		v->rpos += v->run;
		if ((ret = read_runs(v)) != 0)
			break;
		v->pos += v->n;
		advance(v);
		return;
	case W_WRITE:
		if ((ret = mark_written(v, false)))
			break;
		/* fall through */
	case W_ZERO:
		v->pos += v->n;
		advance(v);
		return;
	case W_AZERO:
		ret = submit_io(v, AIO_WRITE, v->newb + v->bm + v->in, v->sub, v->subcnt, 0,
				W_ADATA);
		break;
	case W_ADATA:
		/* a fresh bitmap with the written sectors, then a barrier before the BAT */
		memset(v->bmap, 0, v->bm);
		v->bm_idx = idx;
		v->bm_host = v->newb;
		v->bm_valid = true;
		ret = mark_written(v, true);
		if (!ret)
			ret = submit_io(v, AIO_FLUSH, 0, NULL, 0, 0, W_AFLUSH);
		break;
	case W_AFLUSH:
		be = __builtin_bswap32((uint32_t)(v->newb / 512));
		if ((ret = blockdev_pwrite_all(v->fd, &be, 4, v->bat_off + (uint64_t)idx * 4)))
			break;
		v->bat[idx] = (uint32_t)(v->newb / 512);
		v->free = v->newb + v->bm + v->bs;
		v->pos += v->n;
		advance(v);
		return;
	case W_FLUSH:
		finish(v, 0);
		return;
	default:
		ret = -EIO;
		break;
	}
	if (ret < 0)
		finish(v, ret);
}

static void start_next(struct vpc *v)
{
	if (v->in_start)
		return;
	v->in_start = true;
	while (!v->cur && v->head) {
		struct blockdev_req *r = v->head;

		v->head = r->next;
		if (!v->head)
			v->tail = NULL;
		v->cur = r;
		v->pos = 0;
		v->total = r->op == BLOCKDEV_READ || r->op == BLOCKDEV_WRITE
				   ? blockdev_iov_len(r->iov, r->iovcnt)
			   : r->op == BLOCKDEV_FLUSH ? 0
						     : r->len;
		advance(v);
	}
	v->in_start = false;
}

static void on_kick(struct aio_req *a, int64_t res)
{
	struct vpc *v = a->opaque;

	(void)res;
	v->kick_pending = false;
	start_next(v);
}

static int vpc_submit(struct blockdev *bd, struct blockdev_req *r, enum aio_op op)
{
	struct vpc *v = bd->priv;
	int ret;

	if (!v->dynamic)
		return fixed_submit(bd, r, op);
	/* bitmaps have sector granularity (virtio-blk never asks for less) */
	if (op != AIO_FLUSH &&
	    (r->offset % 512 ||
	     (op == AIO_READ || op == AIO_WRITE ? blockdev_iov_len(r->iov, r->iovcnt) : r->len) %
		     512))
		return -EINVAL;
	r->next = NULL;
	if (!v->cur && !v->kick_pending) {
		v->kick.done = on_kick;
		v->kick.opaque = v;
		if ((ret = blockdev_defer(bd, &v->kick)))
			return ret;
		v->kick_pending = true;
	}
	if (v->tail)
		v->tail->next = r;
	else
		v->head = r;
	v->tail = r;
	return 0;
}

static int vpc_read(struct blockdev *bd, struct blockdev_req *r)
{
	return vpc_submit(bd, r, AIO_READ);
}

static int vpc_write(struct blockdev *bd, struct blockdev_req *r)
{
	return vpc_submit(bd, r, AIO_WRITE);
}

static int vpc_flush(struct blockdev *bd, struct blockdev_req *r)
{
	return vpc_submit(bd, r, AIO_FLUSH);
}

static int vpc_discard(struct blockdev *bd, struct blockdev_req *r)
{
	return vpc_submit(bd, r, AIO_DISCARD);
}

static int vpc_write_zeroes(struct blockdev *bd, struct blockdev_req *r)
{
	return vpc_submit(bd, r, AIO_WRITE_ZEROES);
}

static void vpc_drain(struct blockdev *bd)
{
	struct vpc *v = bd->priv;

	aio_drain(bd->aio);
	while (v && (bd->inflight || v->kick_pending))
		aio_drain(bd->aio);
}

static void vpc_close(struct blockdev *bd)
{
	struct vpc *v = bd->priv;

	if (!v)
		return;
	free(v->bat);
	free(v->bmap);
	free(v->sub);
	free(v);
	bd->priv = NULL;
}

/* ---- opening ---- */

#define OPEN_FAIL(...)                                                                             \
	do {                                                                                       \
		int n_ = snprintf(err, errlen, "wisp: %s: vpc: ", bd->file);                       \
		if (n_ > 0 && (size_t)n_ < errlen)                                                 \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                      \
		return -EINVAL;                                                                    \
	} while (0)

/* Why the 512 bytes at @f are not a footer, or NULL. */
static const char *footer_problem(const uint8_t *f)
{
	if (memcmp(f, "conectix", 8))
		return "no footer (cookie \"conectix\")";
	if (checksum(f, FOOTER, 64) != be32(f + 64))
		return "bad footer checksum";
	return NULL;
}

/*
 * The virtual size, as QEMU 10 sees it: the CHS geometry for images made by
 * Virtual PC and by QEMU without force_size (creator "vpc " or "qemu"), unless
 * the geometry is the largest CHS can say; current_size for every other creator
 * (Hyper-V "win ", disk2vhd, XenServer, QEMU's force_size "qem2", ...).
 */
static uint64_t virtual_size(const uint8_t *f)
{
	uint64_t chs = (uint64_t)(f[56] << 8 | f[57]) * f[58] * f[59];

	if ((!memcmp(f + 28, "vpc ", 4) || !memcmp(f + 28, "qemu", 4)) && chs != MAX_GEOMETRY)
		return chs * 512;
	return be64(f + 48) / 512 * 512;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The dynamic header and the BAT; @limit: where the footer is (data stays below). */
static int open_dynamic(struct blockdev *bd, struct vpc *v, uint64_t limit, char *err,
			size_t errlen)
{
	uint64_t hoff = be64(v->footer + 16), bat_bytes, end;
	uint8_t h[DYN_HEADER];
	uint32_t *sorted;

	if (hoff < FOOTER || hoff > limit || limit - hoff < DYN_HEADER)
		OPEN_FAIL("dynamic header offset 0x%llx is outside the file",
			  (unsigned long long)hoff);
	if (blockdev_pread_all(v->fd, h, DYN_HEADER, hoff))
		OPEN_FAIL("cannot read the dynamic header");
	if (memcmp(h, "cxsparse", 8))
		OPEN_FAIL("no dynamic header (cookie \"cxsparse\") at 0x%llx",
			  (unsigned long long)hoff);
	if (checksum(h, DYN_HEADER, 36) != be32(h + 36))
		OPEN_FAIL("bad dynamic header checksum");
	v->bat_off = be64(h + 16);
	v->entries = be32(h + 28);
	v->bs = be32(h + 32);
	if (v->bs < 512 || v->bs > MAX_BLOCK || (v->bs & (v->bs - 1)))
		OPEN_FAIL("block size %u is not a power of two in 512..%u", v->bs, MAX_BLOCK);
	/* one bit a sector, in whole sectors (QEMU's formula says 0 bytes below 4 KiB
	 * blocks, which no other tool agrees with) */
	v->bm = (v->bs / 512 + 7) / 8;
	v->bm = (v->bm + 511) / 512 * 512;
	if ((uint64_t)v->entries * v->bs < v->bd->size)
		OPEN_FAIL("%u BAT entries of %u bytes do not cover the virtual size %llu",
			  v->entries, v->bs, (unsigned long long)v->bd->size);
	bat_bytes = ((uint64_t)v->entries * 4 + 511) / 512 * 512;
	if (bat_bytes > MAX_BAT_BYTES)
		OPEN_FAIL("a BAT of %u entries is absurd", v->entries);
	if (v->bat_off < FOOTER || v->bat_off > limit || limit - v->bat_off < bat_bytes ||
	    overlaps(v->bat_off, bat_bytes, hoff, DYN_HEADER))
		OPEN_FAIL("BAT (offset 0x%llx, %u entries) is outside the file or overlaps the "
			  "header",
			  (unsigned long long)v->bat_off, v->entries);
	if (!(v->bat = malloc(bat_bytes)) || !(sorted = malloc(bat_bytes)))
		OPEN_FAIL("out of memory");
	if (blockdev_pread_all(v->fd, v->bat, (size_t)v->entries * 4, v->bat_off)) {
		free(sorted);
		OPEN_FAIL("cannot read the BAT (truncated file?)");
	}
	end = hoff + DYN_HEADER > v->bat_off + bat_bytes ? hoff + DYN_HEADER
							 : v->bat_off + bat_bytes;
	uint32_t used = 0;

	for (uint32_t i = 0; i < v->entries; i++) {
		uint64_t b;

		v->bat[i] = __builtin_bswap32(v->bat[i]);
		if (v->bat[i] == UNALLOC)
			continue;
		b = (uint64_t)v->bat[i] * 512;
		if (b < FOOTER || b > limit || limit - b < (uint64_t)v->bm + v->bs ||
		    overlaps(b, v->bm + v->bs, hoff, DYN_HEADER) ||
		    overlaps(b, v->bm + v->bs, v->bat_off, bat_bytes)) {
			free(sorted);
			OPEN_FAIL("BAT entry %u points at 0x%llx: past the end of the file or over "
				  "metadata",
				  i, (unsigned long long)b);
		}
		if (b + v->bm + v->bs > end)
			end = b + v->bm + v->bs;
		sorted[used++] = v->bat[i];
	}
	qsort(sorted, used, 4, cmp_u32);
	for (uint32_t i = 1; i < used; i++)
		if ((uint64_t)(sorted[i] - sorted[i - 1]) * 512 < (uint64_t)v->bm + v->bs) {
			uint32_t s = sorted[i];

			free(sorted);
			OPEN_FAIL("two BAT entries share the blocks at sector %u", s);
		}
	free(sorted);
	v->free = (end + 511) / 512 * 512;
	if (v->free > limit)
		OPEN_FAIL("the file is truncated (blocks end past the footer)");
	if (!(v->bmap = malloc(v->bm)))
		OPEN_FAIL("out of memory");
	return 0;
}

static int vpc_open(struct blockdev *bd, char *err, size_t errlen)
{
	struct vpc *v = calloc(1, sizeof(*v));
	uint8_t copy[FOOTER];
	const char *why;
	struct stat st;
	uint64_t fsize, limit, size;
	uint32_t type;

	if (!v)
		OPEN_FAIL("out of memory");
	bd->priv = v;
	v->bd = bd;
	v->fd = bd->fd;
	v->io.done = on_io;
	v->io.opaque = v;
	if (fstat(v->fd, &st) < 0)
		OPEN_FAIL("%s", strerror(errno));
	fsize = (uint64_t)st.st_size;
	if (fsize < FOOTER || blockdev_pread_all(v->fd, v->footer, FOOTER, fsize - FOOTER))
		OPEN_FAIL("file too short for a footer");
	limit = fsize - FOOTER;
	/* The footer at the end rules; a dynamic disk has a copy at offset 0, used
	 * when the end one is damaged (as QEMU does). A guest can write the first
	 * bytes of a fixed disk, never its end. */
	if ((why = footer_problem(v->footer))) {
		if (blockdev_pread_all(v->fd, copy, FOOTER, 0) || footer_problem(copy) ||
		    be32(copy + 60) != TYPE_DYNAMIC)
			OPEN_FAIL("%s at the end of the file", why);
		memcpy(v->footer, copy, FOOTER);
		limit = fsize;
	}
	type = be32(v->footer + 60);
	if (type == TYPE_DIFF)
		OPEN_FAIL("differencing disks (disk type 4) are not supported");
	if (type != TYPE_FIXED && type != TYPE_DYNAMIC)
		OPEN_FAIL("disk type %u is unknown (2 fixed, 3 dynamic)", type);
	size = virtual_size(v->footer);
	if (size > MAX_SECTORS * 512)
		OPEN_FAIL("virtual size %llu is above 2040 GiB", (unsigned long long)size);
	bd->size = size;
	v->dynamic = type == TYPE_DYNAMIC;
	if (!v->dynamic) {
		if (size > limit)
			OPEN_FAIL("the footer says %llu bytes but the file holds %llu",
				  (unsigned long long)size, (unsigned long long)limit);
		return 0;
	}
	if (!(v->sub = calloc(MAX_IOV, sizeof(*v->sub))))
		OPEN_FAIL("out of memory");
	return open_dynamic(bd, v, limit, err, errlen);
}

const struct blockdev_format blockdev_vpc = {
	.name = "vpc",
	.open = vpc_open,
	.close = vpc_close,
	.read = vpc_read,
	.write = vpc_write,
	.flush = vpc_flush,
	.discard = vpc_discard,
	.write_zeroes = vpc_write_zeroes,
	.drain = vpc_drain,
};
