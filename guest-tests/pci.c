/* Guest program: the PCIe host bridge through ECAM. MCFG lookup, bus-0 enumeration (IDs,
 * class, header type), config access sizes, absent functions reading all-ones, BAR sizing of
 * every memory BAR, capability lists (virtio vendor caps and MSI-X on virtio devices), memory
 * decode on/off, and moving a virtio device's BAR to a free address and using it there.
 * Cmdline: min_virtio=N (virtio devices that must be present, default 1); vmm=wisp (set by
 * run-guest) adds wisp's platform facts: ECAM base, bus 0 only, host bridge IDs, all-ones
 * from disabled BARs. */
#include "pci.h"
#include "virtio.h"
#include "wisp-test.h"
#include <platform/virt.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("pci: FAIL: " __VA_ARGS__);                                         \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* "vmm=wisp" as a whole word on the command line. */
static bool under_wisp(void)
{
	return cmdline_has("vmm=wisp");
}

static void check_host_bridge(void)
{
	struct pci_dev d;

	if (!pci_probe(&d, 0, 0, 0)) {
		CHECK(false, "nothing at 00.0 (the host bridge)");
		return;
	}
	printf("pci: 00.0 host bridge %04x:%04x class %06x header %#x\n", d.vendor, d.device,
	       d.class, d.header_type);
	CHECK((d.class >> 8) == 0x0600, "00.0 class %06x, want 0600xx (host bridge)", d.class);
	CHECK((d.header_type & 0x7f) == 0, "00.0 header type %#x, want 0", d.header_type);
	if (under_wisp())
		CHECK(d.vendor == VIRT_PCI_HOST_VENDOR && d.device == VIRT_PCI_HOST_DEVICE,
		      "00.0 is %04x:%04x, want %04x:%04x", d.vendor, d.device, VIRT_PCI_HOST_VENDOR,
		      VIRT_PCI_HOST_DEVICE);
}

/* Every width of read agrees on an absent function: all-ones; writes there are dropped. */
static void check_absent(unsigned bus, unsigned slot, unsigned fn)
{
	volatile uint8_t *c = pci_cfg_addr(bus, slot, fn);
	static const unsigned offs[] = {0x00, 0x04, 0x08, 0x0c, 0x10, 0x2c, 0x34, 0x3c, 0x100};
	bool ok = true;

	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		unsigned o = offs[i];

		ok &= *(volatile uint32_t *)(c + o) == 0xffffffff;
		ok &= *(volatile uint16_t *)(c + o + 2) == 0xffff;
		ok &= c[o + 1] == 0xff;
	}
	*(volatile uint32_t *)(c + 0x04) = 0x7;
	*(volatile uint32_t *)(c + 0x10) = 0x12340000;
	ok &= *(volatile uint32_t *)(c + 0x04) == 0xffffffff;
	ok &= *(volatile uint32_t *)(c + 0x10) == 0xffffffff;
	CHECK(ok, "absent function %02x:%02x.%x does not read all-ones everywhere", bus, slot, fn);
}

/* 1-, 2- and 4-byte reads agree; 1- and 2-byte writes touch only their bytes. */
static void check_access_sizes(const struct pci_dev *d)
{
	uint32_t id = pci_read32(d, 0);

	CHECK(pci_read16(d, 0) == (id & 0xffff) && pci_read16(d, 2) == id >> 16,
	      "%02x.%x: 16-bit ID reads disagree with %08x", d->slot, d->fn, id);
	for (unsigned i = 0; i < 4; i++)
		CHECK(pci_read8(d, i) == ((id >> (8 * i)) & 0xff),
		      "%02x.%x: byte %u of the IDs reads %#x, dword %08x", d->slot, d->fn, i,
		      pci_read8(d, i), id);
	/* Interrupt line (0x3c) is read-write, interrupt pin (0x3d) read-only. */
	uint32_t old = pci_read32(d, 0x3c);
	pci_write8(d, PCI_INTERRUPT_LINE, 0xa5);
	uint32_t now = pci_read32(d, 0x3c);
	CHECK(now == ((old & ~0xffu) | 0xa5), "%02x.%x: byte write of 0xa5 to 0x3c: %08x -> %08x",
	      d->slot, d->fn, old, now);
	pci_write16(d, PCI_INTERRUPT_LINE, 0x005a); /* also writes the read-only pin byte */
	now = pci_read32(d, 0x3c);
	CHECK(now == ((old & ~0xffffu) | (old & 0xff00) | 0x5a),
	      "%02x.%x: word write 0x005a to 0x3c: %08x -> %08x (pin must stay)", d->slot, d->fn,
	      old, now);
	pci_write8(d, PCI_INTERRUPT_LINE, (uint8_t)old);
	/* Read-only IDs ignore writes of every size. */
	pci_write32(d, 0, 0);
	pci_write16(d, 2, 0x1234);
	pci_write8(d, 0, 0x55);
	CHECK(pci_read32(d, 0) == id, "%02x.%x: IDs changed by writes: %08x -> %08x", d->slot,
	      d->fn, id, pci_read32(d, 0));
}

