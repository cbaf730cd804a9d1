/* Guest program: a hostile driver against virtio-blk (and virtio-rng as the bystander). Each
 * scenario brings the disk up, abuses it (descriptor loops, over-long chains, addresses
 * outside RAM or wrapping, zero and huge lengths, bad queue sizes and indices, notifies for
 * queues that do not exist, ring addresses outside RAM, reset and BAR moves during I/O, MSI-X
 * table garbage, writes to read-only fields, random descriptors), judges the device's reaction
 * against the scenario's allowed outcomes (per VMM: cmdline vmm=wisp or vmm=qemu), then resets
 * it and proves that it and the rng still work. The VMM must survive all of it.
 * Cmdline: fuzz=N (random rounds, default 300; 0 with only=), seed=N, only=NAME (run just
 * that scenario; may be given several times). Test body at CPL3. */
#include "virtio.h"
#include "wisp-test.h"

#define VIRTIO_BLK_F_RO 5
#define T_IN 0
#define T_OUT 1
#define S_OK 0
#define S_UNSET 0xee
#define SECTOR 512

/* Outcomes, as bits so a scenario can allow several. */
#define R_RESET 0x01	/* the device set NEEDS_RESET */
#define R_ERROR 0x02	/* the request completed with an error status */
#define R_OK 0x04	/* the request completed with status OK */
#define R_NOSTATUS 0x08 /* the request completed, status byte untouched */
#define R_NOTHING 0x10	/* no reaction within the wait */
#define R_ANY 0x1f
#define R_VIOLATION 0x20	  /* something no VMM may do: never allowed */
#define R_BAD (R_RESET | R_ERROR) /* what a malformed request must get */

#define HOLE_ADDR 0xF0000000ull	   /* inside the 32-bit MMIO hole, no device there */
#define FAR_ADDR 0x10000000000ull  /* 1 TiB: beyond RAM and the PCI windows */
#define WRAP_ADDR (~0ull - 0xfffu) /* the last page below 2^64 */
#define WAIT_US 2000000
#define QUIET_US 300000

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_dev blk, rng;
static struct vq bq, rq;
static struct blk_hdr *hdr;
static volatile uint8_t *status;
static uint8_t *wbuf, *rbuf, *rngbuf;
static struct vring_desc *itab; /* indirect tables we build */
/* Memory the device may write anywhere into: runs to the end of RAM. */
static uint8_t *scratch;
static size_t scratch_len;
static bool wisp;
static int failures;
static uint64_t seed = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* ---- Raw ring access ---- */

static void desc(struct vring_desc *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	t[i] = (struct vring_desc){addr, len, flags, next};
}

static void publish(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->size] = head;
	__asm__ volatile("" ::: "memory");
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	vq_notify(q);
}

/* Makes heads 0, 3, 6, ... (n of them) available at once and notifies. */
static void publish_triples(struct vq *q, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		q->avail->ring[(q->avail_idx + i) % q->size] = (uint16_t)(3 * i);
	__asm__ volatile("" ::: "memory");
	q->avail_idx = (uint16_t)(q->avail_idx + n);
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	vq_notify(q);
}

static uint16_t used_idx(struct vq *q)
{
	return *(volatile uint16_t *)&q->used->idx;
}

/* Waits for the device's reaction to what is pending on q. */
static unsigned await(struct vq *q, uint64_t us)
{
	uint64_t start = time_us();

	for (;;) {
		if (virtio_status(q->dev) & VIRTIO_STATUS_NEEDS_RESET)
			return R_RESET;
		if (used_idx(q) != q->last_used) {
			q->last_used++;
			if (q != &bq)
				return R_OK;
			return *status == S_OK ? R_OK : *status == S_UNSET ? R_NOSTATUS : R_ERROR;
		}
		if (time_us() - start > us)
			return R_NOTHING;
		delay_us(20);
	}
}

