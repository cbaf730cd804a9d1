/* virtio-net on a tap: one receive and one transmit queue, frames moved between
 * guest buffers and the tap with readv/writev, the virtio-net header shared with the
 * tap (checksum and TSO offloads), mergeable receive buffers. Runs on the event loop
 * under the device lock; reset and DRIVER_OK arrive on vCPUs and only change state. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices.h"
#include "vm.h"

#define QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
#define HDR_LEN 12		    /* struct virtio_net_hdr_v1, num_buffers included */
#define FRAME_MAX (65535 + 14 + 4)  /* a GSO frame: IP datagram, Ethernet, VLAN tag */
#define SMALL_MAX (1500 + 14 + 4)   /* a frame without GSO at the default MTU */
#define RX_BATCH 64		    /* frames per wake-up: other fds get their turn */
#define TX_BATCH 256		    /* chains per kick, then the kick is re-armed */
#define RX_IOV 1024		    /* guest buffers held for receiving (readv's limit) */
#define SPILL (FRAME_MAX + HDR_LEN) /* host tail of each read: what did not fit */

/* Feature bits (virtio 1.2, 5.1.3). */
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_GUEST_TSO4 7
#define F_GUEST_TSO6 8
#define F_GUEST_ECN 9
#define F_HOST_TSO4 11
#define F_HOST_TSO6 12
#define F_HOST_ECN 13
#define F_MRG_RXBUF 15
#define F_STATUS 16

/* The header: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
#define H_FLAGS 0
#define H_GSO_TYPE 1
#define H_NUM_BUFFERS 10
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80

/* Device configuration: mac, status, max_virtqueue_pairs, mtu. */
#define C_MAC 0
#define C_STATUS 6
#define C_MAX_PAIRS 8
#define CONFIG_LEN 12
#define S_LINK_UP 1

/* Counters of what did not go through, each reported on stderr the first time. */
enum drop {
	RX_TOO_BIG,   /* larger than the buffers the driver posted */
	RX_OFFLOAD,   /* an offload the driver did not accept (left from before a reset) */
	RX_RESET,     /* half placed when the driver reset the device */
	RX_ERROR,     /* the tap's read failed */
	TX_MALFORMED, /* shorter than the header, or larger than any frame */
	TX_REFUSED,   /* the tap's write failed (interface down, bad header) */
	TX_NO_TAP,    /* the interface was deleted */
	NR_DROPS,
};

static const char *const drop_what[NR_DROPS] = {
	"received frames larger than the guest's buffers",
	"received frames with offloads the guest did not accept",
	"received frames cut off by a device reset",
	"tap read errors",
	"malformed transmit chains",
	"frames the tap refused",
	"frames sent after the tap interface went away",
};

/* A receive chain taken from the ring and not used yet: its writable buffers are
 * rx_iov[first .. first + nr). */
struct rx_chain {
	uint16_t head;
	uint16_t nr;
	uint32_t first;
	uint64_t len;
};

struct net {
	struct virtio_dev v;
	int tap;
	char ifname[IFNAMSIZ];
	uint32_t watching;     /* events the loop has for the tap */
	bool tap_gone;	       /* the interface was deleted: nothing more flows */
	bool rx_wait;	       /* out of receive buffers: waiting for a kick */
	bool offloads_pending; /* DRIVER_OK: set the tap's offloads on the loop */
	bool tx_pending;       /* *tx was refused with EAGAIN: waiting for EPOLLOUT */
	bool rx_pending;       /* a frame waits in the spill buffer for more chains */
	unsigned int offloads; /* TUN_F_* the tap supports */
	/* Receive buffers taken from the ring, in ring order. */
	struct rx_chain rx[VIRTQ_MAX_SIZE];
	unsigned int nr_rx, nr_rx_iov;
	uint64_t rx_cap;
	uint64_t pend_got, pend_cap;	 /* the frame being placed: its length, and the part */
	unsigned int pend_chains;	 /* of it in the first pend_chains held chains */
	struct iovec rx_iov[RX_IOV + 1]; /* + 1: the spill buffer's slot during a read */
	uint8_t *spill;
	struct virtq_chain *chain; /* receive chains are popped here */
	struct virtq_chain *tx;
	uint64_t drops[NR_DROPS];
	uint64_t rx_frames, tx_frames;
};

