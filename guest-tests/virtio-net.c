/* Guest program: virtio-net over PCI against a tap whose host side is 10.0.2.1 (run-guest
 * --netns). Negotiates MAC and STATUS, checks the MAC (cmdline mac=0x525400123456) and that
 * the link is up, sends an ARP request for 10.0.2.1 and waits for the host kernel's reply, then
 * pings it with echo requests of several sizes (header and frame in one or two descriptors)
 * and checks each reply's payload. With offloads=1 it also takes CSUM, GUEST_CSUM and
 * MRG_RXBUF: echo requests leave with their ICMP checksum to be filled in (NEEDS_CSUM: the
 * host drops them unless it was), receive buffers are 256 bytes so big replies span several
 * (num_buffers), and replies marked NEEDS_CSUM are completed here. Test body at CPL3. */
#include "virtio.h"
#include "wisp-test.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define CFG_MAC 0
#define CFG_STATUS 6

#define RXQ 0
#define TXQ 1
#define RX_BUFS 32
#define BUF_SIZE 2048
#define MRG_BUF_SIZE 256
#define HDR_LEN 12 /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define HDR_F_NEEDS_CSUM 1

/* struct virtio_net_hdr (VERSION_1: num_buffers always there). */
struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define TIMEOUT_US 20000000

static const uint8_t my_ip[4] = {10, 0, 2, 15}, host_ip[4] = {10, 0, 2, 1};
static uint8_t my_mac[6], host_mac[6];
static struct virtio_dev dev;
static struct vq rxq, txq;
static bool offloads, mrg;
static uint32_t rx_size = BUF_SIZE;
static unsigned merged_frames, csum_completed;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t ip_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void post_rx(uint8_t *buf)
{
	struct vq_buf b = {buf, rx_size, true};

	if (vq_add(&rxq, &b, 1, buf, false) < 0)
		test_fail("receive queue full");
}

/* Sends frame (Ethernet header onwards) in one descriptor or two (header apart), and waits for
 * the device to take it. csum_start != 0: the checksum at csum_start + csum_offset is left to
 * the device (NEEDS_CSUM). */
static void send_frame(const uint8_t *frame, size_t len, bool split, uint16_t csum_start,
		       uint16_t csum_offset)
{
	uint8_t *buf = dma_alloc(HDR_LEN + len, 64);
	struct net_hdr h = {0};
	struct vq_buf b[2];
	long rc;

	if (csum_start) {
		h.flags = HDR_F_NEEDS_CSUM;
		h.csum_start = csum_start;
		h.csum_offset = csum_offset;
	}
	memcpy(buf, &h, HDR_LEN);
	memcpy(buf + HDR_LEN, frame, len);
	if (split) {
		b[0] = (struct vq_buf){buf, HDR_LEN, false};
		b[1] = (struct vq_buf){buf + HDR_LEN, (uint32_t)len, false};
		rc = vq_call(&txq, b, 2, TIMEOUT_US);
	} else {
		b[0] = (struct vq_buf){buf, (uint32_t)(HDR_LEN + len), false};
		rc = vq_call(&txq, b, 1, TIMEOUT_US);
	}
	if (rc < 0)
		test_fail("transmit of a %zu-byte frame did not complete (%ld, status %#x)", len,
			  rc, virtio_status(&dev));
}

/* One used receive buffer (reposted at once after its bytes are copied to out). */
static int rx_one(uint8_t *out, size_t room, uint32_t *len, uint64_t until_us)
{
	void *cookie;
	uint64_t now = time_us();
	int rc = now < until_us ? vq_wait(&rxq, &cookie, len, until_us - now) : -1;

	if (rc == -2)
		test_fail("device needs reset while receiving (status %#x)", virtio_status(&dev));
	if (rc)
		return -1;
	if (!cookie || *len > rx_size)
		test_fail("receive buffer came back with length %u", *len);
	if (*len > room)
		test_fail("received frame longer than %zu bytes", room);
	memcpy(out, cookie, *len);
	post_rx(cookie);
	vq_kick(&rxq);
	return 0;
}

/* Receives one frame (header and data, several buffers with MRG_RXBUF) into f; returns its
 * length after the header, or -1 on timeout. Completes a NEEDS_CSUM checksum. */
