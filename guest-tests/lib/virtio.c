/* Virtio 1.x PCI transport and split virtqueues for guest programs; runs at CPL3 and polls
 * (interrupts are optional: a queue may be given an MSI-X vector). */
#include "virtio.h"
#include "wisp-test.h"

extern char __image_end[];

#define LOW_4G 0x100000000ull
#define MB (1024ull * 1024)

#define barrier() __asm__ volatile("" ::: "memory")
#define mb() __asm__ volatile("mfence" ::: "memory")

static uintptr_t dma_next, dma_end;

/* DMA memory runs from the end of the image to the end of the RAM range holding it. */
static void dma_start(void)
{
	const struct hvm_start_info *si = start_info();
	uintptr_t image_end = (uintptr_t)__image_end;

	dma_next = (image_end + 4095) & ~(uintptr_t)4095;
	dma_end = 16 * MB;
	if (si && si->memmap_paddr && si->memmap_entries) {
		const struct hvm_memmap_entry *map = (const void *)(uintptr_t)si->memmap_paddr;

		for (uint32_t i = 0; i < si->memmap_entries; i++) {
			if (map[i].type == 1 && map[i].addr <= image_end &&
			    map[i].addr + map[i].size > image_end)
				dma_end = map[i].addr + map[i].size;
		}
	}
	if (dma_end > LOW_4G)
		dma_end = LOW_4G;
}

size_t dma_free_bytes(void)
{
	if (!dma_end)
		dma_start();
	return dma_end - dma_next;
}

void *dma_alloc(size_t size, size_t align)
{
	uintptr_t a;

	if (!dma_end)
		dma_start();
	if (align < 16)
		align = 16;
	a = (dma_next + align - 1) & ~(uintptr_t)(align - 1);
	if (a + size > dma_end || a + size < a)
		test_fail("dma_alloc: out of RAM (%#zx bytes wanted, %#lx left)", size,
			  dma_end - dma_next);
	dma_next = a + size;
	memset((void *)a, 0, size);
	return (void *)a;
}

/* ---- Transport ---- */

int virtio_find(struct virtio_dev *v, unsigned type, unsigned index)
{
	struct pci_dev p;

	if (pci_find(&p, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type), index)) {
		printf("virtio: no modern device of type %u (PCI %04x:%04x) #%u\n", type,
		       VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + type, index);
		return -1;
	}
	return virtio_open(v, &p);
}

int virtio_map(struct virtio_dev *v)
{
	const struct pci_dev *p = &v->pci;
	unsigned cap = 0;

	v->common = v->isr = v->device = v->notify = NULL;
	while ((cap = pci_find_cap(p, PCI_CAP_ID_VNDR, cap))) {
		uint8_t type = pci_read8(p, cap + 3), bar = pci_read8(p, cap + 4);
		uint32_t off = pci_read32(p, cap + 8), len = pci_read32(p, cap + 12);
		uint64_t base;
		volatile uint8_t *a;

		if (bar >= PCI_NUM_BARS || !(base = pci_bar_addr(p, bar)))
			continue;
		a = (volatile uint8_t *)(uintptr_t)(base + off);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!v->common)
				v->common = a;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!v->notify) {
				v->notify = a;
				v->notify_len = len;
				v->notify_mult = pci_read32(p, cap + 16);
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!v->isr)
				v->isr = a;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!v->device) {
				v->device = a;
				v->device_len = len;
			}
			break;
		}
	}
	if (!v->common || !v->notify || !v->isr) {
		printf("virtio: %02x.%x lacks a common, notify or ISR capability\n", p->slot,
		       p->fn);
		return -1;
	}
	return 0;
}

int virtio_open(struct virtio_dev *v, const struct pci_dev *p)
{
	memset(v, 0, sizeof(*v));
	v->pci = *p;
	if (pci_setup(p))
		return -1;
	v->msix_cap = pci_find_cap(p, PCI_CAP_ID_MSIX, 0);
	if (virtio_map(v))
		return -1;
	v->num_queues = virtio_common16(v, VIRTIO_COMMON_NUMQ);
	return 0;
}

uint8_t virtio_common8(const struct virtio_dev *v, unsigned off)
{
	return v->common[off];
}