/* Sizes every BAR; memory BARs must be a power of two, naturally aligned, restored. */
static void check_bars(const struct pci_dev *d, unsigned *n32, unsigned *n64)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		struct pci_bar b;
		uint32_t before = pci_read32(d, PCI_BAR0 + 4 * n);
		uint32_t before_hi = n + 1 < PCI_NUM_BARS ? pci_read32(d, PCI_BAR0 + 4 * n + 4) : 0;

		pci_bar_probe(d, n, &b);
		CHECK(pci_read32(d, PCI_BAR0 + 4 * n) == before &&
			      (n + 1 >= PCI_NUM_BARS ||
			       pci_read32(d, PCI_BAR0 + 4 * n + 4) == before_hi),
		      "%02x.%x BAR%u not restored after sizing", d->slot, d->fn, n);
		if (b.size) {
			printf("pci: %02x.%x BAR%u %s%s%s at %#lx size %#lx\n", d->slot, d->fn, n,
			       b.io ? "io" : "mem",
			       b.is64 ? "64"
			       : b.io ? ""
				      : "32",
			       b.prefetch ? " prefetchable" : "", b.addr, b.size);
			CHECK(!(b.size & (b.size - 1)), "%02x.%x BAR%u size %#lx not a power of 2",
			      d->slot, d->fn, n, b.size);
			CHECK(!(b.addr & (b.size - 1)), "%02x.%x BAR%u at %#lx not aligned to %#lx",
			      d->slot, d->fn, n, b.addr, b.size);
			if (!b.io) {
				CHECK(b.size >= 16, "%02x.%x BAR%u: memory BAR of %#lx bytes",
				      d->slot, d->fn, n, b.size);
				*(b.is64 ? n64 : n32) += 1;
			}
		}
		if (b.is64)
			n++;
	}
}

/* Walks the list: in 0x40..0xff, terminates, no loops. Returns the number of capabilities. */
static unsigned check_cap_list(const struct pci_dev *d)
{
	uint8_t seen[256] = {0};
	unsigned n = 0, off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = pci_read8(d, PCI_CAP_PTR);
	while (off) {
		CHECK(off >= 0x40 && off <= 0xfc && !(off & 3),
		      "%02x.%x: capability pointer %#x out of place", d->slot, d->fn, off);
		if (off < 0x40 || off > 0xfc || seen[off]) {
			CHECK(!seen[off], "%02x.%x: capability list loops at %#x", d->slot, d->fn,
			      off);
			break;
		}
		seen[off] = 1;
		n++;
		printf("pci: %02x.%x cap %#04x id %#04x\n", d->slot, d->fn, off, pci_read8(d, off));
		off = pci_read8(d, off + 1) & 0xfc;
	}
	return n;
}

/* Virtio: vendor caps for common/notify/ISR/device config, inside implemented memory BARs,
 * and an MSI-X capability whose table and PBA lie inside a BAR. */
