/* virtio-console without MULTIPORT: one console port on receiveq 0 and transmitq 1,
 * backed by a chardev (stdio, file, Unix socket). Guest output goes out as fast as
 * the backend takes it (a chain waits for a slow one; output with no client is
 * dropped and counted); host input is held, bounded, until the guest posts buffers.
 * Event loop under the device lock; reset arrives on vCPUs and only changes state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chardev.h"
#include "devices.h"
#include "vm.h"

#define QUEUE_SIZE 128
#define RXQ 0
#define TXQ 1
#define HOLD 4096     /* host input waiting for receive buffers */
#define TX_BATCH 256  /* chains per kick, then the kick is re-armed */
#define C_MAX_PORTS 4 /* cols, rows (no F_SIZE), max_nr_ports, emerg_wr (no F_EMERG_WRITE) */
#define CONFIG_LEN 12

struct console {
	struct virtio_dev v;
	struct chardev chr;
	uint8_t hold[HOLD];
	size_t held;
	struct virtq_chain *tx; /* the chain being written */
	unsigned int tx_seg;	/* its next buffer; the ones before are out */
	bool tx_pending;	/* the backend is full: waiting for writable() */
	struct virtq_chain *rx;
	uint64_t dropped; /* output bytes with nowhere to go */
};

static bool queue_ok(struct console *c, unsigned int q)
{
	return virtio_ready(&c->v) && c->v.queues[q].enabled && c->v.queues[q].vq.ready;
}

/* Held input into posted receive buffers. */
static void rx_flush(struct console *c)
{
	struct virtq *q = &c->v.queues[RXQ].vq;
	bool pushed = false;
	int got = 0;

	while (c->held && queue_ok(c, RXQ)) {
		uint64_t n;

		if ((got = virtq_pop(q, c->rx)) != 1) {
			if (got == 0 && virtq_enable_notify(q))
				continue;
			break;
		}
		n = virtq_buf_to_iov(c->rx->iov + c->rx->nr_out, c->rx->nr_in, 0, c->hold, c->held);
		memmove(c->hold, c->hold + n, c->held - n);
		c->held -= n;
		virtq_push(q, c->rx->head, (uint32_t)n);
		pushed = true;
	}
	if (got < 0)
		virtio_fail(&c->v, "malformed receive chain");
	if (pushed)
		virtio_notify(&c->v, RXQ);
}

/* Writes what is left of c->tx. Return: 0 when done (written or dropped), -EAGAIN. */
static int tx_one(struct console *c)
{
	struct virtq_chain *t = c->tx;

	while (c->tx_seg < t->nr_out) {
		ssize_t r =
			chardev_write(&c->chr, t->iov + c->tx_seg, (int)(t->nr_out - c->tx_seg));

		if (r == -EAGAIN)
			return -EAGAIN;
		size_t n = r > 0 ? (size_t)r : 0;

		if (r <= 0) { /* no client, a failed backend: the rest is lost */
			for (; c->tx_seg < t->nr_out; c->tx_seg++)
				c->dropped += t->iov[c->tx_seg].iov_len;
			break;
		}
		while (c->tx_seg < t->nr_out && n >= t->iov[c->tx_seg].iov_len)
			n -= t->iov[c->tx_seg++].iov_len;
		if (n) { /* part of a buffer went out */
			t->iov[c->tx_seg].iov_base = (uint8_t *)t->iov[c->tx_seg].iov_base + n;
			t->iov[c->tx_seg].iov_len -= n;
		}
	}
	return 0;
}

static void tx_run(struct console *c)
{
	struct virtq *q = &c->v.queues[TXQ].vq;
	int budget = TX_BATCH, got = 0;
	bool pushed = false;

	if (c->tx_pending)
		return; /* writable() resumes */
	for (;;) {
		while (budget > 0 && (got = virtq_pop(q, c->tx)) == 1) {
			budget--;
			c->tx_seg = 0;
			if (tx_one(c) == -EAGAIN) {
				c->tx_pending = true;
				goto out;
			}
			virtq_push(q, c->tx->head, 0);
			pushed = true;
		}
		if (got < 0) {
			virtio_fail(&c->v, "malformed transmit chain");
			return;
		}
		if (budget <= 0) {
			irq_signal(c->v.queues[TXQ].kick_fd); /* the rest on the next round */
			break;
		}
		if (!virtq_enable_notify(q))
			break;
	}
out:
	if (pushed)
		virtio_notify(&c->v, TXQ);
}

