/* Host tests for the block layer (vmm/block/blockdev.c, raw.c, qcow2.c): images
 * made and checked by the real qemu-img and qemu-io (QEMU 10), read and written
 * through wisp and compared byte for byte; hostile images. No /dev/kvm needed;
 * skipped when qemu-img is missing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "block/blockdev.h"
#include "evloop.h"

#include "img_test.h"

/* Every byte wisp reads from @name equals qemu-img convert -O raw of it. */
static void compare_with_qemu(const char *name, const char *fmt)
{
	struct blockdev *bd = open_img(name, fmt, true);
	uint64_t len, chunk = 3 * 65536 + 512 * 7;
	uint8_t *want, *got;

	if (!bd)
		fail_msg("%s", last_err);
	SHF("qemu-img convert -f %s -O raw %s cmp.raw", fmt, name);
	want = slurp("cmp.raw", &len);
	assert_int_equal(len, bd->size);
	got = malloc(chunk);
	for (uint64_t off = 0; off < len; off += chunk) {
		uint64_t n = len - off < chunk ? len - off : chunk;

		assert_int_equal(io(bd, BLOCKDEV_READ, off, got, n), (int64_t)n);
		if (memcmp(got, want + off, n)) {
			for (uint64_t i = 0; i < n; i++)
				if (got[i] != want[off + i])
					fail_msg("%s: byte %llu: wisp %#x, qemu %#x", name,
						 (unsigned long long)(off + i), got[i],
						 want[off + i]);
		}
	}
	free(got);
	free(want);
	blockdev_close(bd);
}

static void qemu_check_clean(const char *name)
{
	if (sh("cd %s && qemu-img check %s >check.out 2>&1", dir, name)) {
		sh("cat %s/check.out >&2", dir);
		fail_msg("qemu-img check %s is not clean", name);
	}
}

/* A fixed pattern of qemu-io writes: several clusters, some partial, some zeroed. */
static void fill_with_qemu_io(const char *name, bool zero)
{
	SHF("qemu-io -f qcow2 -c 'write -P 0x11 0 64k' -c 'write -P 0x22 100k 7k' "
	    "-c 'write -P 0x33 1M 1536' -c 'write -P 0x44 3M 1M' -c 'write -P 0x55 2047k 2k' %s",
	    name);
	if (zero)
		SHF("qemu-io -f qcow2 -c 'write -z 3M 256k' -c 'write -z 32k 512' %s", name);
}

static void test_qcow2_read_variants(void **state)
{
	static const char *compat[] = {"0.10", "1.1"};
	static const unsigned int cbits[] = {9, 12, 16, 21};

	(void)state;
	for (int c = 0; c < 2; c++)
		for (int k = 0; k < 4; k++) {
			SHF("rm -f v.qcow2 && qemu-img create -f qcow2 -o "
			    "compat=%s,cluster_size=%u v.qcow2 5M",
			    compat[c], 1U << cbits[k]);
			fill_with_qemu_io("v.qcow2", true);
			compare_with_qemu("v.qcow2", "qcow2");
		}
}

static void test_qcow2_compressed(void **state)
{
	static const char *types[] = {"zlib", "zstd"};

	(void)state;
	for (int t = 0; t < 2; t++) {
		struct blockdev *bd;
		uint8_t buf[8192];

		SH("rm -f s.qcow2 c.qcow2 && qemu-img create -f qcow2 s.qcow2 5M");
		fill_with_qemu_io("s.qcow2", false);
		SH("qemu-io -f qcow2 -c 'write -P 0x66 4M 64k' s.qcow2");
		SHF("qemu-img convert -c -f qcow2 -O qcow2 -o compression_type=%s,cluster_size=4k "
		    "s.qcow2 c.qcow2",
		    types[t]);
		compare_with_qemu("c.qcow2", "qcow2");
		/* writes over compressed clusters: copy-on-write, old clusters freed */
		if (!(bd = open_img("c.qcow2", "qcow2", false)))
			fail_msg("%s", last_err);
		memset(buf, 0x77, sizeof(buf));
		assert_int_equal(io(bd, BLOCKDEV_WRITE, 4 * 1048576 + 1024, buf, 4096), 4096);
		assert_int_equal(io(bd, BLOCKDEV_WRITE, 3 * 1048576 + 512, buf, 8192), 8192);
		assert_int_equal(io(bd, BLOCKDEV_FLUSH, 0, NULL, 0), 0);
		blockdev_close(bd);
		qemu_check_clean("c.qcow2");
		SH("qemu-io -f qcow2 -c 'read -P 0x77 4195328 4096' -c 'read -P 0x66 4194304 1024' "
		   "-c 'read -P 0x77 3146240 8192' c.qcow2 | grep -q 'read 8192'");
		compare_with_qemu("c.qcow2", "qcow2");
	}
}

