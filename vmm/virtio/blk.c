/* virtio-blk: read, write, flush, get-id, discard and write-zeroes on a block
 * device (raw or qcow2 image; vmm/block/blockdev.h), many requests in flight,
 * one or more queues.
 * Requests are parsed on the event loop and completed there; no disk I/O happens
 * on a vCPU thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/blockdev.h"
#include "devices.h"
#include "vm.h"

#define SECTOR 512ULL
#define QUEUE_SIZE 256
#define SEG_MAX (VIRTQ_MAX_SEGS - 2) /* plus header and status */
#define DISCARD_SEGS 16
#define MAX_DISCARD_SECTORS (1U << 22) /* 2 GiB per segment */
/* Host memory for O_DIRECT bounce buffers in flight, per device. A chain may name
 * one guest buffer many times, so its length is no measure of guest RAM. */
#define BOUNCE_BUDGET (64ULL << 20)

/* Feature bits (virtio 1.2, 5.2.3). */
#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_MQ 12
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

/* Request types and status. */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define ID_BYTES 20

/* Device configuration offsets. */
#define C_CAPACITY 0
#define C_SEG_MAX 12
#define C_BLK_SIZE 20
#define C_WRITEBACK 32
#define C_NUM_QUEUES 34
#define C_MAX_DISCARD_SECTORS 36
#define C_MAX_DISCARD_SEG 40
#define C_DISCARD_ALIGN 44
#define C_MAX_WZ_SECTORS 48
#define C_MAX_WZ_SEG 52
#define C_WZ_MAY_UNMAP 56
#define CONFIG_LEN 60

struct blk {
	struct virtio_dev v;
	struct blockdev *bd;
	uint64_t sectors;
	bool readonly, direct, discard;
	bool no_flush;		   /* cache=unsafe */
	bool writethrough;	   /* the file was opened O_DSYNC */
	struct virtq_chain *chain; /* blk_notify()'s, one per device */
	struct req *spare;	   /* finished requests kept for reuse */
	uint64_t bounce_bytes;	   /* in flight, at most BOUNCE_BUDGET */
	char serial[ID_BYTES];
	uint64_t gen;		/* bumped by reset: older requests are forgotten */
	unsigned int *inflight; /* per queue, at most its size */
};

struct req {
	struct blockdev_req io;
	struct blk *b;
	uint64_t gen;
	unsigned int q;
	uint16_t head;
	uint8_t *status;
	uint32_t written;
	void *bounce; /* O_DIRECT with unaligned guest buffers */
	struct iovec bounce_iov;
	struct iovec iov[VIRTQ_MAX_SEGS]; /* the data part of the chain */
	int iovcnt;
	uint64_t range[2 * DISCARD_SEGS]; /* discard/write-zeroes: offset, length */
	int nr_ranges, next_range;
	bool sync_after; /* a write the driver cannot flush: data sync before done */
	struct req *next_spare;
};

static void finish(struct req *r, uint8_t status);

static int submit_range(struct req *r)
{
	r->io.offset = r->range[2 * r->next_range];
	r->io.len = r->range[2 * r->next_range + 1];
	r->next_range++;
	return blockdev_submit(r->b->bd, &r->io);
}

static void on_done(struct blockdev_req *a, int64_t res)
{
	struct req *r = a->opaque;
	struct blk *b = r->b;

	pthread_mutex_lock(&b->v.pci.lock);
	if (res >= 0 && (a->op == BLOCKDEV_DISCARD || a->op == BLOCKDEV_WRITE_ZEROES) &&
	    r->next_range < r->nr_ranges && r->gen == b->gen && submit_range(r) == 0) {
		pthread_mutex_unlock(&b->v.pci.lock);
		return;
	}
	if (res >= 0 && r->bounce && a->op == BLOCKDEV_READ)
		virtq_buf_to_iov(r->iov, (unsigned int)r->iovcnt, 0, r->bounce,
				 r->bounce_iov.iov_len);
	if (a->op == BLOCKDEV_READ && res >= 0)
		r->written = (uint32_t)res;
	if (res >= 0 && a->op == BLOCKDEV_WRITE && r->sync_after && r->gen == b->gen) {
		r->io.op = BLOCKDEV_FLUSH;
		if (blockdev_submit(b->bd, &r->io) == 0) {
			pthread_mutex_unlock(&b->v.pci.lock);
			return;
		}
		res = -EIO;
	}
	finish(r, res < 0 ? S_IOERR : S_OK);
	pthread_mutex_unlock(&b->v.pci.lock);
}

