/* virtio-pci modern transport: capabilities, common config, ISR, notify (KVM
 * ioeventfds watched by the event loop), device config and MSI-X in one BAR.
 * BAR and config accesses on vCPU threads, kicks on the loop; v->pci.lock. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irq.h"
#include "pci/msix.h"
#include "platform/virt.h"
#include "virtio.h"
#include "vm.h"

#define VENDOR_VIRTIO 0x1af4
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define TRANSPORT_FEATURES                                                                         \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC)

/* Common configuration offsets (virtio 1.2, 4.1.4.3). */
enum {
	DFSELECT = 0x00,
	DF = 0x04,
	GFSELECT = 0x08,
	GF = 0x0c,
	MSIX_CONFIG = 0x10,
	NUM_QUEUES = 0x12,
	STATUS = 0x14,
	CONFIG_GEN = 0x15,
	Q_SELECT = 0x16,
	Q_SIZE = 0x18,
	Q_MSIX = 0x1a,
	Q_ENABLE = 0x1c,
	Q_NOTIFY_OFF = 0x1e,
	Q_DESC = 0x20,
	Q_DRIVER = 0x28,
	Q_DEVICE = 0x30,
	COMMON_LEN = 0x38,
};

bool virtio_has(const struct virtio_dev *v, unsigned int bit)
{
	return bit < 64 && (v->driver_features >> bit) & 1;
}

bool virtio_ready(const struct virtio_dev *v)
{
	return (v->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

static void interrupt(struct virtio_dev *v, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&v->pci)) {
		msix_notify(&v->pci, vector);
		return;
	}
	v->isr |= isr_bit;
	pci_set_intx(&v->pci, 1);
}

void virtio_notify(struct virtio_dev *v, unsigned int q)
{
	if (q < v->nr_queues && virtq_should_notify(&v->queues[q].vq))
		interrupt(v, v->queues[q].msix, 1);
}

void virtio_config_changed(struct virtio_dev *v)
{
	v->config_gen++;
	interrupt(v, v->config_msix, 2);
}

void virtio_fail(struct virtio_dev *v, const char *why)
{
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	/* A guest can break and reset a device in a loop: say it a few times only. */
	if (v->nr_fails < 10)
		fprintf(stderr, "wisp: %s: %s; device needs reset%s\n", v->pci.name, why,
			++v->nr_fails == 10 ? " (further reports suppressed)" : "");
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned int q = 0; q < v->nr_queues; q++)
		v->queues[q].vq.ready = false;
	virtio_config_changed(v);
}

void virtio_reset_wait(struct virtio_dev *v, unsigned int n)
{
	v->resetting += n;
}

void virtio_reset_done(struct virtio_dev *v)
{
	if (v->resetting)
		v->resetting--;
}

void virtio_drain(struct virtio_dev *v)
{
	if (v->ops->drain)
		v->ops->drain(v);
}

static void device_reset(struct virtio_dev *v)
{
	v->reset_status = v->status ? v->status : VIRTIO_STATUS_ACKNOWLEDGE;
	if (v->ops->reset)
		v->ops->reset(v);
	for (unsigned int q = 0; q < v->nr_queues; q++) {
		struct virtio_queue *vq = &v->queues[q];

		virtq_stop(&vq->vq);
		vq->vq.size = v->queue_max;
		vq->vq.desc_gpa = vq->vq.avail_gpa = vq->vq.used_gpa = 0;
		vq->msix = MSIX_NO_VECTOR;
		vq->enabled = false;
	}
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->queue_select = 0;
	v->config_msix = MSIX_NO_VECTOR;
	v->status = 0;
	v->isr = 0;
	pci_set_intx(&v->pci, 0);
}

static uint64_t offered(const struct virtio_dev *v)
{
	return v->features | TRANSPORT_FEATURES;
}

static struct virtio_queue *selected(struct virtio_dev *v)
{
	return v->queue_select < v->nr_queues ? &v->queues[v->queue_select] : NULL;
}

