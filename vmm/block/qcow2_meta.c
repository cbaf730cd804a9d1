/* qcow2 metadata: the list of metadata clusters guest data must never overwrite,
 * refcount blocks and table growth, cached L2 tables. Loop thread only; small
 * synchronous pread/pwrite. Every offset read from the image is checked before use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

#define MAX_FILE (1ULL << 56)

int qcow2_put64(struct qcow2 *q, uint64_t off, uint64_t v)
{
	v = __builtin_bswap64(v);
	return blockdev_pwrite_all(q->fd, &v, 8, off);
}

int qcow2_sync(struct qcow2 *q)
{
	return fdatasync(q->fd) ? -errno : 0;
}

/* ---- metadata bookkeeping ---- */

/* Header cluster, L1 table or refcount table. */
bool qcow2_is_fixed_meta(const struct qcow2 *q, uint64_t h, uint64_t len)
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
bool qcow2_is_meta(const struct qcow2 *q, uint64_t h)
{
	size_t i = meta_find(q, h);

	return qcow2_is_fixed_meta(q, h, q->cs) || (i < q->nmeta && q->meta[i] == h);
}

/* Return: 0, -EEXIST when @h is metadata already, -ENOMEM. */
int qcow2_add_meta(struct qcow2 *q, uint64_t h)
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
bool qcow2_valid_cluster(const struct qcow2 *q, uint64_t h)
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

	if (!blk && (ret = blockdev_pread_all(q->fd, b, bytes, rb + boff)))
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
	return blk ? 0 : blockdev_pwrite_all(q->fd, b, bytes, rb + boff);
}

uint64_t qcow2_alloc_cluster(struct qcow2 *q)
{
	uint64_t h = q->end;

	if (h >= MAX_FILE)
		return 0;
	q->end += q->cs;
	return h;
}

int qcow2_update_refcount(struct qcow2 *q, uint64_t h, int delta)
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
		if (!(rb = qcow2_alloc_cluster(q)))
			return -ENOSPC;
		if (!(blk = calloc(1, q->cs)))
			return -ENOMEM;
		if (rb >> (q->cb + q->rb_bits) == idx) {
			v = 1;
			rc_access(q, rb, blk, (rb >> q->cb) & ((1ULL << q->rb_bits) - 1), &v, true);
		} else if ((ret = qcow2_update_refcount(q, rb, 1))) {
			free(blk);
			return ret;
		}
		ret = blockdev_pwrite_all(q->fd, blk, q->cs, rb);
		free(blk);
		if (ret || (ret = qcow2_sync(q)))
			return ret;
		q->rt[idx] = rb;
		if (!q->growing && (ret = qcow2_put64(q, q->rt_off + idx * 8, rb)))
			return ret;
		if ((ret = qcow2_add_meta(q, rb)) && ret != -EEXIST)
			return ret;
	}
	if (!qcow2_valid_cluster(q, rb))
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
		ret = qcow2_update_refcount(q, newt + k * q->cs, 1);
	q->growing = false;
	if (!ret) {
		uint64_t *disk = malloc(need * 8);
		uint8_t hdr[12];

		if (!disk) {
			ret = -ENOMEM;
		} else {
			for (uint64_t k = 0; k < need; k++)
				disk[k] = __builtin_bswap64(rt[k]);
			ret = blockdev_pwrite_all(q->fd, disk, need * 8, newt);
			free(disk);
		}
		uint64_t be = __builtin_bswap64(newt);
		uint32_t be_n = __builtin_bswap32((uint32_t)nt);

		memcpy(hdr, &be, 8);
		memcpy(hdr + 8, &be_n, 4);
		if (!ret && !(ret = qcow2_sync(q)) &&
		    !(ret = blockdev_pwrite_all(q->fd, hdr, 12, 48)))
			ret = qcow2_sync(q);
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
		qcow2_update_refcount(q, old_off + k * q->cs, -1); /* a failure leaks it */
	return 0;
}

/* Drop the references an old L2 entry held (after the new one is durable). */
void qcow2_free_entry(struct qcow2 *q, uint64_t e)
{
	if (e & COMPRESSED) {
		unsigned int x = 62 - (q->cb - 8);
		uint64_t off = e & ((1ULL << x) - 1);
		uint64_t len = (((e >> x) & ((1ULL << (q->cb - 8)) - 1)) + 1) * 512 - (off & 511);

		for (uint64_t h = off & ~(q->cs - 1); h < off + len; h += q->cs)
			qcow2_update_refcount(q, h, -1);
	} else if ((e & COPIED) && qcow2_valid_cluster(q, e & OFF_MASK) &&
		   !qcow2_is_meta(q, e & OFF_MASK)) {
		qcow2_update_refcount(q, e & OFF_MASK, -1);
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
	if (!qcow2_valid_cluster(q, off)) {
		*ret = -EIO;
		return NULL;
	}
	if (!victim->t && !(victim->t = malloc(q->cs))) {
		*ret = -ENOMEM;
		return NULL;
	}
	victim->off = 0;
	if ((*ret = blockdev_pread_all(q->fd, victim->t, q->cs, off)))
		return NULL;
	victim->off = off;
	victim->use = ++q->tick;
	return victim->t;
}

/* The L2 entry for guest offset @g (0: unallocated). Return: 0 or -errno. */
int qcow2_lookup_l2(struct qcow2 *q, uint64_t g, uint64_t *e)
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
int qcow2_set_l2(struct qcow2 *q, uint64_t g, uint64_t val)
{
	uint64_t l1i = g >> (q->cb + q->l2_bits), i = (g >> q->cb) & ((1ULL << q->l2_bits) - 1);
	uint64_t l2off = q->l1[l1i] & OFF_MASK, *t;
	int ret = 0;

	if (!l2off) {
		uint64_t *blk;

		if (!(l2off = qcow2_alloc_cluster(q)))
			return -ENOSPC;
		if ((ret = qcow2_update_refcount(q, l2off, 1)))
			return ret;
		if (!(blk = calloc(1, q->cs)))
			return -ENOMEM;
		blk[i] = __builtin_bswap64(val);
		ret = blockdev_pwrite_all(q->fd, blk, q->cs, l2off);
		free(blk);
		if (ret || (ret = qcow2_sync(q)))
			return ret;
		if ((ret = qcow2_add_meta(q, l2off)) && ret != -EEXIST)
			return ret;
		q->l1[l1i] = l2off | COPIED;
		return qcow2_put64(q, q->l1_off + l1i * 8, l2off | COPIED);
	}
	if (!(t = l2_get(q, l2off, &ret)))
		return ret;
	t[i] = __builtin_bswap64(val);
	ret = qcow2_put64(q, l2off + i * 8, val);
	if (ret) /* the cached table may now differ from the disk: drop it */
		for (int k = 0; k < L2_CACHE; k++)
			if (q->cache[k].off == l2off)
				q->cache[k].off = 0;
	return ret;
}