/* d0 header, d1 one sector of data (in scratch, device-writable for reads), d2 status. */
static void std_chain(struct vring_desc *t, uint32_t type)
{
	*hdr = (struct blk_hdr){type, 0, 16};
	*status = S_UNSET;
	desc(t, 0, (uintptr_t)hdr, sizeof(*hdr), VRING_DESC_F_NEXT, 1);
	desc(t, 1, (uintptr_t)scratch, SECTOR,
	     (uint16_t)(VRING_DESC_F_NEXT | (type == T_IN ? VRING_DESC_F_WRITE : 0)), 2);
	desc(t, 2, (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
}

/* ---- Bring-up and proof of life ---- */

static void blk_up(void)
{
	static bool first = true;

	if (virtio_negotiate(&blk, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)))
		test_fail("virtio-blk: negotiation failed");
	if (first ? vq_init(&bq, &blk, 0, 0, VIRTIO_MSI_NO_VECTOR) : vq_reinit(&bq))
		test_fail("virtio-blk: queue setup failed");
	first = false;
	virtio_driver_ok(&blk);
	*status = S_UNSET;
}

static void rng_up(void)
{
	static bool first = true;

	if (virtio_negotiate(&rng, 0))
		test_fail("virtio-rng: negotiation failed");
	if (first ? vq_init(&rq, &rng, 0, 0, VIRTIO_MSI_NO_VECTOR) : vq_reinit(&rq))
		test_fail("virtio-rng: queue setup failed");
	first = false;
	virtio_driver_ok(&rng);
}

/* One blk request through the library; returns its status or a negative vq_call error. */
static int blk_rw(uint32_t type, uint64_t sector, uint8_t *data)
{
	struct vq_buf b[3] = {
		{hdr, sizeof(*hdr), false},
		{data, SECTOR, type == T_IN},
		{(void *)status, 1, true},
	};

	*hdr = (struct blk_hdr){type, 0, sector};
	*status = S_UNSET;
	long rc = vq_call(&bq, b, 3, WAIT_US);
	return rc < 0 ? (int)rc : *status;
}

static void blk_works(const char *after)
{
	uint64_t sector = 100 + rnd() % 1000;

	for (unsigned i = 0; i < SECTOR; i++)
		wbuf[i] = (uint8_t)(rnd() >> 24);
	memset(rbuf, 0, SECTOR);
	int w = blk_rw(T_OUT, sector, wbuf), r = blk_rw(T_IN, sector, rbuf);
	if (w != S_OK || r != S_OK || memcmp(wbuf, rbuf, SECTOR))
		test_fail("after %s: virtio-blk does not work (write %d, read %d, data %s, status "
			  "%#x)",
			  after, w, r, memcmp(wbuf, rbuf, SECTOR) ? "differs" : "same",
			  virtio_status(&blk));
}

static void rng_works(const char *after)
{
	struct vq_buf b = {rngbuf, 64, true};

	memset(rngbuf, 0, 64);
	if (vq_call(&rq, &b, 1, WAIT_US) <= 0)
		test_fail("after %s: virtio-rng does not work (status %#x)", after,
			  virtio_status(&rng));
}

/* Reset (must finish within a second), bring up, prove both devices work. */
static void recover(const char *after)
{
	if (virtio_reset(&blk))
		test_fail("after %s: virtio-blk does not reset (status %#x)", after,
			  virtio_status(&blk));
	blk_up();
	blk_works(after);
	rng_works(after);
}

/* ---- Scenarios: each returns the outcome it saw ---- */

static unsigned s_loop_short(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[2].flags |= VRING_DESC_F_NEXT;
	bq.desc[2].next = 0;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_loop_whole_ring(void)
{
	std_chain(bq.desc, T_IN);
	for (unsigned i = 1; i < bq.size; i++)
		desc(bq.desc, i, (uintptr_t)scratch + SECTOR * i, SECTOR,
		     VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)((i + 1) % bq.size));
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_self_loop(void)
{
	std_chain(bq.desc, T_IN);
	desc(bq.desc, 1, (uintptr_t)scratch, SECTOR, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_next_out_of_range(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[1].next = (uint16_t)(bq.size + 5);
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_head_out_of_range(void)
{
	std_chain(bq.desc, T_IN);
	publish(&bq, (uint16_t)(bq.size + 7));
	return await(&bq, WAIT_US);
}

static unsigned s_avail_jump(void)
{
	std_chain(bq.desc, T_IN);
	for (unsigned i = 0; i < bq.size; i++)
		bq.avail->ring[i] = 0;
	bq.avail_idx = (uint16_t)(bq.avail_idx + bq.size + 1);
	*(volatile uint16_t *)&bq.avail->idx = bq.avail_idx;
	vq_notify(&bq);
	return await(&bq, WAIT_US);
}

static unsigned data_at(uint64_t addr, uint32_t len, uint32_t type)
{
	std_chain(bq.desc, type);
	bq.desc[1].addr = addr;
	bq.desc[1].len = len;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_data_in_hole(void)
{
	return data_at(HOLE_ADDR, 4096, T_IN);
}

static unsigned s_data_beyond_ram(void)
{
	return data_at(FAR_ADDR, 4096, T_OUT);
}

static unsigned s_data_wraps(void)
{
	return data_at(WRAP_ADDR, 0x2000, T_IN);
}

static unsigned s_data_crosses_ram_end(void)
{
	return data_at((uintptr_t)scratch + scratch_len - 4096, 8192, T_IN);
}

static unsigned s_data_huge(void)
{
	return data_at((uintptr_t)scratch, 0xfffff000u, T_IN);
}

static unsigned s_data_lengths_overflow(void)
{
	std_chain(bq.desc, T_IN);
	for (unsigned i = 1; i <= 3; i++)
		desc(bq.desc, i, (uintptr_t)scratch, 0x80000000u,
		     VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(i + 1));
	desc(bq.desc, 4, (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_header_in_hole(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[0].addr = HOLE_ADDR;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_header_zero_len(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[0].len = 0;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_header_short(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[0].len = 8;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_header_writable(void)
{
	std_chain(bq.desc, T_OUT);
	bq.desc[0].flags |= VRING_DESC_F_WRITE;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_status_zero_len(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[2].len = 0;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

/* A read whose data descriptor is device-readable: the writable part is the status byte
 * alone, so this is a read of nothing (OK) or an error; either way the device must not write
 * the readable buffer. */
static unsigned s_read_into_readonly(void)
{
	std_chain(bq.desc, T_IN);
	bq.desc[1].flags = VRING_DESC_F_NEXT;
	memset(scratch, 0xa5, SECTOR);
	publish(&bq, 0);
	unsigned got = await(&bq, WAIT_US);
	for (unsigned i = 0; i < SECTOR; i++)
		if (scratch[i] != 0xa5) {
			printf("hostile:   the device wrote byte %u of a device-readable buffer\n",
			       i);
			return R_VIOLATION;
		}
	return got;
}

static unsigned s_write_after_writable(void)
{
	/* A device-readable descriptor after a writable one. */
	std_chain(bq.desc, T_IN);
	desc(bq.desc, 2, (uintptr_t)status, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	desc(bq.desc, 3, (uintptr_t)hdr, sizeof(*hdr), 0, 0);
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

/* A request whose single descriptor points at an indirect table of n entries built by fill. */
static unsigned indirect(unsigned n, void (*fill)(struct vring_desc *t, unsigned n), uint64_t table,
			 uint32_t len, uint16_t flags)
{
	*hdr = (struct blk_hdr){T_IN, 0, 16};
	*status = S_UNSET;
	if (fill)
		fill(itab, n);
	desc(bq.desc, 0, table ? table : (uintptr_t)itab,
	     len != ~0u ? len : n * (uint32_t)sizeof(struct vring_desc),
	     (uint16_t)(VRING_DESC_F_INDIRECT | flags), 1);
	std_chain(bq.desc + 1, T_IN); /* a valid chain at 1 for a NEXT that is followed */
	bq.desc[1].next = 2;
	bq.desc[2].next = 3;
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static void fill_std(struct vring_desc *t, unsigned n)
{
	desc(t, 0, (uintptr_t)hdr, sizeof(*hdr), VRING_DESC_F_NEXT, 1);
	for (unsigned i = 1; i + 1 < n; i++)
		desc(t, i, (uintptr_t)scratch + SECTOR * i, SECTOR,
		     VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(i + 1));
	desc(t, n - 1, (uintptr_t)status, 1, VRING_DESC_F_WRITE, 0);
}

static void fill_loop(struct vring_desc *t, unsigned n)
{
	fill_std(t, n);
	t[n - 1].flags |= VRING_DESC_F_NEXT;
	t[n - 1].next = 0;
}

static void fill_nested(struct vring_desc *t, unsigned n)
{
	fill_std(t, n);
	t[1].flags = VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT;
	t[1].addr = (uintptr_t)(t + 8);
	t[1].len = 3 * sizeof(*t);
	fill_std(t + 8, 3);
}

static void fill_next_out(struct vring_desc *t, unsigned n)
{
	fill_std(t, n);
	t[1].next = (uint16_t)(n + 100);
}

static unsigned s_indirect_loop(void)
{
	return indirect(3, fill_loop, 0, ~0u, 0);
}

static unsigned s_indirect_longer_than_queue(void)
{
	return indirect(2u * bq.size + 2, fill_std, 0, ~0u, 0);
}

static unsigned s_indirect_nested(void)
{
	return indirect(3, fill_nested, 0, ~0u, 0);
}

static unsigned s_indirect_next_out(void)
{
	return indirect(3, fill_next_out, 0, ~0u, 0);
}

static unsigned s_indirect_odd_len(void)
{
	return indirect(3, fill_std, 0, 3 * 16 + 4, 0);
}

static unsigned s_indirect_empty(void)
{
	return indirect(3, fill_std, 0, 0, 0);
}

static unsigned s_indirect_in_hole(void)
{
	return indirect(3, NULL, HOLE_ADDR, 48, 0);
}

static unsigned s_indirect_wraps(void)
{
	return indirect(3, NULL, WRAP_ADDR + 0xff0, 48, 0);
}

static unsigned s_indirect_and_next(void)
{
	return indirect(3, fill_std, 0, ~0u, VRING_DESC_F_NEXT);
}

/* Reset, negotiate and program queue 0 by hand, so that a bad value is in place when the queue
 * is enabled (wisp takes queue fields only while the queue is disabled): size, the three ring
 * addresses, no vector, enable. Our side of the rings starts empty. */
static void setup_raw(uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	if (virtio_reset(&blk))
		test_fail("virtio-blk does not reset");
	if (virtio_negotiate(&blk, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)))
		test_fail("virtio-blk: negotiation failed");
	memset(bq.desc, 0, 16 * bq.size);
	memset(bq.avail, 0, 6 + 2 * bq.size);
	memset(bq.used, 0, 6 + 8 * bq.size);
	bq.avail_idx = bq.last_used = bq.last_kick = 0;
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SELECT, 0);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SIZE, size);
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_DESCLO, (uint32_t)d);
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_DESCHI, (uint32_t)(d >> 32));
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_AVAILLO, (uint32_t)a);
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_AVAILHI, (uint32_t)(a >> 32));
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_USEDLO, (uint32_t)u);
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_USEDHI, (uint32_t)(u >> 32));
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_ENABLE, 1);
}

/* Queue 0 with one ring part at addr, then a valid request. */
static unsigned ring_at(unsigned reg, uint64_t addr)
{
	uint64_t d = (uintptr_t)bq.desc, a = (uintptr_t)bq.avail, u = (uintptr_t)bq.used;

	*(reg == VIRTIO_COMMON_Q_DESCLO ? &d : reg == VIRTIO_COMMON_Q_AVAILLO ? &a : &u) = addr;
	setup_raw(bq.size, d, a, u);
	virtio_driver_ok(&blk);
	std_chain(bq.desc, T_IN);
	publish(&bq, 0);
	return await(&bq, WAIT_US);
}

static unsigned s_desc_table_in_hole(void)
{
	return ring_at(VIRTIO_COMMON_Q_DESCLO, HOLE_ADDR);
}

static unsigned s_avail_ring_beyond_ram(void)
{
	return ring_at(VIRTIO_COMMON_Q_AVAILLO, FAR_ADDR);
}

static unsigned s_used_ring_in_hole(void)
{
	return ring_at(VIRTIO_COMMON_Q_USEDLO, HOLE_ADDR);
}

static unsigned s_desc_table_wraps(void)
{
	return ring_at(VIRTIO_COMMON_Q_DESCLO, WRAP_ADDR + 0x800);
}

static unsigned s_used_ring_crosses_ram_end(void)
{
	return ring_at(VIRTIO_COMMON_Q_USEDLO, (uintptr_t)scratch + scratch_len - 8);
}

/* Bad queue sizes (0, not a power of two, above the maximum). Returns R_NOTHING if every one
 * was refused (the size reads back as a valid one), R_RESET if the device set NEEDS_RESET for
 * any, R_OK if it accepted and ran a bad size. */
static unsigned s_queue_sizes(void)
{
	static const uint16_t bad[] = {0, 3, 100, 0x8000, 0xffff};
	unsigned result = R_NOTHING;
	bool accepted = false;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup_raw(bad[i], (uintptr_t)bq.desc, (uintptr_t)bq.avail, (uintptr_t)bq.used);
		uint16_t now = virtio_common16(&blk, VIRTIO_COMMON_Q_SIZE);
		bool sane = now && !(now & (now - 1)) && now <= bq.size;
		std_chain(bq.desc, T_IN);
		virtio_driver_ok(&blk);
		publish(&bq, 0);
		unsigned got = await(&bq, QUIET_US);
		printf("hostile:   queue size %#x -> reads %#x, %s\n", bad[i], now,
		       got == R_RESET	  ? "NEEDS_RESET"
		       : got == R_NOTHING ? "no reaction"
					  : "used");
		if (!sane && got != R_NOTHING && got != R_RESET)
			accepted = true;
		else if (got == R_RESET)
			result = R_RESET;
	}
	return accepted ? R_OK : result;
}

/* queue_select beyond num_queues: size reads 0, writes there change nothing. */
static unsigned s_queue_select_out_of_range(void)
{
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SELECT, 999);
	uint16_t size = virtio_common16(&blk, VIRTIO_COMMON_Q_SIZE);
	virtio_common_write32(&blk, VIRTIO_COMMON_Q_DESCLO, 0x1000);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SIZE, 4);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_ENABLE, 1);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_MSIX, 0);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SELECT, 0);
	uint32_t desc_lo = virtio_common32(&blk, VIRTIO_COMMON_Q_DESCLO);
	if (size != 0 || desc_lo != (uint32_t)(uintptr_t)bq.desc) {
		printf("hostile:   queue 999 size %#x; queue 0 desc now %#x (was %p)\n", size,
		       desc_lo, (void *)bq.desc);
		return R_ERROR;
	}
	blk_works("queue_select 999");
	return R_NOTHING;
}

/* Notifications naming queues that do not exist, and odd writes to the notify area. */
static unsigned s_notify_bogus(void)
{
	volatile uint8_t *n = blk.notify;

	*(volatile uint16_t *)n = 999;
	*(volatile uint16_t *)n = 0xffff;
	*(volatile uint32_t *)n = 0xdeadbeef;
	n[0] = 1;
	if (blk.notify_len >= 8)
		*(volatile uint16_t *)(n + blk.notify_len - 2) = 0;
	delay_us(QUIET_US / 3);
	unsigned got = virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET ? R_RESET : R_NOTHING;
	if (got == R_NOTHING)
		blk_works("bogus notifies"); /* ignored: still works without a reset */
	return got;
}

/* A queue that is configured but not enabled, or enabled before DRIVER_OK: a notify must not
 * make the device consume it. */
static unsigned s_notify_before_driver_ok(void)
{
	if (virtio_reset(&blk))
		return R_NOTHING;
	if (virtio_negotiate(&blk, 0) || vq_reinit(&bq))
		test_fail("notify scenario: setup failed");
	std_chain(bq.desc, T_IN);
	publish(&bq, 0); /* FEATURES_OK, queue enabled, no DRIVER_OK */
	return await(&bq, QUIET_US);
}

static unsigned s_notify_disabled_queue(void)
{
	if (virtio_reset(&blk))
		return R_NOTHING;
	if (virtio_negotiate(&blk, 0))
		test_fail("notify scenario: setup failed");
	virtio_driver_ok(&blk); /* queue 0 never configured */
	*bq.notify = 0;
	delay_us(QUIET_US);
	return virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET ? R_RESET : R_NOTHING;
}

static unsigned s_same_head_twice(void)
{
	std_chain(bq.desc, T_IN);
	bq.avail->ring[bq.avail_idx % bq.size] = 0;
	bq.avail->ring[(bq.avail_idx + 1) % bq.size] = 0;
	bq.avail_idx = (uint16_t)(bq.avail_idx + 2);
	*(volatile uint16_t *)&bq.avail->idx = bq.avail_idx;
	vq_notify(&bq);
	unsigned got = await(&bq, WAIT_US);
	if (got & (R_OK | R_ERROR | R_NOSTATUS))
		got |= await(&bq, QUIET_US) & R_RESET;
	return got;
}

/* Many large requests in flight, then reset: the reset must finish within a second, and once
 * it has, the device must not touch the old rings or buffers any more: no used-ring or status
 * update, no data written into read buffers, and no data taken from write buffers (they are
 * overwritten with a marker the moment the reset is done; the marker must never reach the
 * disk). Three rounds, reads and writes alternating. */
#define RESET_REQ (128 * 1024)

static bool reset_req_is_read(unsigned i, unsigned round)
{
	return !((i + round) & 1);
}

/* A checksum of the read buffers and the n status bytes of s_reset_during_io. */
static uint64_t checksum_io(unsigned n, unsigned round)
{
	uint64_t sum = 0;

	for (unsigned r = 0; r < n; r++) {
		if (!reset_req_is_read(r, round))
			continue;
		for (size_t i = (size_t)r * RESET_REQ; i < (size_t)(r + 1) * RESET_REQ; i += 8)
			sum += *(volatile uint64_t *)(scratch + i) * (i + 1);
	}
	for (unsigned i = 0; i < n; i++)
		sum += (uint64_t) * (volatile uint8_t *)(scratch + scratch_len / 2 + 4096 + i)
		       << (i % 56);
	return sum;
}

static unsigned s_reset_during_io(void)
{
	unsigned n = bq.size / 3 < 64 ? bq.size / 3 : 64;
	uint64_t cap = virtio_cfg64(&blk, 0), per = RESET_REQ / SECTOR;
	uint8_t *check = scratch + (size_t)n * RESET_REQ;

	for (unsigned round = 0; round < 3; round++) {
		uint8_t marker = (uint8_t)(0xe7 + round);

		if (round) {
			if (virtio_reset(&blk))
				test_fail("virtio-blk does not reset");
			blk_up();
		}
		/* The write targets start as 0x22 (earlier scenarios left random data
		 * there), so that afterwards each sector must be all 0x22 (not written)
		 * or all 0x11 (written before the reset finished), nothing else. */
		memset(check, 0x22, RESET_REQ);
		for (unsigned i = 0; i < n; i++) {
			if (reset_req_is_read(i, round))
				continue;
			struct vq_buf b[3] = {{hdr, sizeof(*hdr), false},
					      {check, RESET_REQ, false},
					      {(void *)status, 1, true}};
			*hdr = (struct blk_hdr){T_OUT, 0, cap > per ? (per * i) % (cap - per) : 0};
			if (vq_call(&bq, b, 3, WAIT_US) < 0 || *status != S_OK)
				test_fail("reset during I/O: preparing the disk failed");
		}
		if (virtio_reset(&blk))
			test_fail("virtio-blk does not reset");
		blk_up();
		memset(scratch, 0x11, (size_t)n * RESET_REQ);
		for (unsigned i = 0; i < n; i++) {
			struct blk_hdr *h = (struct blk_hdr *)(scratch + scratch_len / 2) + i;
			bool rd = reset_req_is_read(i, round);

			*h = (struct blk_hdr){rd ? T_IN : T_OUT, 0,
					      cap > per ? (per * i) % (cap - per) : 0};
			desc(bq.desc, 3 * i, (uintptr_t)h, sizeof(*h), VRING_DESC_F_NEXT,
			     (uint16_t)(3 * i + 1));
			desc(bq.desc, 3 * i + 1, (uintptr_t)scratch + (uint64_t)RESET_REQ * i,
			     RESET_REQ,
			     (uint16_t)(VRING_DESC_F_NEXT | (rd ? VRING_DESC_F_WRITE : 0)),
			     (uint16_t)(3 * i + 2));
			desc(bq.desc, 3 * i + 2, (uintptr_t)scratch + scratch_len / 2 + 4096 + i, 1,
			     VRING_DESC_F_WRITE, 0);
		}
		uint16_t base = used_idx(&bq);
		publish_triples(&bq, n);
		if (round == 2)
			delay_us(200); /* let some of it start */
		virtio_set_status(&blk, 0);
		uint64_t start = time_us();
		while (virtio_status(&blk) != 0)
			if (time_us() - start > 1000000)
				test_fail("reset during I/O: status still %#x after 1 s",
					  virtio_status(&blk));
		for (unsigned i = 0; i < n; i++)
			if (!reset_req_is_read(i, round))
				memset(scratch + (size_t)i * RESET_REQ, marker, RESET_REQ);
		uint16_t idx = used_idx(&bq);
		uint64_t sum = checksum_io(n, round), sum2;
		delay_us(QUIET_US);
		sum2 = checksum_io(n, round);
		printf("hostile:   %u requests of %u KiB in flight, %u completed before the reset "
		       "finished\n",
		       n, RESET_REQ / 1024, (uint16_t)(idx - base));
		if (used_idx(&bq) != idx || sum != sum2) {
			printf("hostile:   the device wrote guest memory after its reset finished "
			       "(used "
			       "idx %u -> %u, read buffers or status bytes %s)\n",
			       idx, used_idx(&bq), sum == sum2 ? "same" : "changed");
			return R_ERROR;
		}
		/* What the writes left on the disk must not contain the marker. */
		if (virtio_reset(&blk))
			test_fail("virtio-blk does not reset");
		blk_up();
		for (unsigned i = 0; i < n; i++) {
			if (reset_req_is_read(i, round))
				continue;
			struct vq_buf b[3] = {{hdr, sizeof(*hdr), false},
					      {check, RESET_REQ, true},
					      {(void *)status, 1, true}};
			*hdr = (struct blk_hdr){T_IN, 0, cap > per ? (per * i) % (cap - per) : 0};
			if (vq_call(&bq, b, 3, WAIT_US) < 0 || *status != S_OK)
				test_fail("reading back after the reset failed (status %u)",
					  *status);
			for (unsigned k = 0; k < RESET_REQ; k++)
				if (check[k] != check[k - k % SECTOR] ||
				    (check[k] != 0x11 && check[k] != 0x22)) {
					printf("hostile:   write %u took its data from guest "
					       "memory after the reset finished (%#x at byte %u "
					       "of sector %lu, marker %#x)\n",
					       i, check[k], k, hdr->sector, marker);
					return R_ERROR;
				}
		}
	}
	return R_RESET; /* the reset did its job */
}

/* Many writes in flight while the BAR holding the common and notify structures moves. */
static unsigned s_bar_move_during_io(void)
{
	unsigned n = bq.size / 3 < 64 ? bq.size / 3 : 64, cap = 0, bar = PCI_NUM_BARS;
	struct pci_bar b;

	while ((cap = pci_find_cap(&blk.pci, PCI_CAP_ID_VNDR, cap)))
		if (pci_read8(&blk.pci, cap + 3) == VIRTIO_PCI_CAP_NOTIFY_CFG)
			bar = pci_read8(&blk.pci, cap + 4);
	if (bar >= PCI_NUM_BARS)
		test_fail("no notify capability");
	pci_bar_probe(&blk.pci, bar, &b);
	uint64_t to = pci_alloc(b.size);
	if (!to)
		test_fail("no room to move a %#lx-byte BAR", b.size);
	uint8_t *st = scratch + scratch_len / 2;
	memset(st, S_UNSET, n);
	for (unsigned i = 0; i < n; i++) {
		desc(bq.desc, 3 * i, (uintptr_t)hdr, sizeof(*hdr), VRING_DESC_F_NEXT,
		     (uint16_t)(3 * i + 1));
		desc(bq.desc, 3 * i + 1, (uintptr_t)wbuf, SECTOR, VRING_DESC_F_NEXT,
		     (uint16_t)(3 * i + 2));
		desc(bq.desc, 3 * i + 2, (uintptr_t)(st + i), 1, VRING_DESC_F_WRITE, 0);
	}
	*hdr = (struct blk_hdr){T_OUT, 0, 40};
	uint16_t base = used_idx(&bq);
	publish_triples(&bq, n);
	uint16_t cmd = pci_read16(&blk.pci, PCI_COMMAND);
	pci_write16(&blk.pci, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_bar_set(&blk.pci, bar, to);
	pci_write16(&blk.pci, PCI_COMMAND, cmd);
	if (virtio_map(&blk))
		test_fail("capabilities unusable after the BAR move");
	bq.notify = (volatile uint16_t *)(blk.notify +
					  (uint64_t)virtio_common16(&blk, VIRTIO_COMMON_Q_NOFF) *
						  blk.notify_mult);
	uint64_t start = time_us();
	while ((uint16_t)(used_idx(&bq) - base) != n && time_us() - start < WAIT_US &&
	       !(virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET))
		delay_us(100);
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += st[i] == S_OK;
	printf("hostile:   BAR%u moved to %#lx with %u writes in flight: %u used, %u OK\n", bar, to,
	       n, used_idx(&bq), ok);
	bq.last_used = used_idx(&bq);
	if (virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET)
		return R_RESET;
	return used_idx(&bq) == n && ok == n ? R_OK : R_ERROR;
}

/* The BAR holding the common configuration, and its size. */
static unsigned common_bar(struct pci_bar *b)
{
	unsigned cap = 0;

	while ((cap = pci_find_cap(&blk.pci, PCI_CAP_ID_VNDR, cap)))
		if (pci_read8(&blk.pci, cap + 3) == VIRTIO_PCI_CAP_COMMON_CFG)
			break;
	if (!cap)
		test_fail("no common configuration capability");
	unsigned bar = pci_read8(&blk.pci, cap + 4);
	pci_bar_probe(&blk.pci, bar, b);
	return bar;
}

static void bar_to(unsigned bar, uint64_t addr)
{
	uint16_t cmd = pci_read16(&blk.pci, PCI_COMMAND);

	pci_write16(&blk.pci, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_bar_set(&blk.pci, bar, addr);
	pci_write16(&blk.pci, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
}

/* The BAR parked on RAM, on the LAPIC, on the other device's BAR, on ECAM (wisp only: QEMU
 * lets a BAR cover its MMCONFIG window, and then ECAM is gone), in the 64-bit window: what
 * was there must still be there, and the device works again once the BAR is back. */
static unsigned s_bar_placements(void)
{
	struct pci_bar b, rb;
	unsigned bar = common_bar(&b), got = R_NOTHING;
	uint64_t home = b.addr;
	uint32_t ver = lapic_read(LAPIC_VERSION), ids = pci_read32(&rng.pci, 0);
	uint8_t *ram = (uint8_t *)(((uintptr_t)scratch + b.size - 1) & ~(uintptr_t)(b.size - 1));

	pci_bar_probe(&rng.pci, 0, &rb);
	for (unsigned i = 0; i < 4096; i++)
		ram[i] = (uint8_t)(i * 13);

	bar_to(bar, (uintptr_t)ram);
	ram[7] = 0x77;
	for (unsigned i = 0; i < 4096; i++)
		if (ram[i] != (i == 7 ? 0x77 : (uint8_t)(i * 13))) {
			printf("hostile:   BAR on RAM at %p shadows it (byte %u reads %#x)\n",
			       (void *)ram, i, ram[i]);
			got = R_VIOLATION;
			break;
		}
	bar_to(bar, 0xfee00000);
	if (lapic_read(LAPIC_VERSION) != ver) {
		printf("hostile:   BAR on the LAPIC: version reads %#x, was %#x\n",
		       lapic_read(LAPIC_VERSION), ver);
		got = R_VIOLATION;
	}
	bar_to(bar, rb.addr);
	virtio_status(&blk); /* whoever answers: the VMM just has to survive */
	if (wisp) {
		bar_to(bar, pci_ecam_base());
		if (pci_read32(&rng.pci, 0) != ids) {
			printf("hostile:   BAR on ECAM: the rng's IDs read %#x\n",
			       pci_read32(&rng.pci, 0));
			got = R_VIOLATION;
		}
	}
	if (b.is64)
		bar_to(bar, 0x4000000000ull + b.size * 3);
	bar_to(bar, home);
	if (virtio_map(&blk))
		test_fail("capabilities unusable after the BAR came home");
	return got;
}

/* Random values into every configuration dword (and some bytes and words), then the BARs, the
 * command register and MSI-X control put back: the VMM survives, the device works. */
static unsigned s_config_garbage(void)
{
	struct pci_bar b;
	unsigned bar = common_bar(&b);
	uint16_t cmd = pci_read16(&blk.pci, PCI_COMMAND);
	uint32_t bars[PCI_NUM_BARS];

	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		bars[n] = pci_read32(&blk.pci, PCI_BAR0 + 4 * n);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned off = 0; off < 0x1000; off += 4) {
			uint32_t v = (uint32_t)rnd();

			if (off == PCI_COMMAND && !(rnd() % 2))
				v &= ~(uint32_t)PCI_COMMAND_MEMORY;
			switch (rnd() % 4) {
			case 0:
				pci_write8(&blk.pci, off + (v & 3), (uint8_t)v);
				break;
			case 1:
				pci_write16(&blk.pci, off + (v & 2), (uint16_t)v);
				break;
			default:
				pci_write32(&blk.pci, off, v);
			}
			if (rnd() % 2)
				(void)pci_read32(&blk.pci, off);
		}
	}
	pci_write16(&blk.pci, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		pci_write32(&blk.pci, PCI_BAR0 + 4 * n, bars[n]);
	if (blk.msix_cap)
		pci_msix_control(&blk.pci, blk.msix_cap, false, false);
	pci_write16(&blk.pci, PCI_COMMAND, cmd);
	(void)bar;
	if (virtio_map(&blk))
		test_fail("capabilities unusable after configuration garbage");
	return virtio_status(&blk) & VIRTIO_STATUS_NEEDS_RESET ? R_RESET : R_NOTHING;
}

/* MSI-X table garbage (addresses that are not the LAPIC: the hole, far away, scratch RAM),
 * odd-size and out-of-table writes, a vector number beyond the table; then a proper route. */
static unsigned s_msix_garbage(void)
{
	unsigned cap = blk.msix_cap;

	if (!cap)
		return R_NOTHING;
	unsigned n = pci_msix_size(&blk.pci, cap);
	static const uint64_t addrs[] = {HOLE_ADDR, FAR_ADDR, 0, WRAP_ADDR};
	for (unsigned i = 0; i < n; i++) {
		volatile uint32_t *e = pci_msix_entry(&blk.pci, cap, i);
		uint64_t a = i % 5 == 4 ? (uintptr_t)scratch + 64 * i : addrs[i % 4];

		e[0] = (uint32_t)a;
		e[1] = (uint32_t)(a >> 32);
		e[2] = (uint32_t)rnd();
		e[3] = 0; /* unmasked */
		((volatile uint8_t *)e)[13] = 0xff;
		((volatile uint16_t *)e)[5] = 0x1234;
	}
	volatile uint64_t *pba = pci_msix_pba(&blk.pci, cap);
	pba[0] = ~0ull; /* read-only */
	*(volatile uint8_t *)pba = 0x5a;
	volatile uint32_t *past = pci_msix_entry(&blk.pci, cap, n);
	past[0] = 0xffffffff; /* just after the table */
	pci_msix_control(&blk.pci, cap, true, false);
	virtio_common_write16(&blk, VIRTIO_COMMON_MSIX, 0);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SELECT, 0);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_MSIX, n > 1 ? 1 : 0);
	blk_works("MSI-X garbage (interrupts to nowhere)");
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_MSIX, (uint16_t)(n + 100));
	uint16_t back = virtio_common16(&blk, VIRTIO_COMMON_Q_MSIX);
	unsigned got = R_NOTHING;
	if (back != VIRTIO_MSI_NO_VECTOR) {
		printf("hostile:   queue vector %u (table has %u) reads back %#x, not NO_VECTOR\n",
		       n + 100, n, back);
		got = R_ERROR;
	}
	/* Now properly: vector 0x58 to this CPU on a completion. */
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	pci_msix_route(&blk.pci, cap, 0, lapic_id(), 0x58, false);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_MSIX, 0);
	uint64_t base = irq_count(0x58);
	blk_works("MSI-X re-routed");
	uint64_t start = time_us();
	while (irq_count(0x58) == base && time_us() - start < WAIT_US)
		delay_us(100);
	if (irq_count(0x58) == base) {
		printf("hostile:   no MSI-X interrupt after the table was set right\n");
		got = R_ERROR;
	}
	pci_msix_control(&blk.pci, cap, false, false);
	return got;
}