static void common_read(struct virtio_dev *v, uint64_t off, uint8_t *data, uint32_t len)
{
	uint8_t r[COMMON_LEN] = {0};
	struct virtio_queue *q = selected(v);
	uint32_t df = v->dfselect < 2 ? (uint32_t)(offered(v) >> (32 * v->dfselect)) : 0;
	uint32_t gf = v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0;

	memcpy(&r[DFSELECT], &v->dfselect, 4);
	memcpy(&r[DF], &df, 4);
	memcpy(&r[GFSELECT], &v->gfselect, 4);
	memcpy(&r[GF], &gf, 4);
	memcpy(&r[MSIX_CONFIG], &v->config_msix, 2);
	memcpy(&r[NUM_QUEUES], &(uint16_t){(uint16_t)v->nr_queues}, 2);
	r[STATUS] = v->resetting ? v->reset_status : v->status;
	r[CONFIG_GEN] = v->config_gen;
	memcpy(&r[Q_SELECT], &v->queue_select, 2);
	if (q) {
		uint16_t en = q->enabled, noff = v->queue_select;

		memcpy(&r[Q_SIZE], &q->vq.size, 2);
		memcpy(&r[Q_MSIX], &q->msix, 2);
		memcpy(&r[Q_ENABLE], &en, 2);
		memcpy(&r[Q_NOTIFY_OFF], &noff, 2);
		memcpy(&r[Q_DESC], &q->vq.desc_gpa, 8);
		memcpy(&r[Q_DRIVER], &q->vq.avail_gpa, 8);
		memcpy(&r[Q_DEVICE], &q->vq.used_gpa, 8);
	}
	memset(data, 0, len);
	if (off < COMMON_LEN)
		memcpy(data, &r[off], off + len <= COMMON_LEN ? len : COMMON_LEN - off);
}

static uint16_t valid_vector(struct virtio_dev *v, uint32_t vec)
{
	return v->pci.msix && vec < v->pci.msix->nr ? (uint16_t)vec : MSIX_NO_VECTOR;
}

static void enable_queue(struct virtio_dev *v, struct virtio_queue *q)
{
	uint16_t n = q->vq.size;

	if (q->enabled)
		return;
	q->vq.event_idx = virtio_has(v, VIRTIO_F_EVENT_IDX);
	q->vq.indirect = virtio_has(v, VIRTIO_F_INDIRECT_DESC);
	if (!n || n > v->queue_max || (n & (n - 1))) {
		virtio_fail(v, "queue size is not a power of two within the maximum");
		return;
	}
	if (virtq_start(&q->vq, &v->vm->mem)) {
		virtio_fail(v, "queue rings are misaligned or outside RAM");
		return;
	}
	virtq_enable_notify(&q->vq); /* with EVENT_IDX: ask for the first kick */
	q->enabled = true;
}