/* ---- the backend's callbacks (loop, lock held) ---- */

static size_t chr_room(void *opaque)
{
	struct console *c = opaque;

	return HOLD - c->held;
}

static void chr_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;

	if (len > HOLD - c->held)
		len = HOLD - c->held; /* never more than room() allowed */
	memcpy(c->hold + c->held, buf, len);
	c->held += len;
	rx_flush(c);
}

static void chr_writable(void *opaque)
{
	struct console *c = opaque;

	if (!c->tx_pending || !queue_ok(c, TXQ) || tx_one(c) == -EAGAIN)
		return;
	c->tx_pending = false;
	virtq_push(&c->v.queues[TXQ].vq, c->tx->head, 0);
	virtio_notify(&c->v, TXQ);
	tx_run(c);
}

static void chr_quit(void *opaque)
{
	struct console *c = opaque;

	vm_request(c->v.vm, VM_ACT_EXIT, 0);
}

static const struct chardev_ops console_chardev = {
	.input = chr_input,
	.room = chr_room,
	.writable = chr_writable,
	.quit = chr_quit,
};

/* ---- the device ---- */

static void console_notify(struct virtio_dev *v, unsigned int q)
{
	struct console *c = (struct console *)v;

	if (q == RXQ) {
		rx_flush(c);
		if (c->held < HOLD)
			chardev_poll(&c->chr);
	} else if (q == TXQ) {
		tx_run(c);
	}
}

/* Lock held, any thread: forget the chain being written. Held input stays: it is
 * the host's, and the next driver gets it. */
static void console_reset(struct virtio_dev *v)
{
	((struct console *)v)->tx_pending = false;
}

static void console_free(struct virtio_dev *v)
{
	struct console *c = (struct console *)v;

	if (c->dropped)
		fprintf(stderr, "wisp: %s: %llu bytes of output dropped (nowhere to go)\n",
			v->pci.name, (unsigned long long)c->dropped);
	chardev_close(&c->chr);
	virtio_free(v);
	free(c->tx);
	free(c->rx);
	free(c);
}

static const struct virtio_ops console_ops = {
	.queue_notify = console_notify,
	.reset = console_reset,
	.free = console_free,
};

struct virtio_dev *virtio_console_create(struct vm *vm, const struct config_pci_dev *d, char *err,
					 size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	char what[128];

	if (!c) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	c->chr.in_fd = c->chr.out_fd = c->chr.listen_fd = -1;
	c->tx = malloc(sizeof(*c->tx));
	c->rx = malloc(sizeof(*c->rx));
	if (!c->tx || !c->rx ||
	    virtio_init(&c->v, vm, "virtio-serial-pci", VIRTIO_ID_CONSOLE, 0x078000, &console_ops,
			2, QUEUE_SIZE, 0, CONFIG_LEN, err, errlen)) {
		if (!c->tx || !c->rx)
			snprintf(err, errlen, "wisp: out of memory");
		goto fail;
	}
	c->v.config[C_MAX_PORTS] = 1;
	if (d->chardev >= 0) {
		const struct config_chardev *cd = &vm->cfg->chardevs[d->chardev];

		if (cd->kind == SERIAL_STDIO)
			snprintf(what, sizeof(what), "-chardev stdio,id=%s", cd->id);
		else
			snprintf(what, sizeof(what), "-chardev %s,id=%s,path=",
				 cd->kind == SERIAL_FILE ? "file" : "socket", cd->id);
		if (chardev_open(&c->chr, cd->kind, cd->path, what, &vm->loop, &c->v.pci.lock,
				 &console_chardev, c, CHARDEV_LOOP_WRITER, err, errlen))
			goto fail;
	}
	return &c->v;
fail:
	console_free(&c->v);
	return NULL;
}
