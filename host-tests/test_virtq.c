/* Host tests for the split virtqueue (device side): valid and hostile descriptor
 * chains built by hand in guest RAM, the used ring, notification decisions, and a
 * driver rewriting the rings concurrently. No /dev/kvm needed. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "memory.h"
#include "platform/virt.h"
#include "virtio/virtq.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define RAM (2 * MiB)
/* Where the tests put things (guest physical). */
#define DESC 0x10000ULL
#define AVAIL 0x20000ULL
#define USED 0x30000ULL
#define TABLE 0x40000ULL
#define DATA 0x100000ULL

#define NEXT VIRTQ_DESC_F_NEXT
#define WRITE VIRTQ_DESC_F_WRITE
#define INDIRECT VIRTQ_DESC_F_INDIRECT

struct fx {
	struct guest_mem m;
	struct virtq q;
	struct virtq_chain c;
	uint16_t avail_idx; /* the driver's next avail index */
};

static uint8_t *at(struct fx *f, uint64_t gpa)
{
	uint8_t *p = memory_gpa(&f->m, gpa, 1);

	assert_non_null(p);
	return p;
}

static void put16(struct fx *f, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(at(f, gpa), &v, 2);
}

static uint16_t get16(struct fx *f, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, at(f, gpa), 2);
	return le16toh(v);
}

static uint32_t get32(struct fx *f, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, at(f, gpa), 4);
	return le32toh(v);
}

/* Descriptor @i of the table at @table. */
static void desc_at(struct fx *f, uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *p = at(f, table + 16ULL * i);
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t fl = htole16(flags), n = htole16(next);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &fl, 2);
	memcpy(p + 14, &n, 2);
}

static void desc(struct fx *f, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(f, DESC, i, addr, len, flags, next);
}

/* The driver offers chain @head. */
static void publish(struct fx *f, uint16_t head)
{
	put16(f, AVAIL + 4 + 2 * (f->avail_idx % f->q.size), head);
	f->avail_idx++;
	put16(f, AVAIL + 2, f->avail_idx);
}

static void used_event_set(struct fx *f, uint16_t v)
{
	put16(f, AVAIL + 4 + 2 * f->q.size, v);
}

/* Fresh rings (zeroed, as a driver allocates them) and a started queue. */
static void start(struct fx *f, uint16_t size, bool event_idx, bool indirect)
{
	memset(at(f, DESC), 0, TABLE + 0x10000 - DESC);
	f->q.size = size;
	f->q.desc_gpa = DESC;
	f->q.avail_gpa = AVAIL;
	f->q.used_gpa = USED;
	f->q.event_idx = event_idx;
	f->q.indirect = indirect;
	f->avail_idx = 0;
	assert_int_equal(virtq_start(&f->q, &f->m), 0);
	assert_true(f->q.ready);
}

/* Both indices at @idx, as after 65536 * k + idx chains. */
static void start_at(struct fx *f, uint16_t size, bool event_idx, uint16_t idx)
{
	start(f, size, event_idx, false);
	f->q.last_avail = f->q.used_idx = f->q.signalled_used = idx;
	f->avail_idx = idx;
	put16(f, AVAIL + 2, idx);
	put16(f, USED + 2, idx);
}

static void expect_broken(struct fx *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->c), -EINVAL);
	assert_false(f->q.ready);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void expect_iov(struct fx *f, unsigned int i, uint64_t gpa, size_t len)
{
	assert_ptr_equal(f->c.iov[i].iov_base, memory_gpa(&f->m, gpa, len));
	assert_int_equal(f->c.iov[i].iov_len, len);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(memory_init(&f->m, RAM), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	memory_free(&f->m);
	free(f);
	return 0;
}

/* ---- chains that are fine ---- */

static void test_simple(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	desc(f, 0, DATA, 100, 0, 0);
	publish(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 0);
	assert_int_equal(f->c.out_len, 100);
	assert_int_equal(f->c.in_len, 0);
	expect_iov(f, 0, DATA, 100);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_true(f->q.ready);
	assert_int_equal(f->q.last_avail, 1);
}

static void test_multi(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 2, DATA, 10, NEXT, 5);
	desc(f, 5, DATA + 0x100, 20, NEXT, 1);
	desc(f, 1, DATA + 0x200, 30, WRITE | NEXT, 7);
	desc(f, 7, DATA + 0x300, 40, WRITE, 0);
	desc(f, 0, DATA + 0x400, 50, WRITE, 3);
	publish(f, 2);
	publish(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(f->c.nr_out, 2);
	assert_int_equal(f->c.nr_in, 2);
	assert_int_equal(f->c.out_len, 30);
	assert_int_equal(f->c.in_len, 70);
	expect_iov(f, 0, DATA, 10);
	expect_iov(f, 1, DATA + 0x100, 20);
	expect_iov(f, 2, DATA + 0x200, 30);
	expect_iov(f, 3, DATA + 0x300, 40);
	/* A lone writable buffer; next without NEXT is ignored. */
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.nr_out, 0);
	assert_int_equal(f->c.nr_in, 1);
	expect_iov(f, 0, DATA + 0x400, 50);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, true);
	desc_at(f, TABLE, 0, DATA, 16, NEXT, 2);
	desc_at(f, TABLE, 2, DATA + 0x100, 32, WRITE | NEXT, 1);
	desc_at(f, TABLE, 1, DATA + 0x200, 8, WRITE, 0);
	desc(f, 3, TABLE, 48, INDIRECT, 0);
	/* Direct buffers, then a table (whose descriptor's WRITE flag means nothing). */
	desc(f, 4, DATA + 0x300, 5, NEXT, 6);
	desc(f, 6, TABLE, 48, INDIRECT | WRITE, 0);
	publish(f, 3);
	publish(f, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 2);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 40);
	expect_iov(f, 0, DATA, 16);
	expect_iov(f, 1, DATA + 0x100, 32);
	expect_iov(f, 2, DATA + 0x200, 8);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(f->c.nr_out, 2);
	assert_int_equal(f->c.nr_in, 2);
	expect_iov(f, 0, DATA + 0x300, 5);
	expect_iov(f, 1, DATA, 16);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
}

