/* PCI Express through ECAM for guest programs: MCFG lookup, config accessors, BAR sizing and
 * placement, capability walk. Runs at CPL3; every access is plain MMIO. */
#include "pci.h"
#include "wisp-test.h"
#include <platform/virt.h>

#define LOW_4G 0x100000000ull
#define MCFG_ENTRIES 44 /* header + 8 reserved bytes */
#define MCFG_ENTRY_SIZE 16

static uint64_t ecam_base;
static unsigned bus_start, bus_end;
static bool have_ecam;

int pci_init(void)
{
	const struct acpi_header *mcfg;

	if (have_ecam)
		return 0;
	mcfg = acpi_find_table("MCFG", 0);
	if (!mcfg) {
		printf("pci: no MCFG table\n");
		return -1;
	}
	if (acpi_sum(mcfg, mcfg->length)) {
		printf("pci: MCFG checksum is wrong\n");
		return -1;
	}
	for (uint32_t off = MCFG_ENTRIES; off + MCFG_ENTRY_SIZE <= mcfg->length;
	     off += MCFG_ENTRY_SIZE) {
		const uint8_t *e = (const uint8_t *)mcfg + off;
		uint64_t base;
		uint16_t segment;

		memcpy(&base, e, 8);
		memcpy(&segment, e + 8, 2);
		if (segment != 0 || e[10] > 0 || e[11] < e[10])
			continue;
		if (base >= LOW_4G || base + ((uint64_t)(e[11] + 1) << 20) > LOW_4G) {
			printf("pci: ECAM at %#lx is above 4 GiB: not mapped\n", base);
			continue;
		}
		ecam_base = base;
		bus_start = e[10];
		bus_end = e[11];
		have_ecam = true;
		return 0;
	}
	printf("pci: MCFG has no entry for segment 0 bus 0\n");
	return -1;
}

uint64_t pci_ecam_base(void)
{
	return ecam_base;
}

unsigned pci_bus_end(void)
{
	return bus_end;
}

volatile uint8_t *pci_cfg_addr(unsigned bus, unsigned slot, unsigned fn)
{
	return (volatile uint8_t *)(uintptr_t)(ecam_base + ((uint64_t)bus << 20) +
					       ((uint64_t)(slot & 31) << 15) +
					       ((uint64_t)(fn & 7) << 12));
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	return d->cfg[off & 0xfff];
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	return *(volatile uint16_t *)(d->cfg + (off & 0xffe));
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->cfg + (off & 0xffc));
}

void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v)
{
	d->cfg[off & 0xfff] = v;
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(d->cfg + (off & 0xffe)) = v;
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->cfg + (off & 0xffc)) = v;
}

bool pci_probe(struct pci_dev *d, unsigned bus, unsigned slot, unsigned fn)
{
	uint32_t id;

	d->bus = (uint8_t)bus;
	d->slot = (uint8_t)slot;
	d->fn = (uint8_t)fn;
	d->cfg = pci_cfg_addr(bus, slot, fn);
	id = pci_read32(d, PCI_VENDOR_ID);
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class = pci_read32(d, PCI_REVISION) >> 8;
	d->header_type = pci_read8(d, PCI_HEADER_TYPE);
	return true;
}

int pci_find(struct pci_dev *d, uint16_t vendor, uint16_t device, unsigned index)
{
	if (pci_init())
		return -1;
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			if (!pci_probe(d, bus_start, slot, fn)) {
				if (fn == 0)
					break;
				continue;
			}
			if (d->vendor == vendor && (device == 0xffff || d->device == device) &&
			    index-- == 0)
				return 0;
			if (fn == 0 && !(d->header_type & 0x80))
				break;
		}
	}
	return -1;
}

void pci_bar_probe(const struct pci_dev *d, unsigned n, struct pci_bar *bar)
{
	unsigned off = PCI_BAR0 + 4 * n;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	uint32_t lo = pci_read32(d, off), hi = 0, mask_lo, mask_hi = 0xffffffff;

	memset(bar, 0, sizeof(*bar));
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	pci_write32(d, off, 0xffffffff);
	mask_lo = pci_read32(d, off);
	pci_write32(d, off, lo);
	bar->io = lo & PCI_BAR_IO;
	if (!bar->io && (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_64 && n + 1 < PCI_NUM_BARS) {
		bar->is64 = true;
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, 0xffffffff);
		mask_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);
	if (bar->io) {
		uint32_t m = mask_lo & ~3u;

		bar->addr = lo & ~3u;
		bar->size = m ? (uint64_t)(~m & 0xffff) + 1 : 0;
		return;
	}
	bar->prefetch = lo & PCI_BAR_PREFETCH;
	uint64_t mask = ((uint64_t)mask_hi << 32) | (mask_lo & ~0xfu);
	if (!bar->is64)
		mask |= 0xffffffff00000000ull;
	bar->addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
	bar->size = (mask_lo & ~0xfu) || (bar->is64 && mask_hi) ? ~mask + 1 : 0;
}

void pci_bar_set(const struct pci_dev *d, unsigned n, uint64_t addr)
{
	unsigned off = PCI_BAR0 + 4 * n;
	uint32_t lo = pci_read32(d, off);

	pci_write32(d, off, (uint32_t)addr | (lo & 0xf));
	if ((lo & (PCI_BAR_IO | PCI_BAR_MEM_TYPE_MASK)) == PCI_BAR_MEM_64 && n + 1 < PCI_NUM_BARS)
		pci_write32(d, off + 4, (uint32_t)(addr >> 32));
}

