/* Host tests for virtio-net and virtio-console: a driver written here speaks to them
 * through the PCI windows, guest RAM in a memfd, the event loop run by hand. The net
 * tests need CAP_NET_ADMIN: they run in a network namespace of their own, where a
 * packet socket on the tap plays the network; without it they are skipped. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/virt.h"
#include "virtio/devices.h"
#include "vm.h"

#define RAM (16 << 20)
#define QSZ 64
#define RINGS 0x100000ULL /* queue q's rings at RINGS + 0x10000 * q */
#define BUF 0x200000ULL	  /* data buffers */
#define TAP "wt0"
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

/* Net feature bits. */
#define N_CSUM 0
#define N_GUEST_CSUM 1
#define N_MAC 5
#define N_GUEST_TSO4 7
#define N_HOST_TSO4 11
#define N_MRG_RXBUF 15
#define N_STATUS 16
#define V1 (1ULL << VIRTIO_F_VERSION_1)

static bool have_netns;
static struct t *current; /* freed by the teardown, also when a test fails */

struct q {
	uint64_t desc, avail, used;
	uint16_t size, avail_idx, used_seen, next_desc;
};

struct t {
	struct vm vm;
	struct config cfg;
	struct virtio_dev *v;
	struct q q[2];
	int pkt, pkt_vnet; /* packet sockets on the tap: plain, with virtio-net headers */
	int ifindex;
	char dir[64], sock[96], file[96];
};

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void no_irq(void *opaque, unsigned int gsi, int level)
{
}

static struct t *make_vm(void)
{
	struct t *t = calloc(1, sizeof(*t));

	t->vm.vm_fd = t->vm.kvm_fd = -1;
	t->vm.cfg = &t->cfg;
	assert_int_equal(memory_init(&t->vm.mem, RAM), 0);
	assert_int_equal(evloop_init(&t->vm.loop), 0);
	t->vm.irq.vm_fd = -1;
	pthread_mutex_init(&t->vm.irq.lock, NULL);
	pci_init(&t->vm.pci, no_irq, NULL);
	t->pkt = t->pkt_vnet = -1;
	current = t;
	return t;
}

static void plug(struct t *t, struct virtio_dev *v, const char *err)
{
	char e[256];

	if (!v)
		fail_msg("%s", err);
	t->v = v;
	assert_int_equal(virtio_plug(v, -1, e, sizeof(e)), 0);
}

static void destroy(struct t *t)
{
	current = NULL;
	if (t->v)
		t->v->ops->free(t->v);
	if (t->pkt >= 0)
		close(t->pkt);
	if (t->pkt_vnet >= 0)
		close(t->pkt_vnet);
	evloop_free(&t->vm.loop);
	memory_free(&t->vm.mem);
	if (t->file[0])
		unlink(t->file);
	if (t->dir[0])
		rmdir(t->dir);
	free(t);
}

/* ---- the driver ---- */

static void mmio(struct t *t, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint64_t a = t->v->pci.bar[0].mapped + off;

	assert_true(a >= VIRT_PCI_MMIO32_BASE);
	pci_window32_io(&t->vm.pci, a - VIRT_PCI_MMIO32_BASE, data, len, is_write);
}

static uint32_t rd(struct t *t, uint64_t off, uint32_t len)
{
	uint32_t v = 0;

	mmio(t, off, &v, len, false);
	return v;
}

static void wr(struct t *t, uint64_t off, uint64_t v, uint32_t len)
{
	mmio(t, off, &v, len, true);
}

static uint8_t status(struct t *t)
{
	return (uint8_t)rd(t, 0x14, 1);
}

static uint8_t *gpa(struct t *t, uint64_t a)
{
	return memory_gpa(&t->vm.mem, a, 1);
}

static uint64_t offered(struct t *t)
{
	uint64_t f = 0;

	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(t, 0x00, sel, 4);
		f |= (uint64_t)rd(t, 0x04, 4) << (32 * sel);
	}
	return f;
}

static void setup_queue(struct t *t, unsigned int qi, uint16_t size)
{
	struct q *q = &t->q[qi];

	*q = (struct q){.size = size};
	q->desc = RINGS + 0x10000ULL * qi;
	q->avail = q->desc + 16ULL * size;
	q->used = q->desc + 0x8000;
	memset(gpa(t, q->desc), 0, 0x10000);
	wr(t, 0x16, qi, 2);
	wr(t, 0x18, size, 2);
	wr(t, 0x20, q->desc, 8);
	wr(t, 0x28, q->avail, 8);
	wr(t, 0x30, q->used, 8);
	wr(t, 0x1c, 1, 2);
}