static void test_zero_length(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	/* Empty buffers are skipped, whatever their address and direction. */
	desc(f, 0, DATA, 0, NEXT, 1);
	desc(f, 1, DATA + 0x10, 16, NEXT, 2);
	desc(f, 2, UINT64_MAX, 0, WRITE | NEXT, 3);
	desc(f, 3, 0xd0000000, 0, NEXT, 4);
	desc(f, 4, DATA + 0x20, 32, WRITE, 0);
	desc(f, 5, UINT64_MAX - 1, 0, WRITE, 0);
	publish(f, 0);
	publish(f, 5);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 1);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 32);
	expect_iov(f, 0, DATA + 0x10, 16);
	expect_iov(f, 1, DATA + 0x20, 32);
	/* A chain of nothing at all is the device's business. */
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 5);
	assert_int_equal(f->c.nr_out + f->c.nr_in, 0);
	assert_int_equal(f->c.out_len + f->c.in_len, 0);
}

/* ---- chains that break the queue ---- */

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc_at(f, TABLE, 0, DATA, 16, 0, 0);
	desc(f, 0, TABLE, 16, INDIRECT, 0);
	publish(f, 0);
	expect_broken(f);
}

static void test_indirect_bad(void **state)
{
	struct fx *f = *state;
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
	} bad[] = {
		{TABLE, 0, INDIRECT},		    /* empty table */
		{TABLE, 24, INDIRECT},		    /* not a multiple of 16 */
		{TABLE, 16 * 257, INDIRECT},	    /* more than VIRTQ_MAX_SEGS entries */
		{TABLE, 32, INDIRECT | NEXT},	    /* INDIRECT and NEXT */
		{RAM - 16, 32, INDIRECT},	    /* table past the end of RAM */
		{UINT64_MAX - 15, 32, INDIRECT},    /* table wrapping past 2^64 */
		{TABLE + 0x20, 32, INDIRECT},	    /* nested indirect */
		{TABLE + 0x40, 48, INDIRECT},	    /* next out of the table */
		{TABLE + 0x70, 32, INDIRECT},	    /* loop inside the table */
		{TABLE + 0x90, 16, INDIRECT},	    /* bad buffer inside the table */
		{TABLE + 0xa0, 32, INDIRECT},	    /* writable before readable inside */
		{0xbffffff0, 32, INDIRECT | WRITE}, /* table in the hole */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(f, 8, true, true);
		desc_at(f, TABLE, 0, DATA, 16, NEXT, 1);
		desc_at(f, TABLE, 1, DATA, 16, 0, 0);
		desc_at(f, TABLE, 2, DATA, 16, NEXT, 3);
		desc_at(f, TABLE, 3, TABLE, 32, INDIRECT, 0);
		desc_at(f, TABLE, 4, DATA, 16, NEXT, 1);
		desc_at(f, TABLE, 5, DATA, 16, NEXT, 3); /* the table has 3 entries: 0..2 */
		desc_at(f, TABLE, 7, DATA, 16, NEXT, 1);
		desc_at(f, TABLE, 8, DATA, 16, NEXT, 0);
		desc_at(f, TABLE, 9, RAM, 16, 0, 0);
		desc_at(f, TABLE, 10, DATA, 16, WRITE | NEXT, 1);
		desc_at(f, TABLE, 11, DATA, 16, 0, 0);
		desc(f, 0, bad[i].addr, bad[i].len, bad[i].flags, 1);
		desc(f, 1, DATA, 16, 0, 0);
		publish(f, 0);
		expect_broken(f);
	}
	/* The fixture itself is fine: the same tables with valid descriptors. */
	start(f, 8, true, true);
	desc_at(f, TABLE, 0, DATA, 16, NEXT, 1);
	desc_at(f, TABLE, 1, DATA, 16, 0, 0);
	desc(f, 0, TABLE, 32, INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nr_out, 2);
}

static void test_loop(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 0, DATA, 1, NEXT, 1);
	desc(f, 1, DATA, 1, NEXT, 0);
	publish(f, 0);
	expect_broken(f);

	start(f, 8, false, false);
	desc(f, 3, DATA, 0, NEXT, 3); /* an empty buffer pointing at itself */
	publish(f, 3);
	expect_broken(f);
}