static void test_qcow2_backing_chain(void **state)
{
	struct blockdev *bd;
	uint8_t buf[1024];

	(void)state;
	SH("rm -f base.raw mid.qcow2 top.qcow2 && qemu-img create -f raw base.raw 4M && "
	   "qemu-io -f raw -c 'write -P 0xa1 0 4M' base.raw && "
	   "qemu-img create -f qcow2 -b base.raw -F raw -o cluster_size=4k mid.qcow2 6M && "
	   "qemu-io -f qcow2 -c 'write -P 0xb2 8k 4k' -c 'write -P 0xb3 5M 4k' mid.qcow2 && "
	   "qemu-img create -f qcow2 -b mid.qcow2 -F qcow2 -o cluster_size=64k top.qcow2 6M && "
	   "qemu-io -f qcow2 -c 'write -P 0xc4 1M 512' -c 'write -z 2M 64k' top.qcow2");
	compare_with_qemu("top.qcow2", "qcow2");
	/* partial-cluster writes copy the rest from the chain */
	if (!(bd = open_img("top.qcow2", "qcow2", false)))
		fail_msg("%s", last_err);
	memset(buf, 0xd5, sizeof(buf));
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 8192 + 512, buf, 1024), 1024);
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 4 * 1048576 - 512, buf, 1024), 1024);
	blockdev_close(bd);
	qemu_check_clean("top.qcow2");
	compare_with_qemu("top.qcow2", "qcow2");
	SH("qemu-io -f qcow2 -c 'read -P 0xb2 8192 512' -c 'read -P 0xd5 8704 1024' "
	   "-c 'read -P 0xb2 9728 2560' -c 'read -P 0xa1 0 8192' top.qcow2 | grep -q 'read 2560'");
}

/* Random writes by wisp against a model; then qemu-img check and convert agree. */
static void random_writes(const char *name, uint64_t size, unsigned int seed, int count,
			  uint64_t maxlen)
{
	struct blockdev *bd;
	uint8_t *model, *buf = malloc(maxlen);
	uint64_t len;

	SHF("qemu-img convert -f qcow2 -O raw %s model.raw", name);
	model = slurp("model.raw", &len);
	assert_int_equal(len, size);
	if (!(bd = open_img(name, "qcow2", false)))
		fail_msg("%s", last_err);
	srand(seed);
	for (int i = 0; i < count; i++) {
		uint64_t n = 512 * (1 + (uint64_t)rand() % (maxlen / 512));
		uint64_t off = 512 * ((uint64_t)rand() % ((size - n) / 512 + 1));
		int kind = rand() % 8;

		if (kind == 0) {
			assert_int_equal(io(bd, BLOCKDEV_WRITE_ZEROES, off, NULL, n), 0);
			memset(model + off, 0, n);
		} else if (kind == 1) {
			assert_int_equal(io(bd, BLOCKDEV_DISCARD, off, NULL, n), 0);
			memset(model + off, 0, n);
		} else {
			memset(buf, (int)(rand() & 0xff), n);
			for (uint64_t k = 0; k < n; k += 512)
				buf[k] = (uint8_t)i;
			assert_int_equal(io(bd, BLOCKDEV_WRITE, off, buf, n), (int64_t)n);
			memcpy(model + off, buf, n);
		}
		if (i % 7 == 0) { /* read some of it back */
			assert_int_equal(io(bd, BLOCKDEV_READ, off, buf, n), (int64_t)n);
			assert_memory_equal(buf, model + off, n);
		}
	}
	assert_int_equal(io(bd, BLOCKDEV_FLUSH, 0, NULL, 0), 0);
	blockdev_close(bd);
	qemu_check_clean(name);
	SHF("qemu-img convert -f qcow2 -O raw %s after.raw", name);
	free(buf);
	buf = slurp("after.raw", &len);
	assert_int_equal(len, size);
	for (uint64_t i = 0; i < size; i++)
		if (buf[i] != model[i])
			fail_msg("%s: byte %llu is %#x, want %#x", name, (unsigned long long)i,
				 buf[i], model[i]);
	free(buf);
	free(model);
}

