/* Guest program: MSI-X and INTx of a virtio device (virtio-rng: a queue completion is the
 * interrupt source). A vector routed to the boot CPU's LAPIC arrives once per completion; a
 * masked vector does not, its PBA bit is set instead, and unmasking delivers it; the function
 * mask does the same for the whole function; re-routing changes the vector. With MSI-X off the
 * device raises INTx: the LAPIC TPR is raised so the IOAPIC's level interrupt waits in IRR,
 * which tells the GSI (under wisp it must be 16 + (slot + pin - 1) % 4), the ISR read drops
 * the line, and lowering TPR takes it once. INTx disable in the command register silences it.
 * Test body at CPL3; the library's CPL0 handler counts and EOIs every vector. */
#include "virtio.h"
#include "wisp-test.h"
#include <platform/virt.h>

#define VEC_CONFIG 0x50
#define VEC_QUEUE 0x51
#define VEC_QUEUE2 0x52
#define VEC_INTX_BASE 0x60 /* + GSI - 16 */
#define LAPIC_IRR 0x200
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))
#define QUIET_US 100000
#define TIMEOUT_US 5000000

static struct virtio_dev dev;
static struct vq q;
static unsigned cap;
static uint8_t buf[64];

static void ioapic_write(uint32_t reg, uint32_t val)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)VIRT_IOAPIC_BASE;

	io[IOAPIC_REGSEL / 4] = reg;
	io[IOAPIC_WINDOW / 4] = val;
}

/* One entropy request; waits for its completion by polling the used ring. */
static void request(void)
{
	struct vq_buf b = {buf, sizeof(buf), true};
	void *cookie;
	uint32_t len;

	if (vq_add(&q, &b, 1, buf, false) < 0)
		test_fail("queue full");
	vq_notify(&q);
	if (vq_wait(&q, &cookie, &len, TIMEOUT_US))
		test_fail("request did not complete (status %#x)", virtio_status(&dev));
}

/* Waits until vector vec has been taken want more times than base, or the timeout. */
static uint64_t wait_count(unsigned vec, uint64_t base, uint64_t want, uint64_t us)
{
	uint64_t start = time_us();

	while (irq_count(vec) - base < want && time_us() - start < us)
		__asm__ volatile("pause");
	return irq_count(vec) - base;
}

static bool pba_bit(unsigned n)
{
	return (pci_msix_pba(&dev.pci, cap)[n / 64] >> (n % 64)) & 1;
}

static void check_msix(void)
{
	uint64_t base;

	/* Routed and unmasked: one interrupt per completion. */
	for (unsigned i = 0; i < 3; i++) {
		base = irq_count(VEC_QUEUE);
		request();
		if (wait_count(VEC_QUEUE, base, 1, TIMEOUT_US) != 1)
			test_fail("completion %u: %lu interrupts on vector %#x, want 1", i,
				  irq_count(VEC_QUEUE) - base, VEC_QUEUE);
	}
	TEST_ASSERT(irq_count(VEC_CONFIG) == 0);
	printf("msix: 3 completions, 3 interrupts on vector %#x\n", VEC_QUEUE);

	/* Masked entry: nothing arrives, the PBA says pending; unmasking delivers. */
	pci_msix_mask(&dev.pci, cap, 1, true);
	base = irq_count(VEC_QUEUE);
	request();
	if (wait_count(VEC_QUEUE, base, 1, QUIET_US))
		test_fail("masked vector delivered");
	if (!pba_bit(1))
		test_fail("masked vector: PBA bit 1 not set (PBA %#lx)",
			  pci_msix_pba(&dev.pci, cap)[0]);
	pci_msix_mask(&dev.pci, cap, 1, false);
	if (wait_count(VEC_QUEUE, base, 1, TIMEOUT_US) != 1)
		test_fail("unmasking a pending vector delivered %lu interrupts, want 1",
			  irq_count(VEC_QUEUE) - base);
	if (pba_bit(1))
		test_fail("PBA bit 1 still set after delivery");
	printf("msix: masked vector pends in the PBA and arrives on unmask\n");

	/* Function mask: same, for every entry at once. */
	pci_msix_control(&dev.pci, cap, true, true);
	base = irq_count(VEC_QUEUE);
	request();
	if (wait_count(VEC_QUEUE, base, 1, QUIET_US))
		test_fail("vector delivered under the function mask");
	if (!pba_bit(1))
		test_fail("function mask: PBA bit 1 not set");
	pci_msix_control(&dev.pci, cap, true, false);
	if (wait_count(VEC_QUEUE, base, 1, TIMEOUT_US) != 1)
		test_fail("clearing the function mask delivered %lu interrupts, want 1",
			  irq_count(VEC_QUEUE) - base);
	printf("msix: function mask holds the interrupt until cleared\n");

	/* Re-route entry 1 to another vector. */
	pci_msix_route(&dev.pci, cap, 1, lapic_id(), VEC_QUEUE2, false);
	base = irq_count(VEC_QUEUE2);
	uint64_t old = irq_count(VEC_QUEUE);
	request();
	if (wait_count(VEC_QUEUE2, base, 1, TIMEOUT_US) != 1 || irq_count(VEC_QUEUE) != old)
		test_fail("re-routed entry: %lu on %#x, %lu on %#x", irq_count(VEC_QUEUE2) - base,
			  VEC_QUEUE2, irq_count(VEC_QUEUE) - old, VEC_QUEUE);
	printf("msix: re-routed entry arrives on vector %#x\n", VEC_QUEUE2);
}