/* Writes to read-only fields (common, device config, ISR, PCI config) change nothing. */
static unsigned s_readonly_fields(void)
{
	const struct pci_dev *p = &blk.pci;
	uint32_t df;
	uint16_t nq = virtio_common16(&blk, VIRTIO_COMMON_NUMQ);
	uint64_t cap_before = virtio_cfg64(&blk, 0);
	unsigned bad = 0;

	virtio_common_write32(&blk, VIRTIO_COMMON_DFSELECT, 0);
	df = virtio_common32(&blk, VIRTIO_COMMON_DF);
	virtio_common_write32(&blk, VIRTIO_COMMON_DF, ~df);
	virtio_common_write16(&blk, VIRTIO_COMMON_NUMQ, (uint16_t)(nq + 7));
	virtio_common_write8(&blk, VIRTIO_COMMON_CFGGENERATION, 0x77);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_SELECT, 0);
	uint16_t noff = virtio_common16(&blk, VIRTIO_COMMON_Q_NOFF);
	virtio_common_write16(&blk, VIRTIO_COMMON_Q_NOFF, (uint16_t)(noff + 1));
	*(volatile uint32_t *)blk.device = 0x12345678; /* capacity */
	*(volatile uint32_t *)(blk.device + 4) = 0x9abcdef0;
	*blk.isr = 0xff;
	bad += virtio_common32(&blk, VIRTIO_COMMON_DF) != df;
	bad += virtio_common16(&blk, VIRTIO_COMMON_NUMQ) != nq;
	bad += virtio_common16(&blk, VIRTIO_COMMON_Q_NOFF) != noff;
	bad += virtio_cfg64(&blk, 0) != cap_before;

	/* PCI config: IDs, class, header type, subsystem, capability pointer, the first vendor
	 * capability's body and the MSI-X table location. */
	unsigned cap = 0, mcap = blk.msix_cap;
	while ((cap = pci_find_cap(p, PCI_CAP_ID_VNDR, cap)))
		if (pci_read8(p, cap + 3) == VIRTIO_PCI_CAP_COMMON_CFG)
			break; /* not the PCI-config-access one: its fields are writable */
	unsigned offs[] = {0x00, 0x08,	  0x0c,	   0x2c,     0x34,
			   cap,	 cap + 4, cap + 8, cap + 12, mcap ? mcap + 4 : 0x00};
	uint32_t before[10];
	for (unsigned i = 0; i < 10; i++)
		before[i] = pci_read32(p, offs[i]);
	pci_write32(p, 0x00, 0xffffffff);
	pci_write32(p, 0x08, 0);
	pci_write8(p, PCI_HEADER_TYPE, 0x81);
	pci_write32(p, 0x2c, 0);
	pci_write8(p, PCI_CAP_PTR, 0x44);
	pci_write32(p, cap + 4, 0x01020304);
	pci_write32(p, cap + 8, 0x10000);
	pci_write32(p, cap + 12, 0xffffffff);
	if (mcap)
		pci_write32(p, mcap + 4, 0x1005);
	for (unsigned i = 0; i < 10; i++)
		if (pci_read32(p, offs[i]) != before[i]) {
			printf("hostile:   read-only config dword at %#x changed: %#x -> %#x\n",
			       offs[i], before[i], pci_read32(p, offs[i]));
			bad++;
		}
	if (bad) {
		printf("hostile:   %u read-only fields changed\n", bad);
		return R_ERROR;
	}
	blk_works("writes to read-only fields");
	return R_NOTHING;
}