uint16_t virtio_common16(const struct virtio_dev *v, unsigned off)
{
	return *(volatile uint16_t *)(v->common + off);
}

uint32_t virtio_common32(const struct virtio_dev *v, unsigned off)
{
	return *(volatile uint32_t *)(v->common + off);
}

void virtio_common_write8(const struct virtio_dev *v, unsigned off, uint8_t val)
{
	v->common[off] = val;
}

void virtio_common_write16(const struct virtio_dev *v, unsigned off, uint16_t val)
{
	*(volatile uint16_t *)(v->common + off) = val;
}

void virtio_common_write32(const struct virtio_dev *v, unsigned off, uint32_t val)
{
	*(volatile uint32_t *)(v->common + off) = val;
}

uint8_t virtio_status(const struct virtio_dev *v)
{
	return virtio_common8(v, VIRTIO_COMMON_STATUS);
}

void virtio_set_status(const struct virtio_dev *v, uint8_t status)
{
	virtio_common_write8(v, VIRTIO_COMMON_STATUS, status);
}

uint8_t virtio_isr(const struct virtio_dev *v)
{
	return *v->isr;
}

int virtio_reset(const struct virtio_dev *v)
{
	uint64_t start = time_us();

	virtio_set_status(v, 0);
	while (virtio_status(v) != 0) {
		if (time_us() - start > 1000000)
			return -1;
		delay_us(10);
	}
	return 0;
}

uint64_t virtio_device_features(const struct virtio_dev *v)
{
	uint64_t f;

	virtio_common_write32(v, VIRTIO_COMMON_DFSELECT, 0);
	f = virtio_common32(v, VIRTIO_COMMON_DF);
	virtio_common_write32(v, VIRTIO_COMMON_DFSELECT, 1);
	f |= (uint64_t)virtio_common32(v, VIRTIO_COMMON_DF) << 32;
	return f;
}

int virtio_negotiate(struct virtio_dev *v, uint64_t want)
{
	uint64_t offered, f;

	if (virtio_reset(v)) {
		printf("virtio: device does not reset\n");
		return -1;
	}
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	offered = virtio_device_features(v);
	if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		printf("virtio: device does not offer VERSION_1 (features %#lx)\n", offered);
		return -1;
	}
	f = offered & (want | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	virtio_common_write32(v, VIRTIO_COMMON_GFSELECT, 0);
	virtio_common_write32(v, VIRTIO_COMMON_GF, (uint32_t)f);
	virtio_common_write32(v, VIRTIO_COMMON_GFSELECT, 1);
	virtio_common_write32(v, VIRTIO_COMMON_GF, (uint32_t)(f >> 32));
	virtio_set_status(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(v) & VIRTIO_STATUS_FEATURES_OK)) {
		printf("virtio: device refused features %#lx (offered %#lx)\n", f, offered);
		return -1;
	}
	v->features = f;
	v->num_queues = virtio_common16(v, VIRTIO_COMMON_NUMQ);
	return 0;
}

void virtio_driver_ok(const struct virtio_dev *v)
{
	virtio_set_status(v, virtio_status(v) | VIRTIO_STATUS_DRIVER_OK);
}

uint8_t virtio_cfg8(const struct virtio_dev *v, unsigned off)
{
	return v->device[off];
}

uint16_t virtio_cfg16(const struct virtio_dev *v, unsigned off)
{
	return *(volatile uint16_t *)(v->device + off);
}

uint32_t virtio_cfg32(const struct virtio_dev *v, unsigned off)
{
	return *(volatile uint32_t *)(v->device + off);
}

uint64_t virtio_cfg64(const struct virtio_dev *v, unsigned off)
{
	uint8_t gen;
	uint64_t val;

	do {
		gen = virtio_common8(v, VIRTIO_COMMON_CFGGENERATION);
		val = virtio_cfg32(v, off) | (uint64_t)virtio_cfg32(v, off + 4) << 32;
	} while (gen != virtio_common8(v, VIRTIO_COMMON_CFGGENERATION));
	return val;
}

/* ---- Split virtqueues ---- */