static void test_chain_length(void **state)
{
	struct fx *f = *state;

	/* Every descriptor of the table in one chain: fine. */
	start(f, 8, false, false);
	for (int i = 0; i < 7; i++)
		desc(f, i, DATA + i, 1, NEXT, i + 1);
	desc(f, 7, DATA + 7, 1, 0, 0);
	publish(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nr_out, 8);
	/* One step more must revisit one. */
	start(f, 8, false, false);
	for (int i = 0; i < 8; i++)
		desc(f, i, DATA + i, 1, NEXT, (i + 1) % 8);
	publish(f, 0);
	expect_broken(f);
	/* Next past the table. */
	start(f, 8, false, false);
	desc(f, 0, DATA, 1, NEXT, 8);
	publish(f, 0);
	expect_broken(f);
}

static void test_head_range(void **state)
{
	struct fx *f = *state;
	uint16_t heads[] = {8, 9, 0x8000, 0xffff};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		start(f, 8, false, false);
		publish(f, heads[i]);
		expect_broken(f);
	}
}

static void test_avail_jump(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 0, DATA, 1, 0, 0);
	put16(f, AVAIL + 2, 9);
	expect_broken(f);
	/* Exactly a full ring is fine. */
	start(f, 8, false, false);
	desc(f, 0, DATA, 1, 0, 0);
	put16(f, AVAIL + 2, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	/* Going backwards is a jump of almost 65536. */
	put16(f, AVAIL + 2, 7);
	expect_broken(f);
	/* Across the 16-bit wrap. */
	start_at(f, 8, false, 65530);
	desc(f, 0, DATA, 1, 0, 0);
	put16(f, AVAIL + 2, (uint16_t)(65530 + 9));
	expect_broken(f);
}

static void test_outside_ram(void **state)
{
	struct fx *f = *state;
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
	} bad[] = {
		{RAM - 8, 16, 0},
		{RAM, 1, WRITE},
		{VIRT_MMIO_HOLE_BASE, 4, 0},
		{VIRT_HIGH_RAM_BASE, 4, WRITE}, /* no high RAM in 2 MiB */
		{UINT64_MAX - 4, 16, 0},	/* wraps past 2^64 */
		{UINT64_MAX, 1, WRITE},
		{DATA, UINT32_MAX, 0}, /* longer than RAM */
		{0, UINT32_MAX, WRITE},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(f, 8, false, false);
		desc(f, 0, DATA, 16, NEXT, 1);
		desc(f, 1, bad[i].addr, bad[i].len, bad[i].flags, 0);
		publish(f, 0);
		expect_broken(f);
	}
	/* The last byte of RAM is RAM. */
	start(f, 8, false, false);
	desc(f, 0, RAM - 16, 16, 0, 0);
	publish(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	expect_iov(f, 0, RAM - 16, 16);
}

/* RAM split by the MMIO hole (a hand-made 1 MiB + 1 MiB map): a buffer may sit
 * on either side, never across. */
static void test_hole(void **state)
{
	struct fx *f = *state;
	struct guest_mem whole = f->m;

	f->m.low_size = MiB;
	start(f, 8, false, false);
	assert_null(memory_gpa(&f->m, DATA, 1));
	f->m = whole;
	desc(f, 0, 0x1000, 16, NEXT, 1);
	desc(f, 1, VIRT_HIGH_RAM_BASE + 0x100, 64, WRITE, 0);
	desc(f, 2, MiB - 8, 16, 0, 0);
	desc(f, 3, VIRT_HIGH_RAM_BASE - 8, 16, WRITE, 0);
	publish(f, 0);
	publish(f, 2);
	f->m.low_size = MiB;
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_ptr_equal(f->c.iov[0].iov_base, f->m.hva + 0x1000);
	assert_ptr_equal(f->c.iov[1].iov_base, f->m.hva + MiB + 0x100);
	expect_broken(f);

	f->m = whole;
	start(f, 8, false, false);
	desc(f, 3, VIRT_HIGH_RAM_BASE - 8, 16, WRITE, 0);
	publish(f, 3);
	f->m.low_size = MiB;
	expect_broken(f);
	f->m = whole;
}

static void test_write_before_read(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 0, DATA, 16, NEXT, 1);
	desc(f, 1, DATA, 16, WRITE | NEXT, 2);
	desc(f, 2, DATA, 16, NEXT, 3);
	desc(f, 3, DATA, 16, WRITE, 0);
	publish(f, 0);
	expect_broken(f);
}

