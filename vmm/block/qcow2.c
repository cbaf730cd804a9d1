/* qcow2 images, versions 2 and 3: read (backing files, zero and compressed
 * clusters, zlib and zstd) and write with cluster allocation and copy-on-write.
 * Loop thread only. One guest request is processed at a time, in cluster-sized
 * pieces; guest data goes through aio, metadata (cached L2 tables, refcount
 * entries, rare table growth) by small synchronous pread/pwrite on the loop thread.
 * Crash consistency: new data, then its refcount, a flush, then the L2 entry (a new
 * L2 table: refcount, table, flush, then the L1 entry); a crash leaks clusters at
 * worst. The guest is hostile and so is the image: every offset read from the
 * file is checked before use, and guest data is never written over metadata. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2.h"

/* ---- requests ---- */

static void advance(struct qcow2 *q);
static void start_next(struct qcow2 *q);
static int cow_have_old(struct qcow2 *q);
static void on_backing(struct blockdev_req *b, int64_t res);

static void finish(struct qcow2 *q, int64_t res)
{
	struct blockdev_req *r = q->cur;

	q->cur = NULL;
	blockdev_complete(q->bd, r, res);
	start_next(q);
}

static int submit_io(struct qcow2 *q, enum aio_op op, uint64_t off, const struct iovec *iov,
		     int cnt, enum wait w)
{
	q->wait = w;
	q->io.op = op;
	q->io.offset = off;
	q->io.iov = iov;
	q->io.iovcnt = cnt;
	q->io.len = 0;
	return aio_submit(q->bd->aio, &q->io) ? -EIO : 1;
}

static void copy_to_iov(const struct iovec *dst, int cnt, const uint8_t *src)
{
	for (int i = 0; i < cnt; i++) {
		memcpy(dst[i].iov_base, src, dst[i].iov_len);
		src += dst[i].iov_len;
	}
}

static int decompress(struct qcow2 *q)
{
	if (q->zstd) {
		ZSTD_DCtx *z = ZSTD_createDCtx();
		ZSTD_inBuffer in = {q->cbuf, q->clen, 0};
		ZSTD_outBuffer out = {q->dbuf, q->cs, 0};
		int ret = 0;

		if (!z)
			return -ENOMEM;
		while (out.pos < out.size) {
			size_t before = out.pos, r = ZSTD_decompressStream(z, &out, &in);

			if (ZSTD_isError(r) ||
			    (out.pos == before && (r == 0 || in.pos == in.size))) {
				ret = -EIO;
				break;
			}
		}
		ZSTD_freeDCtx(z);
		return ret;
	}
	z_stream s = {0};
	int zr;

	if (inflateInit2(&s, -15) != Z_OK)
		return -ENOMEM;
	s.next_in = q->cbuf;
	s.avail_in = (uInt)q->clen;
	s.next_out = q->dbuf;
	s.avail_out = (uInt)q->cs;
	zr = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	return (zr == Z_STREAM_END || zr == Z_BUF_ERROR) && s.avail_out == 0 ? 0 : -EIO;
}

/*
 * Bytes [@in, @in + @n) of the guest cluster at @base, whose L2 entry is @e, into
 * @dst. Return: 0 done, 1 started (the continuation is fetched()), -errno.
 */
static int fetch(struct qcow2 *q, uint64_t e, uint64_t base, uint64_t in, uint64_t n,
		 const struct iovec *dst, int cnt)
{
	if (e & COMPRESSED) {
		unsigned int x = 62 - (q->cb - 8);
		uint64_t off = e & ((1ULL << x) - 1);
		uint64_t len = (((e >> x) & ((1ULL << (q->cb - 8)) - 1)) + 1) * 512 - (off & 511);

		if (off < q->cs || off >= q->end || len > q->end - off)
			return -EIO;
		q->clen = len;
		q->fin = in;
		q->fdst = dst;
		q->fdstcnt = cnt;
		q->c_iov = (struct iovec){q->cbuf, len};
		return submit_io(q, AIO_READ, off, &q->c_iov, 1, W_COMP);
	}
	if ((q->version >= 3 && (e & ZERO)) || (!(e & OFF_MASK) && !q->backing)) {
		blockdev_iov_zero(dst, cnt);
		return 0;
	}
	if (!(e & OFF_MASK)) {
		uint64_t at = base + in, avail = 0;

		if (at < q->backing->size)
			avail = q->backing->size - at < n ? q->backing->size - at : n;
		if (avail < n) {
			int k = blockdev_iov_slice(dst, cnt, avail, n - avail, q->bsub, MAX_IOV);

			blockdev_iov_zero(q->bsub, k);
		}
		if (!avail)
			return 0;
		q->breq = (struct blockdev_req){
			.op = BLOCKDEV_READ, .offset = at, .done = on_backing, .opaque = q};
		q->breq.iovcnt = blockdev_iov_slice(dst, cnt, 0, avail, q->bsub, MAX_IOV);
		q->breq.iov = q->bsub;
		q->wait = W_FETCH;
		return blockdev_submit(q->backing, &q->breq) ? -EIO : 1;
	}
	if (!qcow2_valid_cluster(q, e & OFF_MASK))
		return -EIO;
	return submit_io(q, AIO_READ, (e & OFF_MASK) + in, dst, cnt, W_FETCH);
}