/* Features the device does not offer: FEATURES_OK must not stick. */
static unsigned s_unoffered_features(void)
{
	if (virtio_reset(&blk))
		return R_NOTHING;
	virtio_set_status(&blk, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_common_write32(&blk, VIRTIO_COMMON_GFSELECT, 0);
	virtio_common_write32(&blk, VIRTIO_COMMON_GF, 0xffffffff);
	virtio_common_write32(&blk, VIRTIO_COMMON_GFSELECT, 1);
	virtio_common_write32(&blk, VIRTIO_COMMON_GF, 0xffffffff);
	virtio_common_write32(&blk, VIRTIO_COMMON_GFSELECT, 0x1234); /* no such word */
	virtio_common_write32(&blk, VIRTIO_COMMON_GF, 0xffffffff);
	virtio_set_status(&blk, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					VIRTIO_STATUS_FEATURES_OK);
	uint8_t s = virtio_status(&blk);
	printf("hostile:   all feature bits + FEATURES_OK -> status %#x\n", s);
	return s & VIRTIO_STATUS_FEATURES_OK ? R_OK : R_ERROR;
}

/* Status garbage: every value, then the device must still reset. */
static unsigned s_status_garbage(void)
{
	for (unsigned v = 0xff; v > 0; v -= 0x11)
		virtio_set_status(&blk, (uint8_t)v);
	virtio_set_status(&blk, VIRTIO_STATUS_DRIVER_OK);
	std_chain(bq.desc, T_IN);
	publish(&bq, 0);
	return await(&bq, QUIET_US);
}

/* The bystander gets a descriptor loop too; it is reset and brought up again here. */
static unsigned s_rng_loop(void)
{
	desc(rq.desc, 0, (uintptr_t)rngbuf, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	publish(&rq, 0);
	unsigned got = await(&rq, WAIT_US);
	if (virtio_reset(&rng))
		test_fail("virtio-rng does not reset");
	rng_up();
	return got;
}

/* ---- Random descriptors ---- */

static uint64_t rnd_addr(void)
{
	switch (rnd() % 8) {
	case 0:
		return HOLE_ADDR + (rnd() & 0xfff0);
	case 1:
		return FAR_ADDR + (rnd() & 0xffffff);
	case 2:
		return WRAP_ADDR + (rnd() & 0xfff);
	case 3:
		return (rnd() | 1ull << 40) & ~0xfull; /* somewhere far above RAM */
	default:
		return (uintptr_t)scratch + rnd() % scratch_len;
	}
}

static uint32_t rnd_len(void)
{
	switch (rnd() % 6) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)rnd();
	case 2:
		return 1 + (uint32_t)(rnd() % 16);
	default:
		return (uint32_t)(rnd() % 65536);
	}
}