static void test_max_segs(void **state)
{
	struct fx *f = *state;

	/* VIRTQ_MAX_SEGS direct buffers: fine; one more: broken. */
	for (int extra = 0; extra < 2; extra++) {
		unsigned int n = VIRTQ_MAX_SEGS + extra;

		start(f, 512, false, false);
		for (unsigned int i = 0; i < n; i++)
			desc(f, i, DATA + i, 1, i + 1 < n ? NEXT : 0, i + 1);
		publish(f, 0);
		if (extra) {
			expect_broken(f);
		} else {
			assert_int_equal(virtq_pop(&f->q, &f->c), 1);
			assert_int_equal(f->c.nr_out, VIRTQ_MAX_SEGS);
			expect_iov(f, VIRTQ_MAX_SEGS - 1, DATA + VIRTQ_MAX_SEGS - 1, 1);
		}
	}
	/* A full table, alone or after one direct buffer. */
	for (int extra = 0; extra < 2; extra++) {
		start(f, 8, false, true);
		for (unsigned int i = 0; i < VIRTQ_MAX_SEGS; i++)
			desc_at(f, TABLE, i, DATA + i, 1,
				i + 1 < VIRTQ_MAX_SEGS ? NEXT | WRITE : WRITE, i + 1);
		desc(f, 0, DATA, 4, NEXT, 1);
		desc(f, 1, TABLE, 16 * VIRTQ_MAX_SEGS, INDIRECT, 0);
		publish(f, extra ? 0 : 1);
		if (extra) {
			expect_broken(f);
		} else {
			assert_int_equal(virtq_pop(&f->q, &f->c), 1);
			assert_int_equal(f->c.nr_in, VIRTQ_MAX_SEGS);
			assert_int_equal(f->c.in_len, VIRTQ_MAX_SEGS);
		}
	}
}

/* Totals in each direction stay below 4 GiB (the used ring's len is 32 bits). A
 * sparse 8 GiB RAM: 3 GiB low, 5 GiB above the hole. */
static void test_total_length(void **state)
{
	struct fx *f = *state;
	struct guest_mem small = f->m;
	const uint64_t high = VIRT_HIGH_RAM_BASE;

	assert_int_equal(memory_init(&f->m, 8 * GiB), 0);
	start(f, 8, false, false);
	desc(f, 0, 0x40000000, 0x80000000, NEXT, 1);
	desc(f, 1, 0x40000000, 0x7fffffff, NEXT, 2);
	desc(f, 2, high, 0x80000000, WRITE | NEXT, 3);
	desc(f, 3, high + 0x80000000, 0x7fffffff, WRITE, 0);
	desc(f, 4, high, 0xffffffff, WRITE, 0);
	publish(f, 0);
	publish(f, 4);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.out_len, UINT32_MAX);
	assert_int_equal(f->c.in_len, UINT32_MAX);
	assert_ptr_equal(f->c.iov[2].iov_base, f->m.hva + 3 * GiB);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1); /* one maximal buffer */
	assert_int_equal(f->c.in_len, UINT32_MAX);
	/* One byte more, readable or writable. */
	desc(f, 1, 0x40000000, 0x80000000, NEXT, 2);
	publish(f, 0);
	expect_broken(f);
	start(f, 8, false, false);
	desc(f, 2, high, 0x80000000, WRITE | NEXT, 3);
	desc(f, 3, high + 0x80000000, 0x80000000, WRITE, 0);
	publish(f, 2);
	expect_broken(f);
	/* Up to the hole, then across it. */
	start(f, 8, false, false);
	desc(f, 0, 0x80000000, 0x40000000, 0, 0);
	desc(f, 1, 0x80000000, 0x40000001, 0, 0);
	publish(f, 0);
	publish(f, 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	expect_broken(f);
	memory_free(&f->m);
	f->m = small;
}

/* ---- virtq_start ---- */

static void test_start_checks(void **state)
{
	struct fx *f = *state;
	struct virtq ok = {.size = 8, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED};
	struct virtq q;

	q = ok;
	assert_int_equal(virtq_start(&q, &f->m), 0);
	assert_ptr_equal(q.desc, f->m.hva + DESC);
	assert_ptr_equal(q.avail, f->m.hva + AVAIL);
	assert_ptr_equal(q.used, f->m.hva + USED);
	assert_int_equal(virtq_start(&q, NULL), -EINVAL);
	assert_false(q.ready);

	uint16_t sizes[] = {0, 3, 6, 1000, 2048, 0x8000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		q = ok;
		q.size = sizes[i];
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		assert_false(q.ready);
		assert_null(q.desc);
	}
	q = ok;
	q.size = 1;
	assert_int_equal(virtq_start(&q, &f->m), 0);
	q.size = VIRTQ_MAX_SIZE;
	assert_int_equal(virtq_start(&q, &f->m), 0);

	/* Alignment: desc 16, avail 2, used 4. */
	uint64_t *fields[] = {&q.desc_gpa, &q.avail_gpa, &q.used_gpa};
	struct {
		int ring;
		uint64_t off;
	} misaligned[] = {{0, 8}, {0, 4}, {0, 1}, {1, 1}, {2, 1}, {2, 2}};
	for (size_t i = 0; i < sizeof(misaligned) / sizeof(misaligned[0]); i++) {
		q = ok;
		*fields[misaligned[i].ring] += misaligned[i].off;
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		assert_false(q.ready);
	}
	q = ok;
	q.desc_gpa += 16;
	q.avail_gpa += 2;
	q.used_gpa += 4;
	assert_int_equal(virtq_start(&q, &f->m), 0);

	/* Each ring ending exactly at the end of RAM fits; one byte more does not. */
	uint64_t sizes_of[] = {16 * 8, 6 + 2 * 8, 6 + 8 * 8};
	uint64_t aligns[] = {16, 2, 4};
	for (int r = 0; r < 3; r++) {
		uint64_t end = RAM & ~(aligns[r] - 1);

		q = ok;
		*fields[r] = (end - sizes_of[r]) & ~(aligns[r] - 1);
		assert_int_equal(virtq_start(&q, &f->m), 0);
		*fields[r] = ((RAM - sizes_of[r]) & ~(aligns[r] - 1)) + aligns[r]; /* too short */
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		*fields[r] = RAM - aligns[r];
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		*fields[r] = RAM;
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		*fields[r] = VIRT_MMIO_HOLE_BASE;
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		*fields[r] = UINT64_MAX & ~(aligns[r] - 1) & ~0xfULL;
		assert_int_equal(virtq_start(&q, &f->m), -EINVAL);
		assert_false(q.ready);
	}
}