static void test_qcow2_write_variants(void **state)
{
	static const char *opts[] = {
		"compat=0.10,cluster_size=512",
		"compat=1.1,cluster_size=512,refcount_bits=1",
		"compat=1.1,cluster_size=4k,refcount_bits=64",
		"compat=1.1,cluster_size=64k",
		"compat=1.1,cluster_size=2M",
		"compat=0.10,cluster_size=64k,preallocation=metadata",
		"compat=1.1,cluster_size=64k,preallocation=metadata",
		"compat=1.1,cluster_size=4k,preallocation=falloc",
		"compat=1.1,cluster_size=4k,preallocation=full",
		"compat=1.1,cluster_size=4k,lazy_refcounts=on",
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		SHF("rm -f w.qcow2 && qemu-img create -f qcow2 -o %s w.qcow2 6M", opts[i]);
		fill_with_qemu_io("w.qcow2", strstr(opts[i], "1.1") != NULL);
		random_writes("w.qcow2", 6 << 20, i, 60, 200 * 1024);
	}
	/* on top of a backing file, and of compressed clusters */
	SH("rm -f b.raw w.qcow2 && qemu-img create -f raw b.raw 6M && "
	   "qemu-io -f raw -c 'write -P 0x5a 0 6M' b.raw && "
	   "qemu-img create -f qcow2 -b b.raw -F raw -o cluster_size=16k w.qcow2 6M");
	random_writes("w.qcow2", 6 << 20, 100, 60, 100 * 1024);
	SH("rm -f w.qcow2 && qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd "
	   "b.raw w.qcow2");
	random_writes("w.qcow2", 6 << 20, 101, 60, 100 * 1024);
}

/* 512-byte clusters, 16-bit refcounts: one refcount table cluster covers 8 MiB,
 * so filling 13 MiB grows the table (and allocates refcount blocks). */
static void test_qcow2_refcount_growth(void **state)
{
	struct blockdev *bd;
	uint8_t *buf = malloc(1 << 20);

	(void)state;
	SH("rm -f g.qcow2 && qemu-img create -f qcow2 -o cluster_size=512 g.qcow2 16M");
	if (!(bd = open_img("g.qcow2", "qcow2", false)))
		fail_msg("%s", last_err);
	for (int i = 0; i < 13; i++) {
		memset(buf, 0x30 + i, 1 << 20);
		assert_int_equal(io(bd, BLOCKDEV_WRITE, (uint64_t)i << 20, buf, 1 << 20), 1 << 20);
	}
	blockdev_close(bd);
	qemu_check_clean("g.qcow2");
	SH("qemu-io -f qcow2 -c 'read -P 0x30 0 1M' -c 'read -P 0x3c 12M 1M' g.qcow2 | "
	   "grep -c '^read' | grep -q 2");
	free(buf);
}

static void test_raw_through_blockdev(void **state)
{
	(void)state;
	SH("rm -f r.raw && qemu-img create -f raw r.raw 1M && "
	   "qemu-io -f raw -c 'write -P 0x42 4k 8k' r.raw");
	compare_with_qemu("r.raw", "raw");
}

/* SIGKILL in the middle of allocating writes (new L2 tables, refcount blocks, a
 * growing refcount table): qemu-img check may find leaks, never corruption. */