static void count_drop(struct net *n, enum drop d)
{
	if (!n->drops[d]++)
		fprintf(stderr, "wisp: %s (%s): dropping %s (counted)\n", n->v.pci.name, n->ifname,
			drop_what[d]);
}

static bool rx_ok(struct net *n)
{
	return !n->tap_gone && virtio_ready(&n->v) && n->v.queues[RXQ].enabled &&
	       n->v.queues[RXQ].vq.ready;
}

/* Loop thread: watch the tap for what the device can act on now. */
static void update_watch(struct net *n)
{
	uint32_t ev = (rx_ok(n) && !n->rx_wait ? EPOLLIN : 0) | (n->tx_pending ? EPOLLOUT : 0);

	if (!n->tap_gone && ev != n->watching && evloop_mod(&n->v.vm->loop, n->tap, ev) == 0)
		n->watching = ev;
}

/* The offloads the driver accepted, as the tap names them: what it may hand us. */
static void apply_offloads(struct net *n)
{
	struct virtio_dev *v = &n->v;
	unsigned int f = 0;

	n->offloads_pending = false;
	if (virtio_has(v, F_GUEST_CSUM)) {
		f |= TUN_F_CSUM;
		if (virtio_has(v, F_GUEST_TSO4))
			f |= TUN_F_TSO4;
		if (virtio_has(v, F_GUEST_TSO6))
			f |= TUN_F_TSO6;
		if ((f & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_has(v, F_GUEST_ECN))
			f |= TUN_F_TSO_ECN;
	}
	if (!n->tap_gone && ioctl(n->tap, TUNSETOFFLOAD, f & n->offloads) < 0)
		fprintf(stderr, "wisp: %s (%s): TUNSETOFFLOAD: %s\n", v->pci.name, n->ifname,
			strerror(errno)); /* EBADFD: deleted, the loop hears it next */
}

/* ---- receive ---- */

/* The interface was deleted under us: the link is down for good. */
static void tap_lost(struct net *n)
{
	if (n->tap_gone)
		return;
	fprintf(stderr, "wisp: %s: tap %s went away; link down\n", n->v.pci.name, n->ifname);
	evloop_del(&n->v.vm->loop, n->tap);
	n->tap_gone = true;
	n->watching = 0;
	memset(n->v.config + C_STATUS, 0, 2);
	virtio_config_changed(&n->v);
}

/* Take chains from the ring until the held capacity reaches @want or no more
 * can be held. Return: 0, 1 when the ring ran dry first, -1 when the device failed. */
static int rx_refill(struct net *n, uint64_t want)
{
	struct virtq *q = &n->v.queues[RXQ].vq;
	struct virtq_chain *c = n->chain;

	while (n->rx_cap < want) {
		struct rx_chain *r;
		int got;

		if (n->nr_rx == q->size || n->nr_rx_iov + VIRTQ_MAX_SEGS > RX_IOV)
			return 0; /* everything we could hold: read with that */
		got = virtq_pop(q, c);
		if (got < 0 || (got == 1 && c->in_len < HDR_LEN)) {
			virtio_fail(&n->v, got < 0 ? "malformed receive chain"
						   : "receive buffer smaller than the header");
			return -1;
		}
		if (got == 0)
			return 1;
		r = &n->rx[n->nr_rx++];
		*r = (struct rx_chain){c->head, (uint16_t)c->nr_in, n->nr_rx_iov, c->in_len};
		memcpy(&n->rx_iov[n->nr_rx_iov], &c->iov[c->nr_out], c->nr_in * sizeof(c->iov[0]));
		n->nr_rx_iov += c->nr_in;
		n->rx_cap += c->in_len;
	}
	return 0;
}

/* Forget the first @k held chains (used, or given up by a reset). */
static void rx_forget(struct net *n, unsigned int k)
{
	uint32_t iovs = k < n->nr_rx ? n->rx[k].first : n->nr_rx_iov;

	for (unsigned int i = 0; i < k; i++)
		n->rx_cap -= n->rx[i].len;
	memmove(n->rx, n->rx + k, (n->nr_rx - k) * sizeof(n->rx[0]));
	memmove(n->rx_iov, n->rx_iov + iovs, (n->nr_rx_iov - iovs) * sizeof(n->rx_iov[0]));
	n->nr_rx -= k;
	n->nr_rx_iov -= iovs;
	for (unsigned int i = 0; i < n->nr_rx; i++)
		n->rx[i].first -= iovs;
}

/* The header the tap wrote, checked against what the driver accepted; num_buffers
 * set. Return: false when the frame must be dropped. */
static bool rx_fix_header(struct net *n, uint8_t *h, uint16_t nbuf)
{
	struct virtio_dev *v = &n->v;
	uint8_t gso = h[H_GSO_TYPE] & ~GSO_ECN;

	if (!virtio_has(v, F_GUEST_CSUM)) {
		if (h[H_FLAGS] & HDR_F_NEEDS_CSUM)
			return false;
		h[H_FLAGS] = 0; /* no DATA_VALID either */
	}
	if ((gso == GSO_TCPV4 && !virtio_has(v, F_GUEST_TSO4)) ||
	    (gso == GSO_TCPV6 && !virtio_has(v, F_GUEST_TSO6)) ||
	    (gso != GSO_NONE && gso != GSO_TCPV4 && gso != GSO_TCPV6) ||
	    ((h[H_GSO_TYPE] & GSO_ECN) && !virtio_has(v, F_GUEST_ECN)))
		return false;
	memcpy(h + H_NUM_BUFFERS, &nbuf, 2);
	return true;
}

/* Copy the part of the frame that went to the spill buffer into the chains after
 * the ones it was read into. Return: the number of chains the frame uses, 0 when
 * the ring ran dry first (try again after a kick), -1 when no more can be held. */
static int rx_unspill(struct net *n)
{
	uint64_t done = 0, len = n->pend_got - n->pend_cap;
	unsigned int i = n->pend_chains;

	for (; done < len; i++) {
		struct rx_chain *r;

		if (i == n->nr_rx) {
			int got = rx_refill(n, n->rx_cap + 1);

			if (got != 0 || i == n->nr_rx)
				return got == 1 ? 0 : -1;
		}
		r = &n->rx[i];
		done += virtq_buf_to_iov(&n->rx_iov[r->first], r->nr, 0, n->spill + done,
					 len - done);
	}
	return (int)i;
}

/* The frame of n->pend_got bytes in the first @k held chains: checked, handed over. */
static void rx_deliver(struct net *n, unsigned int k)
{
	struct virtq *q = &n->v.queues[RXQ].vq;
	uint64_t left = n->pend_got;
	uint8_t h[HDR_LEN];

	virtq_iov_to_buf(&n->rx_iov[0], n->rx[0].nr, 0, h, HDR_LEN);
	if (!rx_fix_header(n, h, (uint16_t)k)) {
		count_drop(n, RX_OFFLOAD); /* the chains stay held for the next frame */
		return;
	}
	virtq_buf_to_iov(&n->rx_iov[0], n->rx[0].nr, 0, h, HDR_LEN);
	for (unsigned int i = 0; i < k; i++) {
		uint64_t part = left < n->rx[i].len ? left : n->rx[i].len;

		virtq_push(q, n->rx[i].head, (uint32_t)part);
		left -= part;
	}
	rx_forget(n, k);
	n->rx_frames++;
}

enum { RX_DONE, RX_EMPTY, RX_NO_BUFFERS, RX_STOP };

/* The rest of a frame that did not fit in the chains it was read into. */
static int rx_finish(struct net *n)
{
	int k = rx_unspill(n);

	n->rx_pending = k == 0;
	if (k == 0)
		return RX_NO_BUFFERS; /* the frame waits in the spill buffer */
	if (k < 0) {
		count_drop(n, RX_TOO_BIG); /* larger than every buffer we can hold */
		return n->v.queues[RXQ].vq.ready ? RX_DONE : RX_STOP;
	}
	rx_deliver(n, (unsigned int)k);
	return RX_DONE;
}

/* One frame from the tap into the held chains. */
static int rx_one(struct net *n)
{
	struct virtio_dev *v = &n->v;
	bool mrg = virtio_has(v, F_MRG_RXBUF);
	uint64_t want = !mrg ? 1
			: virtio_has(v, F_GUEST_TSO4) || virtio_has(v, F_GUEST_TSO6)
				? FRAME_MAX + HDR_LEN
				: SMALL_MAX + HDR_LEN;
	unsigned int c = 0, m = 0, k;
	uint64_t cap = 0, left;
	struct iovec saved;
	ssize_t got;

	if (n->rx_pending)
		return rx_finish(n);
	/* Buffers for a whole frame when the ring has them, so that it lands in guest
	 * memory directly; at least one. */
	if (rx_refill(n, want) < 0)
		return RX_STOP;
	if (!n->nr_rx)
		return RX_NO_BUFFERS;
	/* The held chains to read into (one without MRG_RXBUF), then the spill. */
	do {
		m += n->rx[c].nr;
		cap += n->rx[c].len;
		c++;
	} while (mrg && c < n->nr_rx && cap < want && m + n->rx[c].nr < RX_IOV);
	saved = n->rx_iov[m];
	n->rx_iov[m] = (struct iovec){n->spill, SPILL};
	got = readv(n->tap, n->rx_iov, (int)m + 1);
	n->rx_iov[m] = saved;
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return RX_EMPTY;
	if (got < 0) { /* none of tun's read errors passes: the tap is unusable */
		count_drop(n, RX_ERROR);
		tap_lost(n);
		return RX_STOP;
	}
	if (got < HDR_LEN || (uint64_t)got > cap + SPILL) {
		count_drop(n, got < HDR_LEN ? RX_ERROR : RX_TOO_BIG); /* cut short by tun */
		return RX_DONE;
	}
	n->pend_got = (uint64_t)got;
	n->pend_cap = cap;
	n->pend_chains = c;
	if ((uint64_t)got > cap) {
		if (mrg)
			return rx_finish(n);
		count_drop(n, RX_TOO_BIG); /* the chain stays held for the next frame */
		return RX_DONE;
	}
	for (k = 0, left = (uint64_t)got; left > n->rx[k].len; k++)
		left -= n->rx[k].len;
	rx_deliver(n, k + 1);
	return RX_DONE;
}

static void rx_run(struct net *n)
{
	struct virtq *q = &n->v.queues[RXQ].vq;
	bool pushed = false;

	for (int budget = RX_BATCH; budget > 0 && rx_ok(n); budget--) {
		int r = rx_one(n);

		if (r == RX_DONE) {
			pushed = true;
			continue;
		}
		if (r == RX_NO_BUFFERS && virtq_enable_notify(q))
			continue; /* buffers came while asking for a kick */
		n->rx_wait = r == RX_NO_BUFFERS;
		break;
	}
	if (pushed)
		virtio_notify(&n->v, RXQ);
}

/* ---- transmit ---- */

/* The chain in n->tx to the tap. Return: 0 (sent or dropped), -EAGAIN. */
static int tx_one(struct net *n)
{
	struct virtq_chain *c = n->tx;
	ssize_t r;

	if (c->out_len < HDR_LEN + 14 || c->out_len > HDR_LEN + FRAME_MAX) {
		count_drop(n, TX_MALFORMED);
		return 0;
	}
	if (n->tap_gone) {
		count_drop(n, TX_NO_TAP);
		return 0;
	}
	do
		r = writev(n->tap, c->iov, (int)c->nr_out);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (r < 0)
		count_drop(n, TX_REFUSED);
	else
		n->tx_frames++;
	return 0;
}

static void tx_run(struct net *n)
{
	struct virtio_dev *v = &n->v;
	struct virtq *q = &v->queues[TXQ].vq;
	int budget = TX_BATCH, got = 0;
	bool pushed = false;

	if (n->tx_pending)
		return; /* EPOLLOUT resumes */
	for (;;) {
		while (budget > 0 && (got = virtq_pop(q, n->tx)) == 1) {
			budget--;
			if (tx_one(n) == -EAGAIN) {
				n->tx_pending = true;
				goto out;
			}
			virtq_push(q, n->tx->head, 0);
			pushed = true;
		}
		if (got < 0) {
			virtio_fail(v, "malformed transmit chain");
			return;
		}
		if (budget <= 0) {
			irq_signal(v->queues[TXQ].kick_fd); /* the rest on the next round */
			break;
		}
		if (!virtq_enable_notify(q))
			break;
	}
out:
	if (pushed)
		virtio_notify(v, TXQ);
}

static void tx_resume(struct net *n)
{
	struct virtio_dev *v = &n->v;

	if (!n->tx_pending || tx_one(n) == -EAGAIN)
		return;
	n->tx_pending = false;
	virtq_push(&v->queues[TXQ].vq, n->tx->head, 0);
	virtio_notify(v, TXQ);
	tx_run(n);
}

/* ---- the device ---- */

static void on_tap(void *opaque, uint32_t events)
{
	struct net *n = opaque;

	pthread_mutex_lock(&n->v.pci.lock);
	if (events & (EPOLLERR | EPOLLHUP)) {
		tap_lost(n);
	} else if (virtio_ready(&n->v)) {
		if (events & EPOLLOUT)
			tx_resume(n);
		if (events & EPOLLIN)
			rx_run(n);
	} else {
		n->tx_pending = false; /* reset meanwhile */
	}
	update_watch(n);
	pthread_mutex_unlock(&n->v.pci.lock);
}

static void net_notify(struct virtio_dev *v, unsigned int q)
{
	struct net *n = (struct net *)v;

	if (n->offloads_pending)
		apply_offloads(n);
	if (q == RXQ) {
		n->rx_wait = false; /* new buffers: EPOLLIN again */
		if (n->rx_pending && rx_ok(n))
			rx_run(n); /* a frame is waiting for them, maybe the tap's last */
	} else if (q == TXQ)
		tx_run(n);
	update_watch(n);
}

static void net_driver_ok(struct virtio_dev *v)
{
	((struct net *)v)->offloads_pending = true; /* the queue kicks that follow apply them */
}

/* Lock held, any thread: drop what was taken from the rings. The tap's watch is
 * corrected by the loop the next time it fires. */
static void net_reset(struct virtio_dev *v)
{
	struct net *n = (struct net *)v;

	if (n->rx_pending)
		n->drops[RX_RESET]++; /* no message: this thread may be a vCPU's */
	n->nr_rx = n->nr_rx_iov = 0;
	n->rx_cap = 0;
	n->rx_pending = false;
	n->rx_wait = n->tx_pending = n->offloads_pending = false;
}

static void net_free(struct virtio_dev *v)
{
	struct net *n = (struct net *)v;

	for (int d = 0; d < NR_DROPS; d++)
		if (n->drops[d])
			fprintf(stderr, "wisp: %s (%s): %llu %s dropped\n", v->pci.name, n->ifname,
				(unsigned long long)n->drops[d], drop_what[d]);
	if (n->tap >= 0) {
		if (!n->tap_gone)
			evloop_del(&v->vm->loop, n->tap);
		close(n->tap);
	}
	virtio_free(v);
	free(n->spill);
	free(n->chain);
	free(n->tx);
	free(n);
}

static const struct virtio_ops net_ops = {
	.queue_notify = net_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
	.free = net_free,
};

/* The tap, with virtio-net headers; which offloads it takes. Start-up only. */
static int open_tap(struct net *n, const struct config_netdev *nd, char *err, size_t errlen)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	unsigned int all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	int hdr = HDR_LEN;

	snprintf(n->ifname, sizeof(n->ifname), "%s", nd->ifname);
	memcpy(ifr.ifr_name, n->ifname, sizeof(n->ifname));
	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0 || ioctl(n->tap, TUNSETIFF, &ifr) < 0 ||
	    ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;

		snprintf(err, errlen, "wisp: -netdev tap,id=%s,ifname=%s: %s%s", nd->id, nd->ifname,
			 strerror(e),
			 e == EPERM   ? " (needs CAP_NET_ADMIN, or a tap made for this user with "
					"'ip tuntap add mode tap user ...')"
			 : e == EBUSY ? " (the tap is in use)"
				      : "");
		return -e;
	}
	/* Offloads the driver may accept; none until it does. */
	n->offloads = ioctl(n->tap, TUNSETOFFLOAD, all) == 0 ? all : 0;
	ioctl(n->tap, TUNSETOFFLOAD, 0);
	return 0;
}