static void set_status(struct virtio_dev *v, uint8_t s)
{
	uint8_t was = v->status;

	if (s == 0) {
		device_reset(v);
		return;
	}
	if (v->resetting)
		return; /* the driver must wait for status 0 first */
	if ((s & VIRTIO_STATUS_FEATURES_OK) && !(was & VIRTIO_STATUS_FEATURES_OK)) {
		/* Accept only what was offered, and nothing without VERSION_1. */
		if ((v->driver_features & ~offered(v)) || !virtio_has(v, VIRTIO_F_VERSION_1))
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	v->status = (uint8_t)((s & ~VIRTIO_STATUS_NEEDS_RESET) | (was & VIRTIO_STATUS_NEEDS_RESET));
	if ((v->status & VIRTIO_STATUS_DRIVER_OK) && !(was & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_fail(v, "DRIVER_OK without FEATURES_OK");
			return;
		}
		if (v->ops->driver_ok && virtio_ready(v))
			v->ops->driver_ok(v);
		/* Kicks that came before DRIVER_OK were ignored: the event loop looks
		 * at every queue (never this vCPU thread). */
		for (unsigned int q = 0; q < v->nr_queues && virtio_ready(v); q++)
			if (v->queues[q].enabled)
				irq_signal(v->queues[q].kick_fd);
	}
}

static void common_write(struct virtio_dev *v, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_queue *q = selected(v);
	bool q_open = q && !q->enabled;
	uint64_t val = 0;

	memcpy(&val, data, len);
	switch (off | (uint64_t)len << 8) {
	case DFSELECT | 4 << 8:
		v->dfselect = (uint32_t)val;
		break;
	case GFSELECT | 4 << 8:
		v->gfselect = (uint32_t)val;
		break;
	case GF | 4 << 8:
		if (v->gfselect < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			uint64_t mask = 0xffffffffULL << (32 * v->gfselect);

			v->driver_features =
				(v->driver_features & ~mask) | (val << (32 * v->gfselect));
		}
		break;
	case MSIX_CONFIG | 2 << 8:
		v->config_msix = valid_vector(v, (uint32_t)val);
		break;
	case STATUS | 1 << 8:
		set_status(v, (uint8_t)val);
		break;
	case Q_SELECT | 2 << 8:
		v->queue_select = (uint16_t)val;
		break;
	case Q_SIZE | 2 << 8:
		if (q_open)
			q->vq.size = (uint16_t)val;
		break;
	case Q_MSIX | 2 << 8:
		if (q)
			q->msix = valid_vector(v, (uint32_t)val);
		break;
	case Q_ENABLE | 2 << 8:
		if (q && val == 1 && !(v->status & VIRTIO_STATUS_NEEDS_RESET))
			enable_queue(v, q);
		break;
	case Q_DESC | 8 << 8:
	case Q_DRIVER | 8 << 8:
	case Q_DEVICE | 8 << 8:
	case Q_DESC | 4 << 8:
	case (Q_DESC + 4) | 4 << 8:
	case Q_DRIVER | 4 << 8:
	case (Q_DRIVER + 4) | 4 << 8:
	case Q_DEVICE | 4 << 8:
	case (Q_DEVICE + 4) | 4 << 8:
		if (q_open) {
			uint64_t *field = off < Q_DRIVER   ? &q->vq.desc_gpa
					  : off < Q_DEVICE ? &q->vq.avail_gpa
							   : &q->vq.used_gpa;
			unsigned int shift = 8 * (unsigned int)(off & 4);
			uint64_t mask = len == 8 ? ~0ULL : 0xffffffffULL << shift;

			*field = (*field & ~mask) | ((val << shift) & mask);
		}
		break;
	default:
		break; /* read-only fields and odd widths are ignored */
	}
}

static void device_cfg_io(struct virtio_dev *v, uint64_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	bool changed = false;

	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;

		if (!is_write) {
			data[i] = o < v->config_len ? v->config[o] : 0;
		} else if (o < v->config_len && v->config_wmask[o]) {
			v->config[o] = (uint8_t)((v->config[o] & ~v->config_wmask[o]) |
						 (data[i] & v->config_wmask[o]));
			changed = true;
		}
	}
	if (changed && v->ops->config_write)
		v->ops->config_write(v, (uint32_t)off, len);
}

static void kick(struct virtio_dev *v, unsigned int q)
{
	if (q < v->nr_queues)
		irq_signal(v->queues[q].kick_fd); /* handled on the event loop */
}