static long rx_frame(uint8_t *f, size_t room, uint64_t until_us)
{
	static uint8_t raw[BUF_SIZE * 2];
	uint32_t len, total;
	struct net_hdr h;

	if (rx_one(raw, sizeof(raw), &len, until_us))
		return -1;
	if (len < HDR_LEN)
		test_fail("receive buffer of %u bytes: no room for the header", len);
	total = len;
	memcpy(&h, raw, HDR_LEN);
	if (mrg) {
		if (h.num_buffers < 1 || h.num_buffers > 16)
			test_fail("num_buffers %u", h.num_buffers);
		for (unsigned k = 1; k < h.num_buffers; k++) {
			if (rx_one(raw + total, sizeof(raw) - total, &len, time_us() + TIMEOUT_US))
				test_fail("buffer %u of %u of a merged frame never came", k + 1,
					  h.num_buffers);
			total += len;
		}
		merged_frames += h.num_buffers > 1;
	} else if (h.num_buffers > 1) {
		test_fail("num_buffers %u without MRG_RXBUF", h.num_buffers);
	}
	size_t flen = total - HDR_LEN;
	if (flen > room)
		test_fail("frame of %zu bytes", flen);
	memcpy(f, raw + HDR_LEN, flen);
	if (h.flags & HDR_F_NEEDS_CSUM) {
		if (!offloads || (size_t)h.csum_start + h.csum_offset + 2 > flen)
			test_fail("NEEDS_CSUM (start %u offset %u, frame %zu) %s", h.csum_start,
				  h.csum_offset, flen,
				  offloads ? "out of range" : "without GUEST_CSUM");
		/* The partial sum already sits in the checksum field: fold the rest in. */
		uint8_t *c = f + h.csum_start + h.csum_offset;
		uint16_t sum = ip_sum(f + h.csum_start, flen - h.csum_start);
		c[0] = (uint8_t)(sum >> 8);
		c[1] = (uint8_t)sum;
		csum_completed++;
	}
	return (long)flen;
}

/* Waits until match() accepts a received frame (others are dropped), up to until_us. Returns
 * true if one did; the frame is copied to out. */
static bool receive(bool (*match)(const uint8_t *f, size_t len), uint8_t *out, size_t *out_len,
		    uint64_t until_us)
{
	for (;;) {
		long n = rx_frame(out, BUF_SIZE, until_us);

		if (n < 0)
			return false;
		if (match(out, (size_t)n)) {
			*out_len = (size_t)n;
			return true;
		}
	}
}

static bool is_arp_reply(const uint8_t *f, size_t len)
{
	return len >= 42 && get16(f + 12) == 0x0806 && !memcmp(f, my_mac, 6) &&
	       get16(f + 20) == 2 && !memcmp(f + 28, host_ip, 4) && !memcmp(f + 38, my_ip, 4);
}

static uint16_t ping_id, ping_seq;

static bool is_echo_reply(const uint8_t *f, size_t len)
{
	return len >= 42 && get16(f + 12) == 0x0800 && !memcmp(f, my_mac, 6) && f[23] == 1 &&
	       !memcmp(f + 26, host_ip, 4) && !memcmp(f + 30, my_ip, 4) && f[34] == 0 &&
	       get16(f + 38) == ping_id && get16(f + 40) == ping_seq;
}

static void arp(void)
{
	uint8_t f[60] = {0}, r[BUF_SIZE];
	size_t rlen;

	memset(f, 0xff, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);      /* Ethernet */
	put16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1); /* request */
	memcpy(f + 22, my_mac, 6);
	memcpy(f + 28, my_ip, 4);
	memcpy(f + 38, host_ip, 4);
	for (unsigned tries = 0; tries < 10; tries++) {
		send_frame(f, sizeof(f), tries & 1, 0, 0);
		if (receive(is_arp_reply, r, &rlen, time_us() + 2000000)) {
			memcpy(host_mac, r + 22, 6);
			printf("virtio-net: ARP reply after %u request(s): 10.0.2.1 is at "
			       "%02x:%02x:%02x:%02x:%02x:%02x\n",
			       tries + 1, host_mac[0], host_mac[1], host_mac[2], host_mac[3],
			       host_mac[4], host_mac[5]);
			return;
		}
	}
	test_fail("no ARP reply from 10.0.2.1");
}

