/* Host tests for vpc (VHD) images (vmm/block/vpc.c) and image locks
 * (vmm/block/blockdev.c): images made by the real qemu-img and qemu-io (QEMU 10),
 * read and written through wisp and compared byte for byte; hostile images;
 * locks against a second wisp and against qemu-io / qemu-system. No /dev/kvm
 * needed; skipped when qemu-img is missing. */
#include <errno.h>
#include <fcntl.h>
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

#include <setjmp.h>

#include <cmocka.h>

#include "block/blockdev.h"
#include "evloop.h"

#include "img_test.h"

/* qemu-img info's virtual size of @name read as vpc. */
static uint64_t qemu_size(const char *name)
{
	char p[256], line[256];
	unsigned long long v = 0;
	FILE *f;

	SHF("qemu-img info -U -f vpc --output=json %s | "
	    "sed -n 's/^    \"virtual-size\": *\\([0-9]*\\).*/\\1/p' > size.out",
	    name);
	path_of(p, sizeof(p), "size.out");
	f = fopen(p, "r");
	assert_non_null(f);
	if (fgets(line, sizeof(line), f))
		v = strtoull(line, NULL, 10);
	fclose(f);
	return v;
}

/* Every byte wisp reads from @name equals qemu-img convert -O raw of it. */
static void compare_with_qemu(const char *name)
{
	struct blockdev *bd = open_img(name, "vpc", true);
	uint64_t len, chunk = 3 * 65536 + 512 * 7;
	uint8_t *want, *got;

	if (!bd)
		fail_msg("%s", last_err);
	SHF("qemu-img convert -U -f vpc -O raw %s cmp.raw", name);
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

/*
 * After a crash: wisp and QEMU read the same, except where the last write had
 * reached its sectors but not yet their bitmap bits (QEMU ignores the bitmaps of
 * allocated blocks): there wisp reads zeroes. One request is in flight at most.
 */
static void compare_after_crash(const char *name)
{
	struct blockdev *bd = open_img(name, "vpc", true);
	uint64_t len, first = UINT64_MAX, last = 0;
	uint8_t *want, *got;

	if (!bd)
		fail_msg("%s", last_err);
	SHF("qemu-img convert -f vpc -O raw %s cmp.raw", name);
	want = slurp("cmp.raw", &len);
	assert_int_equal(len, bd->size);
	got = malloc(len);
	assert_int_equal(io(bd, BLOCKDEV_READ, 0, got, len), (int64_t)len);
	blockdev_close(bd);
	for (uint64_t i = 0; i < len; i++)
		if (got[i] != want[i]) {
			if (got[i])
				fail_msg("%s: byte %llu: wisp %#x, qemu %#x", name,
					 (unsigned long long)i, got[i], want[i]);
			first = first < i ? first : i;
			last = i;
		}
	if (first != UINT64_MAX && last - first >= 4096)
		fail_msg("%s: wisp and qemu differ over bytes %llu..%llu", name,
			 (unsigned long long)first, (unsigned long long)last);
	free(got);
	free(want);
}

/* Patterns at the start, across blocks, partial sectors runs and the last sector. */
static void fill_with_qemu_io(const char *name, uint64_t size)
{
	uint64_t across = size > (4 << 20) ? (2047 << 10) : size / 4 & ~511ULL;

	SHF("qemu-io -f vpc -c 'write -P 0x11 0 64k' -c 'write -P 0x22 100k 7k' "
	    "-c 'write -P 0x33 %llu 2k' -c 'write -P 0x44 %llu 512' -c 'write -P 0x55 %llu 4k' %s",
	    (unsigned long long)across, (unsigned long long)(size - 512),
	    (unsigned long long)(size / 2 & ~511ULL), name);
}

static void test_vpc_read(void **state)
{
	static const char *sizes[] = {"1M", "5M", "9999k", "33M", "127M"};
	static const char *subs[] = {"fixed", "dynamic"};

	(void)state;
	for (int s = 0; s < 5; s++)
		for (int k = 0; k < 2; k++)
			for (int force = 0; force < 2; force++) {
				uint64_t size;

				SHF("rm -f v.vhd && qemu-img create -f vpc -o "
				    "subformat=%s,force_size=%s v.vhd %s",
				    subs[k], force ? "on" : "off", sizes[s]);
				size = qemu_size("v.vhd");
				fill_with_qemu_io("v.vhd", size);
				compare_with_qemu("v.vhd");
			}
}

/* A big sparse disk whose geometry is the CHS maximum: current_size rules. */
static void test_vpc_large(void **state)
{
	struct blockdev *bd;
	uint8_t buf[4096];

	(void)state;
	SH("rm -f big.vhd && qemu-img create -f vpc big.vhd 200G && "
	   "qemu-io -f vpc -c 'write -P 0x66 150G 4k' -c 'write -P 0x67 0 512' big.vhd");
	if (!(bd = open_img("big.vhd", "vpc", false)))
		fail_msg("%s", last_err);
	assert_int_equal(bd->size, qemu_size("big.vhd"));
	assert_int_equal(bd->size, 200ULL << 30);
	assert_int_equal(io(bd, BLOCKDEV_READ, 150ULL << 30, buf, 4096), 4096);
	assert_int_equal(buf[0], 0x66);
	assert_int_equal(buf[4095], 0x66);
	memset(buf, 0x68, sizeof(buf));
	assert_int_equal(io(bd, BLOCKDEV_WRITE, (200ULL << 30) - 4096, buf, 4096), 4096);
	blockdev_close(bd);
	SH("qemu-io -f vpc -c 'read -P 0x68 214748360704 4096' -c 'read -P 0x67 0 512' "
	   "-c 'read -P 0 512 3584' big.vhd | grep -q 'read 3584'");
}

/* ---- footer editing ---- */

static uint32_t be32_of(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64_of(const uint8_t *p)
{
	return (uint64_t)be32_of(p) << 32 | be32_of(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void fix_checksum(uint8_t *p, size_t len, size_t at)
{
	uint32_t sum = 0;

	put_be32(p + at, 0);
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	put_be32(p + at, ~sum);
}

static void write_file(const char *name, const uint8_t *buf, uint64_t len)
{
	char p[256];
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, (size_t)len), (ssize_t)len);
	close(fd);
}

/* Change @n bytes at @at of the footer (both copies of a dynamic disk), then fix
 * the checksums unless @keep_sum. */
static void patch_footer(const char *name, size_t at, const void *bytes, size_t n, bool keep_sum)
{
	uint64_t len;
	uint8_t *img = slurp(name, &len), *end = img + len - 512;

	memcpy(end + at, bytes, n);
	if (!keep_sum)
		fix_checksum(end, 512, 64);
	if (!memcmp(img, "conectix", 8)) {
		memcpy(img + at, bytes, n);
		if (!keep_sum)
			fix_checksum(img, 512, 64);
	}
	write_file(name, img, len);
	free(img);
}

/* Change the dynamic header (at offset 512 in QEMU's images). */
static void patch_header(const char *name, size_t at, const void *bytes, size_t n, bool keep_sum)
{
	uint64_t len;
	uint8_t *img = slurp(name, &len), *h = img + be64_of(img + len - 512 + 16);

	memcpy(h + at, bytes, n);
	if (!keep_sum)
		fix_checksum(h, 1024, 36);
	write_file(name, img, len);
	free(img);
}

/* The creator application decides between CHS and current_size, as in QEMU. */
static void test_vpc_creators(void **state)
{
	static const char *apps[] = {"vpc ", "qemu", "win ", "d2v ", "CTXS", "tap",
				     "qem2", "abcd", "VPC ", "vpc",  ""};
	static const char *subs[] = {"fixed", "dynamic"};
	uint8_t cur[8];

	(void)state;
	for (int k = 0; k < 2; k++)
		for (int a = 0; a < 11; a++) {
			uint8_t app[4] = {0};
			struct blockdev *bd;

			memcpy(app, apps[a], strlen(apps[a]));
			SHF("rm -f c.vhd && qemu-img create -f vpc -o subformat=%s c.vhd 20M && "
			    "qemu-io -f vpc -c 'write -P 0x71 0 1M' c.vhd",
			    subs[k]);
			/* current_size 1 MiB below what the geometry says */
			put_be64(cur, (20ULL << 20) - (1 << 20) + 512 * 3);
			patch_footer("c.vhd", 48, cur, 8, false);
			patch_footer("c.vhd", 28, app, 4, false);
			if (!(bd = open_img("c.vhd", "vpc", true)))
				fail_msg("%s: %s", apps[a], last_err);
			if (bd->size != qemu_size("c.vhd"))
				fail_msg("creator '%s': wisp says %llu bytes, qemu-img %llu",
					 apps[a], (unsigned long long)bd->size,
					 (unsigned long long)qemu_size("c.vhd"));
			blockdev_close(bd);
			compare_with_qemu("c.vhd");
		}
}

/* Random writes by wisp against a model; qemu-img compare agrees; qemu-io then
 * writes more and wisp reads what QEMU sees. */
static void random_writes(const char *name, unsigned int seed, int count, uint64_t maxlen)
{
	struct blockdev *bd;
	uint8_t *model, *buf = malloc(maxlen);
	uint64_t len, size;

	SHF("qemu-img convert -f vpc -O raw %s model.raw", name);
	model = slurp("model.raw", &size);
	if (!(bd = open_img(name, "vpc", false)))
		fail_msg("%s", last_err);
	assert_int_equal(bd->size, size);
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
			memset(buf, (int)(rand() & 0xff) | 1, n);
			for (uint64_t k = 0; k < n; k += 512)
				buf[k] = (uint8_t)i;
			assert_int_equal(io(bd, BLOCKDEV_WRITE, off, buf, n), (int64_t)n);
			memcpy(model + off, buf, n);
		}
		if (i % 5 == 0) {
			assert_int_equal(io(bd, BLOCKDEV_READ, off, buf, n), (int64_t)n);
			assert_memory_equal(buf, model + off, n);
		}
	}
	assert_int_equal(io(bd, BLOCKDEV_FLUSH, 0, NULL, 0), 0);
	blockdev_close(bd);
	free(buf);
	write_file("model.raw", model, size);
	if (sh("cd %s && qemu-img compare -f vpc -F raw %s model.raw >cmp.out 2>&1", dir, name)) {
		sh("cat %s/cmp.out >&2", dir);
		fail_msg("qemu-img compare: %s differs from the model", name);
	}
	/* qemu-img check has no vpc support: it must say so, not find errors */
	assert_true(sh("cd %s && qemu-img check -f vpc %s >/dev/null 2>&1", dir, name) != 2);
	/* the other way round: QEMU writes into blocks wisp allocated */
	SHF("qemu-io -f vpc -c 'write -P 0xe1 %llu 1536' %s",
	    (unsigned long long)(size / 3 & ~511ULL), name);
	compare_with_qemu(name);
	(void)len;
	free(model);
}

