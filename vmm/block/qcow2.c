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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block/blockdev.h"

#define MAGIC 0x514649fbU
#define OFF_MASK 0x00fffffffffffe00ULL /* L1 and L2 entries: host offset */
#define RT_MASK 0xfffffffffffffe00ULL
#define COPIED (1ULL << 63)
#define COMPRESSED (1ULL << 62)
#define ZERO 1ULL
#define INC_DIRTY 1ULL
#define INC_CORRUPT 2ULL
#define INC_DATA_FILE 4ULL
#define INC_COMPRESSION 8ULL
#define INC_EXTL2 16ULL
#define INC_KNOWN 31ULL
#define EXT_BACKING_FMT 0xe2792acaU
#define EXT_FEATURES 0x6803f857U
#define MAX_L1_BYTES (32U << 20)
#define MAX_RT_BYTES (8U << 20)
#define MAX_SIZE (1ULL << 54) /* 16 PiB of virtual disk */
#define MAX_FILE (1ULL << 56)
#define L2_CACHE 16
#define MAX_IOV 1024 /* IOV_MAX */

enum wait { W_KICK, W_DATA, W_FETCH, W_COMP, W_NEWDATA, W_FLUSH, W_REQFLUSH };

struct l2c {
	uint64_t off; /* 0: empty */
	uint64_t use;
	uint64_t *t; /* big-endian entries, as on disk */
};

struct qcow2 {
	struct blockdev *bd;
	int fd;
	unsigned int version, cb, l2_bits, rc_order, rb_bits;
	uint64_t cs;
	uint64_t l1_off, *l1;
	uint32_t l1_size;
	uint64_t rt_off, rt_entries, *rt;
	uint32_t rt_clusters;
	uint32_t hdr_len, nb_snapshots;
	uint64_t incompat, autoclear;
	int zstd;
	uint64_t end; /* the file's size rounded up to clusters: where allocation happens */
	bool growing; /* the refcount table is being replaced: entries stay in memory */
	struct blockdev *backing;
	struct l2c cache[L2_CACHE];
	uint64_t tick;
	uint64_t *meta; /* sorted host offsets of L2 tables and refcount blocks */
	size_t nmeta, capmeta;
	/* Requests: a queue, one at a time. */
	struct blockdev_req *head, *tail, *cur;
	bool kick_pending, in_start;
	struct aio_req kick, io;
	struct blockdev_req breq; /* to the backing file */
	struct iovec io_iov, c_iov, *sub, *bsub;
	int subcnt;
	enum wait wait;
	uint64_t pos, total;
	/* The piece being worked on: guest offset, bytes, offset in its cluster. */
	uint64_t goff, n, in;
	uint64_t entry, newh, free_entry;
	bool cow, reuse;
	uint8_t *buf, *dbuf, *cbuf; /* cluster, decompressed cluster, compressed bytes */
	uint64_t clen;
	const struct iovec *fdst; /* where a pending fetch copies decompressed bytes */
	int fdstcnt;
	uint64_t fin;
};

static uint64_t be64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static uint32_t be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

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

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int put64(struct qcow2 *q, uint64_t off, uint64_t v)
{
	v = __builtin_bswap64(v);
	return pwrite_all(q->fd, &v, 8, off);
}

static int sync_file(struct qcow2 *q)
{
	return fdatasync(q->fd) ? -errno : 0;
}

/* ---- metadata bookkeeping ---- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Header cluster, L1 table or refcount table. */
static bool is_fixed_meta(const struct qcow2 *q, uint64_t h, uint64_t len)
{
	return overlaps(h, len, 0, q->cs) ||
	       overlaps(h, len, q->l1_off, (uint64_t)q->l1_size * 8) ||
	       overlaps(h, len, q->rt_off, (uint64_t)q->rt_clusters * q->cs);
}