struct virtio_dev *virtio_net_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen)
{
	const struct config_netdev *nd = &vm->cfg->netdevs[d->netdev];
	uint64_t features = 1ULL << F_CSUM | 1ULL << F_MAC | 1ULL << F_HOST_TSO4 |
			    1ULL << F_HOST_TSO6 | 1ULL << F_HOST_ECN | 1ULL << F_MRG_RXBUF |
			    1ULL << F_STATUS;
	struct net *n = calloc(1, sizeof(*n));
	int r;

	if (!n) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	n->tap = -1;
	n->spill = malloc(SPILL);
	n->chain = malloc(sizeof(*n->chain));
	n->tx = malloc(sizeof(*n->tx));
	if (!n->spill || !n->chain || !n->tx) {
		snprintf(err, errlen, "wisp: out of memory");
		goto fail;
	}
	if (open_tap(n, nd, err, errlen))
		goto fail;
	if (n->offloads & TUN_F_CSUM)
		features |= 1ULL << F_GUEST_CSUM;
	if ((n->offloads & TUN_F_CSUM) && (n->offloads & TUN_F_TSO4))
		features |= 1ULL << F_GUEST_TSO4;
	if ((n->offloads & TUN_F_CSUM) && (n->offloads & TUN_F_TSO6))
		features |= 1ULL << F_GUEST_TSO6;
	if ((n->offloads & TUN_F_TSO_ECN) && (features & (1ULL << F_GUEST_TSO4)))
		features |= 1ULL << F_GUEST_ECN;
	if (virtio_init(&n->v, vm, "virtio-net-pci", VIRTIO_ID_NET, 0x020000, &net_ops, 2,
			QUEUE_SIZE, features, CONFIG_LEN, err, errlen))
		goto fail;
	memcpy(n->v.config + C_MAC, d->mac, 6);
	n->v.config[C_STATUS] = S_LINK_UP;
	n->v.config[C_MAX_PAIRS] = 1;
	if ((r = evloop_add(&vm->loop, n->tap, 0, on_tap, n)) < 0) {
		snprintf(err, errlen, "wisp: virtio-net-pci: epoll: %s", strerror(-r));
		goto fail;
	}
	return &n->v;
fail:
	n->tap_gone = true; /* not watched */
	if (n->v.ops)
		net_free(&n->v);
	else {
		if (n->tap >= 0)
			close(n->tap);
		free(n->spill);
		free(n->chain);
		free(n->tx);
		free(n);
	}
	return NULL;
}