static void test_vpc_write(void **state)
{
	static const char *opts[] = {"subformat=dynamic", "subformat=fixed",
				     "subformat=dynamic,force_size=on",
				     "subformat=fixed,force_size=on"};
	static const char *sizes[] = {"9999k", "7M", "6M", "3M"};

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t size;

		SHF("rm -f w.vhd && qemu-img create -f vpc -o %s w.vhd %s", opts[i], sizes[i]);
		size = qemu_size("w.vhd");
		fill_with_qemu_io("w.vhd", size);
		random_writes("w.vhd", i, 80, 300 * 1024);
	}
	/* an empty dynamic disk, small writes scattered over many blocks */
	SH("rm -f w.vhd && qemu-img create -f vpc w.vhd 40M");
	random_writes("w.vhd", 77, 60, 4096);
}

/* A small dynamic disk with 4 KiB blocks, written by hand: bitmaps decide which
 * sectors hold data (bit 7 of byte 0 is sector 0); QEMU reads the same image. */
static void test_vpc_bitmaps(void **state)
{
	uint8_t img[512 + 1024 + 512 + 2 * (512 + 4096) + 512] = {0}, buf[8192];
	uint8_t *f = img + sizeof(img) - 512, *h = img + 512;
	struct blockdev *bd;

	(void)state;
	memcpy(f, "conectix", 8);
	put_be32(f + 8, 2), put_be32(f + 12, 0x10000), put_be64(f + 16, 512);
	memcpy(f + 28, "win ", 4);
	put_be64(f + 40, 16384), put_be64(f + 48, 16384), put_be32(f + 60, 3);
	fix_checksum(f, 512, 64);
	memcpy(img, f, 512);
	memcpy(h, "cxsparse", 8);
	put_be64(h + 8, ~0ULL), put_be64(h + 16, 1536), put_be32(h + 24, 0x10000);
	put_be32(h + 28, 4), put_be32(h + 32, 4096);
	fix_checksum(h, 1024, 36);
	memset(img + 1536, 0xff, 512);
	put_be32(img + 1536 + 4, 2048 / 512);		/* block 1 */
	put_be32(img + 1536 + 12, (2048 + 4608) / 512); /* block 3 */
	img[2048] = 0xa0;				/* block 1: sectors 0 and 2 */
	memset(img + 2048 + 512, 0x5b, 4096);
	img[2048 + 4608] = 0x01; /* block 3: sector 7 */
	memset(img + 2048 + 4608 + 512, 0x6c, 4096);
	SH("rm -f b.vhd && touch b.vhd");
	write_file("b.vhd", img, sizeof(img));
	if (!(bd = open_img("b.vhd", "vpc", false)))
		fail_msg("%s", last_err);
	assert_int_equal(bd->size, 16384);
	assert_int_equal(io(bd, BLOCKDEV_READ, 0, buf, 8192), 8192);
	for (int s = 0; s < 16; s++)
		for (int i = 0; i < 512; i++)
			assert_int_equal(buf[s * 512 + i], s == 8 || s == 10 ? 0x5b : 0);
	assert_int_equal(io(bd, BLOCKDEV_READ, 8192, buf, 8192), 8192);
	for (int s = 0; s < 16; s++)
		assert_int_equal(buf[s * 512 + 7], s == 15 ? 0x6c : 0);
	/* a write to sector 1 of block 1 sets its bit, the others stay */
	memset(buf, 0x3d, 512);
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 4096 + 512, buf, 512), 512);
	blockdev_close(bd);
	uint64_t len;
	uint8_t *after = slurp("b.vhd", &len);

	assert_int_equal(len, sizeof(img));
	assert_int_equal(after[2048], 0xe0);
	free(after);
	/* QEMU ignores the bitmaps of allocated blocks (it sets all bits when it
	 * allocates); the sectors it sees differ only where a bit is clear */
	SH("qemu-io -f vpc -c 'read -P 0x5b 4096 512' -c 'read -P 0x3d 4608 512' "
	   "-c 'read -P 0 0 4096' b.vhd | grep -q 'read 4096'");
	/* 512-byte blocks: one bitmap sector each (the fuzzer's seed) */
	const char *src = getenv("WISP_SRC");

	if (src) {
		SHF("cp %s/host-tests/fuzz/seeds/vhd/dynamic-512 b.vhd", src);
		if (!(bd = open_img("b.vhd", "vpc", false)))
			fail_msg("%s", last_err);
		assert_int_equal(bd->size, 16384);
		for (int blk = 0; blk < 32; blk++) {
			assert_int_equal(io(bd, BLOCKDEV_READ, blk * 512, buf, 512), 512);
			assert_int_equal(buf[17], blk == 0 ? 1 : blk == 5 ? 2 : blk == 31 ? 3 : 0);
		}
		memset(buf, 0x4e, 1024);
		assert_int_equal(io(bd, BLOCKDEV_WRITE, 512 * 9, buf, 1024), 1024);
		assert_int_equal(io(bd, BLOCKDEV_READ, 512 * 8, buf, 2048), 2048);
		assert_int_equal(buf[0], 0);
		assert_int_equal(buf[512], 0x4e);
		assert_int_equal(buf[1535], 0x4e);
		assert_int_equal(buf[1536], 0);
		blockdev_close(bd);
	}
}