/* Keeps a device-writable descriptor from reaching our own memory: it must lie inside the
 * header page (hdr + status) or start in scratch (which runs to the end of RAM) or beyond. */
static void sanitize(struct vring_desc *d)
{
	uint64_t page = (uintptr_t)hdr;

	if (!(d->flags & VRING_DESC_F_WRITE) || (d->flags & VRING_DESC_F_INDIRECT))
		return;
	if (d->addr >= (uintptr_t)scratch)
		return;
	if (d->addr >= page && d->addr + d->len <= page + 4096)
		return;
	d->addr = (uintptr_t)scratch + (d->addr & 0xff0);
}

/* A random descriptor; indirect ones point at our table of random descriptors. */
static void rnd_desc(struct vring_desc *t, unsigned i, unsigned n, bool allow_indirect)
{
	uint64_t addr = rnd() % 4 == 0 ? (uintptr_t)hdr : rnd_addr();

	t[i] = (struct vring_desc){addr,
				   addr == (uintptr_t)hdr ? (uint32_t)(rnd() % 32) : rnd_len(),
				   (uint16_t)(rnd() & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE)),
				   (uint16_t)(rnd() % 8 ? rnd() % n : rnd())};
	sanitize(&t[i]);
	if (allow_indirect && rnd() % 8 == 0) {
		unsigned m = 1 + (unsigned)(rnd() % 12);

		for (unsigned k = 0; k < m; k++)
			rnd_desc(itab, k, m, false);
		if (rnd() % 4 == 0) /* nested: a correct device refuses it before following */
			itab[rnd() % m].flags |= VRING_DESC_F_INDIRECT;
		t[i].addr = (uintptr_t)itab;
		t[i].len = rnd() % 8 ? m * 16 : rnd_len();
		t[i].flags =
			(uint16_t)(VRING_DESC_F_INDIRECT | (rnd() % 8 ? 0 : VRING_DESC_F_NEXT));
	}
}

