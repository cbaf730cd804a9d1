/* Guest program: virtio-blk over PCI. On the first (writable) disk: negotiates VERSION_1 plus
 * EVENT_IDX and INDIRECT_DESC when offered, writes a pattern over many sectors with many
 * requests in flight in three chain shapes (direct, split data, indirect), reads it back and
 * compares, flushes, checks GET_ID against serial=, write-zeroes and discard when offered,
 * unknown request types (UNSUPP) and requests past the capacity (IOERR), and leaves a marker
 * in sector 1 for run-guest to find in the image. On the second disk, if ro=1: RO is offered
 * and writes, write-zeroes and discards are refused while reads work.
 * With MQ the bulk passes spread over up to 4 queues (queues=N: at least N must exist).
 * Cmdline: serial=S, ro=1, sectors=N (how many to pattern, default all up to 16384),
 * event_idx=0 / indirect=0 (do not accept those features). Test body at CPL3. */
#include "virtio.h"
#include "wisp-test.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_MQ 12

#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_WRITE_ZEROES_SECTORS 48

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13

#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define S_UNSET 0xee

#define SECTOR 512
#define MAX_REQ_SECTORS 16
#define MAX_INFLIGHT 64
#define TIMEOUT_US 10000000
#define MAX_QUEUES 4

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct req {
	struct blk_hdr hdr;
	struct blk_range range;
	uint8_t status;
	uint8_t *data;
	uint32_t sectors;
	bool busy;
};

static struct req *reqs;
static struct virtio_dev dev;
static struct vq q;		     /* queue 0: every single request goes here */
static struct vq mq[MAX_QUEUES - 1]; /* queues 1.. with MQ: the bulk passes spread over all */
static unsigned nq = 1, inflight_max;

static struct vq *queue(unsigned i)
{
	return i ? &mq[i - 1] : &q;
}

/* The pattern word at byte offset i of sector s in pass p. */
static uint64_t pattern(uint64_t s, unsigned i, unsigned p)
{
	uint64_t x = (s << 16 | i) * 0x9e3779b97f4a7c15ull + p;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 32);
}

static void fill(uint8_t *buf, uint64_t sector, uint32_t n, unsigned pass)
{
	uint64_t *w = (uint64_t *)buf;

	for (uint32_t s = 0; s < n; s++)
		for (unsigned i = 0; i < SECTOR / 8; i++)
			w[s * SECTOR / 8 + i] = pattern(sector + s, i, pass);
}

/* Offset of the first wrong byte, or -1. */
static long verify(const uint8_t *buf, uint64_t sector, uint32_t n, unsigned pass)
{
	const uint64_t *w = (const uint64_t *)buf;

	for (uint32_t s = 0; s < n; s++)
		for (unsigned i = 0; i < SECTOR / 8; i++)
			if (w[s * SECTOR / 8 + i] != pattern(sector + s, i, pass))
				return (long)(s * SECTOR + i * 8);
	return -1;
}

/* Queues a read or write of r->sectors at sector in one of three chain shapes. */
static int submit_rw(struct vq *vq, struct req *r, uint32_t type, uint64_t sector, unsigned shape)
{
	struct vq_buf b[4];
	unsigned n = 0;
	uint32_t len = r->sectors * SECTOR;
	bool in = type == T_IN;

	r->hdr = (struct blk_hdr){type, 0, sector};
	r->status = S_UNSET;
	b[n++] = (struct vq_buf){&r->hdr, sizeof(r->hdr), false};
	if (shape == 1 && r->sectors > 1) {
		uint32_t half = (r->sectors / 2) * SECTOR;

		b[n++] = (struct vq_buf){r->data, half, in};
		b[n++] = (struct vq_buf){r->data + half, len - half, in};
	} else if (len) {
		b[n++] = (struct vq_buf){r->data, len, in};
	}
	b[n++] = (struct vq_buf){&r->status, 1, true};
	return vq_add(vq, b, n, r, shape == 2);
}

/* Waits for one completion; fails the test on timeout or a foreign cookie. */
static struct req *reap(struct vq *vq, uint32_t *len)
{
	void *cookie;
	int rc = vq_wait(vq, &cookie, len, TIMEOUT_US);