static void test_qcow2_sigkill(void **state)
{
	static const int delays_ms[] = {5, 50, 200, 600};

	(void)state;
	for (unsigned int d = 0; d < sizeof(delays_ms) / sizeof(delays_ms[0]); d++) {
		pid_t pid;
		int st;

		SH("rm -f k.qcow2 && qemu-img create -f qcow2 -o cluster_size=512 k.qcow2 64M");
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			uint8_t buf[4096];
			struct blockdev *bd;

			if (evloop_init(&loop) || !(bd = open_img("k.qcow2", "qcow2", false)))
				_exit(1);
			for (unsigned int i = 0;; i++) {
				memset(buf, (int)i, sizeof(buf));
				/* scattered, partial and whole clusters */
				io(bd, BLOCKDEV_WRITE,
				   ((uint64_t)i * 262144 + (i % 7) * 512) % (63 << 20), buf,
				   512 * (1 + i % 8));
			}
		}
		usleep((useconds_t)delays_ms[d] * 1000);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		/* the kernel may finish the dead writer's io_uring (and so drop its
		 * reference to the file, and its image locks) a moment after its death */
		for (int i = 0; i < 100; i++) {
			struct blockdev *w = open_img("k.qcow2", "qcow2", true);

			if (w) {
				blockdev_close(w);
				break;
			}
			usleep(50000);
		}
		if (d == sizeof(delays_ms) / sizeof(delays_ms[0]) - 1) { /* it did write */
			uint64_t len;

			free(slurp("k.qcow2", &len));
			if (len < 200 * 1024)
				fail_msg("the writer wrote nothing (%llu bytes)",
					 (unsigned long long)len);
		}
		st = sh("cd %s && qemu-img check k.qcow2 >check.out 2>&1", dir);
		if (st != 0 && st != 3) {
			sh("cat %s/check.out >&2", dir);
			fail_msg("qemu-img check after SIGKILL at %d ms: status %d", delays_ms[d],
				 st);
		}
	}
}

/* ---- hostile images ---- */

