/* qcow2's private interface between its request path (qcow2.c), its metadata
 * (qcow2_meta.c) and its header checks (qcow2_header.c). Loop thread only. */
#ifndef WISP_QCOW2_H
#define WISP_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "block/blockdev.h"

#define OFF_MASK 0x00fffffffffffe00ULL /* L1 and L2 entries: host offset */
#define RT_MASK 0xfffffffffffffe00ULL
#define COPIED (1ULL << 63)
#define COMPRESSED (1ULL << 62)
#define ZERO 1ULL
#define MAX_RT_BYTES (8U << 20)
#define L2_CACHE 16
#define MAX_IOV 1024 /* IOV_MAX */

/* What the request in progress waits for. */
enum wait { W_KICK, W_DATA, W_FETCH, W_COMP, W_NEWDATA, W_FLUSH, W_REQFLUSH };

/* One cached L2 table. */
struct l2c {
	uint64_t off; /* 0: empty */
	uint64_t use;
	uint64_t *t; /* big-endian entries, as on disk */
};

/* An open image (bd->priv): geometry, tables, caches and the request in progress. */
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

/* For open paths with @bd, @err and @errlen in scope: fill @err and return -EINVAL. */
#define OPEN_FAIL(...)                                                                             \
	do {                                                                                       \
		int n_ = snprintf(err, errlen, "wisp: %s: qcow2: ", bd->file);                     \
		if (n_ > 0 && (size_t)n_ < errlen)                                                 \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);                      \
		return -EINVAL;                                                                    \
	} while (0)

static inline uint64_t be64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline uint32_t be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- qcow2_meta.c: file access, the metadata list, refcounts, L2 tables ---- */

/** qcow2_put64() - write @v big-endian at @off of the image. Return: 0 or -errno. */
int qcow2_put64(struct qcow2 *q, uint64_t off, uint64_t v);

/** qcow2_sync() - fdatasync the image. Return: 0 or -errno. */
int qcow2_sync(struct qcow2 *q);

/** qcow2_is_fixed_meta() - do bytes [@h, @h + @len) touch the header cluster, the L1
 * table or the refcount table? */
bool qcow2_is_fixed_meta(const struct qcow2 *q, uint64_t h, uint64_t len);

/** qcow2_is_meta() - is the cluster at @h metadata (fixed, an L2 table or a refcount block)? */
bool qcow2_is_meta(const struct qcow2 *q, uint64_t h);

/** qcow2_add_meta() - record the cluster at @h as an L2 table or refcount block.
 * Return: 0, -EEXIST when @h is metadata already, -ENOMEM. */
int qcow2_add_meta(struct qcow2 *q, uint64_t h);

/** qcow2_valid_cluster() - is @h the non-zero, cluster-aligned offset of a whole
 * cluster inside the file? */
bool qcow2_valid_cluster(const struct qcow2 *q, uint64_t h);

/** qcow2_alloc_cluster() - a new cluster at the end of the file.
 * Return: its offset, 0 when the file would pass 64 PiB. */
uint64_t qcow2_alloc_cluster(struct qcow2 *q);

/**
 * qcow2_update_refcount() - add @delta (+1 or -1) to the refcount of the cluster at
 * @h, allocating a refcount block (and growing the table) when needed.
 * Return: 0, -EIO (the image is inconsistent: underflow, overflow, bad block
 * offset), -ENOSPC or an I/O error.
 */
int qcow2_update_refcount(struct qcow2 *q, uint64_t h, int delta);

/** qcow2_free_entry() - drop the references old L2 entry @e held (after the new one
 * is durable); a failure leaks clusters. */
void qcow2_free_entry(struct qcow2 *q, uint64_t e);

/** qcow2_lookup_l2() - *@e = the L2 entry for guest offset @g (0: unallocated).
 * Return: 0 or -errno (-EIO: @g past the L1 table or a bad L2 table offset). */
int qcow2_lookup_l2(struct qcow2 *q, uint64_t g, uint64_t *e);

/** qcow2_set_l2() - make the L2 entry for guest offset @g be @val, allocating an L2
 * table when needed (refcount, table, flush, then the L1 entry). Return: 0 or -errno. */
int qcow2_set_l2(struct qcow2 *q, uint64_t g, uint64_t val);

/* ---- qcow2_header.c: checks at open ---- */

/**
 * qcow2_parse_header() - check header @h (the first cluster, at most 2 MiB, of a
 * file of @fsize bytes) and fill @q's geometry and table positions and bd->size.
 * @bfmt (32 bytes) and @bname (1024 bytes) get the backing format and file name,
 * or stay empty. Return: 0 or -EINVAL with @err filled.
 */
int qcow2_parse_header(struct blockdev *bd, struct qcow2 *q, const uint8_t *h, uint64_t fsize,
		       char *bfmt, char *bname, char *err, size_t errlen);

/**
 * qcow2_load_tables() - read the L1 and refcount tables into memory (host byte
 * order) and record every L2 table and refcount block they name as metadata,
 * refusing offsets outside the file or over other metadata.
 * Return: 0 or -EINVAL with @err filled.
 */
int qcow2_load_tables(struct blockdev *bd, struct qcow2 *q, char *err, size_t errlen);

#endif
