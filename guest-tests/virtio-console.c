/* Guest program: virtio-console (virtio-serial port 0, no MULTIPORT) over PCI. With input=1
 * it first waits for the line "WISP-CONSOLE-INPUT" on the receive queue (run-guest's chardev
 * peer sends it); then it sends a marker line, 64 numbered lines in requests of one to three
 * descriptors, and an end line through the transmit queue. run-guest checks that the chardev
 * backend got them. Test body at CPL3. */
#include "virtio.h"
#include "wisp-test.h"

#define RXQ 0
#define TXQ 1
#define RX_BUFS 8
#define RX_SIZE 64
#define TIMEOUT_US 20000000

static struct virtio_dev dev;
static struct vq rxq, txq;

static void post_rx(uint8_t *buf)
{
	struct vq_buf b = {buf, RX_SIZE, true};

	if (vq_add(&rxq, &b, 1, buf, false) < 0)
		test_fail("receive queue full");
}

static void wait_input(void)
{
	static const char want[] = "WISP-CONSOLE-INPUT";
	char got[256];
	size_t have = 0;
	uint64_t start = time_us();

	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(dma_alloc(RX_SIZE, 64));
	vq_kick(&rxq);
	while (have < sizeof(want) - 1 ||
	       memcmp(got + have - (sizeof(want) - 1), want, sizeof(want) - 1)) {
		void *cookie;
		uint32_t len;
		uint64_t left = TIMEOUT_US - (time_us() - start);
		int rc = time_us() - start < TIMEOUT_US ? vq_wait(&rxq, &cookie, &len, left) : -1;

		if (rc)
			test_fail("no console input (%s after %zu bytes)",
				  rc == -2 ? "device needs reset" : "timeout", have);
		if (!cookie || len > RX_SIZE)
			test_fail("receive buffer came back with length %u", len);
		for (uint32_t k = 0; k < len; k++) {
			char c = ((char *)cookie)[k];

			if (c == '\n' || c == '\r')
				continue;
			if (have == sizeof(got))
				have = 0;
			got[have++] = c;
		}
		post_rx(cookie);
		vq_kick(&rxq);
	}
	printf("virtio-console: got \"%s\" from the host\n", want);
}

/* Sends text split over n descriptors (1..3) and waits until the device used it. */
static void send(const char *text, unsigned n)
{
	size_t len = strlen(text);
	char *buf = dma_alloc(len, 16);
	struct vq_buf b[3];
	size_t at = 0;

	memcpy(buf, text, len);
	if (n > len)
		n = 1;
	for (unsigned i = 0; i < n; i++) {
		size_t part = i + 1 < n ? len / n : len - at;

		b[i] = (struct vq_buf){buf + at, (uint32_t)part, false};
		at += part;
	}
	long rc = vq_call(&txq, b, n, TIMEOUT_US);
	if (rc < 0)
		test_fail("transmit of %zu bytes did not complete (%ld, status %#x)", len, rc,
			  virtio_status(&dev));
}

WISP_TEST("virtio-console")
{
	if (virtio_find(&dev, VIRTIO_ID_CONSOLE, 0))
		test_fail("no virtio-console device");
	uint64_t offered = virtio_device_features(&dev);
	if (virtio_negotiate(&dev, 0))
		test_fail("feature negotiation failed");
	if (vq_init(&rxq, &dev, RXQ, 0, VIRTIO_MSI_NO_VECTOR) ||
	    vq_init(&txq, &dev, TXQ, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("queue setup failed");
	virtio_driver_ok(&dev);
	printf("virtio-console: %02x.%x offers %#lx, %u queues\n", dev.pci.slot, dev.pci.fn,
	       offered, dev.num_queues);

	if (cmdline_int("input", 0))
		wait_input();
	else
		for (unsigned i = 0; i < RX_BUFS; i++)
			post_rx(dma_alloc(RX_SIZE, 64));

	send("WISP-CONSOLE-OUTPUT virtio-console marker\n", 1);
	for (unsigned i = 0; i < 64; i++) {
		char line[80];

		snprintf(line, sizeof(line),
			 "virtio-console line %02u of 64 through %u descriptors\n", i, i % 3 + 1);
		send(line, i % 3 + 1);
	}
	send("WISP-CONSOLE-END\n", 2);
	printf("virtio-console: sent the marker, 64 lines and the end line\n");
	if (virtio_reset(&dev))
		test_fail("device does not reset");
	return 0;
}
