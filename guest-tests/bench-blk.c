/* Guest program, a benchmark (bench/virtio-blk runs it; not a test case): virtio-blk I/O
 * throughput and latency as a polling driver sees them. Negotiates VERSION_1, EVENT_IDX and
 * FLUSH (the disk has a write cache; flush=0 declines it, so writes must be durable),
 * drives queue 0 with fixed 3-descriptor chains (header, data, status), refills as many
 * slots as completed and then kicks once (EVENT_IDX decides whether that exits), and keeps
 * used_event behind the used index so the device never needs to interrupt (intr=1: asks for
 * an interrupt per completion, as an interrupt-driven driver would; the guest does not take
 * them). Phases, each preceded by a short untimed warm-up: getid-qd1 (GET_ID requests: the
 * device answers them without any file I/O, so this is the notify-to-completion round trip
 * alone), randread-4k-qd1, randwrite-4k-qd1, randread-4k-qd32, randwrite-4k-qd32,
 * seqread-1m-qd4.
 * Prints one line per phase, "bench-blk: <phase> key=value ..." (ops; warm: the warm-up
 * requests before them; us, iops, mbps; iops_med, mbps_med: the median over 16 slices of
 * the phase; lat_avg_us, lat_p50_us, lat_p99_us, notify_per_op) and a "total" line
 * (requests and notifies, warm-ups included, for counting exits from the host), then
 * passes. Every 4 KiB block of the disk starts with
 * the stamp BLK_TAG | block number (bench/virtio-blk writes the image so); reads check the
 * stamps of what they got, writes keep them.
 * Cmdline: tsc_khz=N (the TSC rate; else the library's CPUID guess, which is 2 GHz on hosts
 * without CPUID 0x15/0x16), n_qd1=N (requests per QD1 phase, default 5000), n_qd32=N (per
 * QD32 phase, default 50000), n_seq=N (1 MiB reads, default 1024), intr=1, flush=0,
 * pause_ms=N (spin idle that long after the setup line and each phase line, so that the
 * host can read the VMM's CPU times between phases; default 0).
 * Test body at CPL3; the only exits in a phase are the notifies it counts. */
#include "virtio.h"
#include "wisp-test.h"

#define VIRTIO_BLK_F_FLUSH 9
#define CFG_CAPACITY 0

#define T_IN 0
#define T_OUT 1
#define T_GET_ID 8
#define S_OK 0
#define S_UNSET 0xee

#define SECTOR 512
#define BLOCK 4096
#define ID_BYTES 20
#define BLK_TAG 0x57424c4b00000000ull /* "WBLK" in the top half, block number below */
#define POISON 0xdeadbeefdeadbeefull
#define MAX_QD 64
#define STALL_US 10000000
#define WARMUP_OPS 64
#define WINDOWS 16 /* a phase's throughput is also given as the median over 16 slices */

#define barrier() __asm__ volatile("" ::: "memory")
#define mb() __asm__ volatile("mfence" ::: "memory")

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct slot {
	struct blk_hdr hdr;
	uint8_t status;
	uint8_t *data;
	uint64_t block; /* first 4 KiB block of the request */
	uint64_t t0;	/* TSC at submission */
};

struct phase {
	const char *name;
	uint32_t type;
	uint32_t bytes;
	unsigned qd;
	unsigned ops;
	bool seq;
};

static struct virtio_dev dev;
static struct vq q;
static struct slot *slots;
static uint64_t *lat; /* per-request latency in TSC cycles */
static uint64_t tsc_khz, nblocks, rng_state = 0x9e3779b97f4a7c15ull, seq_next;
static uint16_t avail_idx, last_kick, last_used;
static uint64_t notifies, requests;
static uint64_t win_t[WINDOWS + 1]; /* TSC when a slice of the recorded run ended */
static unsigned win_done[WINDOWS + 1], windows;
static bool want_intr;
static uint64_t pause_us; /* idle after each line: bench/virtio-blk samples VMM CPU times */

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t cyc_to_ns(uint64_t cyc)
{
	return cyc * 1000000 / tsc_khz;
}