static void patch(const char *name, uint64_t off, const void *bytes, size_t n)
{
	char p[256];
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void patch64(const char *name, uint64_t off, uint64_t v)
{
	v = __builtin_bswap64(v);
	patch(name, off, &v, 8);
}

static void patch32(const char *name, uint64_t off, uint32_t v)
{
	v = __builtin_bswap32(v);
	patch(name, off, &v, 4);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static void fresh(void)
{
	SH("rm -f h.qcow2 && qemu-img create -f qcow2 -o cluster_size=4k h.qcow2 1M && "
	   "qemu-io -f qcow2 -c 'write -P 0x11 0 8k' h.qcow2");
}

static void refused(const char *why)
{
	struct blockdev *bd = open_img("h.qcow2", "qcow2", false);

	if (bd)
		fail_msg("opened an image with %s", why);
	if (!strstr(last_err, "qcow2"))
		fail_msg("unclear message for %s: %s", why, last_err);
}

static void test_qcow2_hostile_headers(void **state)
{
	struct blockdev *bd;
	uint8_t *img;
	uint64_t len;

	(void)state;
	fresh(), patch32("h.qcow2", 0, 0x514649fa), refused("bad magic");
	fresh(), patch32("h.qcow2", 4, 4), refused("version 4");
	fresh(), patch32("h.qcow2", 20, 8), refused("cluster_bits 8");
	fresh(), patch32("h.qcow2", 20, 22), refused("cluster_bits 22");
	fresh(), patch64("h.qcow2", 24, 1ULL << 62), refused("absurd size");
	fresh(), patch64("h.qcow2", 24, 1ULL << 40), refused("L1 too small");
	fresh(), patch32("h.qcow2", 32, 1), refused("encryption");
	fresh(), patch32("h.qcow2", 36, 1U << 30), refused("huge L1");
	fresh(), patch64("h.qcow2", 40, 1ULL << 40), refused("L1 past EOF");
	fresh(), patch64("h.qcow2", 40, 0), refused("L1 over the header");
	fresh(), patch64("h.qcow2", 40, 4097), refused("unaligned L1");
	fresh(), patch64("h.qcow2", 48, 0), refused("refcount table at 0");
	fresh(), patch32("h.qcow2", 56, 1U << 30), refused("huge refcount table");
	fresh(), patch64("h.qcow2", 72, 1ULL << 40), refused("unknown incompatible feature");
	fresh(), patch64("h.qcow2", 72, 4), refused("external data file");
	fresh(), patch64("h.qcow2", 72, 16), refused("extended L2");
	fresh(), patch64("h.qcow2", 72, 1), refused("dirty bit, writable");
	fresh(), patch64("h.qcow2", 72, 2), refused("corrupt bit, writable");
	fresh(), patch32("h.qcow2", 96, 7), refused("refcount_order 7");
	fresh(), patch32("h.qcow2", 100, 8), refused("header_length 8");
	fresh(), patch64("h.qcow2", 8, 4000), patch32("h.qcow2", 16, 500),
		refused("backing name past the cluster");
	/* overlapping metadata: the L1 entry points at the refcount table */
	fresh();
	img = slurp("h.qcow2", &len);
	patch64("h.qcow2", get64(img + 40), get64(img + 48) | (1ULL << 63));
	refused("an L2 table over the refcount table");
	free(img);
	/* truncated file */
	fresh(), SH("truncate -s 100 h.qcow2"), refused("a truncated file");
	fresh(), SH("truncate -s 5000 h.qcow2"), refused("a truncated file");
	/* the dirty and corrupt bits still allow readonly=on */
	fresh(), patch64("h.qcow2", 72, 1);
	if (!(bd = open_img("h.qcow2", "qcow2", true)))
		fail_msg("dirty image refused read-only: %s", last_err);
	blockdev_close(bd);
}

static void test_qcow2_backing_hostile(void **state)
{
	uint8_t *img, *ext;
	uint64_t len;

	(void)state;
	SH("rm -f a.qcow2 b.qcow2 && qemu-img create -f qcow2 a.qcow2 1M && "
	   "qemu-img create -f qcow2 -b a.qcow2 -F qcow2 b.qcow2 1M && "
	   "qemu-img rebase -u -f qcow2 -b b.qcow2 -F qcow2 a.qcow2");
	assert_null(open_img("b.qcow2", "qcow2", false));
	assert_non_null(strstr(last_err, "loop"));
	SH("rm -f a.qcow2 && qemu-img create -f qcow2 a.qcow2 1M && "
	   "qemu-img rebase -u -f qcow2 -b a.qcow2 -F qcow2 a.qcow2");
	assert_null(open_img("a.qcow2", "qcow2", true));
	assert_non_null(strstr(last_err, "loop"));
	/* a chain deeper than the limit */
	SH("rm -f d*.qcow2 && qemu-img create -f qcow2 d0.qcow2 1M && for i in $(seq 1 20); do "
	   "qemu-img create -f qcow2 -b d$((i-1)).qcow2 -F qcow2 d$i.qcow2 1M || exit 1; done");
	assert_null(open_img("d20.qcow2", "qcow2", true));
	assert_non_null(strstr(last_err, "deeper"));
	struct blockdev *bd = open_img("d10.qcow2", "qcow2", true);

	assert_non_null(bd);
	blockdev_close(bd);
	/* no backing format: not probed */
	SH("rm -f nf.qcow2 && qemu-img create -f qcow2 -b d0.qcow2 -F qcow2 nf.qcow2 1M");
	img = slurp("nf.qcow2", &len);
	ext = memmem(img, 4096, "\xe2\x79\x2a\xca", 4);
	assert_non_null(ext);
	patch32("nf.qcow2", (uint64_t)(ext - img), 0); /* the end of the extensions */
	free(img);
	assert_null(open_img("nf.qcow2", "qcow2", true));
	assert_non_null(strstr(last_err, "backing format"));
}

/* L2 entries that lie: only the affected request fails, and guest data never
 * lands on metadata. */
static void test_qcow2_hostile_entries(void **state)
{
	struct blockdev *bd;
	uint8_t buf[4096], *img;
	uint64_t len, l2, rt;

	(void)state;
	fresh();
	img = slurp("h.qcow2", &len);
	l2 = get64(img + get64(img + 40)) & 0x00fffffffffffe00ULL;
	rt = get64(img + 48);
	free(img);
	/* cluster 0: past EOF; cluster 1: the refcount table, marked COPIED;
	 * cluster 2: a compressed extent past EOF */
	patch64("h.qcow2", l2, (1ULL << 63) | (1ULL << 40));
	patch64("h.qcow2", l2 + 8, rt | (1ULL << 63));
	patch64("h.qcow2", l2 + 16, (1ULL << 62) | (1ULL << 50));
	if (!(bd = open_img("h.qcow2", "qcow2", false)))
		fail_msg("%s", last_err);
	assert_true(io(bd, BLOCKDEV_READ, 0, buf, 4096) < 0);
	assert_true(io(bd, BLOCKDEV_WRITE, 0, buf, 4096) < 0);
	memset(buf, 0xee, sizeof(buf));
	assert_true(io(bd, BLOCKDEV_WRITE, 4096, buf, 4096) < 0);
	assert_true(io(bd, BLOCKDEV_READ, 8192, buf, 512) < 0);
	/* other clusters still work */
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 65536, buf, 4096), 4096);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(io(bd, BLOCKDEV_READ, 65536, buf, 4096), 4096);
	assert_int_equal(buf[100], 0xee);
	blockdev_close(bd);
	img = slurp("h.qcow2", &len);
	assert_int_equal(img[0], 'Q');
	for (uint64_t i = 0; i < 4096; i++)
		if (img[i] == 0xee || img[rt + i] == 0xee)
			fail_msg("guest data in the header or refcount table");
	free(img);
	/* out-of-range requests */
	SH("qemu-img create -f qcow2 h.qcow2 1M");
	assert_non_null(bd = open_img("h.qcow2", "qcow2", false));
	assert_int_equal(io(bd, BLOCKDEV_READ, 1048576 - 512, buf, 1024), -EINVAL);
	blockdev_close(bd);
	assert_non_null(bd = open_img("h.qcow2", "qcow2", true));
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 0, buf, 512), -EROFS);
	blockdev_close(bd);
}