static void test_stop(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 0, DATA, 1, 0, 0);
	publish(f, 0);
	virtq_stop(&f->q);
	assert_false(f->q.ready);
	assert_int_equal(f->q.size, 8);
	assert_int_equal(f->q.desc_gpa, DESC);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	virtq_push(&f->q, 0, 1);
	assert_int_equal(get16(f, USED + 2), 0);
	assert_false(virtq_should_notify(&f->q));
	assert_false(virtq_enable_notify(&f->q));
	/* Started again it begins at avail index 0. */
	assert_int_equal(virtq_start(&f->q, &f->m), 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
}

/* ---- used ring ---- */

static void test_push(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	desc(f, 3, DATA, 100, WRITE, 0);
	publish(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	virtq_push(&f->q, f->c.head, 100);
	assert_int_equal(get16(f, USED + 2), 1);
	assert_int_equal(get32(f, USED + 4), 3);
	assert_int_equal(get32(f, USED + 8), 100);
	virtq_push(&f->q, 5, 0);
	assert_int_equal(get16(f, USED + 2), 2);
	assert_int_equal(get32(f, USED + 12), 5);
	assert_int_equal(get32(f, USED + 16), 0);
	assert_int_equal(get16(f, USED), 0); /* flags untouched */
	/* A broken queue writes nothing more. */
	publish(f, 9);
	expect_broken(f);
	virtq_push(&f->q, 3, 1);
	assert_int_equal(get16(f, USED + 2), 2);
}

static void test_wrap(void **state)
{
	struct fx *f = *state;

	start_at(f, 8, false, 65533);
	for (int i = 0; i < 5; i++) {
		desc(f, i, DATA + 0x100 * i, 16 + i, WRITE, 0);
		publish(f, i);
	}
	assert_int_equal(get16(f, AVAIL + 2), 2);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
		assert_int_equal(f->c.head, i);
		expect_iov(f, 0, DATA + 0x100 * i, 16 + i);
		virtq_push(&f->q, f->c.head, 10 * i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_int_equal(f->q.last_avail, 2);
	assert_int_equal(get16(f, USED + 2), 2);
	for (int i = 0; i < 5; i++) {
		unsigned int slot = (65533 + i) % 8;

		assert_int_equal(get32(f, USED + 4 + 8 * slot), i);
		assert_int_equal(get32(f, USED + 8 + 8 * slot), 10 * i);
	}
	/* A full ring across the wrap is fine as well; every slot is used. */
	start_at(f, 16, false, 65535);
	for (int i = 0; i < 16; i++) {
		desc(f, i, DATA + i, 1, 0, 0);
		publish(f, 15 - i);
	}
	for (int i = 0; i < 16; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->c), 1);
		assert_int_equal(f->c.head, 15 - i);
		expect_iov(f, 0, DATA + 15 - i, 1);
		virtq_push(&f->q, f->c.head, i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_true(f->q.ready);
	for (int i = 0; i < 16; i++)
		assert_int_equal(get32(f, USED + 4 + 8 * ((65535 + i) % 16)), 15 - i);
}

/* ---- notifications ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void push_n(struct fx *f, int n)
{
	for (int i = 0; i < n; i++)
		virtq_push(&f->q, 0, 0);
}

static void test_event_idx(void **state)
{
	struct fx *f = *state;

	start(f, 8, true, false);
	used_event_set(f, 0);
	assert_false(virtq_should_notify(&f->q)); /* nothing pushed */
	push_n(f, 1);				  /* used 1: event 0 passed */
	assert_true(virtq_should_notify(&f->q));
	push_n(f, 1); /* used 2: 0 was passed before */
	assert_false(virtq_should_notify(&f->q));
	used_event_set(f, 3);
	push_n(f, 1); /* used 3 */
	assert_false(virtq_should_notify(&f->q));
	push_n(f, 1); /* used 4: entry 3 filled */
	assert_true(virtq_should_notify(&f->q));
	used_event_set(f, 10);
	push_n(f, 3); /* used 7 */
	assert_false(virtq_should_notify(&f->q));
	push_n(f, 5); /* used 12: 10 within [7, 12) */
	assert_true(virtq_should_notify(&f->q));
	used_event_set(f, 11); /* behind us already */
	push_n(f, 1);
	assert_false(virtq_should_notify(&f->q));
	/* NO_INTERRUPT means nothing with EVENT_IDX. */
	put16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	used_event_set(f, 13);
	push_n(f, 1);
	assert_true(virtq_should_notify(&f->q));
	/* Far ahead: no interrupt for a long time. */
	used_event_set(f, 0x8000);
	push_n(f, 100);
	assert_false(virtq_should_notify(&f->q));

	/* Around the 16-bit wrap. */
	start_at(f, 8, true, 65534);
	used_event_set(f, 0);
	push_n(f, 1); /* used 65535 */
	assert_false(virtq_should_notify(&f->q));
	push_n(f, 1); /* used 0: entry 65535 filled */
	assert_false(virtq_should_notify(&f->q));
	push_n(f, 1); /* used 1: entry 0 filled */
	assert_true(virtq_should_notify(&f->q));
	start_at(f, 8, true, 65534);
	used_event_set(f, 65535);
	push_n(f, 3); /* 65534 -> 1 */
	assert_true(virtq_should_notify(&f->q));
	/* Unknown history (a resumed queue): notify. */
	f->q.signalled_valid = false;
	used_event_set(f, 100);
	push_n(f, 1);
	assert_true(virtq_should_notify(&f->q));
	push_n(f, 1);
	assert_false(virtq_should_notify(&f->q));
}

static void test_no_interrupt(void **state)
{
	struct fx *f = *state;

	start(f, 8, false, false);
	used_event_set(f, 1000); /* means nothing without EVENT_IDX */
	put16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_n(f, 1);
	assert_false(virtq_should_notify(&f->q));
	put16(f, AVAIL, 0);
	assert_false(virtq_should_notify(&f->q)); /* nothing new */
	push_n(f, 2);
	assert_true(virtq_should_notify(&f->q));
	assert_false(virtq_should_notify(&f->q));
	put16(f, AVAIL, 0xfffe); /* unknown flags are not NO_INTERRUPT */
	push_n(f, 1);
	assert_true(virtq_should_notify(&f->q));
}

static void test_enable_notify(void **state)
{
	struct fx *f = *state;
	uint64_t avail_event = USED + 4 + 8 * 8;

	start(f, 8, true, false);
	desc(f, 0, DATA, 1, 0, 0);
	publish(f, 0);
	publish(f, 0);
	assert_true(virtq_enable_notify(&f->q)); /* two are waiting */
	assert_int_equal(get16(f, avail_event), 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->c), 0);
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, avail_event), 2);
	virtq_disable_notify(&f->q); /* nothing to do with EVENT_IDX */
	assert_int_equal(get16(f, USED), 0);
	assert_int_equal(get16(f, avail_event), 2);
	publish(f, 0); /* arrives after the device went to sleep */
	assert_true(virtq_enable_notify(&f->q));

	start(f, 8, false, false);
	desc(f, 0, DATA, 1, 0, 0);
	virtq_disable_notify(&f->q);
	assert_int_equal(get16(f, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, USED), 0);
	assert_int_equal(get16(f, USED + 4 + 8 * 8), 0); /* no avail_event without EVENT_IDX */
	virtq_disable_notify(&f->q);
	publish(f, 0);
	assert_true(virtq_enable_notify(&f->q));
	assert_int_equal(get16(f, USED), 0);
	assert_int_equal(virtq_pop(&f->q, &f->c), 1);
}