static void spin_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* "12.345" from a value in thousandths. */
static const char *milli(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%lu.%03lu", v / 1000, v % 1000);
	return buf;
}

static void publish_used_event(void)
{
	/* EVENT_IDX: the device interrupts when its used index passes used_event. One behind
	 * what we have seen never gets passed while we keep up; equal asks for the next one. */
	uint16_t ev = want_intr ? last_used : (uint16_t)(last_used - 1);

	*(volatile uint16_t *)&q.avail->ring[q.size] = ev;
}

static void submit(unsigned i, const struct phase *p, uint64_t block)
{
	struct slot *s = &slots[i];
	struct vring_desc *d = &q.desc[3 * i];
	uint32_t per = p->bytes / BLOCK;

	s->block = block;
	s->hdr = (struct blk_hdr){p->type, 0, block * (BLOCK / SECTOR)};
	s->status = S_UNSET;
	for (uint32_t k = 0; k < per; k++)
		*(uint64_t *)(s->data + (size_t)k * BLOCK) =
			p->type == T_OUT ? BLK_TAG | (block + k) : POISON;
	d[0] = (struct vring_desc){(uintptr_t)&s->hdr, sizeof(s->hdr), VRING_DESC_F_NEXT,
				   (uint16_t)(3 * i + 1)};
	d[1] = (struct vring_desc){
		(uintptr_t)s->data, p->bytes,
		(uint16_t)(VRING_DESC_F_NEXT | (p->type != T_OUT ? VRING_DESC_F_WRITE : 0)),
		(uint16_t)(3 * i + 2)};
	d[2] = (struct vring_desc){(uintptr_t)&s->status, 1, VRING_DESC_F_WRITE, 0};
	q.avail->ring[avail_idx % q.size] = (uint16_t)(3 * i);
	s->t0 = rdtsc();
	barrier();
	requests++;
	avail_idx++;
	*(volatile uint16_t *)&q.avail->idx = avail_idx;
}

/* Notifies the device unless EVENT_IDX says it does not need it; counts real notifies. */
static void kick(void)
{
	mb();
	uint16_t event = *(volatile uint16_t *)((uint8_t *)q.used + 4 + 8 * q.size);

	if ((uint16_t)(avail_idx - event - 1) < (uint16_t)(avail_idx - last_kick)) {
		*q.notify = q.index;
		notifies++;
	}
	last_kick = avail_idx;
}

static uint64_t next_block(const struct phase *p)
{
	uint64_t per = p->bytes / BLOCK, b;

	if (!per)
		return 0; /* GET_ID */
	if (!p->seq)
		return rng() % (nblocks / per) * per;
	if (seq_next + per > nblocks)
		seq_next = 0;
	b = seq_next;
	seq_next += per;
	return b;
}

static void check(const struct phase *p, const struct slot *s)
{
	if (s->status != S_OK)
		test_fail("%s: request at block %lu: status %u", p->name, s->block, s->status);
	if (p->type != T_IN)
		return;
	for (uint32_t k = 0; k < p->bytes / BLOCK; k++) {
		uint64_t got = *(uint64_t *)(s->data + (size_t)k * BLOCK);

		if (got != (BLK_TAG | (s->block + k)))
			test_fail("%s: block %lu starts with %#lx, not its stamp (image not made "
				  "by bench/virtio-blk?)",
				  p->name, s->block + k, got);
	}
}