/* BAR 0: lock held (pci.c takes it). */
static void bar_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_dev *v = opaque;

	if (msix_bar_io(&v->pci, off, data, len, is_write))
		return;
	if (off < VIRTIO_BAR_ISR) {
		if (is_write)
			common_write(v, off, data, len);
		else
			common_read(v, off, data, len);
	} else if (off < VIRTIO_BAR_DEVICE) {
		if (!is_write) {
			memset(data, 0, len);
			if (off == VIRTIO_BAR_ISR) {
				data[0] = v->isr; /* read to clear */
				v->isr = 0;
				pci_set_intx(&v->pci, 0);
			}
		}
	} else if (off < VIRTIO_BAR_NOTIFY) {
		device_cfg_io(v, off - VIRTIO_BAR_DEVICE, data, len, is_write);
	} else if (off < VIRTIO_BAR_MSIX_TABLE) {
		if (is_write)
			kick(v,
			     (unsigned int)((off - VIRTIO_BAR_NOTIFY) / VIRTIO_NOTIFY_MULTIPLIER));
		else
			memset(data, 0, len);
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
}

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_queue *q = opaque;
	struct virtio_dev *v;
	uint64_t n;

	if (read(q->kick_fd, &n, sizeof(n)) < 0)
		return;
	v = q->dev;
	pthread_mutex_lock(&v->pci.lock);
	if (virtio_ready(v) && q->enabled && v->ops->queue_notify)
		v->ops->queue_notify(v, q->index);
	pthread_mutex_unlock(&v->pci.lock);
}