/* The driver's side of the handshake, racing the device's enable_notify(): after each
 * round, either the device saw the new entry or the driver decided to kick. Both
 * threads spin so that their stores and loads really overlap. */
struct race {
	struct fx *f;
	int rounds;
	int go, done; /* round n starts at go == n and ends at done == n; -n: drained */
	bool saw;
};

static void spin_until(int *v, int want)
{
	for (unsigned int n = 1; __atomic_load_n(v, __ATOMIC_ACQUIRE) != want; n++)
		if (!(n % 4096))
			sched_yield();
}

static void *race_device(void *arg)
{
	struct race *r = arg;
	struct virtq_chain *c = malloc(sizeof(*c));

	for (int i = 1; i <= r->rounds; i++) {
		spin_until(&r->go, i);
		r->saw = virtq_enable_notify(&r->f->q);
		__atomic_store_n(&r->done, i, __ATOMIC_RELEASE);
		spin_until(&r->go, -i); /* the main thread has judged */
		while (virtq_pop(&r->f->q, c) == 1)
			virtq_push(&r->f->q, c->head, 0);
		__atomic_store_n(&r->done, -i, __ATOMIC_RELEASE);
	}
	free(c);
	return NULL;
}

static bool driver_publish(struct fx *f, uint16_t head, bool event_idx)
{
	uint16_t old = f->avail_idx, now = old + 1;
	uint8_t *ring = at(f, AVAIL);

	__atomic_store_n((uint16_t *)(ring + 4 + 2 * (old % f->q.size)), htole16(head),
			 __ATOMIC_RELAXED);
	__atomic_store_n((uint16_t *)(ring + 2), htole16(now), __ATOMIC_RELEASE);
	f->avail_idx = now;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!event_idx)
		return !(le16toh(__atomic_load_n((uint16_t *)at(f, USED), __ATOMIC_RELAXED)) &
			 VIRTQ_USED_F_NO_NOTIFY);
	uint16_t ev = le16toh(
		__atomic_load_n((uint16_t *)at(f, USED + 4 + 8 * f->q.size), __ATOMIC_RELAXED));
	return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