/* A valid request at head h, then one or two fields changed at random. */
static uint16_t mutated_chain(void)
{
	uint16_t h = (uint16_t)(rnd() % (bq.size - 2));
	struct vring_desc *d = bq.desc + h;

	std_chain(d, rnd() % 2 ? T_IN : T_OUT);
	d[0].next = (uint16_t)(h + 1);
	d[1].next = (uint16_t)(h + 2);
	for (unsigned m = 1 + (unsigned)(rnd() % 2); m; m--) {
		struct vring_desc *x = d + rnd() % 3;

		switch (rnd() % 6) {
		case 0:
			x->addr = rnd_addr();
			break;
		case 1:
			x->len = rnd_len();
			break;
		case 2:
			x->flags = (uint16_t)(rnd() & (VRING_DESC_F_NEXT | VRING_DESC_F_WRITE));
			break;
		case 3:
			x->next = (uint16_t)(rnd() % 4 ? rnd() % bq.size : rnd());
			break;
		case 4:
			hdr->type = (uint32_t)(rnd() % 16);
			break;
		default:
			hdr->sector = rnd() % 2 ? rnd() : 16000 + rnd() % 1000;
			break;
		}
		sanitize(x);
	}
	return h;
}

static void fuzz(unsigned rounds)
{
	unsigned counts[5] = {0};

	if (!rounds)
		return;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned k = 1;

		*status = S_UNSET;
		if (rnd() % 2) {
			uint16_t h = mutated_chain();

			bq.avail->ring[bq.avail_idx % bq.size] = h;
		} else {
			*hdr = (struct blk_hdr){(uint32_t)(rnd() % 16), (uint32_t)rnd(),
						rnd() % 4 ? rnd() % 20000 : rnd()};
			for (unsigned i = 0; i < bq.size; i++)
				rnd_desc(bq.desc, i, bq.size, true);
			k = rnd() % 4 ? 1 + (unsigned)(rnd() % 4)
				      : (unsigned)(rnd() % (bq.size + 8));
			for (unsigned i = 0; i < k; i++)
				bq.avail->ring[(bq.avail_idx + i) % bq.size] =
					(uint16_t)(rnd() % 8 ? rnd() % bq.size : rnd());
		}
		bq.avail_idx = (uint16_t)(bq.avail_idx + k);
		*(volatile uint16_t *)&bq.avail->idx = bq.avail_idx;
		vq_notify(&bq);
		unsigned got = await(&bq, 20000);
		for (unsigned b = 0; b < 5; b++)
			counts[b] += (got >> b) & 1;
		if (got == R_RESET || r % 16 == 15 || rnd() % 4 == 0)
			recover("random descriptors");
	}
	printf("hostile: %u random rounds: %u NEEDS_RESET, %u error, %u OK, %u no status, "
	       "%u quiet\n",
	       rounds, counts[0], counts[1], counts[2], counts[3], counts[4]);
	recover("random descriptors");
}

