/* qcow2 header checks at open: version, geometry, features, table positions,
 * backing file name and format, then the L1 and refcount tables. Start-up only;
 * the image is hostile: nothing in it is used before it is checked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"

#define MAGIC 0x514649fbU
#define INC_DIRTY 1ULL
#define INC_CORRUPT 2ULL
#define INC_DATA_FILE 4ULL
#define INC_COMPRESSION 8ULL
#define INC_EXTL2 16ULL
#define INC_KNOWN 31ULL
#define EXT_BACKING_FMT 0xe2792acaU
#define EXT_FEATURES 0x6803f857U
#define MAX_L1_BYTES (32U << 20)
#define MAX_SIZE (1ULL << 54) /* 16 PiB of virtual disk */

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

int qcow2_parse_header(struct blockdev *bd, struct qcow2 *q, const uint8_t *h, uint64_t fsize,
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

int qcow2_load_tables(struct blockdev *bd, struct qcow2 *q, char *err, size_t errlen)
{
	uint64_t n = (uint64_t)q->rt_clusters * q->cs / 8;

	q->rt_entries = n;
	if (!(q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8)) || !(q->rt = calloc(n, 8)))
		OPEN_FAIL("out of memory");
	if (blockdev_pread_all(q->fd, q->l1, (size_t)q->l1_size * 8, q->l1_off) ||
	    blockdev_pread_all(q->fd, q->rt, (size_t)n * 8, q->rt_off))
		OPEN_FAIL("cannot read the L1 or refcount table (truncated file?)");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t rb = (q->rt[i] = be64(&q->rt[i])) & RT_MASK;

		if (!rb)
			continue;
		if (!qcow2_valid_cluster(q, rb) || qcow2_is_fixed_meta(q, rb, q->cs))
			OPEN_FAIL("refcount block %llu at 0x%llx is outside the file or overlaps "
				  "other metadata",
				  (unsigned long long)i, (unsigned long long)rb);
		if (qcow2_add_meta(q, rb))
			OPEN_FAIL("refcount block %llu overlaps other metadata",
				  (unsigned long long)i);
	}
	for (uint32_t i = 0; i < q->l1_size; i++) {
		uint64_t l2 = (q->l1[i] = be64(&q->l1[i])) & OFF_MASK;

		if (!l2)
			continue;
		if (!qcow2_valid_cluster(q, l2) || qcow2_is_fixed_meta(q, l2, q->cs))
			OPEN_FAIL("L1 entry %u points at 0x%llx: outside the file or over other "
				  "metadata",
				  i, (unsigned long long)l2);
		if (qcow2_add_meta(q, l2))
			OPEN_FAIL("L2 table %u overlaps other metadata", i);
	}
	return 0;
}