/* SIGKILL in the middle of allocating writes: the image still opens, in wisp
 * and in QEMU, and both read the same. */
static void test_vpc_sigkill(void **state)
{
	static const int delays_ms[] = {5, 50, 200, 500};

	(void)state;
	for (unsigned int d = 0; d < sizeof(delays_ms) / sizeof(delays_ms[0]); d++) {
		pid_t pid;
		int st;

		SH("rm -f k.vhd && qemu-img create -f vpc k.vhd 64M");
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			uint8_t buf[4096];
			struct blockdev *bd;

			if (evloop_init(&loop) || !(bd = open_img("k.vhd", "vpc", false)))
				_exit(1);
			for (unsigned int i = 0;; i++) {
				memset(buf, (int)i | 1, sizeof(buf));
				io(bd, BLOCKDEV_WRITE,
				   ((uint64_t)i * 1310720 + (i % 7) * 512) % (60 << 20), buf,
				   512 * (1 + i % 8));
			}
		}
		usleep((useconds_t)delays_ms[d] * 1000);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		/* the kernel may finish the dead writer's io_uring (and so drop its
		 * reference to the file and the locks) a moment after its death */
		for (int i = 0; i < 100; i++) {
			struct blockdev *w = open_img("k.vhd", "vpc", true);

			if (w) {
				blockdev_close(w);
				break;
			}
			usleep(50000);
		}
		compare_after_crash("k.vhd");
		/* and it stays writable */
		struct blockdev *bd = open_img("k.vhd", "vpc", false);
		uint8_t buf[512];

		if (!bd)
			fail_msg("after SIGKILL at %d ms: %s", delays_ms[d], last_err);
		memset(buf, 0x42, sizeof(buf));
		assert_int_equal(io(bd, BLOCKDEV_WRITE, 63 << 20, buf, 512), 512);
		blockdev_close(bd);
		SH("qemu-io -f vpc -c 'read -P 0x42 66060288 512' k.vhd | grep -q 'read 512'");
	}
}