/* Refcount overflow: 1-bit refcounts whose block already says "used" for the
 * clusters allocation would take: the write fails, nothing is corrupted. */
static void test_qcow2_refcount_overflow(void **state)
{
	struct blockdev *bd;
	uint8_t buf[4096], *img, ones[512];
	uint64_t len, rb;

	(void)state;
	SH("rm -f h.qcow2 && qemu-img create -f qcow2 -o cluster_size=4k,refcount_bits=1 "
	   "h.qcow2 1M");
	img = slurp("h.qcow2", &len);
	rb = get64(img + get64(img + 48));
	free(img);
	memset(ones, 0xff, sizeof(ones));
	patch("h.qcow2", rb, ones, sizeof(ones));
	if (!(bd = open_img("h.qcow2", "qcow2", false)))
		fail_msg("%s", last_err);
	memset(buf, 1, sizeof(buf));
	assert_true(io(bd, BLOCKDEV_WRITE, 0, buf, 4096) < 0);
	blockdev_close(bd);
}

static int setup(void **state)
{
	(void)state;
	return img_setup("/tmp/wisp-block.XXXXXX");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_through_blockdev),
		cmocka_unit_test(test_qcow2_read_variants),
		cmocka_unit_test(test_qcow2_compressed),
		cmocka_unit_test(test_qcow2_backing_chain),
		cmocka_unit_test(test_qcow2_write_variants),
		cmocka_unit_test(test_qcow2_refcount_growth),
		cmocka_unit_test(test_qcow2_sigkill),
		cmocka_unit_test(test_qcow2_hostile_headers),
		cmocka_unit_test(test_qcow2_backing_hostile),
		cmocka_unit_test(test_qcow2_hostile_entries),
		cmocka_unit_test(test_qcow2_refcount_overflow),
	};

	if (sh("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null")) {
		printf("1..0 # SKIP qemu-img or qemu-io missing\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, img_teardown);
}