/* Lock held. Completes the request and frees it, unless the device was reset. */
static void finish(struct req *r, uint8_t status)
{
	struct blk *b = r->b;

	if (r->gen == b->gen) {
		*r->status = status;
		virtq_push(&b->v.queues[r->q].vq, r->head, r->written + 1);
		virtio_notify(&b->v, r->q);
		b->inflight[r->q]--;
	} else {
		virtio_reset_done(&b->v);
	}
	if (r->bounce)
		b->bounce_bytes -= r->bounce_iov.iov_len;
	free(r->bounce);
	/* Kept for reuse: allocating and freeing 4 KiB per request made glibc trim
	 * and regrow the heap on every batch. In flight are at most the queues'
	 * sizes, so the spares never outnumber them. */
	r->next_spare = b->spare;
	b->spare = r;
}

static bool aligned(const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (SECTOR - 1))
			return false;
	return true;
}

static int start_rw(struct req *r, uint32_t type, uint64_t sector, uint64_t len)
{
	struct blk *b = r->b;

	if (len % SECTOR || sector > b->sectors || len / SECTOR > b->sectors - sector)
		return S_IOERR;
	if (type == T_OUT && b->readonly)
		return S_IOERR;
	r->io.op = type == T_IN ? BLOCKDEV_READ : BLOCKDEV_WRITE;
	/* Without FLUSH negotiated every write must be durable when it completes
	 * (virtio 1.2, 5.2.6.2). */
	r->sync_after =
		type == T_OUT && !b->writethrough && !b->no_flush && !virtio_has(&b->v, F_FLUSH);
	r->io.offset = sector * SECTOR;
	r->io.iov = r->iov;
	r->io.iovcnt = r->iovcnt;
	if (b->direct && !aligned(r->iov, r->iovcnt)) {
		if (len > BOUNCE_BUDGET - b->bounce_bytes ||
		    posix_memalign(&r->bounce, 4096, len ? len : SECTOR))
			return S_IOERR;
		b->bounce_bytes += len;
		r->bounce_iov = (struct iovec){r->bounce, len};
		if (type == T_OUT)
			virtq_iov_to_buf(r->iov, (unsigned int)r->iovcnt, 0, r->bounce, len);
		r->io.iov = &r->bounce_iov;
		r->io.iovcnt = 1;
	}
	return blockdev_submit(b->bd, &r->io) ? S_IOERR : -1;
}

/* Discard and write-zeroes segments: checked all before any is started. */
static int start_ranges(struct req *r, uint32_t type, uint64_t len)
{
	struct blk *b = r->b;
	uint8_t seg[16];

	if (b->readonly || (type == T_DISCARD && !b->discard))
		return type == T_DISCARD && !b->readonly ? S_UNSUPP : S_IOERR;
	if (!len || len % 16 || len / 16 > DISCARD_SEGS)
		return S_IOERR;
	r->nr_ranges = (int)(len / 16);
	for (int i = 0; i < r->nr_ranges; i++) {
		uint64_t sector;
		uint32_t n, flags;

		virtq_iov_to_buf(r->iov, (unsigned int)r->iovcnt, 16ULL * i, seg, 16);
		memcpy(&sector, seg, 8);
		memcpy(&n, seg + 8, 4);
		memcpy(&flags, seg + 12, 4);
		if ((flags & ~1U) || n > MAX_DISCARD_SECTORS || sector > b->sectors ||
		    n > b->sectors - sector)
			return type == T_DISCARD && (flags & ~1U) ? S_UNSUPP : S_IOERR;
		r->range[2 * i] = sector * SECTOR;
		r->range[2 * i + 1] = n * SECTOR;
	}
	r->io.op = type == T_DISCARD ? BLOCKDEV_DISCARD : BLOCKDEV_WRITE_ZEROES;
	return submit_range(r) ? S_IOERR : -1;
}