	if (rc)
		test_fail("request did not complete (%s, device status %#x)",
			  rc == -2 ? "device needs reset" : "timeout", virtio_status(vq->dev));
	struct req *r = cookie;
	if (!r || r < reqs || r >= reqs + inflight_max || !r->busy)
		test_fail("used ring returned an unknown request");
	r->busy = false;
	return r;
}

/* Waits for one completion on any queue. */
static struct req *reap_any(uint32_t *len)
{
	uint64_t start = time_us();

	for (;;) {
		for (unsigned i = 0; i < nq; i++) {
			void *cookie;

			if (vq_poll(queue(i), &cookie, len)) {
				struct req *r = cookie;

				if (!r || r < reqs || r >= reqs + inflight_max || !r->busy)
					test_fail("queue %u returned an unknown request", i);
				r->busy = false;
				return r;
			}
		}
		if (time_us() - start > TIMEOUT_US)
			test_fail("requests did not complete (device status %#x)",
				  virtio_status(&dev));
		if (virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET)
			test_fail("device needs reset (status %#x)", virtio_status(&dev));
	}
}

/* Runs one pass over sectors [0, n): writes (pass pattern) or reads and verifies. Requests go
 * round-robin over the queues. */
static void rw_pass(uint64_t n, uint32_t type, unsigned pass)
{
	uint64_t next = 0, done = 0, issued = 0;
	unsigned busy = 0;

	while (done < n) {
		while (next < n && busy < inflight_max) {
			struct req *r = NULL;

			for (unsigned i = 0; i < inflight_max; i++)
				if (!reqs[i].busy) {
					r = &reqs[i];
					break;
				}
			uint32_t want = 1 + (uint32_t)(pattern(next, 0, 99) % MAX_REQ_SECTORS);
			r->sectors = next + want > n ? (uint32_t)(n - next) : want;
			if (type == T_OUT)
				fill(r->data, next, r->sectors, pass);
			else
				memset(r->data, 0x5a, r->sectors * SECTOR);
			if (submit_rw(queue((unsigned)(issued % nq)), r, type, next,
				      (unsigned)(issued % 3)) < 0)
				break;		/* ring full: reap first */
			r->range.sector = next; /* remember where it goes */
			r->busy = true;
			next += r->sectors;
			busy++;
			issued++;
		}
		for (unsigned i = 0; i < nq; i++)
			vq_kick(queue(i));
		uint32_t len;
		struct req *r = reap_any(&len);
		busy--;
		if (r->status != S_OK)
			test_fail("%s of %u sectors at %lu: status %u",
				  type == T_OUT ? "write" : "read", r->sectors, r->range.sector,
				  r->status);
		if (type == T_IN) {
			long bad = verify(r->data, r->range.sector, r->sectors, pass);

			if (bad >= 0)
				test_fail(
					"read of %u sectors at %lu: byte %ld differs from pass %u",
					r->sectors, r->range.sector, bad, pass);
			if (len < r->sectors * SECTOR + 1)
				test_fail("read of %u sectors at %lu: used length %u", r->sectors,
					  r->range.sector, len);
		}
		done += r->sectors;
	}
	printf("virtio-blk: %s %lu sectors in %lu requests over %u queue(s) (pass %u)\n",
	       type == T_OUT ? "wrote" : "read and checked", n, issued, nq, pass);
}

/* One request with an optional data buffer (readable or writable); returns the status. */
static uint8_t simple(struct vq *vq, uint32_t type, uint64_t sector, void *data, uint32_t len,
		      bool data_in)
{
	struct req *r = &reqs[0];
	struct vq_buf b[3];
	unsigned n = 0;
	uint32_t used;

	r->hdr = (struct blk_hdr){type, 0, sector};
	r->status = S_UNSET;
	b[n++] = (struct vq_buf){&r->hdr, sizeof(r->hdr), false};
	if (len)
		b[n++] = (struct vq_buf){data, len, data_in};
	b[n++] = (struct vq_buf){&r->status, 1, true};
	if (vq_add(vq, b, n, r, false) < 0)
		test_fail("ring full for a single request");
	r->busy = true;
	vq_kick(vq);
	reap(vq, &used);
	return r->status;
}