static void ping(size_t payload, bool split)
{
	static uint8_t f[1514], r[BUF_SIZE];
	size_t len = 14 + 20 + 8 + payload, rlen;
	uint8_t *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, sizeof(f));
	memcpy(f, host_mac, 6);
	memcpy(f + 6, my_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + payload));
	put16(ip + 4, ++ping_seq);
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	put16(ip + 10, ip_sum(ip, 20));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, ping_id);
	put16(icmp + 6, ping_seq);
	for (size_t i = 0; i < payload; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + ping_seq);
	/* With CSUM the device fills the ICMP checksum in (no pseudo-header: the partial sum is
	 * 0); the host drops the request if it does not. */
	if (offloads)
		send_frame(f, len, split, 14 + 20, 2);
	else {
		put16(icmp + 2, ip_sum(icmp, 8 + payload));
		send_frame(f, len, split, 0, 0);
	}
	if (!receive(is_echo_reply, r, &rlen, time_us() + 5000000))
		test_fail("no echo reply to a %zu-byte ping (seq %u)", payload, ping_seq);
	if (rlen < len || memcmp(r + 42, icmp + 8, payload))
		test_fail("echo reply of %zu bytes does not carry the %zu-byte payload", rlen,
			  payload);
	if (ip_sum(r + 14, 20) != 0)
		test_fail("echo reply has a bad IP header checksum");
	size_t icmp_len = get16(r + 16) - 20u;
	if (icmp_len + 34 > rlen || ip_sum(r + 34, icmp_len) != 0)
		test_fail("echo reply has a bad ICMP checksum or length");
}

WISP_TEST("virtio-net")
{
	long want_mac = cmdline_int("mac", -1);

	if (virtio_find(&dev, VIRTIO_ID_NET, 0))
		test_fail("no virtio-net device");
	uint64_t offered = virtio_device_features(&dev);
	if (!(offered & VIRTIO_BIT(VIRTIO_NET_F_MAC)) ||
	    !(offered & VIRTIO_BIT(VIRTIO_NET_F_STATUS)))
		test_fail("device does not offer MAC and STATUS (features %#lx)", offered);
	uint64_t want = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS);
	offloads = cmdline_int("offloads", 0);
	if (offloads) {
		uint64_t need = VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
				VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
				VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);

		if ((offered & need) != need)
			test_fail(
				"offloads=1: device does not offer CSUM, GUEST_CSUM and MRG_RXBUF");
		want |= need;
	}
	if (virtio_negotiate(&dev, want))
		test_fail("feature negotiation failed");
	mrg = dev.features & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (mrg)
		rx_size = MRG_BUF_SIZE;
	for (unsigned i = 0; i < 6; i++)
		my_mac[i] = virtio_cfg8(&dev, CFG_MAC + i);
	uint16_t status = virtio_cfg16(&dev, CFG_STATUS);
	printf("virtio-net: %02x.%x offers %#lx; MAC %02x:%02x:%02x:%02x:%02x:%02x, status %#x\n",
	       dev.pci.slot, dev.pci.fn, offered, my_mac[0], my_mac[1], my_mac[2], my_mac[3],
	       my_mac[4], my_mac[5], status);
	if (want_mac >= 0) {
		for (unsigned i = 0; i < 6; i++)
			if (my_mac[i] != (uint8_t)(want_mac >> (8 * (5 - i))))
				test_fail("MAC differs from mac=%#lx", want_mac);
	}
	if (!(status & VIRTIO_NET_S_LINK_UP))
		test_fail("link is down (status %#x)", status);
	if (vq_init(&rxq, &dev, RXQ, 0, VIRTIO_MSI_NO_VECTOR) ||
	    vq_init(&txq, &dev, TXQ, 0, VIRTIO_MSI_NO_VECTOR))
		test_fail("queue setup failed");
	unsigned nrx = rxq.size < RX_BUFS ? rxq.size : RX_BUFS;
	for (unsigned i = 0; i < nrx; i++)
		post_rx(dma_alloc(rx_size, 64));
	virtio_driver_ok(&dev);
	vq_kick(&rxq);

	ping_id = (uint16_t)rdtsc();
	arp();
	static const size_t sizes[] = {0, 56, 1000, 1472};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		ping(sizes[i], i & 1);
	printf("virtio-net: %zu echo replies, payloads up to 1472 bytes; %u frames over several "
	       "buffers, %u checksums completed here\n",
	       sizeof(sizes) / sizeof(sizes[0]), merged_frames, csum_completed);
	if (mrg && !merged_frames)
		test_fail("MRG_RXBUF: no frame used more than one %u-byte buffer", rx_size);
	if (virtio_reset(&dev))
		test_fail("device does not reset");
	return 0;
}