/* Empties the rings and gives the queue's memory to the device (Q_SELECT is set). */
static int vq_program(struct vq *q)
{
	struct virtio_dev *v = q->dev;
	unsigned size = q->size;

	memset(q->desc, 0, 16 * size);
	memset(q->avail, 0, 6 + 2 * size);
	memset(q->used, 0, 6 + 8 * size);
	memset(q->cookie, 0, sizeof(q->cookie));
	memset(q->chain_len, 0, sizeof(q->chain_len));
	if ((v->features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)) && !q->indirect)
		q->indirect = dma_alloc(sizeof(struct vring_desc) * VQ_MAX_INDIRECT * size, 4096);
	q->event_idx = v->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	for (unsigned i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->num_free = q->size;
	q->free_head = q->last_used = q->avail_idx = q->last_kick = 0;

	virtio_common_write16(v, VIRTIO_COMMON_Q_SIZE, q->size);
	virtio_common_write32(v, VIRTIO_COMMON_Q_DESCLO, (uint32_t)(uintptr_t)q->desc);
	virtio_common_write32(v, VIRTIO_COMMON_Q_DESCHI, 0);
	virtio_common_write32(v, VIRTIO_COMMON_Q_AVAILLO, (uint32_t)(uintptr_t)q->avail);
	virtio_common_write32(v, VIRTIO_COMMON_Q_AVAILHI, 0);
	virtio_common_write32(v, VIRTIO_COMMON_Q_USEDLO, (uint32_t)(uintptr_t)q->used);
	virtio_common_write32(v, VIRTIO_COMMON_Q_USEDHI, 0);
	virtio_common_write16(v, VIRTIO_COMMON_Q_MSIX, q->msix);
	if (virtio_common16(v, VIRTIO_COMMON_Q_MSIX) != q->msix) {
		printf("virtio: queue %u: MSI-X vector %#x refused\n", q->index, q->msix);
		return -1;
	}
	uint16_t noff = virtio_common16(v, VIRTIO_COMMON_Q_NOFF);
	uint64_t nbyte = (uint64_t)noff * v->notify_mult;
	if (nbyte + 2 > v->notify_len) {
		printf("virtio: queue %u: notify offset %#lx outside the %#x-byte notify area\n",
		       q->index, nbyte, v->notify_len);
		return -1;
	}
	q->notify = (volatile uint16_t *)(v->notify + nbyte);
	virtio_common_write16(v, VIRTIO_COMMON_Q_ENABLE, 1);
	return 0;
}

int vq_init(struct vq *q, struct virtio_dev *v, unsigned index, unsigned size, uint16_t msix)
{
	uint16_t max;

	memset(q, 0, sizeof(*q));
	if (index >= v->num_queues) {
		printf("virtio: queue %u does not exist (%u queues)\n", index, v->num_queues);
		return -1;
	}
	virtio_common_write16(v, VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
	max = virtio_common16(v, VIRTIO_COMMON_Q_SIZE);
	if (!max) {
		printf("virtio: queue %u is not available (size 0)\n", index);
		return -1;
	}
	if (!size)
		size = max < VQ_MAX_SIZE ? max : VQ_MAX_SIZE;
	if (size > max || size > VQ_MAX_SIZE || (size & (size - 1))) {
		printf("virtio: queue %u: size %u is not usable (max %u)\n", index, size, max);
		return -1;
	}
	q->dev = v;
	q->index = (uint16_t)index;
	q->size = (uint16_t)size;
	q->msix = msix;
	q->desc = dma_alloc(16 * size, 4096);
	q->avail = dma_alloc(6 + 2 * size, 4096);
	q->used = dma_alloc(6 + 8 * size, 4096);
	return vq_program(q);
}

int vq_reinit(struct vq *q)
{
	if (q->index >= q->dev->num_queues)
		return -1;
	virtio_common_write16(q->dev, VIRTIO_COMMON_Q_SELECT, q->index);
	return vq_program(q);
}

int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, void *cookie, bool indirect)
{
	uint16_t head = q->free_head;

	if (!n)
		return -1;
	if (indirect && q->indirect && n <= VQ_MAX_INDIRECT) {
		if (!q->num_free)
			return -1;
		struct vring_desc *t = q->indirect + (size_t)head * VQ_MAX_INDIRECT;

		for (unsigned i = 0; i < n; i++) {
			t[i].addr = (uintptr_t)bufs[i].addr;
			t[i].len = bufs[i].len;
			t[i].flags = (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
						(i + 1 < n ? VRING_DESC_F_NEXT : 0));
			t[i].next = (uint16_t)(i + 1);
		}
		q->free_head = q->desc[head].next;
		q->desc[head].addr = (uintptr_t)t;
		q->desc[head].len = n * (uint32_t)sizeof(*t);
		q->desc[head].flags = VRING_DESC_F_INDIRECT;
		q->chain_len[head] = 1;
		q->num_free--;
	} else {
		uint16_t i = head, last = head;

		if (n > q->num_free)
			return -1;
		for (unsigned k = 0; k < n; k++) {
			q->desc[i].addr = (uintptr_t)bufs[k].addr;
			q->desc[i].len = bufs[k].len;
			q->desc[i].flags = (uint16_t)((bufs[k].write ? VRING_DESC_F_WRITE : 0) |
						      (k + 1 < n ? VRING_DESC_F_NEXT : 0));
			last = i;
			i = q->desc[i].next;
		}
		q->free_head = i;
		q->desc[last].flags &= (uint16_t)~VRING_DESC_F_NEXT;
		q->chain_len[head] = (uint16_t)n;
		q->num_free = (uint16_t)(q->num_free - n);
	}
	q->cookie[head] = cookie;
	q->avail->ring[q->avail_idx % q->size] = head;
	barrier();
	q->avail_idx++;
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	return head;
}

