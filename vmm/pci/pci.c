/* PCIe host bridge: ECAM config space, BAR decoding in the windows, INTx.
 * vCPU threads; lock order: device lock, then map_lock (BAR handlers are called
 * with no pci lock held, so a handler may reprogram BARs). */
#include "pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msix.h"
#include "platform/virt.h"

static pthread_mutex_t intx_lock = PTHREAD_MUTEX_INITIALIZER;

uint32_t pci_cfg_read(const struct pci_dev *d, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_write(struct pci_dev *d, uint32_t off, uint32_t val, uint32_t len)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		d->cfg[off + i] = (uint8_t)(val >> (8 * i));
}

static void set_mask(uint8_t *m, uint32_t off, uint32_t val, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		m[off + i] = (uint8_t)(val >> (8 * i));
}

unsigned int pci_intx_gsi(int slot)
{
	return VIRT_GSI_PCI_INTA + (unsigned int)slot % 4; /* INTA: pin 0 */
}

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->slot = -1;
	pthread_mutex_init(&d->lock, NULL);
	pci_cfg_write(d, PCI_VENDOR_ID, vendor, 2);
	pci_cfg_write(d, PCI_DEVICE_ID, device, 2);
	pci_cfg_write(d, PCI_REVISION_ID, 1, 1);
	pci_cfg_write(d, PCI_CLASS_PROG, class_code, 3);
	pci_cfg_write(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor, 2);
	pci_cfg_write(d, PCI_SUBSYSTEM_ID, subsys, 2);
	pci_cfg_write(d, PCI_INTERRUPT_PIN, 1, 1);
	set_mask(d->wmask, PCI_COMMAND,
		 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
	set_mask(d->wmask, PCI_INTERRUPT_LINE, 0xff, 1);
	d->cap_end = 0x40;
	d->cap_link = PCI_CAPABILITY_LIST;
}

int pci_add_bar(struct pci_dev *d, int idx, uint64_t size, bool mem64, bus_handler_fn fn,
		void *opaque)
{
	uint64_t mask = ~(size - 1);

	if (idx < 0 || idx + mem64 >= PCI_NR_BARS || size < 4096 || (size & (size - 1)) ||
	    (!mem64 && size > 0x80000000ULL))
		return -EINVAL;
	d->bar[idx] = (struct pci_bar){.size = size, .mem64 = mem64, .fn = fn, .opaque = opaque};
	pci_cfg_write(d, PCI_BAR0 + 4 * idx, mem64 ? PCI_BAR_MEM64 : 0, 4);
	set_mask(d->wmask, PCI_BAR0 + 4 * idx, (uint32_t)mask & ~0xfU, 4);
	if (mem64)
		set_mask(d->wmask, PCI_BAR0 + 4 * (idx + 1), (uint32_t)(mask >> 32), 4);
	return 0;
}

uint8_t pci_add_cap(struct pci_dev *d, uint8_t id, const void *body, uint8_t len)
{
	uint32_t off = (d->cap_end + 3u) & ~3u;

	if (off + 2u + len > 0x100)
		return 0;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (body)
		memcpy(&d->cfg[off + 2], body, len);
	d->cfg[d->cap_link] = (uint8_t)off;
	d->cap_link = (uint8_t)(off + 1);
	d->cap_end = (uint8_t)(off + 2 + len);
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return (uint8_t)off;
}

static uint64_t bar_addr(const struct pci_dev *d, int i)
{
	uint64_t a = pci_cfg_read(d, PCI_BAR0 + 4 * i, 4) & ~0xfULL;

	if (d->bar[i].mem64)
		a |= (uint64_t)pci_cfg_read(d, PCI_BAR0 + 4 * (i + 1), 4) << 32;
	return a;
}

static bool in_window(uint64_t a, uint64_t size)
{
	if (a + size < a)
		return false;
	return (a >= VIRT_PCI_MMIO32_BASE &&
		a + size <= VIRT_PCI_MMIO32_BASE + (uint64_t)VIRT_PCI_MMIO32_SIZE) ||
	       (a >= VIRT_PCI_MMIO64_BASE &&
		a + size <= VIRT_PCI_MMIO64_BASE + VIRT_PCI_MMIO64_SIZE);
}