/* ---- hostile images ---- */

static void fresh(const char *sub)
{
	SHF("rm -f h.vhd && qemu-img create -f vpc -o subformat=%s h.vhd 5M && "
	    "qemu-io -f vpc -c 'write -P 0x11 0 8k' -c 'write -P 0x12 3M 4k' h.vhd",
	    sub);
}

static void refused(const char *why)
{
	struct blockdev *bd = open_img("h.vhd", "vpc", false);

	if (bd)
		fail_msg("opened an image with %s", why);
	if (!strstr(last_err, "vpc"))
		fail_msg("unclear message for %s: %s", why, last_err);
}

static void test_vpc_hostile(void **state)
{
	uint8_t b4[4], b8[8], *img;
	uint64_t len, bat;

	(void)state;
	/* footers */
	fresh("fixed"), patch_footer("h.vhd", 0, "conectiX", 8, false), refused("bad cookie");
	fresh("fixed"), patch_footer("h.vhd", 40, "\1", 1, true), refused("bad checksum");
	fresh("dynamic"), patch_footer("h.vhd", 40, "\1", 1, true), refused("bad checksums");
	put_be32(b4, 4);
	fresh("dynamic"), patch_footer("h.vhd", 60, b4, 4, false), refused("differencing");
	assert_non_null(strstr(last_err, "differencing"));
	put_be32(b4, 7);
	fresh("fixed"), patch_footer("h.vhd", 60, b4, 4, false), refused("disk type 7");
	put_be64(b8, 1ULL << 50);
	fresh("fixed"), patch_footer("h.vhd", 28, "win ", 4, false),
		patch_footer("h.vhd", 48, b8, 8, false), refused("an absurd size");
	put_be64(b8, 6 << 20);
	fresh("fixed"), patch_footer("h.vhd", 28, "win ", 4, false),
		patch_footer("h.vhd", 48, b8, 8, false), refused("a size past the file");
	put_be64(b8, 1ULL << 40);
	fresh("dynamic"), patch_footer("h.vhd", 16, b8, 8, false), refused("header past EOF");
	put_be64(b8, 0);
	fresh("dynamic"), patch_footer("h.vhd", 16, b8, 8, false),
		refused("header over the footer");
	fresh("fixed"), SH("truncate -s 300 h.vhd"), refused("a truncated file");
	fresh("dynamic"), SH("truncate -s -4096 h.vhd"), refused("a truncated file");
	fresh("dynamic"), SH("truncate -s 1000 h.vhd"), refused("a truncated file");
	/* dynamic headers */
	fresh("dynamic"), patch_header("h.vhd", 0, "cxsparsE", 8, false), refused("bad cookie");
	fresh("dynamic"), patch_header("h.vhd", 100, "\1", 1, true), refused("bad header sum");
	static const uint32_t sizes[] = {0, 256, 3000, 1U << 30, 0x80000000U};

	for (int i = 0; i < 5; i++) {
		put_be32(b4, sizes[i]);
		fresh("dynamic"), patch_header("h.vhd", 32, b4, 4, false),
			refused("a bad block size");
	}
	put_be32(b4, 1);
	fresh("dynamic"), patch_header("h.vhd", 28, b4, 4, false), refused("a BAT too small");
	put_be32(b4, 0x40000000);
	fresh("dynamic"), patch_header("h.vhd", 28, b4, 4, false), refused("a huge BAT");
	put_be64(b8, 1ULL << 40);
	fresh("dynamic"), patch_header("h.vhd", 16, b8, 8, false), refused("BAT past EOF");
	put_be64(b8, 512);
	fresh("dynamic"), patch_header("h.vhd", 16, b8, 8, false), refused("BAT over the header");
	/* BAT entries */
	fresh("dynamic");
	img = slurp("h.vhd", &len);
	bat = be64_of(img + 512 + 16);
	free(img);
	put_be32(b4, 0x10000000);
	SHF("printf '\\x10\\x00\\x00\\x00' | dd of=h.vhd bs=1 seek=%llu conv=notrunc",
	    (unsigned long long)bat + 4);
	refused("a BAT entry past EOF");
	fresh("dynamic");
	img = slurp("h.vhd", &len);
	memcpy(img + bat + 8, img + bat, 4); /* block 2 = block 0 */
	write_file("h.vhd", img, len);
	free(img);
	refused("duplicate BAT entries");
	fresh("dynamic");
	img = slurp("h.vhd", &len);
	put_be32(img + bat + 8, be32_of(img + bat) + 1); /* overlaps block 0 */
	write_file("h.vhd", img, len);
	free(img);
	refused("overlapping BAT entries");
	fresh("dynamic");
	img = slurp("h.vhd", &len);
	put_be32(img + bat + 8, (uint32_t)(bat / 512)); /* the BAT itself */
	write_file("h.vhd", img, len);
	free(img);
	refused("a block over the BAT");
	fresh("dynamic");
	img = slurp("h.vhd", &len);
	put_be32(img + bat + 8, 0); /* the footer copy */
	write_file("h.vhd", img, len);
	free(img);
	refused("a block over the footer copy");
}