void vq_notify(struct vq *q)
{
	mb();
	*q->notify = q->index;
}

void vq_kick(struct vq *q)
{
	uint16_t old = q->last_kick, now = q->avail_idx;
	bool notify;

	mb();
	if (q->event_idx) {
		/* Notify only if the device's avail_event lies in (old, now]. */
		uint16_t event = *(volatile uint16_t *)((uint8_t *)q->used + 4 + 8 * q->size);

		notify = (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	} else {
		notify = !(*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY);
	}
	q->last_kick = now;
	if (notify)
		*q->notify = q->index;
}

bool vq_poll(struct vq *q, void **cookie, uint32_t *len)
{
	uint16_t used_idx = *(volatile uint16_t *)&q->used->idx;

	if (used_idx == q->last_used)
		return false;
	barrier();
	struct vring_used_elem e = q->used->ring[q->last_used % q->size];
	q->last_used++;
	if (q->event_idx)
		*(volatile uint16_t *)&q->avail->ring[q->size] = q->last_used;
	if (e.id >= q->size || !q->chain_len[e.id]) {
		/* The device returned a head we never gave it. */
		if (cookie)
			*cookie = NULL;
		if (len)
			*len = e.len;
		return true;
	}
	if (cookie)
		*cookie = q->cookie[e.id];
	if (len)
		*len = e.len;
	/* Give the chain back to the free list. */
	uint16_t i = (uint16_t)e.id, n = q->chain_len[e.id];
	for (uint16_t k = 1; k < n; k++)
		i = q->desc[i].next;
	q->desc[i].next = q->free_head;
	q->free_head = (uint16_t)e.id;
	q->num_free = (uint16_t)(q->num_free + n);
	q->chain_len[e.id] = 0;
	q->cookie[e.id] = NULL;
	return true;
}

int vq_wait(struct vq *q, void **cookie, uint32_t *len, uint64_t timeout_us)
{
	uint64_t start = time_us();

	for (unsigned spins = 0;; spins++) {
		if (vq_poll(q, cookie, len))
			return 0;
		if ((spins & 255) == 255) {
			if (virtio_status(q->dev) &
			    (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
				return -2;
			if (time_us() - start > timeout_us)
				return -1;
		}
		__asm__ volatile("pause");
	}
}

long vq_call(struct vq *q, const struct vq_buf *bufs, unsigned n, uint64_t timeout_us)
{
	static char token;
	void *cookie;
	uint32_t len;
	int rc;

	if (vq_add(q, bufs, n, &token, false) < 0)
		return -1;
	vq_kick(q);
	rc = vq_wait(q, &cookie, &len, timeout_us);
	if (rc)
		return rc;
	return cookie == &token ? (long)len : -1;
}