static void test_enable_notify_race(void **state)
{
	struct fx *f = *state;
	uint64_t seed = 88172645463325252ULL;

	for (int event_idx = 0; event_idx < 2; event_idx++) {
		struct race r = {.f = f, .rounds = 50000};
		unsigned long misses = 0, saw = 0, kicks = 0;
		pthread_t t;

		start(f, 8, event_idx, false);
		desc(f, 0, DATA, 1, 0, 0);
		virtq_disable_notify(&f->q);
		assert_int_equal(pthread_create(&t, NULL, race_device, &r), 0);
		for (int i = 1; i <= r.rounds; i++) {
			unsigned int delay = rnd(&seed) % 64;

			__atomic_store_n(&r.go, i, __ATOMIC_RELEASE);
			for (volatile unsigned int k = 0; k < delay; k++)
				;
			bool kick = driver_publish(f, 0, event_idx);
			spin_until(&r.done, i);
			misses += !kick && !r.saw;
			kicks += kick;
			saw += r.saw;
			if (!event_idx)
				virtq_disable_notify(&f->q); /* the device is busy again */
			__atomic_store_n(&r.go, -i, __ATOMIC_RELEASE);
			spin_until(&r.done, -i);
		}
		pthread_join(t, NULL);
		print_message("# event_idx %d: %lu rounds, device saw %lu, driver kicked %lu\n",
			      event_idx, (unsigned long)r.rounds, saw, kicks);
		assert_int_equal(misses, 0);
		assert_int_equal(f->q.last_avail, (uint16_t)r.rounds);
		assert_true(f->q.ready);
	}
}

/* The same handshake for interrupts: the driver asks for one at the next entry (its
 * previous request is stale by then) and rechecks the used idx; the device pushes that
 * entry and asks virtq_should_notify(). One of the two must see the other. Both wait
 * a varying time first, so that the windows overlap in every way. */