/* Runs ops requests of phase p, qd in flight; fills lat[] if record. */
static void run(const struct phase *p, unsigned ops, bool record)
{
	unsigned issued = 0, done = 0, qd = p->qd < ops ? p->qd : ops;
	uint64_t progress = time_us();

	windows = 0;
	win_t[0] = rdtsc();
	win_done[0] = 0;
	for (unsigned i = 0; i < qd; i++, issued++)
		submit(i, p, next_block(p));
	kick();
	while (done < ops) {
		uint16_t used = *(volatile uint16_t *)&q.used->idx;

		if (used == last_used) {
			if (time_us() - progress > STALL_US)
				test_fail("%s: no completion for %u s (%u of %u done, status %#x)",
					  p->name, STALL_US / 1000000, done, ops,
					  virtio_status(&dev));
			__asm__ volatile("pause");
			continue;
		}
		barrier();
		uint64_t now = rdtsc();
		bool refilled = false;
		for (; last_used != used; last_used++) {
			struct vring_used_elem e = q.used->ring[last_used % q.size];
			unsigned i = e.id / 3;

			if (e.id % 3 || i >= qd)
				test_fail("%s: used ring returned descriptor %u", p->name, e.id);
			check(p, &slots[i]);
			if (record)
				lat[done] = now - slots[i].t0;
			done++;
			if (issued < ops) {
				submit(i, p, next_block(p));
				issued++;
				refilled = true;
			}
		}
		publish_used_event();
		if (refilled)
			kick();
		if (record && windows < WINDOWS &&
		    done >= (uint64_t)(windows + 1) * ops / WINDOWS) {
			windows++;
			win_t[windows] = now;
			win_done[windows] = done;
		}
		progress = time_us();
	}
}

static void sift(uint64_t *v, unsigned root, unsigned n)
{
	for (unsigned child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		uint64_t t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

/* Heap sort, ascending. */
static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = n / 2; i-- > 0;)
		sift(v, i, n);
	for (unsigned end = n; end-- > 1;) {
		uint64_t t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift(v, 0, end);
	}
}

/* Median over the slices of the last recorded run of their rates (requests per second):
 * a figure a few preemptions of the vCPU by other host tasks do not move. */
static uint64_t median_rate(void)
{
	uint64_t rate[WINDOWS];
	unsigned n = 0;

	for (unsigned k = 0; k < windows; k++) {
		uint64_t ns = cyc_to_ns(win_t[k + 1] - win_t[k]);

		if (ns && win_done[k + 1] > win_done[k])
			rate[n++] = (uint64_t)(win_done[k + 1] - win_done[k]) * 1000000000 / ns;
	}
	if (!n)
		return 0;
	sort(rate, n);
	return rate[n / 2];
}

static void bench(const struct phase *p)
{
	char a[32], b[32], c[32], d[32];
	unsigned ops = p->ops;

	if (!ops)
		return;
	unsigned warm = p->qd > WARMUP_OPS ? p->qd : WARMUP_OPS;

	run(p, warm, false);
	uint64_t n0 = notifies, t0 = rdtsc();
	run(p, ops, true);
	uint64_t ns = cyc_to_ns(rdtsc() - t0), sent = notifies - n0, sum = 0;

	if (!ns)
		ns = 1;
	for (unsigned i = 0; i < ops; i++)
		sum += lat[i];
	sort(lat, ops);
	uint64_t med = median_rate();
	printf("bench-blk: %s ops=%u warm=%u us=%lu iops=%lu mbps=%lu iops_med=%lu mbps_med=%lu "
	       "lat_avg_us=%s lat_p50_us=%s lat_p99_us=%s notify_per_op=%s\n",
	       p->name, ops, warm, ns / 1000, (uint64_t)ops * 1000000000 / ns,
	       (uint64_t)ops * p->bytes * 1000000000 / ns / (1024 * 1024), med,
	       med * p->bytes / (1024 * 1024), milli(a, sizeof(a), cyc_to_ns(sum / ops)),
	       milli(b, sizeof(b), cyc_to_ns(lat[ops / 2])),
	       milli(c, sizeof(c), cyc_to_ns(lat[(uint64_t)ops * 99 / 100])),
	       milli(d, sizeof(d), sent * 1000 / ops));
	spin_us(pause_us);
}