/* ---- The table ---- */

/* Allowed outcomes per VMM. wisp's are the strict reading of the spec and of DESIGN.md (every
 * guest address is checked; nonsense gets NEEDS_RESET or an error status). Two cases are not
 * nonsense for virtio-blk, whose status is the last byte of the writable part wherever the
 * descriptors split it: a zero-length status descriptor moves the status into the data buffer
 * (R_NOSTATUS), and a read whose data is device-readable is a read of nothing (R_OK).
 * QEMU 10.0 (q35, modern-only devices), as measured, is more lenient where an entry allows
 * R_OK for it: DMA to addresses that are not RAM goes through a bounce buffer (reads give
 * zeros, writes vanish) and succeeds; indirect tables longer than the queue, nested indirect
 * descriptors and INDIRECT together with NEXT are processed; virtio-blk consumes requests
 * before DRIVER_OK; queue sizes that are not a power of two are accepted; unoffered feature
 * bits are dropped and FEATURES_OK still sticks; ring addresses are not checked when a queue
 * is enabled, so an avail ring or used ring that is not RAM just makes the queue look idle
 * (R_NOTHING). */
struct scenario {
	const char *name;
	unsigned (*run)(void);
	unsigned wisp_ok, qemu_ok;
};

static const struct scenario scenarios[] = {
	{"loop-short", s_loop_short, R_BAD, R_BAD},
	{"loop-whole-ring", s_loop_whole_ring, R_BAD, R_BAD},
	{"self-loop", s_self_loop, R_BAD, R_BAD},
	{"next-out-of-range", s_next_out_of_range, R_BAD, R_BAD},
	{"head-out-of-range", s_head_out_of_range, R_BAD, R_BAD},
	{"avail-idx-jump", s_avail_jump, R_BAD, R_BAD},
	{"data-in-mmio-hole", s_data_in_hole, R_BAD, R_BAD | R_OK},
	{"data-beyond-ram", s_data_beyond_ram, R_BAD, R_BAD | R_OK},
	{"data-wraps-2^64", s_data_wraps, R_BAD, R_BAD | R_OK},
	{"data-crosses-ram-end", s_data_crosses_ram_end, R_BAD, R_BAD | R_OK},
	{"data-huge-length", s_data_huge, R_BAD, R_BAD},
	{"data-lengths-overflow", s_data_lengths_overflow, R_BAD, R_BAD},
	{"header-in-mmio-hole", s_header_in_hole, R_BAD, R_BAD | R_OK},
	{"header-zero-length", s_header_zero_len, R_BAD, R_BAD},
	{"header-short", s_header_short, R_BAD, R_BAD},
	{"header-writable", s_header_writable, R_BAD, R_BAD},
	{"status-zero-length", s_status_zero_len, R_BAD | R_NOSTATUS, R_BAD | R_NOSTATUS},
	{"read-into-readonly", s_read_into_readonly, R_BAD | R_OK, R_BAD | R_OK},
	{"readable-after-writable", s_write_after_writable, R_BAD, R_BAD},
	{"indirect-loop", s_indirect_loop, R_BAD, R_BAD},
	{"indirect-longer-than-queue", s_indirect_longer_than_queue, R_BAD, R_BAD | R_OK},
	{"indirect-nested", s_indirect_nested, R_BAD, R_BAD | R_OK},
	{"indirect-next-out-of-range", s_indirect_next_out, R_BAD, R_BAD},
	{"indirect-odd-length", s_indirect_odd_len, R_BAD, R_BAD},
	{"indirect-empty", s_indirect_empty, R_BAD, R_BAD},
	{"indirect-in-mmio-hole", s_indirect_in_hole, R_BAD, R_BAD},
	{"indirect-wraps-2^64", s_indirect_wraps, R_BAD, R_BAD},
	{"indirect-and-next", s_indirect_and_next, R_BAD, R_BAD | R_OK},
	{"desc-table-in-mmio-hole", s_desc_table_in_hole, R_RESET, R_RESET},
	{"avail-ring-beyond-ram", s_avail_ring_beyond_ram, R_RESET, R_RESET | R_NOTHING},
	{"used-ring-in-mmio-hole", s_used_ring_in_hole, R_RESET, R_RESET | R_NOTHING},
	{"desc-table-wraps-2^64", s_desc_table_wraps, R_RESET, R_RESET},
	{"used-ring-crosses-ram-end", s_used_ring_crosses_ram_end, R_RESET, R_RESET},
	{"bad-queue-sizes", s_queue_sizes, R_RESET | R_NOTHING, R_OK | R_RESET | R_NOTHING},
	{"queue-select-out-of-range", s_queue_select_out_of_range, R_NOTHING, R_NOTHING},
	{"notify-bogus", s_notify_bogus, R_NOTHING | R_RESET, R_NOTHING | R_RESET},
	{"notify-before-driver-ok", s_notify_before_driver_ok, R_NOTHING | R_RESET,
	 R_NOTHING | R_RESET | R_OK},
	{"notify-disabled-queue", s_notify_disabled_queue, R_NOTHING | R_RESET,
	 R_NOTHING | R_RESET},
	{"same-head-twice", s_same_head_twice, R_ANY, R_ANY},
	{"reset-during-io", s_reset_during_io, R_RESET, R_RESET},
	{"bar-move-during-io", s_bar_move_during_io, R_OK | R_RESET, R_OK | R_RESET},
	{"msix-table-garbage", s_msix_garbage, R_NOTHING, R_NOTHING},
	{"bar-placements", s_bar_placements, R_NOTHING, R_NOTHING},
	{"config-space-garbage", s_config_garbage, R_RESET | R_NOTHING, R_RESET | R_NOTHING},
	{"readonly-fields", s_readonly_fields, R_NOTHING, R_NOTHING},
	{"unoffered-features", s_unoffered_features, R_ERROR, R_ERROR | R_OK},
	{"status-garbage", s_status_garbage, R_ANY, R_ANY},
	{"rng-loop", s_rng_loop, R_RESET, R_RESET},
};