/* A fetch() finished: go on with the piece. */
static void fetched(struct qcow2 *q)
{
	int ret;

	if (!q->cow) {
		q->pos += q->n;
		advance(q);
		return;
	}
	if ((ret = cow_have_old(q)) < 0)
		finish(q, ret);
}

/* The old contents of the cluster are in q->buf: put the new bytes over them and
 * write the whole cluster to its new place. */
static int cow_have_old(struct qcow2 *q)
{
	struct blockdev_req *r = q->cur;

	q->cow = false;
	if (r->op == BLOCKDEV_WRITE) {
		uint8_t *p = q->buf + q->in;

		for (int i = 0; i < q->subcnt; i++) {
			memcpy(p, q->sub[i].iov_base, q->sub[i].iov_len);
			p += q->sub[i].iov_len;
		}
	} else {
		memset(q->buf + q->in, 0, q->n);
	}
	if (!q->reuse && !(q->newh = qcow2_alloc_cluster(q)))
		return -ENOSPC;
	q->io_iov = (struct iovec){q->buf, q->cs};
	return submit_io(q, AIO_WRITE, q->newh, &q->io_iov, 1, W_NEWDATA);
}

/* Write or zero a piece that needs a cluster of its own. */
static int write_alloc(struct qcow2 *q, uint64_t e)
{
	uint64_t off = e & OFF_MASK;
	bool zero = q->version >= 3 && (e & ZERO) && !(e & COMPRESSED);

	q->reuse = zero && (e & COPIED) && qcow2_valid_cluster(q, off) && !qcow2_is_meta(q, off);
	q->newh = q->reuse ? off : 0;
	q->free_entry = q->reuse ? 0 : e;
	if (q->n == q->cs || zero) {
		memset(q->buf, 0, q->cs);
		return cow_have_old(q);
	}
	q->cow = true;
	q->io_iov = (struct iovec){q->buf, q->cs};
	int ret = fetch(q, e, q->goff - q->in, 0, q->cs, &q->io_iov, 1);

	if (ret)
		return ret;
	return cow_have_old(q);
}

static bool reads_zero(const struct qcow2 *q, uint64_t e)
{
	return !(e & COMPRESSED) &&
	       ((q->version >= 3 && (e & ZERO)) || (!(e & OFF_MASK) && !q->backing));
}