/* Data buffers at odd addresses, split at odd lengths (O_DIRECT backends must bounce them). */
static void check_unaligned(void)
{
	uint8_t *w = reqs[1].data + 1, *r = reqs[0].data + 3;
	struct req *q0 = &reqs[0];
	uint32_t used;

	fill(w, 300, 4, 7); /* w is now 4 sectors of pass-7 pattern, 1 byte off alignment */
	q0->hdr = (struct blk_hdr){T_OUT, 0, 300};
	q0->status = S_UNSET;
	struct vq_buf wb[5] = {
		{&q0->hdr, sizeof(q0->hdr), false},
		{w, 511, false},
		{w + 511, 1, false},
		{w + 512, 1536, false},
		{&q0->status, 1, true},
	};
	if (vq_add(&q, wb, 5, q0, false) < 0)
		test_fail("ring full");
	q0->busy = true;
	vq_kick(&q);
	reap(&q, &used);
	if (q0->status != S_OK)
		test_fail("unaligned write: status %u", q0->status);
	memset(r, 0, 4 * SECTOR);
	q0->hdr = (struct blk_hdr){T_IN, 0, 300};
	q0->status = S_UNSET;
	struct vq_buf rb[4] = {
		{&q0->hdr, sizeof(q0->hdr), false},
		{r, 1000, true},
		{r + 1000, 1048, true},
		{&q0->status, 1, true},
	};
	if (vq_add(&q, rb, 4, q0, false) < 0)
		test_fail("ring full");
	q0->busy = true;
	vq_kick(&q);
	reap(&q, &used);
	if (q0->status != S_OK || memcmp(r, w, 4 * SECTOR))
		test_fail("unaligned read: status %u, data %s", q0->status,
			  memcmp(r, w, 4 * SECTOR) ? "differs" : "same");
	printf("virtio-blk: unaligned, oddly split buffers read and write correctly\n");
}

static void check_id(void)
{
	char id[21] = {0};
	uint8_t st = simple(&q, T_GET_ID, 0, id, 20, true);
	char want[24] = {0};
	const char *c = cmdline();

	/* serial=S from the command line (no library accessor for strings). */
	for (const char *p = c; *p; p++)
		if ((p == c || p[-1] == ' ') && !strncmp(p, "serial=", 7)) {
			for (unsigned i = 0; i < 20 && p[7 + i] && p[7 + i] != ' '; i++)
				want[i] = p[7 + i];
			break;
		}
	printf("virtio-blk: GET_ID status %u id \"%s\"\n", st, id);
	if (st != S_OK)
		test_fail("GET_ID: status %u", st);
	if (want[0] && strcmp(id, want))
		test_fail("GET_ID: \"%s\", want \"%s\"", id, want);
}

static void check_errors(uint64_t capacity)
{
	uint8_t *buf = reqs[1].data;
	uint8_t st;

	st = simple(&q, T_IN, capacity, buf, SECTOR, true);
	if (st != S_IOERR)
		test_fail("read at sector %lu (= capacity): status %u, want IOERR", capacity, st);
	st = simple(&q, T_IN, capacity - 1, buf, 2 * SECTOR, true);
	if (st != S_IOERR)
		test_fail("read of 2 sectors at capacity-1: status %u, want IOERR", st);
	st = simple(&q, T_OUT, capacity, buf, SECTOR, false);
	if (st != S_IOERR)
		test_fail("write at sector %lu (= capacity): status %u, want IOERR", capacity, st);
	st = simple(&q, T_IN, ~0ull >> 1, buf, SECTOR, true);
	if (st != S_IOERR)
		test_fail("read at sector 2^63-1: status %u, want IOERR", st);
	st = simple(&q, 0x7f, 0, buf, SECTOR, true);
	if (st != S_UNSUPP)
		test_fail("request type 0x7f: status %u, want UNSUPP", st);
	/* The last sector itself is fine. */
	st = simple(&q, T_IN, capacity - 1, buf, SECTOR, true);
	if (st != S_OK)
		test_fail("read of the last sector: status %u", st);
	printf("virtio-blk: out-of-range requests get IOERR, unknown types UNSUPP\n");
}