/* The end footer is damaged: the copy at offset 0 serves (as in QEMU), and the
 * next allocation writes a good footer at the end again. */
static void test_vpc_footer_copy(void **state)
{
	struct blockdev *bd;
	uint8_t buf[4096];

	(void)state;
	fresh("dynamic");
	SH("dd if=/dev/zero of=h.vhd bs=1 count=16 seek=$(($(stat -c %%s h.vhd) - 500)) "
	   "conv=notrunc");
	compare_with_qemu("h.vhd");
	if (!(bd = open_img("h.vhd", "vpc", false)))
		fail_msg("%s", last_err);
	memset(buf, 0x99, sizeof(buf));
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 4 << 20, buf, 4096), 4096);
	blockdev_close(bd);
	SH("tail -c 512 h.vhd | head -c 8 | grep -q conectix");
	compare_with_qemu("h.vhd");
	/* a fixed disk has no copy */
	fresh("fixed");
	SH("dd if=/dev/zero of=h.vhd bs=1 count=16 seek=$(($(stat -c %%s h.vhd) - 500)) "
	   "conv=notrunc");
	refused("a damaged footer on a fixed disk");
}

static void test_vpc_bad_requests(void **state)
{
	struct blockdev *bd;
	uint8_t buf[1024];

	(void)state;
	fresh("dynamic");
	if (!(bd = open_img("h.vhd", "vpc", false)))
		fail_msg("%s", last_err);
	assert_int_equal(io(bd, BLOCKDEV_READ, bd->size - 512, buf, 1024), -EINVAL);
	assert_int_equal(io(bd, BLOCKDEV_READ, 100, buf, 512), -EINVAL);
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 0, buf, 100), -EINVAL);
	blockdev_close(bd);
	assert_non_null(bd = open_img("h.vhd", "vpc", true));
	assert_int_equal(io(bd, BLOCKDEV_WRITE, 0, buf, 512), -EROFS);
	blockdev_close(bd);
	/* the file shrinks under wisp: the affected read fails, others work */
	assert_non_null(bd = open_img("h.vhd", "vpc", true));
	SH("truncate -s 4096 h.vhd");
	assert_true(io(bd, BLOCKDEV_READ, 3 << 20, buf, 1024) != 1024 || buf[0] == 0);
	assert_int_equal(io(bd, BLOCKDEV_READ, 1 << 20, buf, 1024), 1024);
	assert_int_equal(buf[0], 0);
	blockdev_close(bd);
}