static size_t meta_find(const struct qcow2 *q, uint64_t h)
{
	size_t lo = 0, hi = q->nmeta;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (q->meta[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Is the cluster at @h metadata? */
static bool is_meta(const struct qcow2 *q, uint64_t h)
{
	size_t i = meta_find(q, h);

	return is_fixed_meta(q, h, q->cs) || (i < q->nmeta && q->meta[i] == h);
}

/* Return: 0, -EEXIST when @h is metadata already, -ENOMEM. */
static int meta_add(struct qcow2 *q, uint64_t h)
{
	size_t i = meta_find(q, h);

	if (i < q->nmeta && q->meta[i] == h)
		return -EEXIST;
	if (q->nmeta == q->capmeta) {
		size_t cap = q->capmeta ? 2 * q->capmeta : 64;
		uint64_t *m = realloc(q->meta, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		q->meta = m;
		q->capmeta = cap;
	}
	memmove(q->meta + i + 1, q->meta + i, (q->nmeta - i) * sizeof(*q->meta));
	q->meta[i] = h;
	q->nmeta++;
	return 0;
}

/* A cluster-aligned host offset of a whole cluster inside the file. */
static bool valid_cluster(const struct qcow2 *q, uint64_t h)
{
	return h && !(h & (q->cs - 1)) && h < q->end && q->end - h >= q->cs;
}

/* ---- refcounts ---- */

static int grow_reftable(struct qcow2 *q, uint64_t idx);

static uint64_t rc_max(const struct qcow2 *q)
{
	return q->rc_order == 6 ? UINT64_MAX : (1ULL << (1U << q->rc_order)) - 1;
}

/* Entry @i of a refcount block in memory (or on disk at @rb when @blk is NULL). */
static int rc_access(struct qcow2 *q, uint64_t rb, uint8_t *blk, uint64_t i, uint64_t *val,
		     bool write)
{
	unsigned int bits = 1U << q->rc_order;
	unsigned int bytes = bits < 8 ? 1 : bits / 8;
	uint64_t boff = (i * bits) / 8;
	uint8_t b[8], *p = blk ? blk + boff : b;
	uint64_t v = 0;
	int ret;

	if (!blk && (ret = pread_all(q->fd, b, bytes, rb + boff)))
		return ret;
	if (bits < 8) {
		unsigned int shift = (unsigned int)((i * bits) % 8);
		uint8_t mask = (uint8_t)(((1U << bits) - 1) << shift);

		if (!write) {
			*val = (uint64_t)(p[0] & mask) >> shift;
			return 0;
		}
		p[0] = (uint8_t)((p[0] & ~mask) | ((*val << shift) & mask));
	} else {
		if (!write) {
			for (unsigned int k = 0; k < bytes; k++)
				v = v << 8 | p[k];
			*val = v;
			return 0;
		}
		v = *val;
		for (unsigned int k = bytes; k-- > 0; v >>= 8)
			p[k] = (uint8_t)v;
	}
	return blk ? 0 : pwrite_all(q->fd, b, bytes, rb + boff);
}

static uint64_t alloc_cluster(struct qcow2 *q)
{
	uint64_t h = q->end;

	if (h >= MAX_FILE)
		return 0;
	q->end += q->cs;
	return h;
}

/*
 * Add @delta (+1 or -1) to the refcount of the cluster at @h, allocating a
 * refcount block (and growing the table) when needed.
 * Return: 0, -EIO (the image is inconsistent: underflow, overflow, bad block
 * offset), -ENOSPC or an I/O error.
 */
static int rc_update(struct qcow2 *q, uint64_t h, int delta)
{
	uint64_t idx = h >> (q->cb + q->rb_bits), i = (h >> q->cb) & ((1ULL << q->rb_bits) - 1);
	uint64_t rb, v;
	int ret;

	if (idx >= q->rt_entries) {
		if (delta < 0 || q->growing)
			return -EIO;
		if ((ret = grow_reftable(q, idx)))
			return ret;
	}
	rb = q->rt[idx] & RT_MASK;
	if (!rb) {
		uint8_t *blk;

		if (delta < 0)
			return -EIO;
		if (!(rb = alloc_cluster(q)))
			return -ENOSPC;
		if (!(blk = calloc(1, q->cs)))
			return -ENOMEM;
		if (rb >> (q->cb + q->rb_bits) == idx) {
			v = 1;
			rc_access(q, rb, blk, (rb >> q->cb) & ((1ULL << q->rb_bits) - 1), &v, true);
		} else if ((ret = rc_update(q, rb, 1))) {
			free(blk);
			return ret;
		}
		ret = pwrite_all(q->fd, blk, q->cs, rb);
		free(blk);
		if (ret || (ret = sync_file(q)))
			return ret;
		q->rt[idx] = rb;
		if (!q->growing && (ret = put64(q, q->rt_off + idx * 8, rb)))
			return ret;
		if ((ret = meta_add(q, rb)) && ret != -EEXIST)
			return ret;
	}
	if (!valid_cluster(q, rb))
		return -EIO;
	if ((ret = rc_access(q, rb, NULL, i, &v, false)))
		return ret;
	if ((delta < 0 && v == 0) || (delta > 0 && v == rc_max(q)))
		return -EIO;
	v = delta < 0 ? v - 1 : v + 1;
	return rc_access(q, rb, NULL, i, &v, true);
}

/* A new refcount table at the end of the file, big enough for @idx and itself. */
static int grow_reftable(struct qcow2 *q, uint64_t idx)
{
	uint64_t need = idx + 1 > 2 * q->rt_entries ? idx + 1 : 2 * q->rt_entries;
	uint64_t per_rb = 1ULL << (q->cb + q->rb_bits), nt, newt, *rt, old_off = q->rt_off;
	uint64_t old_entries = q->rt_entries, *old = q->rt;
	uint32_t old_clusters = q->rt_clusters;
	int ret;

	for (;;) {
		nt = (need * 8 + q->cs - 1) / q->cs;
		/* room for the table and the refcount blocks it may need */
		uint64_t reach = (q->end + (nt + 64) * q->cs) / per_rb + 1;

		if (reach <= need)
			break;
		need = reach;
	}
	if (nt * q->cs > MAX_RT_BYTES)
		return -ENOSPC;
	need = nt * q->cs / 8;
	if (!(rt = calloc(need, 8)))
		return -ENOMEM;
	memcpy(rt, old, old_entries * 8);
	newt = q->end;
	q->end += nt * q->cs;
	q->rt = rt;
	q->rt_entries = need;
	q->growing = true;
	ret = 0;
	for (uint64_t k = 0; k < nt && !ret; k++)
		ret = rc_update(q, newt + k * q->cs, 1);
	q->growing = false;
	if (!ret) {
		uint64_t *disk = malloc(need * 8);
		uint8_t hdr[12];

		if (!disk) {
			ret = -ENOMEM;
		} else {
			for (uint64_t k = 0; k < need; k++)
				disk[k] = __builtin_bswap64(rt[k]);
			ret = pwrite_all(q->fd, disk, need * 8, newt);
			free(disk);
		}
		uint64_t be = __builtin_bswap64(newt);
		uint32_t be_n = __builtin_bswap32((uint32_t)nt);

		memcpy(hdr, &be, 8);
		memcpy(hdr + 8, &be_n, 4);
		if (!ret && !(ret = sync_file(q)) && !(ret = pwrite_all(q->fd, hdr, 12, 48)))
			ret = sync_file(q);
	}
	if (ret) {
		/* The header still names the old table: keep using it. */
		q->rt = old;
		q->rt_entries = old_entries;
		free(rt);
		return ret;
	}
	free(old);
	q->rt_off = newt;
	q->rt_clusters = (uint32_t)nt;
	for (uint64_t k = 0; k < old_clusters; k++)
		rc_update(q, old_off + k * q->cs, -1); /* a failure leaks it */
	return 0;
}

/* Drop the references an old L2 entry held (after the new one is durable). */
static void free_entry(struct qcow2 *q, uint64_t e)
{
	if (e & COMPRESSED) {
		unsigned int x = 62 - (q->cb - 8);
		uint64_t off = e & ((1ULL << x) - 1);
		uint64_t len = (((e >> x) & ((1ULL << (q->cb - 8)) - 1)) + 1) * 512 - (off & 511);

		for (uint64_t h = off & ~(q->cs - 1); h < off + len; h += q->cs)
			rc_update(q, h, -1);
	} else if ((e & COPIED) && valid_cluster(q, e & OFF_MASK) && !is_meta(q, e & OFF_MASK)) {
		rc_update(q, e & OFF_MASK, -1);
	}
}

/* ---- L2 tables ---- */

/* The L2 table at @off, cached. Return: the table or NULL (*ret set). */
static uint64_t *l2_get(struct qcow2 *q, uint64_t off, int *ret)
{
	struct l2c *victim = &q->cache[0];

	for (int i = 0; i < L2_CACHE; i++) {
		if (q->cache[i].off == off) {
			q->cache[i].use = ++q->tick;
			return q->cache[i].t;
		}
		if (q->cache[i].use < victim->use)
			victim = &q->cache[i];
	}
	if (!valid_cluster(q, off)) {
		*ret = -EIO;
		return NULL;
	}
	if (!victim->t && !(victim->t = malloc(q->cs))) {
		*ret = -ENOMEM;
		return NULL;
	}
	victim->off = 0;
	if ((*ret = pread_all(q->fd, victim->t, q->cs, off)))
		return NULL;
	victim->off = off;
	victim->use = ++q->tick;
	return victim->t;
}

/* The L2 entry for guest offset @g (0: unallocated). Return: 0 or -errno. */
static int lookup(struct qcow2 *q, uint64_t g, uint64_t *e)
{
	uint64_t l1i = g >> (q->cb + q->l2_bits), l2off, *t;
	int ret = 0;

	if (l1i >= q->l1_size)
		return -EIO;
	l2off = q->l1[l1i] & OFF_MASK;
	if (!l2off) {
		*e = 0;
		return 0;
	}
	if (!(t = l2_get(q, l2off, &ret)))
		return ret;
	*e = be64(&t[(g >> q->cb) & ((1ULL << q->l2_bits) - 1)]);
	return 0;
}

/* Make the L2 entry for @g be @val, allocating an L2 table when needed. */
static int set_l2(struct qcow2 *q, uint64_t g, uint64_t val)
{
	uint64_t l1i = g >> (q->cb + q->l2_bits), i = (g >> q->cb) & ((1ULL << q->l2_bits) - 1);
	uint64_t l2off = q->l1[l1i] & OFF_MASK, *t;
	int ret = 0;

	if (!l2off) {
		uint64_t *blk;

		if (!(l2off = alloc_cluster(q)))
			return -ENOSPC;
		if ((ret = rc_update(q, l2off, 1)))
			return ret;
		if (!(blk = calloc(1, q->cs)))
			return -ENOMEM;
		blk[i] = __builtin_bswap64(val);
		ret = pwrite_all(q->fd, blk, q->cs, l2off);
		free(blk);
		if (ret || (ret = sync_file(q)))
			return ret;
		if ((ret = meta_add(q, l2off)) && ret != -EEXIST)
			return ret;
		q->l1[l1i] = l2off | COPIED;
		return put64(q, q->l1_off + l1i * 8, l2off | COPIED);
	}
	if (!(t = l2_get(q, l2off, &ret)))
		return ret;
	t[i] = __builtin_bswap64(val);
	ret = put64(q, l2off + i * 8, val);
	if (ret) /* the cached table may now differ from the disk: drop it */
		for (int k = 0; k < L2_CACHE; k++)
			if (q->cache[k].off == l2off)
				q->cache[k].off = 0;
	return ret;
}

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
	if (!valid_cluster(q, e & OFF_MASK))
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
	if (!q->reuse && !(q->newh = alloc_cluster(q)))
		return -ENOSPC;
	q->io_iov = (struct iovec){q->buf, q->cs};
	return submit_io(q, AIO_WRITE, q->newh, &q->io_iov, 1, W_NEWDATA);
}

/* Write or zero a piece that needs a cluster of its own. */
static int write_alloc(struct qcow2 *q, uint64_t e)
{
	uint64_t off = e & OFF_MASK;
	bool zero = q->version >= 3 && (e & ZERO) && !(e & COMPRESSED);

	q->reuse = zero && (e & COPIED) && valid_cluster(q, off) && !is_meta(q, off);
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

	if ((ret = lookup(q, q->goff, &e)))
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
			bool keep = !(e & COMPRESSED) && (e & COPIED) && valid_cluster(q, off) &&
				    !is_meta(q, off);

			if ((ret = set_l2(q, q->goff, ZERO | (keep ? off | COPIED : 0))))
				return ret;
			if (!keep && (e & (COMPRESSED | OFF_MASK)) && !sync_file(q))
				free_entry(q, e);
			return 0;
		}
	}
	if (!(e & COMPRESSED) && !(q->version >= 3 && (e & ZERO)) && off && (e & COPIED)) {
		if (!valid_cluster(q, off) || is_meta(q, off))
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
		if (!q->reuse && (ret = rc_update(q, q->newh, 1))) {
			finish(q, ret);
			return;
		}
		if ((ret = submit_io(q, AIO_FLUSH, 0, NULL, 0, W_FLUSH)) < 0)
			finish(q, ret);
		return;
	case W_FLUSH:
		if ((ret = set_l2(q, q->goff, q->newh | COPIED))) {
			finish(q, ret);
			return;
		}
		if (q->free_entry && (q->free_entry & (COMPRESSED | OFF_MASK)) && !sync_file(q))
			free_entry(q, q->free_entry);
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

#define OPEN_FAIL(...)                                                                             \
	do {                                                                                       \
		int n_ = snprintf(err, errlen, "wisp: %s: qcow2: ", bd->file);                     \
		if (n_ > 0 && (size_t)n_ < errlen)                                                 \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                      \
		return -EINVAL;                                                                    \
	} while (0)

/* Names of incompatible features the image lists in its feature name table. */
static void feature_names(const uint8_t *h, uint64_t start, uint64_t limit, uint64_t bits,
			  char *out, size_t outlen)
{
	uint64_t p = start;

	out[0] = 0;
	while (p + 8 <= limit) {
		uint32_t type = be32(h + p), len = be32(h + p + 4);

		if (!type || len > limit - p - 8)
			break;
		for (uint32_t k = 0; type == EXT_FEATURES && k + 48 <= len; k += 48) {
			const uint8_t *f = h + p + 8 + k;

			if (f[0] == 0 && f[1] < 64 && (bits >> f[1] & 1)) {
				size_t used = strlen(out);

				snprintf(out + used, outlen - used, "%s%.46s", used ? ", " : " (",
					 (const char *)f + 2);
			}
		}
		p += 8 + ((len + 7ULL) & ~7ULL);
	}
	if (out[0])
		snprintf(out + strlen(out), outlen - strlen(out), ")");
}

static int parse_header(struct blockdev *bd, struct qcow2 *q, const uint8_t *h, uint64_t fsize,
			char *bfmt, char *bname, char *err, size_t errlen)
{
	uint64_t boff = be64(h + 8), size = be64(h + 24), ext_end, p;
	uint32_t blen = be32(h + 16);

	if (be32(h) != MAGIC)
		OPEN_FAIL("not a qcow2 image (bad magic)");
	q->version = be32(h + 4);
	if (q->version != 2 && q->version != 3)
		OPEN_FAIL("version %u is not supported (2 or 3)", q->version);
	q->cb = be32(h + 20);
	if (q->cb < 9 || q->cb > 21)
		OPEN_FAIL("cluster_bits %u outside 9..21", q->cb);
	q->cs = 1ULL << q->cb;
	q->l2_bits = q->cb - 3;
	if (size > MAX_SIZE)
		OPEN_FAIL("virtual size %llu is absurd", (unsigned long long)size);
	if (be32(h + 32))
		OPEN_FAIL("encrypted images are not supported");
	q->l1_size = be32(h + 36);
	q->l1_off = be64(h + 40);
	q->rt_off = be64(h + 48);
	q->rt_clusters = be32(h + 56);
	q->nb_snapshots = be32(h + 60);
	if (q->version == 2) {
		q->hdr_len = 72;
		q->rc_order = 4;
	} else {
		q->incompat = be64(h + 72);
		q->autoclear = be64(h + 88);
		q->rc_order = be32(h + 96);
		q->hdr_len = be32(h + 100);
		if (q->hdr_len < 104 || q->hdr_len > q->cs)
			OPEN_FAIL("header_length %u outside 104..cluster size", q->hdr_len);
		if (q->rc_order > 6)
			OPEN_FAIL("refcount_order %u above 6", q->rc_order);
	}
	q->rb_bits = q->cb + 3 - q->rc_order;
	if (q->incompat & ~INC_KNOWN || q->incompat & (INC_DATA_FILE | INC_EXTL2)) {
		char names[256];
		uint64_t bad = q->incompat & (~INC_KNOWN | INC_DATA_FILE | INC_EXTL2);

		feature_names(h, q->hdr_len, boff && boff < q->cs ? boff : q->cs, bad, names,
			      sizeof(names));
		OPEN_FAIL("unsupported incompatible features 0x%llx%s%s", (unsigned long long)bad,
			  names,
			  bad & INC_DATA_FILE ? " (external data file)"
			  : bad & INC_EXTL2   ? " (extended L2 entries)"
					      : "");
	}
	if (q->incompat & INC_COMPRESSION) {
		if (q->hdr_len < 105)
			OPEN_FAIL(
				"compression type bit set but the header has no compression type");
		if (h[104] > 1)
			OPEN_FAIL("compression type %u is not supported (zlib or zstd)", h[104]);
		q->zstd = h[104] == 1;
	} else if (q->hdr_len >= 105 && h[104]) {
		OPEN_FAIL("compression type %u without the compression type feature bit", h[104]);
	}
	if (!bd->readonly && (q->incompat & INC_DIRTY))
		OPEN_FAIL("the image is dirty (lazy refcounts): run 'qemu-img check -r all' first, "
			  "or open it readonly=on");
	if (!bd->readonly && (q->incompat & INC_CORRUPT))
		OPEN_FAIL("the image is marked corrupt: repair it with 'qemu-img check -r all', or "
			  "open it readonly=on");
	if (!bd->readonly && q->nb_snapshots)
		OPEN_FAIL("images with internal snapshots can only be opened readonly=on");
	/* tables */
	uint64_t per_l1 = 1ULL << (q->cb + q->l2_bits);

	if ((uint64_t)q->l1_size * 8 > MAX_L1_BYTES)
		OPEN_FAIL("L1 table of %u entries is absurd", q->l1_size);
	if ((size + per_l1 - 1) / per_l1 > q->l1_size)
		OPEN_FAIL("L1 table of %u entries is too small for the virtual size", q->l1_size);
	if ((q->l1_size && (q->l1_off & (q->cs - 1))) || (q->l1_size && q->l1_off < q->cs))
		OPEN_FAIL("L1 table offset 0x%llx is not a cluster after the header",
			  (unsigned long long)q->l1_off);
	if (q->l1_off + (uint64_t)q->l1_size * 8 > fsize)
		OPEN_FAIL("L1 table past the end of the file");
	if (!q->rt_clusters || (uint64_t)q->rt_clusters * q->cs > MAX_RT_BYTES ||
	    (q->rt_off & (q->cs - 1)) || q->rt_off < q->cs ||
	    q->rt_off + (uint64_t)q->rt_clusters * q->cs > fsize + q->cs)
		OPEN_FAIL("refcount table (offset 0x%llx, %u clusters) is invalid",
			  (unsigned long long)q->rt_off, q->rt_clusters);
	if (q->l1_size && overlaps(q->l1_off, (uint64_t)q->l1_size * 8, q->rt_off,
				   (uint64_t)q->rt_clusters * q->cs))
		OPEN_FAIL("L1 table and refcount table overlap");
	/* backing file name and header extensions */
	if (boff) {
		if (blen == 0 || blen > 1023 || boff < q->hdr_len || boff > q->cs ||
		    blen > q->cs - boff)
			OPEN_FAIL("backing file name (offset %llu, %u bytes) is invalid",
				  (unsigned long long)boff, blen);
		memcpy(bname, h + boff, blen);
		bname[blen] = 0;
		if (strlen(bname) != blen)
			OPEN_FAIL("backing file name holds a NUL byte");
	}
	ext_end = boff ? boff : q->cs;
	for (p = q->hdr_len; p + 8 <= ext_end;) {
		uint32_t type = be32(h + p), len = be32(h + p + 4);

		if (!type)
			break;
		if (len > ext_end - p - 8)
			OPEN_FAIL("header extension 0x%x runs past its space", type);
		if (type == EXT_BACKING_FMT) {
			if (len == 0 || len > 31)
				OPEN_FAIL("backing format name of %u bytes is invalid", len);
			memcpy(bfmt, h + p + 8, len);
			bfmt[len] = 0;
		}
		p += 8 + ((len + 7ULL) & ~7ULL);
	}
	bd->size = size;
	return 0;
}

static int load_tables(struct blockdev *bd, struct qcow2 *q, char *err, size_t errlen)
{
	uint64_t n = (uint64_t)q->rt_clusters * q->cs / 8;

	q->rt_entries = n;
	if (!(q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8)) || !(q->rt = calloc(n, 8)))
		OPEN_FAIL("out of memory");
	if (pread_all(q->fd, q->l1, (size_t)q->l1_size * 8, q->l1_off) ||
	    pread_all(q->fd, q->rt, (size_t)n * 8, q->rt_off))
		OPEN_FAIL("cannot read the L1 or refcount table (truncated file?)");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t rb = (q->rt[i] = be64(&q->rt[i])) & RT_MASK;

		if (!rb)
			continue;
		if (!valid_cluster(q, rb) || is_fixed_meta(q, rb, q->cs))
			OPEN_FAIL("refcount block %llu at 0x%llx is outside the file or overlaps "
				  "other metadata",
				  (unsigned long long)i, (unsigned long long)rb);
		if (meta_add(q, rb))
			OPEN_FAIL("refcount block %llu overlaps other metadata",
				  (unsigned long long)i);
	}
	for (uint32_t i = 0; i < q->l1_size; i++) {
		uint64_t l2 = (q->l1[i] = be64(&q->l1[i])) & OFF_MASK;

		if (!l2)
			continue;
		if (!valid_cluster(q, l2) || is_fixed_meta(q, l2, q->cs))
			OPEN_FAIL("L1 entry %u points at 0x%llx: outside the file or over other "
				  "metadata",
				  i, (unsigned long long)l2);
		if (meta_add(q, l2))
			OPEN_FAIL("L2 table %u overlaps other metadata", i);
	}
	return 0;
}

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
		ret = parse_header(bd, q, h, (uint64_t)st.st_size, bfmt, bname, err, errlen);
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
	if ((ret = load_tables(bd, q, err, errlen)))
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
		if (put64(q, 88, 0) || sync_file(q))
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