/* Negotiate @features, set up both queues. Return: the status read back. */
static uint8_t bring_up(struct t *t, uint64_t features)
{
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	wr(t, 0x14, 0, 1);
	wr(t, 0x14, s, 1);
	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(t, 0x08, sel, 4);
		wr(t, 0x0c, (uint32_t)(features >> (32 * sel)), 4);
	}
	wr(t, 0x14, s | VIRTIO_STATUS_FEATURES_OK, 1);
	if (!(status(t) & VIRTIO_STATUS_FEATURES_OK))
		return status(t);
	setup_queue(t, 0, QSZ);
	setup_queue(t, 1, QSZ);
	wr(t, 0x14, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
	return status(t);
}

static uint16_t add(struct t *t, unsigned int qi, const struct buf *b, int n)
{
	struct q *q = &t->q[qi];
	uint16_t head = q->next_desc % q->size;

	for (int i = 0; i < n; i++) {
		uint16_t d = q->next_desc++ % q->size;
		uint16_t flags =
			(b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		uint16_t next = q->next_desc % q->size;
		uint8_t *p = gpa(t, q->desc + 16ULL * d);

		memcpy(p, &b[i].gpa, 8);
		memcpy(p + 8, &b[i].len, 4);
		memcpy(p + 12, &flags, 2);
		memcpy(p + 14, &next, 2);
	}
	uint16_t *avail = (uint16_t *)gpa(t, q->avail);
	avail[2 + q->avail_idx % q->size] = head;
	__atomic_store_n(&avail[1], ++q->avail_idx, __ATOMIC_RELEASE);
	return head;
}

static void kick(struct t *t, unsigned int qi)
{
	wr(t, VIRTIO_BAR_NOTIFY + VIRTIO_NOTIFY_MULTIPLIER * qi, qi, 2);
}

static uint16_t used_idx(struct t *t, unsigned int qi)
{
	return __atomic_load_n((uint16_t *)gpa(t, t->q[qi].used) + 1, __ATOMIC_ACQUIRE);
}

/* The next used entry of queue @qi. Return: false when there is none. */
static bool used(struct t *t, unsigned int qi, uint32_t *id, uint32_t *len)
{
	struct q *q = &t->q[qi];
	uint8_t *e;

	if (used_idx(t, qi) == q->used_seen)
		return false;
	e = gpa(t, q->used + 4 + 8ULL * (q->used_seen++ % q->size));
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	return true;
}

static void run(struct t *t, int rounds)
{
	for (int i = 0; i < rounds; i++)
		evloop_run_once(&t->vm.loop, 5);
}

/* Run the loop until queue @qi has @n entries not seen yet. */
static void wait_used(struct t *t, unsigned int qi, uint16_t n)
{
	for (int i = 0; i < 400 && (uint16_t)(used_idx(t, qi) - t->q[qi].used_seen) < n; i++)
		evloop_run_once(&t->vm.loop, 5);
	assert_int_equal((uint16_t)(used_idx(t, qi) - t->q[qi].used_seen), n);
}

/* The loop has nothing to do: a device waiting for the guest does not spin. */
static void assert_idle(struct t *t)
{
	run(t, 10);
	assert_int_equal(evloop_run_once(&t->vm.loop, 30), 0);
}

/* ---- virtio-net ---- */

static void if_up(const char *name)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd;

	/* No IPv6 on the tap: the kernel would send its own solicitations. */
	fd = open("/proc/sys/net/ipv6/conf/" TAP "/disable_ipv6", O_WRONLY);
	if (fd >= 0) {
		assert_int_equal(write(fd, "1", 1), 1);
		close(fd);
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_true(s >= 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

static int packet_socket(int ifindex, bool vnet)
{
	struct sockaddr_ll a = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	int one = 1;

	assert_true(s >= 0);
	if (vnet)
		assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static struct t *make_net(void)
{
	struct t *t;
	char err[256];

	if (!have_netns)
		skip();
	t = make_vm();
	snprintf(t->cfg.netdevs[0].id, sizeof(t->cfg.netdevs[0].id), "n0");
	snprintf(t->cfg.netdevs[0].ifname, sizeof(t->cfg.netdevs[0].ifname), TAP);
	t->cfg.pci_devs[0] = (struct config_pci_dev){.kind = CONFIG_DEV_VIRTIO_NET,
						     .slot = -1,
						     .drive = -1,
						     .netdev = 0,
						     .chardev = -1,
						     .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56}};
	plug(t, virtio_net_create(&t->vm, &t->cfg.pci_devs[0], err, sizeof(err)), err);
	if_up(TAP);
	t->ifindex = (int)if_nametoindex(TAP);
	assert_true(t->ifindex > 0);
	t->pkt = packet_socket(t->ifindex, false);
	t->pkt_vnet = packet_socket(t->ifindex, true);
	return t;
}

static size_t test_frame(uint8_t *f, size_t len, uint8_t seed)
{
	static const uint8_t dst[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

	memcpy(f, dst, 6);
	memcpy(f + 6, (uint8_t[]){0x02, 0, 0, 0, 0, seed}, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	return len;
}

/* A frame the guest sent, as the host's network sees it. Return: its length, or 0. */
static ssize_t host_recv(struct t *t, uint8_t *f, size_t cap)
{
	for (int i = 0; i < 200; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(t->pkt, f, cap, 0, (struct sockaddr *)&from, &fl);

		if (n > 14 && from.sll_pkttype != PACKET_OUTGOING && f[12] == ETHERTYPE_TEST >> 8 &&
		    f[13] == (ETHERTYPE_TEST & 0xff))
			return n;
		if (n < 0)
			evloop_run_once(&t->vm.loop, 5);
	}
	return 0;
}

static void host_send(struct t *t, const uint8_t *f, size_t len)
{
	assert_int_equal(send(t->pkt, f, len, 0), (ssize_t)len);
}

static int teardown(void **state)
{
	if (current)
		destroy(current);
	return 0;
}

static void test_net_config(void **state)
{
	struct t *t = make_net();
	uint64_t f = offered(t);
	uint8_t mac[6];

	assert_true(f & 1ULL << N_MAC);
	assert_true(f & 1ULL << N_STATUS);
	assert_true(f & 1ULL << N_MRG_RXBUF);
	assert_true(f & 1ULL << N_CSUM);
	assert_true(f & 1ULL << N_HOST_TSO4);
	assert_false(f & 1ULL << 17); /* no control queue */
	assert_int_equal(rd(t, 0x12, 2), 2);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)rd(t, VIRTIO_BAR_DEVICE + i, 1);
	assert_memory_equal(mac, ((uint8_t[]){0x52, 0x54, 0, 0x12, 0x34, 0x56}), 6);
	assert_int_equal(rd(t, VIRTIO_BAR_DEVICE + 6, 2), 1); /* LINK_UP */
	assert_int_equal(rd(t, VIRTIO_BAR_DEVICE + 8, 2), 1); /* one queue pair */
	/* The MAC is read-only. */
	wr(t, VIRTIO_BAR_DEVICE, 0xff, 1);
	assert_int_equal(rd(t, VIRTIO_BAR_DEVICE, 1), 0x52);
	destroy(t);
}

static void test_net_tx(void **state)
{
	struct t *t = make_net();
	uint8_t *g = gpa(t, BUF), f[2048];
	uint32_t id, len;

	assert_int_equal(bring_up(t, V1 | 1ULL << N_MAC) & 0x4f, 0x0f);
	/* Header and frame in one buffer; then header apart and the frame in two. */
	memset(g, 0, 12);
	test_frame(g + 12, 100, 1);
	add(t, 1, (struct buf[]){{BUF, 112, false}}, 1);
	kick(t, 1);
	assert_int_equal(host_recv(t, f, sizeof(f)), 100);
	assert_memory_equal(f, g + 12, 100);
	wait_used(t, 1, 1);
	assert_true(used(t, 1, &id, &len));
	assert_int_equal(len, 0);
	memset(g + 0x1000, 0, 12);
	test_frame(g + 0x2000, 1514, 2);
	add(t, 1,
	    (struct buf[]){{BUF + 0x1000, 12, false},
			   {BUF + 0x2000, 600, false},
			   {BUF + 0x2000 + 600, 914, false}},
	    3);
	kick(t, 1);
	assert_int_equal(host_recv(t, f, sizeof(f)), 1514);
	assert_memory_equal(f, g + 0x2000, 1514);
	wait_used(t, 1, 1);
	assert_true(used(t, 1, &id, &len));
	/* Many at once, more than one batch: all go out, in order. */
	for (int i = 0; i < 40; i++) {
		memset(g + 0x4000 + 0x100 * i, 0, 12);
		test_frame(g + 0x4000 + 0x100 * i + 12, 64, (uint8_t)(10 + i));
		add(t, 1, (struct buf[]){{BUF + 0x4000 + 0x100 * i, 76, false}}, 1);
	}
	kick(t, 1);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(host_recv(t, f, sizeof(f)), 64);
		assert_int_equal(f[11], 10 + i);
	}
	wait_used(t, 1, 40);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

/* A buffer of @size bytes for descriptor @id, as post_rx() places it. */
static uint8_t *rx_buf(struct t *t, uint32_t id, uint32_t size)
{
	return gpa(t, BUF + 0x10000 + (uint64_t)id * size);
}

/* Post @n receive buffers of @size bytes each, and kick. */
static void post_rx(struct t *t, int n, uint32_t size)
{
	for (int i = 0; i < n; i++) {
		uint64_t id = t->q[0].next_desc % t->q[0].size;

		add(t, 0, (struct buf[]){{BUF + 0x10000 + id * size, size, true}}, 1);
	}
	kick(t, 0);
}

static void test_net_rx(void **state)
{
	struct t *t = make_net();
	uint8_t f[2048], *h;
	uint32_t id, len;
	uint16_t nbuf;

	assert_int_equal(bring_up(t, V1 | 1ULL << N_MAC) & 0x4f, 0x0f);
	post_rx(t, 3, 2048);
	run(t, 2);
	for (int i = 0; i < 3; i++) {
		host_send(t, f, test_frame(f, 60 + 500 * i, (uint8_t)i));
		wait_used(t, 0, 1);
		assert_true(used(t, 0, &id, &len));
		assert_int_equal(id, i);
		assert_int_equal(len, 12 + 60 + 500 * i);
		h = rx_buf(t, id, 2048);
		memcpy(&nbuf, h + 10, 2);
		assert_int_equal(nbuf, 1);
		assert_int_equal(h[0], 0); /* no DATA_VALID without GUEST_CSUM */
		assert_int_equal(h[1], 0);
		assert_memory_equal(h + 12, f, 60 + 500 * i);
	}
	/* A frame larger than the buffer is dropped; the buffer serves the next one. */
	add(t, 0, (struct buf[]){{BUF + 0x40000, 200, true}}, 1);
	kick(t, 0);
	host_send(t, f, test_frame(f, 300, 9));
	run(t, 5);
	assert_false(used(t, 0, &id, &len));
	host_send(t, f, test_frame(f, 80, 10));
	wait_used(t, 0, 1);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, 92);
	assert_memory_equal(gpa(t, BUF + 0x40000 + 12), f, 80);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

static void test_net_rx_waits_for_buffers(void **state)
{
	struct t *t = make_net();
	uint8_t f[1600];
	uint32_t id, len;
	uint16_t nbuf;

	assert_int_equal(bring_up(t, V1 | 1ULL << N_MRG_RXBUF) & 0x4f, 0x0f);
	/* Frames arrive before any buffer: the tap keeps them and the loop sleeps. */
	host_send(t, f, test_frame(f, 100, 1));
	host_send(t, f, test_frame(f, 101, 2));
	assert_idle(t);
	post_rx(t, 1, 1024);
	wait_used(t, 0, 1);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(len, 112);
	assert_idle(t);
	post_rx(t, 1, 1024);
	wait_used(t, 0, 1);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(len, 113);
	assert_int_equal(rx_buf(t, id, 1024)[12 + 11], 2);
	assert_idle(t);
	/* A frame larger than what is posted: its head waits in the one buffer there
	 * is, the rest in wisp, until more buffers come (no busy loop meanwhile). */
	post_rx(t, 1, 1024);
	run(t, 2);
	host_send(t, f, test_frame(f, 1500, 3));
	assert_idle(t);
	assert_false(used(t, 0, &id, &len));
	post_rx(t, 1, 1024);
	wait_used(t, 0, 2);
	memcpy(&nbuf, rx_buf(t, 2, 1024) + 10, 2);
	assert_int_equal(nbuf, 2);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(id, 2);
	assert_int_equal(len, 1024);
	assert_memory_equal(rx_buf(t, 2, 1024) + 12, f, 1024 - 12);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, 12 + 1500 - 1024);
	assert_memory_equal(rx_buf(t, 3, 1024), f + 1024 - 12, 12 + 1500 - 1024);
	/* Every descriptor held and still too small: that frame is dropped, and the
	 * buffers serve the next one. */
	assert_int_equal(bring_up(t, V1 | 1ULL << N_MRG_RXBUF) & 0x4f, 0x0f);
	post_rx(t, QSZ, 16);
	host_send(t, f, test_frame(f, 1200, 4));
	host_send(t, f, test_frame(f, 60, 5));
	wait_used(t, 0, 5); /* 12 + 60 bytes in 16-byte buffers */
	memcpy(&nbuf, rx_buf(t, 0, 16) + 10, 2);
	assert_int_equal(nbuf, 5);
	assert_int_equal(rx_buf(t, 0, 16)[12], f[0]);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

/* A TCP/IPv4 frame of @payload bytes, handed to the host's stack as one GSO packet. */
static size_t gso_frame(uint8_t *p, size_t payload)
{
	uint8_t *f = p + 10; /* after the packet socket's struct virtio_net_hdr */
	uint16_t tot = (uint16_t)(40 + payload), mss = 1448;

	memset(p, 0, 10);
	p[0] = 1;			   /* NEEDS_CSUM */
	p[1] = 1;			   /* GSO_TCPV4 */
	memcpy(p + 2, &(uint16_t){54}, 2); /* hdr_len */
	memcpy(p + 4, &mss, 2);		   /* gso_size */
	memcpy(p + 6, &(uint16_t){34}, 2); /* csum_start */
	memcpy(p + 8, &(uint16_t){16}, 2); /* csum_offset */
	test_frame(f, 14, 0);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 40);
	f[14] = 0x45;
	f[15] = 0;
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[20] = 0x40; /* DF */
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)f[14 + i] << 8 | f[15 + i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (uint8_t)(~sum >> 8);
	f[25] = (uint8_t)~sum;
	f[34] = 0x30; /* ports 12345 -> 80 */
	f[35] = 0x39;
	f[37] = 80;
	f[46] = 0x50; /* data offset 5 */
	f[47] = 0x18; /* PSH ACK */
	f[48] = 0xff;
	for (size_t i = 0; i < payload; i++)
		f[54 + i] = (uint8_t)(i * 13);
	return 10 + 54 + payload;
}

static void test_net_rx_mergeable_gso(void **state)
{
	struct t *t = make_net();
	static uint8_t p[30000], got[30000];
	uint32_t id, len, total = 0;
	uint16_t nbuf;
	size_t n = gso_frame(p, 20000);

	/* With GUEST_TSO4 the tap hands over the 20 kB segment whole, across buffers. */
	assert_int_equal(bring_up(t, V1 | 1ULL << N_MRG_RXBUF | 1ULL << N_GUEST_CSUM |
					     1ULL << N_GUEST_TSO4) &
				 0x4f,
			 0x0f);
	post_rx(t, 48, 1536); /* 72 kB: a whole 64 kB frame fits */
	run(t, 2);
	assert_int_equal(send(t->pkt_vnet, p, n, 0), (ssize_t)n);
	for (int i = 0; i < 100 && used_idx(t, 0) == 0; i++)
		evloop_run_once(&t->vm.loop, 5);
	run(t, 2);
	uint8_t *h = rx_buf(t, 0, 1536);
	memcpy(&nbuf, h + 10, 2);
	assert_int_equal(nbuf, (12 + 20054 + 1535) / 1536);
	assert_int_equal(used_idx(t, 0), nbuf);
	for (int i = 0; i < nbuf; i++) {
		assert_true(used(t, 0, &id, &len));
		assert_int_equal(id, i);
		memcpy(got + total, rx_buf(t, id, 1536), len);
		total += len;
	}
	assert_int_equal(total, 12 + 20054);
	assert_int_equal(h[1] & 0x7f, 1); /* GSO_TCPV4 */
	assert_memory_equal(got + 12 + 54, p + 10 + 54, 20000);

	/* Without it the host segments: frames of one MSS each, no GSO in the header. */
	assert_int_equal(bring_up(t, V1 | 1ULL << N_MRG_RXBUF) & 0x4f, 0x0f);
	post_rx(t, 48, 1536);
	run(t, 2);
	assert_int_equal(send(t->pkt_vnet, p, n, 0), (ssize_t)n);
	total = 0;
	for (int i = 0; i < 200 && total < 20000; i++) {
		evloop_run_once(&t->vm.loop, 5);
		while (used(t, 0, &id, &len)) {
			uint8_t *b = rx_buf(t, id, 1536);

			memcpy(&nbuf, b + 10, 2);
			assert_int_equal(nbuf, 1);
			assert_int_equal(b[1], 0);
			assert_true(len <= 12 + 1514);
			assert_memory_equal(b + 12 + 54, p + 10 + 54 + total, len - 12 - 54);
			total += len - 12 - 54;
		}
	}
	assert_int_equal(total, 20000);
	destroy(t);
}

static void test_net_hostile(void **state)
{
	struct t *t = make_net();
	uint8_t f[256], x[256];
	uint32_t id, len;

	/* Transmit chains shorter than a header and an Ethernet header, or with no
	 * readable part: given back, nothing sent, the device keeps working. */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	add(t, 1, (struct buf[]){{BUF, 5, false}}, 1);
	add(t, 1, (struct buf[]){{BUF, 20, false}}, 1);
	add(t, 1, (struct buf[]){{BUF, 64, true}}, 1);
	add(t, 1, (struct buf[]){{BUF, 64, false}}, 1); /* zeroes: a frame all the same */
	kick(t, 1);
	wait_used(t, 1, 4);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	memset(gpa(t, BUF), 0, 12);
	test_frame(gpa(t, BUF) + 12, 80, 3);
	add(t, 1, (struct buf[]){{BUF, 92, false}}, 1);
	kick(t, 1);
	assert_int_equal(host_recv(t, x, sizeof(x)), 80);
	/* A receive buffer smaller than the header: the device needs a reset. */
	add(t, 0, (struct buf[]){{BUF + 0x10000, 8, true}}, 1);
	kick(t, 0);
	host_send(t, f, test_frame(f, 100, 1));
	run(t, 5);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* A readable receive buffer is as bad (nothing to write into). */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	add(t, 0, (struct buf[]){{BUF + 0x10000, 2048, false}}, 1);
	kick(t, 0);
	host_send(t, f, test_frame(f, 100, 2));
	run(t, 5);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* Working again after a reset; the frames the broken lives left in the tap
	 * come first. */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	post_rx(t, 4, 2048);
	host_send(t, f, test_frame(f, 70, 3));
	wait_used(t, 0, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(used(t, 0, &id, &len));
		assert_int_equal(len, i < 2 ? 112 : 82);
		assert_int_equal(rx_buf(t, id, 2048)[12 + 11], i + 1); /* the frame's seed */
	}
	destroy(t);
}

static void test_net_reset_drops_state(void **state)
{
	struct t *t = make_net();
	uint8_t f[1600], g[256];
	uint32_t id, len;

	/* Half a frame placed when the driver resets: it is forgotten with the rings. */
	assert_int_equal(bring_up(t, V1 | 1ULL << N_MRG_RXBUF) & 0x4f, 0x0f);
	post_rx(t, 1, 512);
	run(t, 2);
	host_send(t, f, test_frame(f, 1000, 1));
	assert_idle(t);
	wr(t, 0x14, 0, 1);
	run(t, 3);
	/* The new driver's rings get the next frame, and only that. */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	memset(gpa(t, BUF + 0x40000), 0, 2048);
	add(t, 0, (struct buf[]){{BUF + 0x40000, 2048, true}}, 1);
	add(t, 0, (struct buf[]){{BUF + 0x40800, 2048, true}}, 1);
	kick(t, 0);
	host_send(t, g, test_frame(g, 100, 2));
	wait_used(t, 0, 1);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 112);
	assert_memory_equal(gpa(t, BUF + 0x40000 + 12), g, 100);
	assert_idle(t);
	destroy(t);
}

static void test_net_tap_deleted(void **state)
{
	struct t *t = make_net();
	uint32_t id, len;

	assert_int_equal(bring_up(t, V1 | 1ULL << N_STATUS) & 0x4f, 0x0f);
	post_rx(t, 2, 2048);
	assert_int_equal(system("ip link del " TAP " 2>/dev/null"), 0);
	run(t, 5);
	assert_int_equal(rd(t, VIRTIO_BAR_DEVICE + 6, 2), 0); /* link down */
	assert_int_equal(rd(t, 0x15, 1), 1);		      /* config generation moved */
	memset(gpa(t, BUF), 0, 12);
	test_frame(gpa(t, BUF) + 12, 80, 3);
	add(t, 1, (struct buf[]){{BUF, 92, false}}, 1);
	kick(t, 1);
	wait_used(t, 1, 1); /* dropped, but given back */
	assert_true(used(t, 1, &id, &len));
	assert_idle(t);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

/* ---- virtio-console ---- */

static struct t *make_console(enum serial_kind kind)
{
	struct t *t = make_vm();
	struct config_chardev *cd = &t->cfg.chardevs[0];
	char err[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/wisp-test-con-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/con.sock", t->dir);
	snprintf(t->file, sizeof(t->file), "%s/con.out", t->dir);
	snprintf(cd->id, sizeof(cd->id), "c0");
	cd->kind = kind;
	snprintf(cd->path, sizeof(cd->path), "%s", kind == SERIAL_UNIX ? t->sock : t->file);
	t->cfg.pci_devs[0] = (struct config_pci_dev){.kind = CONFIG_DEV_VIRTIO_SERIAL,
						     .slot = -1,
						     .drive = -1,
						     .netdev = -1,
						     .chardev = kind == SERIAL_NONE ? -1 : 0};
	plug(t, virtio_console_create(&t->vm, &t->cfg.pci_devs[0], err, sizeof(err)), err);
	return t;
}

static int connect_client(struct t *t)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", t->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	run(t, 2); /* accepted */
	return fd;
}

/* Send @text in one chain of @parts buffers at BUF + @at. */
static void con_send(struct t *t, uint64_t at, const char *text, int parts)
{
	size_t len = strlen(text), done = 0;
	struct buf b[4];

	memcpy(gpa(t, BUF + at), text, len);
	for (int i = 0; i < parts; i++) {
		size_t part = i + 1 < parts ? len / parts : len - done;

		b[i] = (struct buf){BUF + at + done, (uint32_t)part, false};
		done += part;
	}
	add(t, 1, b, parts);
}

static void test_console_file(void **state)
{
	struct t *t = make_console(SERIAL_FILE);
	char got[64] = {0};
	int fd;

	assert_int_equal(offered(t) & 0xffffff, 0);	  /* no SIZE, MULTIPORT, EMERG_WRITE */
	assert_int_equal(rd(t, VIRTIO_BAR_DEVICE, 4), 0); /* cols, rows */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	con_send(t, 0, "hello, ", 1);
	con_send(t, 0x100, "console ", 3);
	con_send(t, 0x200, "world\n", 2);
	kick(t, 1);
	wait_used(t, 1, 3);
	fd = open(t->file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, sizeof(got)), 21);
	assert_string_equal(got, "hello, console world\n");
	close(fd);
	destroy(t);
}

static void test_console_socket(void **state)
{
	struct t *t = make_console(SERIAL_UNIX);
	static char big[10000], got[10000];
	uint32_t id, len;
	size_t have = 0;
	int c;

	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	/* No client yet: output is dropped, the chain comes back. */
	con_send(t, 0, "nobody hears this", 1);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_true(used(t, 1, &id, &len));
	c = connect_client(t);
	con_send(t, 0, "to the client", 2);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_true(used(t, 1, &id, &len));
	assert_int_equal(read(c, got, sizeof(got)), 13);
	assert_memory_equal(got, "to the client", 13);
	/* Buffers first, then input. */
	post_rx(t, 2, 1000);
	run(t, 2);
	assert_int_equal(write(c, "typed\n", 6), 6);
	wait_used(t, 0, 1);
	assert_true(used(t, 0, &id, &len));
	assert_int_equal(len, 6);
	assert_memory_equal(rx_buf(t, id, 1000), "typed\n", 6);
	/* Input before any receive buffer is held (4 kB), the rest waits in the
	 * socket; none of it is lost, and the loop does not spin meanwhile. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(write(c, big, sizeof(big)), (ssize_t)sizeof(big));
	assert_idle(t);
	for (int round = 0; round < 20 && have < sizeof(big); round++) {
		post_rx(t, 4, 1000);
		run(t, 3);
		while (used(t, 0, &id, &len)) {
			assert_true(len <= 1000);
			memcpy(got + have, rx_buf(t, id, 1000), len);
			have += len;
		}
	}
	assert_int_equal(have, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_idle(t);
	/* One client at a time: a second one is turned away; after the first leaves,
	 * the next is served. */
	int c2 = connect_client(t);
	assert_int_equal(recv(c2, got, 1, 0), 0);
	close(c2);
	close(c);
	run(t, 3);
	c2 = connect_client(t);
	con_send(t, 0, "again", 1);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_int_equal(read(c2, got, sizeof(got)), 5);
	close(c2);
	destroy(t);
}

#define CHUNK 16384

static void test_console_backpressure(void **state)
{
	struct t *t = make_console(SERIAL_UNIX);
	static char out[64 * CHUNK], got[64 * CHUNK];
	uint32_t id, len;
	size_t have = 0;
	int c = connect_client(t);

	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	/* 1 MB to a client that does not read: the socket fills, chains wait. */
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 31 + (i >> 12));
	memcpy(gpa(t, BUF + 0x100000), out, sizeof(out));
	for (int i = 0; i < 64; i++)
		add(t, 1, (struct buf[]){{BUF + 0x100000 + (uint64_t)CHUNK * i, CHUNK, false}}, 1);
	kick(t, 1);
	assert_idle(t);
	assert_true(used_idx(t, 1) < 64);
	/* The client reads: everything arrives, in order, and every chain comes back. */
	for (int i = 0; i < 2000 && have < sizeof(out); i++) {
		ssize_t n = recv(c, got + have, sizeof(got) - have, MSG_DONTWAIT);

		if (n > 0)
			have += (size_t)n;
		evloop_run_once(&t->vm.loop, 2);
	}
	assert_int_equal(have, sizeof(out));
	assert_memory_equal(got, out, sizeof(out));
	wait_used(t, 1, 64);
	/* Full again, then the client leaves: the waiting chains are dropped and given back. */
	for (int i = 0; i < 64; i++)
		add(t, 1, (struct buf[]){{BUF + 0x100000 + (uint64_t)CHUNK * i, CHUNK, false}}, 1);
	kick(t, 1);
	assert_idle(t);
	close(c);
	for (int i = 0; i < 100 && used_idx(t, 1) != 128; i++)
		evloop_run_once(&t->vm.loop, 5);
	assert_int_equal(used_idx(t, 1), 128);
	/* Full, then a reset: the chain being written is forgotten. */
	c = connect_client(t);
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	for (int i = 0; i < 64; i++)
		add(t, 1, (struct buf[]){{BUF + 0x100000 + (uint64_t)CHUNK * i, CHUNK, false}}, 1);
	kick(t, 1);
	assert_idle(t);
	uint16_t before = used_idx(t, 1);
	wr(t, 0x14, 0, 1);
	for (int i = 0; i < 200; i++) {
		if (recv(c, got, sizeof(got), MSG_DONTWAIT) <= 0)
			evloop_run_once(&t->vm.loop, 2);
	}
	assert_int_equal(used_idx(t, 1), before); /* nothing more after the reset */
	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	con_send(t, 0, "after", 1);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_int_equal(recv(c, got, sizeof(got), MSG_DONTWAIT), 5);
	(void)id;
	(void)len;
	close(c);
	destroy(t);
}

static void test_console_no_port(void **state)
{
	struct t *t = make_console(SERIAL_NONE);
	uint32_t id, len;

	assert_int_equal(bring_up(t, V1) & 0x4f, 0x0f);
	add(t, 0, (struct buf[]){{BUF + 0x10000, 64, true}}, 1);
	kick(t, 0);
	con_send(t, 0, "into the void", 2);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_true(used(t, 1, &id, &len));
	assert_idle(t);
	assert_false(used(t, 0, &id, &len));
	/* Hostile chains: readable receive buffers, writable transmit ones. */
	add(t, 0, (struct buf[]){{BUF, 64, false}}, 1);
	add(t, 1, (struct buf[]){{BUF, 64, true}}, 1);
	kick(t, 0);
	kick(t, 1);
	wait_used(t, 1, 1);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_net_config, teardown),
		cmocka_unit_test_teardown(test_net_tx, teardown),
		cmocka_unit_test_teardown(test_net_rx, teardown),
		cmocka_unit_test_teardown(test_net_rx_waits_for_buffers, teardown),
		cmocka_unit_test_teardown(test_net_rx_mergeable_gso, teardown),
		cmocka_unit_test_teardown(test_net_hostile, teardown),
		cmocka_unit_test_teardown(test_net_reset_drops_state, teardown),
		cmocka_unit_test_teardown(test_net_tap_deleted, teardown),
		cmocka_unit_test_teardown(test_console_file, teardown),
		cmocka_unit_test_teardown(test_console_socket, teardown),
		cmocka_unit_test_teardown(test_console_backpressure, teardown),
		cmocka_unit_test_teardown(test_console_no_port, teardown),
	};

	/* A network namespace of our own: the tap and its traffic stay in it. */
	have_netns = unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
	if (have_netns) {
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = {.ifr_name = "lo"};

		if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			ioctl(s, SIOCSIFFLAGS, &ifr);
		}
		if (s >= 0)
			close(s);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