/* ---- image locks ---- */

static void lock_refused(const char *name, const char *fmt, bool ro, const char *why)
{
	struct blockdev *bd = open_img(name, fmt, ro);

	if (bd) {
		blockdev_close(bd);
		fail_msg("opened %s (%s) although %s", name, ro ? "read-only" : "writable", why);
	}
	if (!strstr(last_err, "in use by another process (locked)") || !strstr(last_err, name))
		fail_msg("unclear message: %s", last_err);
}

static void test_lock_wisp(void **state)
{
	struct blockdev *a, *b;
	int p[2];
	char c;
	pid_t pid;

	(void)state;
	SH("rm -f l.raw l.qcow2 lb.qcow2 && qemu-img create -f raw l.raw 1M && "
	   "qemu-img create -f qcow2 l.qcow2 1M && "
	   "qemu-img create -f qcow2 -b l.qcow2 -F qcow2 lb.qcow2 1M");
	/* one process, two open file descriptions */
	assert_non_null(a = open_img("l.raw", "raw", false));
	lock_refused("l.raw", "raw", false, "a writer has it");
	lock_refused("l.raw", "raw", true, "a writer has it");
	blockdev_close(a);
	assert_non_null(a = open_img("l.raw", "raw", true));
	assert_non_null(b = open_img("l.raw", "raw", true)); /* readers share */
	lock_refused("l.raw", "raw", false, "readers have it");
	blockdev_close(a);
	blockdev_close(b);
	/* locks go with close */
	assert_non_null(a = open_img("l.raw", "raw", false));
	blockdev_close(a);
	/* backing files are locked read-only: readers yes, writers no */
	assert_non_null(a = open_img("lb.qcow2", "qcow2", false));
	lock_refused("l.qcow2", "qcow2", false, "it is a backing file in use");
	assert_non_null(b = open_img("l.qcow2", "qcow2", true));
	blockdev_close(b);
	lock_refused("lb.qcow2", "qcow2", true, "a writer has it");
	blockdev_close(a);
	/* another wisp process */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct blockdev *bd;

		close(p[0]);
		if (evloop_init(&loop) || !(bd = open_img("l.qcow2", "qcow2", false)))
			_exit(1);
		c = 'y';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	lock_refused("l.qcow2", "qcow2", false, "another wisp writes it");
	lock_refused("l.qcow2", "qcow2", true, "another wisp writes it");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	assert_non_null(a = open_img("l.qcow2", "qcow2", false));
	blockdev_close(a);
}