/* The INTx vector pending in the LAPIC's IRR, or -1 (several: -2). */
static int pending_intx(void)
{
	int found = -1;

	for (unsigned gsi = 16; gsi < 24; gsi++) {
		unsigned vec = VEC_INTX_BASE + gsi - 16;

		if (lapic_read(LAPIC_IRR + 0x10 * (vec / 32)) & (1u << (vec % 32)))
			found = found == -1 ? (int)gsi : -2;
	}
	return found;
}

static void check_intx(void)
{
	uint8_t pin = pci_read8(&dev.pci, PCI_INTERRUPT_PIN);
	uint16_t cmd = pci_read16(&dev.pci, PCI_COMMAND);
	uint64_t counts[8];

	if (pin < 1 || pin > 4)
		test_fail("interrupt pin register is %u", pin);
	/* Level, active low (as ACPI _PRT GSIs are), fixed, physical, to this CPU. */
	for (unsigned gsi = 16; gsi < 24; gsi++) {
		ioapic_write(IOAPIC_REDTBL(gsi) + 1, lapic_id() << 24);
		ioapic_write(IOAPIC_REDTBL(gsi),
			     (1u << 15) | (1u << 13) | (VEC_INTX_BASE + gsi - 16));
		counts[gsi - 16] = irq_count(VEC_INTX_BASE + gsi - 16);
	}
	pci_msix_control(&dev.pci, cap, false, false);
	pci_write16(&dev.pci, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	virtio_isr(&dev); /* clear anything stale */

	lapic_write(LAPIC_TPR, 0xf0); /* hold every vector in IRR */
	request();
	uint64_t start = time_us();
	int gsi;
	while ((gsi = pending_intx()) == -1 && time_us() - start < TIMEOUT_US)
		__asm__ volatile("pause");
	uint16_t status = pci_read16(&dev.pci, PCI_STATUS);
	uint8_t isr = virtio_isr(&dev); /* reading drops the line */
	lapic_write(LAPIC_TPR, 0);
	if (gsi < 0) {
		lapic_write(LAPIC_TPR, 0);
		test_fail("MSI-X off: %s INTx arrived (ISR %#x, PCI status %#x)",
			  gsi == -1 ? "no" : "more than one", isr, status);
	}
	printf("msix: MSI-X off: INTx pin %c of slot %u arrived on GSI %d (ISR %#x, status %#x)\n",
	       'A' + pin - 1, dev.pci.slot, gsi, isr, status);
	if (!(isr & 1))
		test_fail("INTx: ISR %#x lacks the queue bit", isr);
	if (!(status & PCI_STATUS_INTERRUPT))
		test_fail("INTx: PCI status %#x lacks the interrupt bit", status);
	if (pci_read16(&dev.pci, PCI_STATUS) & PCI_STATUS_INTERRUPT)
		test_fail("INTx: PCI status interrupt bit stays set after the ISR read");
	if (cmdline_has("vmm=wisp") &&
	    gsi != (int)(VIRT_GSI_PCI_INTA + (dev.pci.slot + pin - 1) % 4))
		test_fail("INTx of slot %u pin %u on GSI %d, want %d", dev.pci.slot, pin, gsi,
			  VIRT_GSI_PCI_INTA + (dev.pci.slot + pin - 1) % 4);
	unsigned v = VEC_INTX_BASE + (unsigned)gsi - 16;
	if (wait_count(v, counts[gsi - 16], 1, TIMEOUT_US) != 1)
		test_fail("INTx taken %lu times once TPR was lowered, want 1",
			  irq_count(v) - counts[gsi - 16]);
	delay_us(QUIET_US);
	if (irq_count(v) - counts[gsi - 16] != 1)
		test_fail("INTx taken %lu times after the ISR read, want 1",
			  irq_count(v) - counts[gsi - 16]);

	/* INTx disabled in the command register: the device must not raise the line. */
	pci_write16(&dev.pci, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
	request();
	delay_us(QUIET_US);
	isr = virtio_isr(&dev);
	if (irq_count(v) - counts[gsi - 16] != 1)
		test_fail("INTx delivered with INTx disabled");
	printf("msix: INTx disable silences the line (ISR was %#x)\n", isr);
	pci_write16(&dev.pci, PCI_COMMAND, cmd);

	/* MSI-X back on: interrupts come as messages again, never as INTx. */
	pci_msix_control(&dev.pci, cap, true, false);
	pci_msix_route(&dev.pci, cap, 1, lapic_id(), VEC_QUEUE, false);
	uint64_t base = irq_count(VEC_QUEUE);
	request();
	if (wait_count(VEC_QUEUE, base, 1, TIMEOUT_US) != 1)
		test_fail("MSI-X re-enabled: no interrupt");
	delay_us(QUIET_US);
	if (irq_count(v) - counts[gsi - 16] != 1)
		test_fail("INTx delivered while MSI-X was enabled");
	for (unsigned g = 16; g < 24; g++)
		ioapic_write(IOAPIC_REDTBL(g), 1u << 16);
	printf("msix: MSI-X back on, no INTx\n");
}

WISP_TEST("msix")
{
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	if (virtio_find(&dev, VIRTIO_ID_RNG, 0))
		test_fail("no virtio-rng device");
	cap = dev.msix_cap;
	if (!cap)
		test_fail("no MSI-X capability");
	unsigned n = pci_msix_size(&dev.pci, cap);
	printf("msix: %02x.%x has %u MSI-X entries\n", dev.pci.slot, dev.pci.fn, n);
	if (n < 2)
		test_fail("%u MSI-X entries: need 2", n);
	for (unsigned i = 0; i < n; i++)
		if (!(pci_msix_entry(&dev.pci, cap, i)[PCI_MSIX_ENTRY_CTRL / 4] &
		      PCI_MSIX_ENTRY_MASKED))
			test_fail("MSI-X entry %u is not masked at reset", i);
	pci_msix_route(&dev.pci, cap, 0, lapic_id(), VEC_CONFIG, false);
	pci_msix_route(&dev.pci, cap, 1, lapic_id(), VEC_QUEUE, false);
	pci_msix_control(&dev.pci, cap, true, false);

	if (virtio_negotiate(&dev, 0))
		test_fail("feature negotiation failed");
	virtio_common_write16(&dev, VIRTIO_COMMON_MSIX, 0);
	if (virtio_common16(&dev, VIRTIO_COMMON_MSIX) != 0)
		test_fail("config vector 0 refused");
	if (vq_init(&q, &dev, 0, 0, 1))
		test_fail("queue setup with MSI-X vector 1 failed");
	virtio_driver_ok(&dev);

	check_msix();
	check_intx();
	pci_msix_control(&dev.pci, cap, false, false);
	if (virtio_reset(&dev))
		test_fail("device does not reset");
	return 0;
}