static int ioeventfd(struct virtio_dev *v, struct virtio_queue *q, uint64_t addr, bool on)
{
	struct kvm_ioeventfd e = {.addr = addr, .len = 0, .fd = q->kick_fd};

	if (!on)
		e.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(v->vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

static void bar_moved(struct pci_dev *d, int bar, uint64_t from, uint64_t to)
{
	struct virtio_dev *v = (struct virtio_dev *)d;

	for (unsigned int i = 0; bar == 0 && i < v->nr_queues; i++) {
		struct virtio_queue *q = &v->queues[i];
		uint64_t n = VIRTIO_BAR_NOTIFY + (uint64_t)i * VIRTIO_NOTIFY_MULTIPLIER;

		if (from && q->kick_io)
			ioeventfd(v, q, from + n, false);
		q->kick_io = to && ioeventfd(v, q, to + n, true) == 0;
	}
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: BAR access through config space. */
static void pci_cfg_window(struct virtio_dev *v, uint32_t off, uint32_t len, bool is_write)
{
	uint8_t *c = &v->pci.cfg[v->cfg_cap];
	uint32_t boff, blen, data = v->cfg_cap + 16u;

	if (!v->cfg_cap || off >= data + 4 || off + len <= data)
		return;
	memcpy(&boff, c + 8, 4);
	memcpy(&blen, c + 12, 4);
	if (c[4] != 0 || (blen != 1 && blen != 2 && blen != 4) || boff >= VIRTIO_BAR_SIZE ||
	    boff + blen > VIRTIO_BAR_SIZE)
		return;
	if (!is_write)
		memset(c + 16, 0, 4);
	bar_io(v, boff, c + 16, blen, is_write);
}

static void cfg_access(struct pci_dev *d, uint32_t off, uint32_t len, bool is_write)
{
	struct virtio_dev *v = (struct virtio_dev *)d;

	pci_cfg_window(v, off, len, is_write);
}

static void machine_reset(struct pci_dev *d)
{
	device_reset((struct virtio_dev *)d);
	msix_reset(d);
}

static uint8_t add_cap(struct virtio_dev *v, uint8_t type, uint32_t off, uint32_t len,
		       uint8_t extra)
{
	uint8_t body[18] = {(uint8_t)(16 + extra), type, 0 /* BAR 0 */};

	memcpy(&body[6], &off, 4);
	memcpy(&body[10], &len, 4);
	if (type == CAP_NOTIFY)
		memcpy(&body[14], &(uint32_t){VIRTIO_NOTIFY_MULTIPLIER}, 4);
	return pci_add_cap(&v->pci, PCI_CAP_ID_VNDR, body, (uint8_t)(14 + extra));
}

int virtio_init(struct virtio_dev *v, struct vm *vm, const char *name, uint16_t device_id,
		uint32_t class_code, const struct virtio_ops *ops, unsigned int nr_queues,
		uint16_t queue_max, uint64_t features, uint32_t config_len, char *err,
		size_t errlen)
{
	uint8_t cap;

	pci_dev_init(&v->pci, name, VENDOR_VIRTIO, 0x1040 + device_id, class_code, VENDOR_VIRTIO,
		     0x40);
	v->ops = ops;
	v->vm = vm;
	v->nr_queues = nr_queues;
	v->queue_max = queue_max;
	v->features = features;
	v->config_len = config_len;
	v->config = calloc(1, config_len + 1);
	v->config_wmask = calloc(1, config_len + 1);
	v->queues = calloc(nr_queues, sizeof(*v->queues));
	if (!v->config || !v->config_wmask || !v->queues || nr_queues > VIRTIO_MAX_QUEUES ||
	    queue_max > VIRTQ_MAX_SIZE) {
		snprintf(err, errlen, "wisp: %s: out of memory", name);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nr_queues; i++)
		v->queues[i].kick_fd = -1;
	for (unsigned int i = 0; i < nr_queues; i++) {
		v->queues[i].dev = v;
		v->queues[i].index = i;
		v->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->queues[i].kick_fd < 0) {
			snprintf(err, errlen, "wisp: %s: eventfd: %s", name, strerror(errno));
			return -errno;
		}
	}
	v->pci.bar_moved = bar_moved;
	v->pci.cfg_access = cfg_access;
	v->pci.reset = machine_reset;
	v->pci.opaque = v;
	if (pci_add_bar(&v->pci, 0, VIRTIO_BAR_SIZE, true, bar_io, v) ||
	    !add_cap(v, CAP_COMMON, VIRTIO_BAR_COMMON, COMMON_LEN, 0) ||
	    !add_cap(v, CAP_NOTIFY, VIRTIO_BAR_NOTIFY, nr_queues * VIRTIO_NOTIFY_MULTIPLIER, 4) ||
	    !add_cap(v, CAP_ISR, VIRTIO_BAR_ISR, 1, 0) ||
	    !add_cap(v, CAP_DEVICE, VIRTIO_BAR_DEVICE, config_len ? config_len : 1, 0) ||
	    !(cap = add_cap(v, CAP_PCI_CFG, 0, 0, 4)) ||
	    msix_init(&v->pci, &vm->irq, (uint16_t)(nr_queues + 1), 0, VIRTIO_BAR_MSIX_TABLE,
		      VIRTIO_BAR_MSIX_PBA)) {
		snprintf(err, errlen, "wisp: %s: PCI capabilities do not fit", name);
		return -ENOSPC;
	}
	v->cfg_cap = cap;
	/* bar, offset, length and data of the PCI_CFG window are the driver's. */
	v->pci.wmask[cap + 4] = 0xff;
	memset(&v->pci.wmask[cap + 8], 0xff, 12);
	device_reset(v);
	return 0;
}

int virtio_plug(struct virtio_dev *v, int slot, char *err, size_t errlen)
{
	int ret = pci_plug(&v->vm->pci, &v->pci, slot, err, errlen);

	for (unsigned int i = 0; ret >= 0 && i < v->nr_queues; i++)
		if ((ret = evloop_add(&v->vm->loop, v->queues[i].kick_fd, EPOLLIN, on_kick,
				      &v->queues[i])) < 0)
			snprintf(err, errlen, "wisp: %s: epoll: %s", v->pci.name, strerror(-ret));
	return ret < 0 ? ret : 0;
}

void virtio_free(struct virtio_dev *v)
{
	for (unsigned int i = 0; v->queues && i < v->nr_queues; i++) {
		if (v->queues[i].kick_fd < 0)
			continue;
		evloop_del(&v->vm->loop, v->queues[i].kick_fd);
		close(v->queues[i].kick_fd);
	}
	msix_free(&v->pci);
	free(v->pci.cfg_init);
	free(v->queues);
	free(v->config);
	free(v->config_wmask);
}