/* Lock held: decode each BAR where its registers and the command register say. */
static void update_bars(struct pci_dev *d)
{
	bool on = pci_cfg_read(d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;

	for (int i = 0; i < PCI_NR_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		uint64_t a = bar_addr(d, i), old = b->mapped;

		if (!b->size)
			continue;
		a = on && d->slot >= 0 && in_window(a, b->size) ? a : 0;
		if (a == old)
			continue;
		pthread_rwlock_wrlock(&d->pci->map_lock);
		b->mapped = a;
		pthread_rwlock_unlock(&d->pci->map_lock);
		if (d->bar_moved)
			d->bar_moved(d, i, old, a);
	}
}

static void update_gsi(struct pci *p, unsigned int gsi)
{
	int level = 0;

	for (int s = 0; s < PCI_NR_SLOTS; s++) {
		struct pci_dev *d = p->slots[s];

		if (d && pci_intx_gsi(s) == gsi &&
		    !(pci_cfg_read(d, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE))
			level |= __atomic_load_n(&d->intx_level, __ATOMIC_ACQUIRE);
	}
	if (p->set_irq)
		p->set_irq(p->irq_opaque, gsi, level);
}

void pci_set_intx(struct pci_dev *d, int level)
{
	level = !!level;
	if (level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
	if (d->slot < 0)
		return;
	pthread_mutex_lock(&intx_lock);
	__atomic_store_n(&d->intx_level, level, __ATOMIC_RELEASE);
	update_gsi(d->pci, pci_intx_gsi(d->slot));
	pthread_mutex_unlock(&intx_lock);
}

void pci_init(struct pci *p, pci_irq_fn set_irq, void *opaque)
{
	memset(p, 0, sizeof(*p));
	pthread_rwlock_init(&p->map_lock, NULL);
	p->set_irq = set_irq;
	p->irq_opaque = opaque;
	p->next32 = VIRT_PCI_MMIO32_BASE;
	p->next64 = VIRT_PCI_MMIO64_BASE;
	pci_dev_init(&p->host, "host-bridge", VIRT_PCI_HOST_VENDOR, VIRT_PCI_HOST_DEVICE, 0x060000,
		     VIRT_PCI_HOST_VENDOR, VIRT_PCI_HOST_DEVICE);
	pci_cfg_write(&p->host, PCI_INTERRUPT_PIN, 0, 1);
	p->host.pci = p;
	p->host.slot = 0;
	p->slots[0] = &p->host;
}

int pci_plug(struct pci *p, struct pci_dev *d, int slot, char *err, size_t errlen)
{
	if (slot < 0) {
		for (slot = 1; slot < PCI_NR_SLOTS && p->slots[slot]; slot++)
			;
		if (slot == PCI_NR_SLOTS) {
			snprintf(err, errlen, "wisp: %s: no free PCI slot (31 devices at most)",
				 d->name);
			return -ENOSPC;
		}
	} else if (slot >= PCI_NR_SLOTS || p->slots[slot]) {
		snprintf(err, errlen, "wisp: %s: PCI slot %d is %s", d->name, slot,
			 slot >= PCI_NR_SLOTS ? "out of range (1..31)" : "taken");
		return slot >= PCI_NR_SLOTS ? -EINVAL : -EBUSY;
	}
	/* Largest first would pack better; wisp's devices have one BAR each. */
	for (int i = 0; i < PCI_NR_BARS; i++) {
		uint64_t size = d->bar[i].size, a = (p->next32 + size - 1) & ~(size - 1);

		if (!size)
			continue;
		if (a + size > VIRT_PCI_MMIO32_BASE + (uint64_t)VIRT_PCI_MMIO32_SIZE) {
			snprintf(err, errlen, "wisp: %s: the 32-bit PCI window is full", d->name);
			return -ENOSPC;
		}
		p->next32 = a + size;
		pci_cfg_write(d, PCI_BAR0 + 4 * i,
			      (uint32_t)a | pci_cfg_read(d, PCI_BAR0 + 4 * i, 1), 4);
		if (d->bar[i].mem64)
			pci_cfg_write(d, PCI_BAR0 + 4 * (i + 1), (uint32_t)(a >> 32), 4);
	}
	pci_cfg_write(d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	pci_cfg_write(d, PCI_INTERRUPT_LINE, pci_intx_gsi(slot), 1);
	d->cfg_init = malloc(PCI_CFG_SIZE);
	if (!d->cfg_init) {
		snprintf(err, errlen, "wisp: out of memory");
		return -ENOMEM;
	}
	memcpy(d->cfg_init, d->cfg, PCI_CFG_SIZE);
	d->pci = p;
	d->slot = slot;
	p->slots[slot] = d;
	pthread_mutex_lock(&d->lock);
	update_bars(d);
	pthread_mutex_unlock(&d->lock);
	return slot;
}

static bool touches(uint32_t off, uint32_t len, uint32_t start, uint32_t end)
{
	return off < end && start < off + len;
}

void pci_ecam_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci *p = opaque;
	uint32_t reg = offset & 0xfff, fn = (offset >> 12) & 7, slot = (offset >> 15) & 31;
	struct pci_dev *d = offset < VIRT_PCI_ECAM_SIZE && fn == 0 ? p->slots[slot] : NULL;

	if (!d || reg + len > PCI_CFG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (!is_write) {
		if (d->cfg_access)
			d->cfg_access(d, reg, len, false);
		memcpy(data, &d->cfg[reg], len);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	uint16_t old_cmd = pci_cfg_read(d, PCI_COMMAND, 2);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *c = &d->cfg[reg + i];

		*c = (uint8_t)((*c & ~d->wmask[reg + i]) | (data[i] & d->wmask[reg + i]));
		*c &= (uint8_t) ~(data[i] & d->w1c[reg + i]);
	}
	if (touches(reg, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    touches(reg, len, PCI_BAR0, PCI_BAR0 + 4 * PCI_NR_BARS))
		update_bars(d);
	if ((old_cmd ^ pci_cfg_read(d, PCI_COMMAND, 2)) & PCI_COMMAND_INTX_DISABLE) {
		pthread_mutex_lock(&intx_lock);
		update_gsi(p, pci_intx_gsi(d->slot));
		pthread_mutex_unlock(&intx_lock);
	}
	msix_cfg_written(d, reg, len);
	if (d->cfg_access)
		d->cfg_access(d, reg, len, true);
	pthread_mutex_unlock(&d->lock);
}

static void window_io(struct pci *p, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_dev *hit = NULL;
	int bar = 0;
	uint64_t off = 0;

	pthread_rwlock_rdlock(&p->map_lock);
	for (int s = 0; s < PCI_NR_SLOTS && !hit; s++) {
		struct pci_dev *d = p->slots[s];

		for (int i = 0; d && i < PCI_NR_BARS; i++) {
			const struct pci_bar *b = &d->bar[i];

			if (b->mapped && addr >= b->mapped && addr - b->mapped < b->size &&
			    len <= b->size - (addr - b->mapped)) {
				hit = d, bar = i, off = addr - b->mapped;
				break;
			}
		}
	}
	pthread_rwlock_unlock(&p->map_lock);
	if (!hit) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&hit->lock);
	hit->bar[bar].fn(hit->bar[bar].opaque, off, data, len, is_write);
	pthread_mutex_unlock(&hit->lock);
}

void pci_window32_io(void *pci, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	window_io(pci, VIRT_PCI_MMIO32_BASE + offset, data, len, is_write);
}

void pci_window64_io(void *pci, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	window_io(pci, VIRT_PCI_MMIO64_BASE + offset, data, len, is_write);
}

void pci_reset(struct pci *p)
{
	for (int s = 1; s < PCI_NR_SLOTS; s++) {
		struct pci_dev *d = p->slots[s];

		if (!d)
			continue;
		pthread_mutex_lock(&d->lock);
		memcpy(d->cfg, d->cfg_init, PCI_CFG_SIZE);
		update_bars(d);
		if (d->reset)
			d->reset(d);
		pci_set_intx(d, 0);
		pthread_mutex_unlock(&d->lock);
	}
}