uint64_t pci_bar_addr(const struct pci_dev *d, unsigned n)
{
	unsigned off = PCI_BAR0 + 4 * n;
	uint32_t lo = pci_read32(d, off);
	uint64_t a = lo & ~0xfu;

	if (lo & PCI_BAR_IO)
		return 0;
	if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_64 && n + 1 < PCI_NUM_BARS)
		a |= (uint64_t)pci_read32(d, off + 4) << 32;
	return a;
}

uint64_t pci_window_base(void)
{
	return (uint64_t)cmdline_int("pci_mmio32", VIRT_PCI_MMIO32_BASE);
}

uint64_t pci_window_size(void)
{
	return (uint64_t)cmdline_int("pci_mmio32_size", VIRT_PCI_MMIO32_SIZE);
}

static uint64_t alloc_next, alloc_end;

/* The allocator starts above every memory BAR that already sits in the window. */
static void alloc_start(void)
{
	struct pci_dev d;
	struct pci_bar bar;

	alloc_next = pci_window_base();
	alloc_end = alloc_next + pci_window_size();
	if (pci_init())
		return;
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			if (!pci_probe(&d, bus_start, slot, fn))
				continue;
			for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
				pci_bar_probe(&d, n, &bar);
				if (bar.size && !bar.io && bar.addr >= alloc_next &&
				    bar.addr < alloc_end && bar.addr + bar.size > alloc_next)
					alloc_next = bar.addr + bar.size;
				if (bar.is64)
					n++;
			}
		}
	}
}

uint64_t pci_alloc(uint64_t size)
{
	uint64_t a;

	if (!alloc_end)
		alloc_start();
	if (size < 4096)
		size = 4096;
	a = (alloc_next + size - 1) & ~(size - 1);
	if (a + size > alloc_end || a + size < a)
		return 0;
	alloc_next = a + size;
	return a;
}

int pci_setup(const struct pci_dev *d)
{
	struct pci_bar bar;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		pci_bar_probe(d, n, &bar);
		if (bar.size && !bar.io && !bar.addr) {
			uint64_t a = pci_alloc(bar.size);

			if (!a) {
				printf("pci: %02x.%x BAR%u: no room for %#lx bytes\n", d->slot,
				       d->fn, n, bar.size);
				return -1;
			}
			pci_bar_set(d, n, a);
		}
		if (bar.is64)
			n++;
	}
	pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return 0;
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after)
{
	unsigned off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CAP_PTR);
	for (int hops = 0; hops < 48 && off >= 0x40; hops++) {
		off &= 0xfc;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

unsigned pci_msix_size(const struct pci_dev *d, unsigned cap)
{
	return (pci_read16(d, cap + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_SIZE) + 1u;
}

/* Address of the structure a table/PBA offset register points at. */
static uint64_t msix_struct(const struct pci_dev *d, unsigned reg)
{
	uint32_t v = pci_read32(d, reg);
	uint64_t bar = (v & 7) < PCI_NUM_BARS ? pci_bar_addr(d, v & 7) : 0;

	return bar ? bar + (v & ~7u) : 0;
}

volatile uint32_t *pci_msix_entry(const struct pci_dev *d, unsigned cap, unsigned n)
{
	uint64_t t = msix_struct(d, cap + PCI_MSIX_TABLE);

	return t ? (volatile uint32_t *)(uintptr_t)(t + PCI_MSIX_ENTRY_SIZE * n) : NULL;
}

volatile uint64_t *pci_msix_pba(const struct pci_dev *d, unsigned cap)
{
	return (volatile uint64_t *)(uintptr_t)msix_struct(d, cap + PCI_MSIX_PBA);
}

void pci_msix_mask(const struct pci_dev *d, unsigned cap, unsigned n, bool masked)
{
	volatile uint32_t *e = pci_msix_entry(d, cap, n);
	uint32_t ctl = e[PCI_MSIX_ENTRY_CTRL / 4];

	e[PCI_MSIX_ENTRY_CTRL / 4] =
		masked ? ctl | PCI_MSIX_ENTRY_MASKED : ctl & ~(uint32_t)PCI_MSIX_ENTRY_MASKED;
}

void pci_msix_route(const struct pci_dev *d, unsigned cap, unsigned n, uint32_t apic_id,
		    uint8_t vec, bool masked)
{
	volatile uint32_t *e = pci_msix_entry(d, cap, n);

	pci_msix_mask(d, cap, n, true);
	e[PCI_MSIX_ENTRY_ADDR_LO / 4] = 0xfee00000u | (apic_id & 0xff) << 12;
	e[PCI_MSIX_ENTRY_ADDR_HI / 4] = 0;
	e[PCI_MSIX_ENTRY_DATA / 4] = vec;
	if (!masked)
		pci_msix_mask(d, cap, n, false);
}

void pci_msix_control(const struct pci_dev *d, unsigned cap, bool enable, bool function_mask)
{
	uint16_t c = pci_read16(d, cap + PCI_MSIX_CTRL) &
		     (uint16_t) ~(PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);

	if (enable)
		c |= PCI_MSIX_CTRL_ENABLE;
	if (function_mask)
		c |= PCI_MSIX_CTRL_MASKALL;
	pci_write16(d, cap + PCI_MSIX_CTRL, c);
}