static void check_virtio_caps(const struct pci_dev *d)
{
	unsigned cap = 0, types = 0;

	CHECK(pci_read8(d, PCI_REVISION) >= 1, "%02x.%x: modern virtio device with revision 0",
	      d->slot, d->fn);
	while ((cap = pci_find_cap(d, PCI_CAP_ID_VNDR, cap))) {
		uint8_t len = pci_read8(d, cap + 2), type = pci_read8(d, cap + 3);
		uint8_t bar = pci_read8(d, cap + 4);
		uint32_t off = pci_read32(d, cap + 8), size = pci_read32(d, cap + 12);
		struct pci_bar b;

		CHECK(len >= 16, "%02x.%x: virtio cap at %#x has length %u", d->slot, d->fn, cap,
		      len);
		if (type == VIRTIO_PCI_CAP_PCI_CFG || type > VIRTIO_PCI_CAP_PCI_CFG)
			continue;
		types |= 1u << type;
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			CHECK(len >= 20, "%02x.%x: notify cap of %u bytes", d->slot, d->fn, len);
		if (bar >= PCI_NUM_BARS) {
			CHECK(false, "%02x.%x: virtio cap type %u names BAR %u", d->slot, d->fn,
			      type, bar);
			continue;
		}
		pci_bar_probe(d, bar, &b);
		CHECK(b.size && !b.io && (uint64_t)off + size <= b.size,
		      "%02x.%x: virtio cap type %u: %#x+%#x outside BAR%u (%s, %#lx bytes)",
		      d->slot, d->fn, type, off, size, bar, b.io ? "io" : "mem", b.size);
	}
	for (unsigned t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_ISR_CFG; t++)
		CHECK(types & (1u << t), "%02x.%x: no virtio capability of type %u", d->slot, d->fn,
		      t);

	cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	CHECK(cap, "%02x.%x: virtio device without MSI-X", d->slot, d->fn);
	if (!cap)
		return;
	unsigned entries = pci_msix_size(d, cap);
	uint32_t table = pci_read32(d, cap + PCI_MSIX_TABLE),
		 pba = pci_read32(d, cap + PCI_MSIX_PBA);
	struct pci_bar tb, pb;
	pci_bar_probe(d, table & 7, &tb);
	pci_bar_probe(d, pba & 7, &pb);
	printf("pci: %02x.%x MSI-X %u entries, table BAR%u+%#x, PBA BAR%u+%#x\n", d->slot, d->fn,
	       entries, table & 7, table & ~7u, pba & 7, pba & ~7u);
	CHECK(tb.size && (table & ~7u) + 16ull * entries <= tb.size,
	      "%02x.%x: MSI-X table outside its BAR", d->slot, d->fn);
	CHECK(pb.size && (pba & ~7u) + 8ull * ((entries + 63) / 64) <= pb.size,
	      "%02x.%x: MSI-X PBA outside its BAR", d->slot, d->fn);
	CHECK(!(pci_read16(d, cap + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_ENABLE),
	      "%02x.%x: MSI-X enabled before any driver touched it", d->slot, d->fn);
}

/* With memory decode off the BARs vanish (all-ones under wisp); back on, they answer. */
static void check_decode(struct virtio_dev *v)
{
	const struct pci_dev *d = &v->pci;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	virtio_common_write32(v, VIRTIO_COMMON_DFSELECT, 1);
	uint32_t on = virtio_common32(v, VIRTIO_COMMON_DFSELECT);
	uint16_t nq = virtio_common16(v, VIRTIO_COMMON_NUMQ);
	CHECK(on == 1 && nq && nq != 0xffff, "%02x.%x: decode on: feature select %#x, %u queues",
	      d->slot, d->fn, on, nq);

	pci_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	uint32_t off = virtio_common32(v, VIRTIO_COMMON_DFSELECT);
	virtio_common_write32(v, VIRTIO_COMMON_DFSELECT, 0); /* must go nowhere */
	if (under_wisp())
		CHECK(off == 0xffffffff, "%02x.%x: decode off: BAR still reads %#x", d->slot, d->fn,
		      off);
	else
		CHECK(off != 1, "%02x.%x: decode off: BAR still answers (%#x)", d->slot, d->fn,
		      off);
	pci_write16(d, PCI_COMMAND, cmd);
	CHECK(virtio_common32(v, VIRTIO_COMMON_DFSELECT) == 1,
	      "%02x.%x: decode back on: feature select %#x, want 1 (a write leaked through)",
	      d->slot, d->fn, virtio_common32(v, VIRTIO_COMMON_DFSELECT));
}

/* Moves the BAR with the common configuration to fresh space and drives the device there. */
static void check_bar_move(struct virtio_dev *v)
{
	const struct pci_dev *d = &v->pci;
	unsigned cap = 0, bar = PCI_NUM_BARS;
	struct pci_bar b;

	while ((cap = pci_find_cap(d, PCI_CAP_ID_VNDR, cap)))
		if (pci_read8(d, cap + 3) == VIRTIO_PCI_CAP_COMMON_CFG) {
			bar = pci_read8(d, cap + 4);
			break;
		}
	if (bar >= PCI_NUM_BARS)
		return; /* reported by check_virtio_caps */
	pci_bar_probe(d, bar, &b);
	uint64_t to = pci_alloc(b.size);
	CHECK(to, "no free space for a %#lx-byte BAR in the window", b.size);
	if (!to)
		return;
	volatile uint32_t *old_common = (volatile uint32_t *)v->common;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_bar_set(d, bar, to);
	pci_write16(d, PCI_COMMAND, cmd);
	CHECK(pci_bar_addr(d, bar) == to, "%02x.%x BAR%u: wrote %#lx, reads %#lx", d->slot, d->fn,
	      bar, to, pci_bar_addr(d, bar));
	printf("pci: %02x.%x BAR%u moved %#lx -> %#lx\n", d->slot, d->fn, bar, b.addr, to);
	CHECK(!virtio_map(v), "%02x.%x: capabilities unusable after the move", d->slot, d->fn);
	CHECK((uintptr_t)v->common >= to && (uintptr_t)v->common < to + b.size,
	      "common config at %p, not in the moved BAR", (void *)v->common);
	uint32_t stale = *old_common;
	if (under_wisp())
		CHECK(stale == 0xffffffff, "old BAR address still reads %#x", stale);
	/* The device works at the new address: a full negotiation and queue setup. */
	CHECK(!virtio_negotiate(v, 0), "%02x.%x: negotiation at the moved BAR failed", d->slot,
	      d->fn);
	struct vq q;
	CHECK(!vq_init(&q, v, 0, 0, VIRTIO_MSI_NO_VECTOR), "queue 0 setup at the moved BAR");
	virtio_driver_ok(v);
	CHECK(virtio_status(v) == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
	      "status %#x after DRIVER_OK at the moved BAR", virtio_status(v));
	CHECK(!virtio_reset(v), "reset at the moved BAR");
}

WISP_TEST("pci")
{
	unsigned devices = 0, virtio = 0, n32 = 0, n64 = 0, absent = 0;
	struct virtio_dev first;
	bool have_first = false;

	if (pci_init())
		test_fail("no ECAM (MCFG)");
	printf("pci: ECAM at %#lx, buses 0-%u\n", pci_ecam_base(), pci_bus_end());
	if (under_wisp())
		CHECK(pci_ecam_base() == VIRT_PCI_ECAM_BASE && pci_bus_end() == VIRT_PCI_BUS_MAX,
		      "MCFG: ECAM %#lx buses 0-%u, want %#x buses 0-%u", pci_ecam_base(),
		      pci_bus_end(), VIRT_PCI_ECAM_BASE, VIRT_PCI_BUS_MAX);
	check_host_bridge();

	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			struct pci_dev d;

			if (!pci_probe(&d, 0, slot, fn)) {
				if (absent < 12 || (slot == 31 && fn == 7)) {
					check_absent(0, slot, fn);
					absent++;
				}
				continue;
			}
			devices++;
			printf("pci: %02x.%x %04x:%04x class %06x rev %u header %#x\n", slot, fn,
			       d.vendor, d.device, d.class, pci_read8(&d, PCI_REVISION),
			       d.header_type);
			CHECK((d.header_type & 0x7f) <= 1, "%02x.%x: header type %#x", slot, fn,
			      d.header_type);
			check_access_sizes(&d);
			if ((d.header_type & 0x7f) == 0)
				check_bars(&d, &n32, &n64);
			check_cap_list(&d);
			if (d.vendor == VIRTIO_PCI_VENDOR && d.device >= 0x1040 &&
			    d.device <= 0x107f) {
				virtio++;
				check_virtio_caps(&d);
				if (!have_first && !virtio_open(&first, &d))
					have_first = true;
			}
			if (fn == 0 && !(d.header_type & 0x80)) {
				/* Single-function: functions 1-7 must be absent. */
				check_absent(0, slot, 1 + slot % 7);
				break;
			}
		}
	}
	/* Bus 1 is beyond the host bridge (and, under wisp, beyond ECAM): nothing there. */
	check_absent(1, 0, 0);
	printf("pci: %u functions, %u virtio, %u 32-bit and %u 64-bit memory BARs\n", devices,
	       virtio, n32, n64);
	CHECK(virtio >= (unsigned)cmdline_int("min_virtio", 1), "only %u virtio devices", virtio);
	CHECK(n32 + n64 > 0, "no memory BARs at all");
	if (have_first) {
		check_decode(&first);
		check_bar_move(&first);
	}
	if (failures)
		test_fail("%d check(s) failed", failures);
	return 0;
}