/* WRITE_ZEROES / DISCARD of [sector, sector + n). */
static uint8_t range_op(uint32_t type, uint64_t sector, uint32_t n)
{
	struct req *r = &reqs[0];

	r->range = (struct blk_range){sector, n, 0};
	return simple(&q, type, 0, &r->range, sizeof(r->range), false);
}

static void check_zeroes_discard(uint64_t sectors)
{
	uint8_t *buf = reqs[1].data;

	if (dev.features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)) {
		uint32_t max = virtio_cfg32(&dev, CFG_MAX_WRITE_ZEROES_SECTORS);
		uint8_t st = range_op(T_WRITE_ZEROES, 8, 4);

		if (st != S_OK)
			test_fail("WRITE_ZEROES of sectors 8-11: status %u (max %u)", st, max);
		memset(buf, 0x5a, 6 * SECTOR);
		st = simple(&q, T_IN, 7, buf, 6 * SECTOR, true);
		if (st != S_OK || verify(buf, 7, 1, 1) >= 0 ||
		    verify(buf + 5 * SECTOR, 12, 1, 1) >= 0)
			test_fail("WRITE_ZEROES touched its neighbours (status %u)", st);
		for (unsigned i = SECTOR; i < 5 * SECTOR; i++)
			if (buf[i])
				test_fail("WRITE_ZEROES: byte %u of sector 8-11 is %#x", i, buf[i]);
		st = range_op(T_WRITE_ZEROES, sectors, 1);
		if (st != S_IOERR)
			test_fail("WRITE_ZEROES past the end: status %u, want IOERR", st);
		printf("virtio-blk: WRITE_ZEROES works (max %u sectors)\n", max);
	} else {
		printf("virtio-blk: WRITE_ZEROES not offered\n");
	}
	if (dev.features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)) {
		uint8_t st = range_op(T_DISCARD, 64, 64);

		if (st != S_OK)
			test_fail("DISCARD of sectors 64-127: status %u", st);
		st = range_op(T_DISCARD, sectors - 1, 2);
		if (st != S_IOERR)
			test_fail("DISCARD past the end: status %u, want IOERR", st);
		printf("virtio-blk: DISCARD works (max %u sectors)\n",
		       virtio_cfg32(&dev, CFG_MAX_DISCARD_SECTORS));
	} else {
		printf("virtio-blk: DISCARD not offered\n");
	}
}

static void check_readonly(void)
{
	struct virtio_dev ro;
	struct vq rq;
	uint8_t *buf = reqs[1].data;
	uint8_t st;

	if (virtio_find(&ro, VIRTIO_ID_BLOCK, 1))
		test_fail("no second (read-only) virtio-blk device");
	if (!(virtio_device_features(&ro) & VIRTIO_BIT(VIRTIO_BLK_F_RO)))
		test_fail("read-only disk does not offer VIRTIO_BLK_F_RO");
	if (virtio_negotiate(&ro, VIRTIO_BIT(VIRTIO_BLK_F_RO) |
					  VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
					  VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)))
		test_fail("read-only disk: negotiation failed");
	if (vq_init(&rq, &ro, 0, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("read-only disk: queue setup failed");
	virtio_driver_ok(&ro);
	memset(buf, 0x77, SECTOR);
	uint8_t wst = simple(&rq, T_OUT, 0, buf, SECTOR, false);
	if (wst != S_IOERR && wst != S_UNSUPP)
		test_fail("write to the read-only disk: status %u, want IOERR or UNSUPP", wst);
	if (ro.features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)) {
		reqs[0].range = (struct blk_range){0, 1, 0};
		st = simple(&rq, T_WRITE_ZEROES, 0, &reqs[0].range, sizeof(reqs[0].range), false);
		if (st != S_IOERR && st != S_UNSUPP)
			test_fail("WRITE_ZEROES on the read-only disk: status %u", st);
	}
	memset(buf, 0x77, SECTOR);
	st = simple(&rq, T_IN, 0, buf, SECTOR, true);
	if (st != S_OK)
		test_fail("read from the read-only disk: status %u", st);
	for (unsigned i = 0; i < SECTOR; i++)
		if (buf[i])
			test_fail("read-only disk changed: byte %u is %#x", i, buf[i]);
	printf("virtio-blk: read-only disk refuses writes (status %u), reads work\n", wst);
	virtio_reset(&ro);
}

