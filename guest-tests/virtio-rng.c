/* Guest program: virtio-rng over PCI. Negotiates VERSION_1, sets up the request queue, keeps
 * several requests of different sizes in flight and checks every one completes with 1..len
 * bytes, the bytes are not all equal and about half of their bits are set. Test body at CPL3.
 * Cmdline: bytes=N (total to collect, default 16384). */
#include "virtio.h"
#include "wisp-test.h"

#define INFLIGHT 8

static unsigned popcount8(uint8_t b)
{
	unsigned n = 0;

	for (; b; b &= (uint8_t)(b - 1))
		n++;
	return n;
}

WISP_TEST("virtio-rng")
{
	static const uint32_t sizes[INFLIGHT] = {1, 16, 64, 512, 4096, 100, 3, 2048};
	uint64_t want = (uint64_t)cmdline_int("bytes", 16384), got = 0, ones = 0, requests = 0;
	uint8_t *buf[INFLIGHT];
	unsigned counts[256] = {0};
	struct virtio_dev v;
	struct vq q;

	if (virtio_find(&v, VIRTIO_ID_RNG, 0))
		test_fail("no virtio-rng device");
	if (virtio_negotiate(&v, 0))
		test_fail("feature negotiation failed");
	if (vq_init(&q, &v, 0, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("request queue setup failed");
	virtio_driver_ok(&v);
	printf("virtio-rng: %02x.%x, queue size %u, features %#lx\n", v.pci.slot, v.pci.fn, q.size,
	       v.features);

	unsigned inflight = q.size < INFLIGHT ? q.size : INFLIGHT;
	for (unsigned i = 0; i < inflight; i++) {
		struct vq_buf b = {buf[i] = dma_alloc(sizes[i], 16), sizes[i], true};

		memset(buf[i], 0xcc, sizes[i]);
		TEST_ASSERT(vq_add(&q, &b, 1, (void *)(uintptr_t)i, false) >= 0);
	}
	vq_kick(&q);
	while (got < want) {
		void *cookie;
		uint32_t len;
		int rc = vq_wait(&q, &cookie, &len, 10000000);

		if (rc)
			test_fail("request %lu did not complete (%s; %lu bytes so far, status %#x)",
				  requests, rc == -2 ? "device needs reset" : "timeout", got,
				  virtio_status(&v));
		unsigned i = (unsigned)(uintptr_t)cookie;
		if (i >= inflight)
			test_fail("used ring returned a buffer that was never queued");
		if (len == 0 || len > sizes[i])
			test_fail("request for %u bytes completed with %u", sizes[i], len);
		for (uint32_t k = 0; k < len; k++) {
			counts[buf[i][k]]++;
			ones += popcount8(buf[i][k]);
		}
		got += len;
		requests++;
		memset(buf[i], 0xcc, sizes[i]);
		struct vq_buf b = {buf[i], sizes[i], true};
		TEST_ASSERT(vq_add(&q, &b, 1, cookie, false) >= 0);
		vq_kick(&q);
	}

	unsigned distinct = 0, most = 0;
	for (unsigned b = 0; b < 256; b++) {
		distinct += counts[b] != 0;
		if (counts[b] > most)
			most = counts[b];
	}
	printf("virtio-rng: %lu bytes in %lu requests, %u distinct byte values, most common %u "
	       "times, %lu of %lu bits set\n",
	       got, requests, distinct, most, ones, got * 8);
	if (distinct < 2)
		test_fail("all %lu bytes are equal", got);
	if (got >= 4096 && (distinct < 200 || ones * 10 < got * 8 * 4 || ones * 10 > got * 8 * 6))
		test_fail("bytes do not look random (%u distinct, %lu of %lu bits set)", distinct,
			  ones, got * 8);
	if (virtio_reset(&v))
		test_fail("device does not reset");
	return 0;
}