WISP_TEST("bench-blk")
{
	unsigned n_qd1 = (unsigned)cmdline_int("n_qd1", 5000);
	unsigned n_qd32 = (unsigned)cmdline_int("n_qd32", 50000);
	unsigned n_seq = (unsigned)cmdline_int("n_seq", 1024);
	const struct phase phases[] = {
		{"getid-qd1", T_GET_ID, ID_BYTES, 1, n_qd1, false},
		{"randread-4k-qd1", T_IN, BLOCK, 1, n_qd1, false},
		{"randwrite-4k-qd1", T_OUT, BLOCK, 1, n_qd1, false},
		{"randread-4k-qd32", T_IN, BLOCK, 32, n_qd32, false},
		{"randwrite-4k-qd32", T_OUT, BLOCK, 32, n_qd32, false},
		{"seqread-1m-qd4", T_IN, 1 << 20, 4, n_seq, true},
	};
	unsigned max_ops = WARMUP_OPS, max_qd = 1;
	uint64_t bufsize = BLOCK;

	tsc_khz = (uint64_t)cmdline_int("tsc_khz", 0);
	if (!tsc_khz)
		tsc_khz = tsc_hz() / 1000;
	want_intr = cmdline_int("intr", 0) != 0;
	pause_us = (uint64_t)cmdline_int("pause_ms", 0) * 1000;
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if (phases[i].ops > max_ops)
			max_ops = phases[i].ops;
		if (phases[i].qd > max_qd)
			max_qd = phases[i].qd;
		if (phases[i].bytes > bufsize)
			bufsize = phases[i].bytes;
	}
	if (max_qd > MAX_QD)
		test_fail("queue depth %u > %u", max_qd, MAX_QD);

	if (virtio_find(&dev, VIRTIO_ID_BLOCK, 0))
		test_fail("no virtio-blk device");
	/* FLUSH is taken, as Linux takes it: the disk then has a write cache and writes need not
	 * be durable when they complete. Declining it (flush=0) obliges a device that offered it
	 * to make every write durable before completing it (virtio 1.2, 5.2.6.2). */
	uint64_t want = VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

	if (cmdline_int("flush", 1))
		want |= VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	if (virtio_negotiate(&dev, want))
		test_fail("feature negotiation failed");
	if (!(dev.features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)))
		test_fail("the device does not offer EVENT_IDX");
	if (vq_init(&q, &dev, 0, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("queue 0 setup failed");
	if (q.size < 3 * max_qd)
		test_fail("queue of %u entries: %u needed", q.size, 3 * max_qd);
	virtio_driver_ok(&dev);
	/* The ring is driven here, not through vq_add()/vq_poll(): fixed chains per slot. */
	publish_used_event();

	uint64_t capacity = virtio_cfg64(&dev, CFG_CAPACITY);
	nblocks = capacity / (BLOCK / SECTOR);
	if (nblocks < bufsize / BLOCK * max_qd * 2)
		test_fail("capacity %lu sectors is too small", capacity);
	slots = dma_alloc(sizeof(*slots) * max_qd, 64);
	for (unsigned i = 0; i < max_qd; i++)
		slots[i].data = dma_alloc(bufsize, 4096);
	lat = dma_alloc(sizeof(*lat) * max_ops, 64);
	printf("bench-blk: setup tsc_khz=%lu%s capacity=%lu queue_size=%u features=%#lx intr=%u\n",
	       tsc_khz, cmdline_int("tsc_khz", 0) ? "" : " (guessed: pass tsc_khz=)", capacity,
	       q.size, dev.features, want_intr);

	spin_us(pause_us);
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		bench(&phases[i]);
	printf("bench-blk: total requests=%lu notifies=%lu (warm-ups included)\n", requests,
	       notifies);
	if (virtio_reset(&dev))
		test_fail("device does not reset");
	return 0;
}