static void *race_pusher(void *arg)
{
	struct race *r = arg;

	for (int i = 1; i <= r->rounds; i++) {
		spin_until(&r->go, i);
		for (volatile unsigned int k = 0; k < i * 7919u % 64; k++)
			;
		virtq_push(&r->f->q, 0, 0);
		r->saw = virtq_should_notify(&r->f->q);
		__atomic_store_n(&r->done, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_should_notify_race(void **state)
{
	struct fx *f = *state;
	struct race r = {.f = f, .rounds = 50000};
	uint16_t *used_event = (uint16_t *)at(f, AVAIL + 4 + 2 * 8);
	uint16_t *used_idx = (uint16_t *)at(f, USED + 2);
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	unsigned long misses = 0, irqs = 0, polled = 0;
	pthread_t t;

	start(f, 8, true, false);
	used_event_set(f, 0xffff); /* no interrupt wanted yet */
	assert_int_equal(pthread_create(&t, NULL, race_pusher, &r), 0);
	for (int i = 1; i <= r.rounds; i++) {
		uint16_t seen = i - 1; /* the driver has consumed everything before */
		unsigned int delay = rnd(&seed) % 64;

		__atomic_store_n(&r.go, i, __ATOMIC_RELEASE);
		for (volatile unsigned int k = 0; k < delay; k++)
			;
		__atomic_store_n(used_event, htole16(seen), __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		bool more = le16toh(__atomic_load_n(used_idx, __ATOMIC_ACQUIRE)) != seen;
		spin_until(&r.done, i);
		misses += !more && !r.saw;
		irqs += r.saw;
		polled += more;
	}
	pthread_join(t, NULL);
	print_message("# %lu rounds, %lu interrupts, driver saw %lu itself\n",
		      (unsigned long)r.rounds, irqs, polled);
	assert_int_equal(misses, 0);
}

/* ---- a driver rewriting everything while the device pops ---- */

struct scribbler {
	struct fx *f;
	bool stop;
	uint64_t seed;
};

/* A descriptor that is often valid: a buffer in RAM, random direction and chaining,
 * now and then an indirect table of up to 16 entries. */
static void scribble_desc(uint8_t *d, uint64_t v)
{
	bool ind = !(v >> 47 & 15);
	uint64_t len = ind ? (v >> 32 & 0xf0) + 16 : v >> 32 & 0xfff;
	uint64_t flags =
		(v >> 44 & 1 ? NEXT : 0) | (v >> 45 & 3 ? 0 : WRITE) | (ind ? INDIRECT : 0);

	__atomic_store_n((uint64_t *)d, DATA + (v >> 12) % (RAM - DATA - 0x1000), __ATOMIC_RELAXED);
	__atomic_store_n((uint64_t *)(d + 8), len | flags << 32 | (v >> 51) % 16 << 48,
			 __ATOMIC_RELAXED);
}

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint8_t *desc_tab = at(s->f, DESC), *avail = at(s->f, AVAIL);
	uint16_t *avail_idx = (uint16_t *)(avail + 2), *used_idx = (uint16_t *)at(s->f, USED + 2);

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		uint64_t v = rnd(&s->seed);
		unsigned int i = v % 64, what = (v >> 8) % 16;

		if (what < 8) {
			scribble_desc(desc_tab + 16 * i, v);
		} else if (what == 8) { /* anything */
			__atomic_store_n((uint64_t *)(desc_tab + 16 * i + 8 * (v >> 40 & 1)),
					 rnd(&s->seed), __ATOMIC_RELAXED);
		} else if (what < 13) { /* ring entries */
			__atomic_store_n((uint16_t *)(avail + 4 + 2 * (i % 16)), v >> 48 & 15,
					 __ATOMIC_RELAXED);
		} else if (!(v >> 20 & 0x3ff)) { /* now and then nonsense */
			__atomic_add_fetch(avail_idx, v >> 48, __ATOMIC_RELEASE);
		} else if ((uint16_t)(__atomic_load_n(avail_idx, __ATOMIC_RELAXED) -
				      __atomic_load_n(used_idx, __ATOMIC_ACQUIRE)) < 16) {
			__atomic_add_fetch(avail_idx, 1,
					   __ATOMIC_RELEASE); /* while there is room */
		}
	}
	return NULL;
}

static void test_concurrent_scribbler(void **state)
{
	struct fx *f = *state;
	struct scribbler s = {.f = f, .seed = 0x9e3779b97f4a7c15ULL};
	uint8_t *lo = f->m.hva, *hi = f->m.hva + RAM;
	unsigned long pops = 0, breaks = 0;
	struct timespec t0, t;
	long ns;
	pthread_t th;

	start(f, 16, true, true);
	assert_int_equal(pthread_create(&th, NULL, scribble, &s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < 1000; k++) {
			int r = virtq_pop(&f->q, &f->c);

			if (r < 0 || !f->q.ready) {
				breaks++;
				assert_int_equal(virtq_start(&f->q, &f->m), 0);
				/* Resume where the driver is. */
				f->q.last_avail = f->q.used_idx = get16(f, AVAIL + 2);
				put16(f, USED + 2, f->q.used_idx);
				continue;
			}
			if (!r) {
				virtq_enable_notify(&f->q);
				sched_yield(); /* let the driver run on a busy machine */
				continue;
			}
			pops++;
			assert_true(f->c.head < 16);
			assert_true(f->c.nr_out + f->c.nr_in <= VIRTQ_MAX_SEGS);
			assert_true(f->c.out_len <= UINT32_MAX && f->c.in_len <= UINT32_MAX);
			uint64_t out = 0, in = 0;
			for (unsigned int i = 0; i < f->c.nr_out + f->c.nr_in; i++) {
				uint8_t *b = f->c.iov[i].iov_base;

				assert_true(b >= lo && f->c.iov[i].iov_len <= (size_t)(hi - b));
				assert_true(f->c.iov[i].iov_len > 0);
				*(i < f->c.nr_out ? &out : &in) += f->c.iov[i].iov_len;
			}
			assert_int_equal(out, f->c.out_len);
			assert_int_equal(in, f->c.in_len);
			virtq_push(&f->q, f->c.head, (uint32_t)f->c.in_len);
			virtq_should_notify(&f->q);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		ns = (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec);
		/* A third of a second, longer if the machine is too busy to make progress. */
	} while (ns < 300000000L || ((pops < 10000 || breaks < 1000) && ns < 10000000000L));
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	print_message("# %lu chains, %lu restarts in %ld ms\n", pops, breaks, ns / 1000000);
	assert_true(pops > 0);
	assert_true(breaks > 0);
}

/* ---- copies ---- */

static void test_iov_copy(void **state)
{
	uint8_t a[3], b[5], c[7], buf[32], src[15];
	struct iovec iov[] = {{a, 3}, {b, 5}, {NULL, 0}, {c, 7}};

	for (int i = 0; i < 15; i++)
		src[i] = i + 1;
	assert_int_equal(virtq_buf_to_iov(iov, 4, 0, src, 15), 15);
	assert_int_equal(a[2], 3);
	assert_int_equal(b[0], 4);
	assert_int_equal(c[6], 15);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_iov_to_buf(iov, 4, 0, buf, sizeof(buf)), 15);
	assert_memory_equal(buf, src, 15);
	assert_int_equal(virtq_iov_to_buf(iov, 4, 4, buf, 6), 6);
	assert_memory_equal(buf, src + 4, 6);
	assert_int_equal(virtq_iov_to_buf(iov, 4, 8, buf, 100), 7);
	assert_memory_equal(buf, src + 8, 7);
	assert_int_equal(virtq_iov_to_buf(iov, 4, 15, buf, 1), 0);
	assert_int_equal(virtq_iov_to_buf(iov, 4, 1000, buf, 1), 0);
	assert_int_equal(virtq_iov_to_buf(iov, 0, 0, buf, 1), 0);
	assert_int_equal(virtq_iov_to_buf(iov, 2, 0, buf, 0), 0);
	/* Writes stop at the end of the iovecs and start at skip. */
	memset(c, 0, sizeof(c));
	assert_int_equal(virtq_buf_to_iov(iov, 4, 10, src, 15), 5);
	assert_int_equal(c[1], 0);
	assert_int_equal(c[2], 1);
	assert_int_equal(c[6], 5);
	assert_int_equal(virtq_buf_to_iov(iov, 3, 8, src, 15), 0);
	assert_int_equal(virtq_buf_to_iov(iov, 4, 2, src, 2), 2);
	assert_int_equal(a[2], 1);
	assert_int_equal(b[0], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_before_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_segs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_notify_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_should_notify_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_scribbler, setup, teardown),
		cmocka_unit_test(test_iov_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