/* Return: 0 done, 1 started, -errno. */
static int piece(struct qcow2 *q)
{
	struct blockdev_req *r = q->cur;
	uint64_t e = 0, off;
	int ret;

	if ((ret = qcow2_lookup_l2(q, q->goff, &e)))
		return ret;
	q->entry = e;
	off = e & OFF_MASK;
	if (r->op == BLOCKDEV_READ || r->op == BLOCKDEV_WRITE)
		q->subcnt = blockdev_iov_slice(r->iov, r->iovcnt, q->pos, q->n, q->sub, MAX_IOV);
	if (r->op == BLOCKDEV_READ)
		return fetch(q, e, q->goff - q->in, q->in, q->n, q->sub, q->subcnt);
	if (r->op != BLOCKDEV_WRITE) {
		if (reads_zero(q, e))
			return 0;
		if (q->n == q->cs && q->version >= 3) {
			bool keep = !(e & COMPRESSED) && (e & COPIED) &&
				    qcow2_valid_cluster(q, off) && !qcow2_is_meta(q, off);

			if ((ret = qcow2_set_l2(q, q->goff, ZERO | (keep ? off | COPIED : 0))))
				return ret;
			if (!keep && (e & (COMPRESSED | OFF_MASK)) && !qcow2_sync(q))
				qcow2_free_entry(q, e);
			return 0;
		}
	}
	if (!(e & COMPRESSED) && !(q->version >= 3 && (e & ZERO)) && off && (e & COPIED)) {
		if (!qcow2_valid_cluster(q, off) || qcow2_is_meta(q, off))
			return -EIO;
		if (r->op == BLOCKDEV_WRITE)
			return submit_io(q, AIO_WRITE, off + q->in, q->sub, q->subcnt, W_DATA);
		memset(q->buf, 0, q->n);
		q->io_iov = (struct iovec){q->buf, q->n};
		return submit_io(q, AIO_WRITE, off + q->in, &q->io_iov, 1, W_DATA);
	}
	return write_alloc(q, e);
}

static void advance(struct qcow2 *q)
{
	struct blockdev_req *r = q->cur;
	int ret;

	if (r->op == BLOCKDEV_FLUSH) {
		if ((ret = submit_io(q, AIO_FLUSH, 0, NULL, 0, W_REQFLUSH)) < 0)
			finish(q, ret);
		return;
	}
	while (q->pos < q->total) {
		q->goff = r->offset + q->pos;
		q->in = q->goff & (q->cs - 1);
		q->n = q->cs - q->in < q->total - q->pos ? q->cs - q->in : q->total - q->pos;
		q->cow = false;
		if ((ret = piece(q)) < 0) {
			finish(q, ret);
			return;
		}
		if (ret > 0)
			return;
		q->pos += q->n;
	}
	finish(q, r->op == BLOCKDEV_READ || r->op == BLOCKDEV_WRITE ? (int64_t)q->total : 0);
}

static void on_io(struct aio_req *a, int64_t res)
{
	struct qcow2 *q = a->opaque;
	int ret;

	if (res < 0) {
		finish(q, res);
		return;
	}
	switch (q->wait) {
	case W_DATA:
		q->pos += q->n;
		advance(q);
		return;
	case W_FETCH:
		fetched(q);
		return;
	case W_COMP:
		if ((ret = decompress(q))) {
			finish(q, ret);
			return;
		}
		copy_to_iov(q->fdst, q->fdstcnt, q->dbuf + q->fin);
		fetched(q);
		return;
	case W_NEWDATA:
		/* refcount of the new cluster, then a barrier before the L2 entry */
		if (!q->reuse && (ret = qcow2_update_refcount(q, q->newh, 1))) {
			finish(q, ret);
			return;
		}
		if ((ret = submit_io(q, AIO_FLUSH, 0, NULL, 0, W_FLUSH)) < 0)
			finish(q, ret);
		return;
	case W_FLUSH:
		if ((ret = qcow2_set_l2(q, q->goff, q->newh | COPIED))) {
			finish(q, ret);
			return;
		}
		if (q->free_entry && (q->free_entry & (COMPRESSED | OFF_MASK)) && !qcow2_sync(q))
			qcow2_free_entry(q, q->free_entry);
		q->pos += q->n;
		advance(q);
		return;
	case W_REQFLUSH:
		finish(q, 0);
		return;
	default:
		finish(q, -EIO);
		return;
	}
}

static void on_backing(struct blockdev_req *b, int64_t res)
{
	struct qcow2 *q = b->opaque;

	if (res < 0)
		finish(q, res);
	else
		fetched(q);
}

static void start_next(struct qcow2 *q)
{
	if (q->in_start)
		return;
	q->in_start = true;
	while (!q->cur && q->head) {
		struct blockdev_req *r = q->head;

		q->head = r->next;
		if (!q->head)
			q->tail = NULL;
		q->cur = r;
		q->pos = 0;
		q->total = r->op == BLOCKDEV_READ || r->op == BLOCKDEV_WRITE
				   ? blockdev_iov_len(r->iov, r->iovcnt)
			   : r->op == BLOCKDEV_FLUSH ? 0
						     : r->len;
		advance(q);
	}
	q->in_start = false;
}