WISP_TEST("virtio-blk")
{
	uint64_t want = VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
			VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |
			VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);

	if (cmdline_int("event_idx", 1))
		want |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (cmdline_int("indirect", 1))
		want |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (virtio_find(&dev, VIRTIO_ID_BLOCK, 0))
		test_fail("no virtio-blk device");
	uint64_t offered = virtio_device_features(&dev);
	if (virtio_negotiate(&dev, want))
		test_fail("feature negotiation failed");
	if (dev.features & VIRTIO_BIT(VIRTIO_BLK_F_RO))
		test_fail("the first disk is read-only");
	if (vq_init(&q, &dev, 0, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("queue 0 setup failed");
	if (dev.features & VIRTIO_BIT(VIRTIO_BLK_F_MQ)) {
		uint16_t n = virtio_cfg16(&dev, CFG_NUM_QUEUES);

		if (n < 1 || n != dev.num_queues)
			test_fail("MQ: config num_queues %u, common num_queues %u", n,
				  dev.num_queues);
		nq = n < MAX_QUEUES ? n : MAX_QUEUES;
		for (unsigned i = 1; i < nq; i++)
			if (vq_init(queue(i), &dev, i, 0, VIRTIO_MSI_NO_VECTOR))
				test_fail("queue %u setup failed", i);
	}
	if (cmdline_int("queues", 1) > (long)nq)
		test_fail("%u queue(s), want queues=%ld", nq, cmdline_int("queues", 1));
	virtio_driver_ok(&dev);

	uint64_t capacity = virtio_cfg64(&dev, CFG_CAPACITY);
	uint32_t blk = dev.features & VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE)
			       ? virtio_cfg32(&dev, CFG_BLK_SIZE)
			       : 512;
	uint32_t seg_max = dev.features & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX)
				   ? virtio_cfg32(&dev, CFG_SEG_MAX)
				   : 0;
	printf("virtio-blk: %02x.%x offers %#lx, took %#lx; capacity %lu sectors, blk_size %u, "
	       "seg_max %u, %u queues, queue size %u\n",
	       dev.pci.slot, dev.pci.fn, offered, dev.features, capacity, blk, seg_max,
	       dev.num_queues, q.size);
	if (capacity < 256)
		test_fail("capacity %lu sectors: the test needs at least 256", capacity);
	if (seg_max && seg_max < 2)
		test_fail("seg_max %u: the test needs 2 data segments", seg_max);

	/* Each request takes at most 4 descriptors; two request slots are needed. */
	inflight_max = q.size / 4 < MAX_INFLIGHT ? q.size / 4 : MAX_INFLIGHT;
	if (inflight_max < 2)
		test_fail("queue of %u entries: the test needs 8", q.size);
	reqs = dma_alloc(sizeof(*reqs) * inflight_max, 64);
	for (unsigned i = 0; i < inflight_max; i++)
		reqs[i].data = dma_alloc(MAX_REQ_SECTORS * SECTOR, 4096);

	uint64_t n = (uint64_t)cmdline_int("sectors", 16384);
	if (n > capacity)
		n = capacity;
	rw_pass(n, T_OUT, 1);
	rw_pass(n, T_IN, 1);
	if (dev.features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) {
		uint8_t st = simple(&q, T_FLUSH, 0, NULL, 0, false);

		if (st != S_OK)
			test_fail("FLUSH: status %u", st);
		printf("virtio-blk: FLUSH ok\n");
	}
	check_unaligned();
	check_id();
	check_errors(capacity);
	check_zeroes_discard(capacity);

	/* Sector 1 carries a marker run-guest looks for in the image file. */
	static const char marker[] = "WISP-VIRTIO-BLK-MARKER";
	memset(reqs[1].data, 0, SECTOR);
	memcpy(reqs[1].data, marker, sizeof(marker) - 1);
	if (simple(&q, T_OUT, 1, reqs[1].data, SECTOR, false) != S_OK)
		test_fail("marker write failed");
	if ((dev.features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)) &&
	    simple(&q, T_FLUSH, 0, NULL, 0, false) != S_OK)
		test_fail("final FLUSH failed");
	if (virtio_reset(&dev))
		test_fail("device does not reset");

	if (cmdline_int("ro", 0))
		check_readonly();
	return 0;
}