/* Lock held. Return: a status to complete with now, or -1 when I/O was started. */
static int start(struct req *r, struct virtq_chain *c)
{
	uint8_t hdr[16];
	uint32_t type;
	uint64_t sector, data_len;

	virtq_iov_to_buf(c->iov, c->nr_out, 0, hdr, sizeof(hdr));
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	/* The data: the readable part after the header, or the writable part but the
	 * status byte (the chain's last byte). */
	struct iovec *src = type == T_OUT || type == T_DISCARD || type == T_WRITE_ZEROES
				    ? c->iov
				    : c->iov + c->nr_out;
	unsigned int n = src == c->iov ? c->nr_out : c->nr_in;
	uint64_t skip = src == c->iov ? 16 : 0;
	uint64_t total = src == c->iov ? c->out_len - 16 : c->in_len - 1;

	data_len = total;
	r->iovcnt = 0;
	for (unsigned int i = 0; i < n && total; i++) {
		struct iovec v = src[i];

		if (skip >= v.iov_len) {
			skip -= v.iov_len;
			continue;
		}
		v.iov_base = (uint8_t *)v.iov_base + skip;
		v.iov_len -= skip;
		skip = 0;
		if (v.iov_len > total)
			v.iov_len = total;
		total -= v.iov_len;
		r->iov[r->iovcnt++] = v;
	}
	switch (type) {
	case T_IN:
	case T_OUT:
		return start_rw(r, type, sector, data_len);
	case T_FLUSH:
		r->io.op = BLOCKDEV_FLUSH;
		if (r->b->readonly || r->b->no_flush)
			return S_OK;
		return blockdev_submit(r->b->bd, &r->io) ? S_IOERR : -1;
	case T_GET_ID:
		r->written = (uint32_t)virtq_buf_to_iov(r->iov, (unsigned int)r->iovcnt, 0,
							r->b->serial, ID_BYTES);
		return S_OK;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		return start_ranges(r, type, data_len);
	default:
		return S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *v, unsigned int qi)
{
	struct blk *b = (struct blk *)v;
	struct virtq *q = &v->queues[qi].vq;
	struct virtq_chain *c = b->chain;
	int got = 0;

	blockdev_plug(b->bd); /* one submission for everything this kick brought */
	do {
		while (b->inflight[qi] < q->size && (got = virtq_pop(q, c)) == 1) {
			struct req *r;
			int status;

			if (c->out_len < 16 || c->in_len < 1) {
				got = -EINVAL;
				break;
			}
			if ((r = b->spare))
				b->spare = r->next_spare;
			else if (!(r = malloc(sizeof(*r)))) {
				got = -ENOMEM;
				break;
			}
			*r = (struct req){.b = b, .gen = b->gen, .q = qi, .head = c->head};
			r->io.done = on_done;
			r->io.opaque = r;
			r->status = (uint8_t *)c->iov[c->nr_out + c->nr_in - 1].iov_base +
				    c->iov[c->nr_out + c->nr_in - 1].iov_len - 1;
			b->inflight[qi]++;
			status = start(r, c);
			if (status >= 0)
				finish(r, (uint8_t)status);
		}
		if (got < 0) {
			virtio_fail(v, got == -ENOMEM ? "out of memory" : "malformed request");
			break;
		}
	} while (b->inflight[qi] < q->size && virtq_enable_notify(q));
	blockdev_unplug(b->bd);
}

static void blk_reset(struct virtio_dev *v)
{
	struct blk *b = (struct blk *)v;

	/* Requests in flight may still read or write guest buffers: the reset is
	 * over (status reads 0) when the last of them is done. */
	for (unsigned int q = 0; q < v->nr_queues; q++)
		virtio_reset_wait(v, b->inflight[q]);
	b->gen++;
	memset(b->inflight, 0, v->nr_queues * sizeof(*b->inflight));
}

static void blk_drain(struct virtio_dev *v)
{
	blockdev_drain(((struct blk *)v)->bd);
}

static void blk_free(struct virtio_dev *v)
{
	struct blk *b = (struct blk *)v;

	blockdev_close(b->bd);
	while (b->spare) {
		struct req *r = b->spare;

		b->spare = r->next_spare;
		free(r);
	}
	free(b->chain);
	virtio_free(v);
	free(b->inflight);
	free(b);
}

static const struct virtio_ops blk_ops = {
	.queue_notify = blk_notify,
	.reset = blk_reset,
	.drain = blk_drain,
	.free = blk_free,
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

struct virtio_dev *virtio_blk_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen)
{
	const struct config_drive *dr = &vm->cfg->drives[d->drive];
	unsigned int nq = d->num_queues ? d->num_queues : 1;
	/* Without FLUSH the driver sees a write-through disk. */
	uint64_t features = 1ULL << F_SEG_MAX | 1ULL << F_BLK_SIZE |
			    (dr->writethrough ? 0 : 1ULL << F_FLUSH) | 1ULL << F_WRITE_ZEROES |
			    (nq > 1 ? 1ULL << F_MQ : 0) | (dr->readonly ? 1ULL << F_RO : 0) |
			    (dr->discard ? 1ULL << F_DISCARD : 0);
	struct blk *b = calloc(1, sizeof(*b));
	uint8_t *cfg;

	if (!b) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	b->inflight = calloc(nq, sizeof(*b->inflight));
	b->chain = malloc(sizeof(*b->chain));
	if (!b->inflight || !b->chain ||
	    virtio_init(&b->v, vm, "virtio-blk-pci", VIRTIO_ID_BLOCK, 0x018000, &blk_ops, nq,
			QUEUE_SIZE, features, CONFIG_LEN, err, errlen))
		goto fail;
	b->bd = blockdev_open(&vm->loop, dr->file,
			      &(struct blockdev_opts){.format = dr->format,
						      .readonly = dr->readonly,
						      .direct = dr->direct,
						      .dsync = dr->writethrough,
						      .aio = dr->aio,
						      .depth = nq * QUEUE_SIZE},
			      err, errlen);
	if (!b->bd)
		goto fail;
	b->sectors = b->bd->size / SECTOR;
	b->readonly = dr->readonly;
	b->direct = b->bd->direct;
	b->discard = dr->discard;
	b->no_flush = dr->no_flush;
	b->writethrough = dr->writethrough;
	memcpy(b->serial, d->serial, strnlen(d->serial, ID_BYTES));
	cfg = b->v.config;
	memcpy(cfg + C_CAPACITY, &b->sectors, 8);
	put32(cfg + C_SEG_MAX, SEG_MAX);
	put32(cfg + C_BLK_SIZE, SECTOR);
	cfg[C_WRITEBACK] = !dr->writethrough;
	memcpy(cfg + C_NUM_QUEUES, &(uint16_t){(uint16_t)nq}, 2);
	put32(cfg + C_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS);
	put32(cfg + C_MAX_DISCARD_SEG, DISCARD_SEGS);
	put32(cfg + C_DISCARD_ALIGN, 1);
	put32(cfg + C_MAX_WZ_SECTORS, MAX_DISCARD_SECTORS);
	put32(cfg + C_MAX_WZ_SEG, DISCARD_SEGS);
	return &b->v;
fail:
	blk_free(&b->v);
	return NULL;
}