static void on_kick(struct aio_req *a, int64_t res)
{
	struct qcow2 *q = a->opaque;

	(void)res;
	q->kick_pending = false;
	start_next(q);
}

static int qcow2_submit(struct blockdev *bd, struct blockdev_req *r)
{
	struct qcow2 *q = bd->priv;
	int ret;

	r->next = NULL;
	if (!q->cur && !q->kick_pending) {
		q->kick.done = on_kick;
		q->kick.opaque = q;
		if ((ret = blockdev_defer(bd, &q->kick)))
			return ret;
		q->kick_pending = true;
	}
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	return 0;
}

static void qcow2_drain(struct blockdev *bd)
{
	struct qcow2 *q = bd->priv;

	aio_drain(bd->aio);
	while (q && (bd->inflight || q->kick_pending)) {
		aio_drain(bd->aio);
		if (q->backing)
			blockdev_drain(q->backing);
	}
}

static void qcow2_close(struct blockdev *bd)
{
	struct qcow2 *q = bd->priv;

	if (!q)
		return;
	blockdev_close(q->backing);
	for (int i = 0; i < L2_CACHE; i++)
		free(q->cache[i].t);
	free(q->l1);
	free(q->rt);
	free(q->meta);
	free(q->sub);
	free(q->bsub);
	free(q->buf);
	free(q->dbuf);
	free(q->cbuf);
	free(q);
	bd->priv = NULL;
}

/* ---- opening ---- */

static int qcow2_open(struct blockdev *bd, char *err, size_t errlen)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	char bname[1024] = "", bfmt[32] = "";
	uint8_t *h = NULL;
	struct stat st;
	int ret;

	if (!q)
		OPEN_FAIL("out of memory");
	bd->priv = q;
	q->bd = bd;
	q->fd = bd->fd;
	q->io.done = on_io;
	q->io.opaque = q;
	if (fstat(q->fd, &st) < 0)
		OPEN_FAIL("%s", strerror(errno));
	if (st.st_size < 72)
		OPEN_FAIL("file too short for a header");
	if (!(h = calloc(1, 1U << 21)))
		OPEN_FAIL("out of memory");
	ret = pread(q->fd, h, 1U << 21, 0) < 72 ? -EIO : 0;
	if (!ret)
		ret = qcow2_parse_header(bd, q, h, (uint64_t)st.st_size, bfmt, bname, err, errlen);
	if (ret) {
		free(h);
		return ret ? ret : -EINVAL;
	}
	if ((uint64_t)st.st_size < q->hdr_len) {
		free(h);
		OPEN_FAIL("file too short for its header");
	}
	free(h);
	q->end = ((uint64_t)st.st_size + q->cs - 1) & ~(q->cs - 1);
	if ((ret = qcow2_load_tables(bd, q, err, errlen)))
		return ret;
	q->sub = calloc(MAX_IOV, sizeof(*q->sub));
	q->bsub = calloc(MAX_IOV, sizeof(*q->bsub));
	q->buf = malloc(q->cs);
	q->dbuf = malloc(q->cs);
	q->cbuf = malloc(2 * q->cs);
	if (!q->sub || !q->bsub || !q->buf || !q->dbuf || !q->cbuf)
		OPEN_FAIL("out of memory");
	if (bname[0]) {
		if (!bfmt[0])
			OPEN_FAIL("backing file %s has no backing format: wisp does not probe; "
				  "set one with 'qemu-img rebase -u -F FMT -b %s'",
				  bname, bname);
		if (!(q->backing = blockdev_open_backing(bd, bname, bfmt, err, errlen)))
			return -EINVAL;
	}
	if (!bd->readonly && q->autoclear) {
		/* Features this writer does not maintain: their data becomes stale. */
		q->autoclear = 0;
		if (qcow2_put64(q, 88, 0) || qcow2_sync(q))
			OPEN_FAIL("cannot update the header: %s", strerror(errno));
	}
	return 0;
}

const struct blockdev_format blockdev_qcow2 = {
	.name = "qcow2",
	.open = qcow2_open,
	.close = qcow2_close,
	.read = qcow2_submit,
	.write = qcow2_submit,
	.flush = qcow2_submit,
	.discard = qcow2_submit,
	.write_zeroes = qcow2_submit,
	.drain = qcow2_drain,
};