/* Wait (5 s at most) until opening @name writable fails: the peer holds it. */
static void wait_locked(const char *name, const char *fmt)
{
	for (int i = 0; i < 100; i++) {
		struct blockdev *bd = open_img(name, fmt, false);

		if (!bd)
			return;
		blockdev_close(bd);
		usleep(50000);
	}
	fail_msg("the peer never locked %s", name);
}

static void test_lock_qemu(void **state)
{
	struct blockdev *a;

	(void)state;
	SH("rm -f q.raw q.vhd && qemu-img create -f raw q.raw 1M && "
	   "qemu-img create -f vpc q.vhd 1M");
	/* qemu-io writing: wisp can neither write nor read */
	SH("(qemu-io -f raw -c 'sleep 4000' q.raw >/dev/null 2>&1 &)");
	wait_locked("q.raw", "raw");
	lock_refused("q.raw", "raw", false, "qemu-io writes it");
	lock_refused("q.raw", "raw", true, "qemu-io writes it");
	SH("for i in $(seq 100); do qemu-img info -f raw q.raw >/dev/null 2>&1 && exit 0; "
	   "sleep 0.1; done; exit 1");
	/* wisp writing: qemu-io can neither write nor read; with -U (force-share) it can */
	assert_non_null(a = open_img("q.vhd", "vpc", false));
	assert_int_not_equal(sh("cd %s && qemu-io -f vpc -c 'write 0 512' q.vhd 2>lock.err", dir),
			     0);
	SH("grep -q 'lock' lock.err");
	assert_int_not_equal(
		sh("cd %s && qemu-io -r -f vpc -c 'read 0 512' q.vhd 2>/dev/null", dir), 0);
	SH("qemu-io -U -r -f vpc -c 'read 0 512' q.vhd");
	blockdev_close(a);
	/* wisp reading: qemu-io reads too, but cannot write */
	assert_non_null(a = open_img("q.vhd", "vpc", true));
	SH("qemu-io -r -f vpc -c 'read 0 512' q.vhd");
	assert_int_not_equal(sh("cd %s && qemu-io -f vpc -c 'write 0 512' q.vhd 2>/dev/null", dir),
			     0);
	blockdev_close(a);
	SH("qemu-io -f vpc -c 'write 0 512' q.vhd");
	/* a qemu-system VM reading the image shares it with wisp readers only */
	if (sh("command -v qemu-system-x86_64 >/dev/null") == 0) {
		SH("(timeout 6 qemu-system-x86_64 -accel tcg -S -display none -nodefaults "
		   "-drive file=q.vhd,format=vpc,if=virtio,readonly=on >/dev/null 2>&1 &)");
		wait_locked("q.vhd", "vpc");
		lock_refused("q.vhd", "vpc", false, "a VM reads it");
		assert_non_null(a = open_img("q.vhd", "vpc", true));
		blockdev_close(a);
		SH("for i in $(seq 100); do qemu-io -f vpc -c 'read 0 512' q.vhd && exit 0; "
		   "sleep 0.1; done; exit 1");
	}
}

static int setup(void **state)
{
	(void)state;
	return img_setup("/tmp/wisp-vpc.XXXXXX");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vpc_read),	 cmocka_unit_test(test_vpc_large),
		cmocka_unit_test(test_vpc_creators),	 cmocka_unit_test(test_vpc_write),
		cmocka_unit_test(test_vpc_bitmaps),	 cmocka_unit_test(test_vpc_sigkill),
		cmocka_unit_test(test_vpc_hostile),	 cmocka_unit_test(test_vpc_footer_copy),
		cmocka_unit_test(test_vpc_bad_requests), cmocka_unit_test(test_lock_wisp),
		cmocka_unit_test(test_lock_qemu),
	};

	if (sh("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null")) {
		printf("1..0 # SKIP qemu-img or qemu-io missing\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, img_teardown);
}