static const char *outcome_name(unsigned r)
{
	switch (r) {
	case R_RESET:
		return "NEEDS_RESET";
	case R_ERROR:
		return "error";
	case R_OK:
		return "OK";
	case R_NOSTATUS:
		return "no status";
	case R_NOTHING:
		return "nothing";
	case R_VIOLATION:
		return "violation";
	default:
		return "mixed";
	}
}

WISP_TEST("virtio-hostile")
{
	wisp = cmdline_has("vmm=wisp");
	seed ^= (uint64_t)cmdline_int("seed", 1);
	if (virtio_find(&blk, VIRTIO_ID_BLOCK, 0))
		test_fail("no virtio-blk device");
	if (virtio_find(&rng, VIRTIO_ID_RNG, 0))
		test_fail("no virtio-rng device");
	hdr = dma_alloc(4096, 4096);
	status = (volatile uint8_t *)hdr + 64;
	wbuf = dma_alloc(SECTOR, 512);
	rbuf = dma_alloc(SECTOR, 512);
	rngbuf = dma_alloc(64, 64);
	blk_up();
	rng_up();
	/* Tables big enough for the longest indirect chain we build (2 * queue size + 2). */
	itab = dma_alloc(sizeof(struct vring_desc) * (2 * bq.size + 16), 4096);
	/* Everything from here to the end of RAM is scratch: devices may write all of it. */
	scratch_len = (dma_free_bytes() - 8192) & ~(size_t)4095;
	scratch = dma_alloc(scratch_len, 4096);
	scratch_len = dma_free_bytes() + scratch_len;
	printf("hostile: virtio-blk %02x.%x (queue %u), virtio-rng %02x.%x; scratch %p+%#zx; "
	       "judged as %s\n",
	       blk.pci.slot, blk.pci.fn, bq.size, rng.pci.slot, rng.pci.fn, (void *)scratch,
	       scratch_len, wisp ? "wisp" : "qemu");
	blk_works("bring-up");
	rng_works("bring-up");

	bool only = cmdline_has("only");
	for (unsigned i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		char key[64];

		/* only=NAME (may be repeated) runs just those scenarios. */
		snprintf(key, sizeof(key), "only=%s", s->name);
		if (only && !cmdline_has(key))
			continue;
		/* Every scenario starts on fresh rings (indices 0). */
		if (virtio_reset(&blk))
			test_fail("virtio-blk does not reset before %s", s->name);
		blk_up();
		unsigned got = s->run();
		unsigned ok = wisp ? s->wisp_ok : s->qemu_ok;

		printf("hostile: %-28s -> %s%s\n", s->name, outcome_name(got),
		       got & ok ? "" : "   <-- not allowed");
		if (!(got & ok))
			failures++;
		recover(s->name);
	}

	fuzz((unsigned)cmdline_int("fuzz", only ? 0 : 300));
	if (failures)
		test_fail("%d scenario(s) had an outcome not allowed", failures);
	return 0;
}
