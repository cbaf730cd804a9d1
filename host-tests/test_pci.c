/* Host tests for the PCIe host bridge and MSI-X: config space rules, BAR sizing,
 * moves and decoding, INTx sharing, the MSI-X table and PBA, and hostile config
 * traffic. No /dev/kvm: MSI delivery itself is left to the guest programs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irq.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "platform/virt.h"

#define ECAM(slot, reg) (((uint64_t)(slot) << 15) | (reg))

static int bar_hits;
static uint64_t bar_off;
static int gsi_level[VIRT_IOAPIC_PINS];
static int moves;
static uint64_t moved_to;

static void bar_fn(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	bar_hits++;
	bar_off = off;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void set_irq(void *opaque, unsigned int gsi, int level)
{
	gsi_level[gsi] = level;
}

static void on_move(struct pci_dev *d, int bar, uint64_t from, uint64_t to)
{
	moves++;
	moved_to = to;
}

static uint32_t rd(struct pci *p, int slot, uint32_t reg, uint32_t len)
{
	uint32_t v = 0;

	pci_ecam_io(p, ECAM(slot, reg), (uint8_t *)&v, len, false);
	return v;
}

static void wr(struct pci *p, int slot, uint32_t reg, uint32_t v, uint32_t len)
{
	pci_ecam_io(p, ECAM(slot, reg), (uint8_t *)&v, len, true);
}

static uint32_t mmio_rd(struct pci *p, uint64_t addr)
{
	uint32_t v = 0;

	pci_window32_io(p, addr - VIRT_PCI_MMIO32_BASE, (uint8_t *)&v, 4, false);
	return v;
}

struct fixture {
	struct pci p;
	struct pci_dev d, e;
	struct irq irq;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128];

	pci_init(&f->p, set_irq, NULL);
	pci_dev_init(&f->d, "dev", 0x1af4, 0x1042, 0x018000, 0x1af4, 0x40);
	assert_int_equal(pci_add_bar(&f->d, 0, 0x8000, true, bar_fn, NULL), 0);
	assert_int_equal(pci_add_bar(&f->d, 2, 0x1000, false, bar_fn, NULL), 0);
	f->d.bar_moved = on_move;
	f->irq.vm_fd = -1; /* no KVM: routes fail, which only matters for delivery */
	assert_int_equal(msix_init(&f->d, &f->irq, 3, 2, 0x0, 0x800), 0);
	assert_int_equal(pci_plug(&f->p, &f->d, -1, err, sizeof(err)), 1);
	pci_dev_init(&f->e, "other", 0x1af4, 0x1044, 0xff0000, 0x1af4, 0x40);
	assert_int_equal(pci_plug(&f->p, &f->e, 5, err, sizeof(err)), 5);
	memset(gsi_level, 0, sizeof(gsi_level));
	bar_hits = moves = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	msix_free(&f->d);
	free(f->d.cfg_init);
	free(f->e.cfg_init);
	free(f);
	return 0;
}

static void test_enumeration(void **state)
{
	struct fixture *f = *state;
	struct pci *p = &f->p;

	assert_int_equal(rd(p, 0, PCI_VENDOR_ID, 2), VIRT_PCI_HOST_VENDOR);
	assert_int_equal(rd(p, 0, PCI_DEVICE_ID, 2), VIRT_PCI_HOST_DEVICE);
	assert_int_equal(rd(p, 0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(rd(p, 1, 0, 4), 0x10421af4);
	assert_int_equal(rd(p, 1, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(rd(p, 1, PCI_INTERRUPT_LINE, 1), pci_intx_gsi(1));
	/* Empty slots, other functions, extended space of a device: all-ones / zero. */
	assert_int_equal(rd(p, 2, 0, 4), 0xffffffff);
	assert_int_equal(rd(p, 31, 0, 2), 0xffff);
	assert_int_equal(rd(p, 1, (1 << 12) | 0, 4), 0xffffffff);
	assert_int_equal(rd(p, 1, 0x100, 4), 0);
	/* Vendor and class are read-only. */
	wr(p, 1, 0, 0x12345678, 4);
	wr(p, 1, 0x08, 0xffffffff, 4);
	assert_int_equal(rd(p, 1, 0, 4), 0x10421af4);
	assert_int_equal(rd(p, 1, 0x08, 4) >> 8, 0x018000);
	/* The capability list is well formed and reaches MSI-X. */
	assert_true(rd(p, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	uint8_t cap = (uint8_t)rd(p, 1, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(rd(p, 1, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(rd(p, 1, cap + 1, 1), 0);
	assert_int_equal(rd(p, 1, cap + 2, 2) & 0x7ff, 2); /* 3 vectors */
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;
	struct pci *p = &f->p;
	uint32_t lo = rd(p, 1, PCI_BAR0, 4), hi = rd(p, 1, PCI_BAR0 + 4, 4);

	assert_int_equal(lo & 0xf, PCI_BAR_MEM64);
	assert_true(lo >= VIRT_PCI_MMIO32_BASE && hi == 0);
	wr(p, 1, PCI_BAR0, 0xffffffff, 4);
	wr(p, 1, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(rd(p, 1, PCI_BAR0, 4), (uint32_t)~0x7fffU | PCI_BAR_MEM64);
	assert_int_equal(rd(p, 1, PCI_BAR0 + 4, 4), 0xffffffff);
	assert_int_equal(rd(p, 1, PCI_BAR0 + 8, 4) & 0xf, 0); /* 32-bit BAR 2 */
	wr(p, 1, PCI_BAR0 + 8, 0xffffffff, 4);
	assert_int_equal(rd(p, 1, PCI_BAR0 + 8, 4), 0xfffff000);
	/* Unimplemented BARs read zero whatever is written. */
	wr(p, 1, PCI_BAR0 + 20, 0xffffffff, 4);
	assert_int_equal(rd(p, 1, PCI_BAR0 + 20, 4), 0);
	/* While sized, the BAR is outside the windows and decodes nothing. */
	assert_int_equal(f->d.bar[0].mapped, 0);
	wr(p, 1, PCI_BAR0, lo, 4);
	wr(p, 1, PCI_BAR0 + 4, hi, 4);
	assert_int_equal(f->d.bar[0].mapped, lo & ~0xfU);
}

static void test_bar_decode_and_move(void **state)
{
	struct fixture *f = *state;
	struct pci *p = &f->p;
	uint64_t a = f->d.bar[0].mapped, to = VIRT_PCI_MMIO32_BASE + 0x10000000;

	assert_int_equal(mmio_rd(p, a + 0x10), 0x5a5a5a5a);
	assert_int_equal(bar_off, 0x10);
	/* Memory decode off: nothing answers. */
	wr(p, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(mmio_rd(p, a + 0x10), 0xffffffff);
	assert_int_equal(moved_to, 0);
	wr(p, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	/* Move: the old address is dead, the new one answers at the same offsets. */
	moves = 0;
	wr(p, 1, PCI_BAR0, (uint32_t)to | PCI_BAR_MEM64, 4);
	assert_int_equal(moves, 1);
	assert_int_equal(moved_to, to);
	assert_int_equal(mmio_rd(p, a + 0x10), 0xffffffff);
	bar_hits = 0;
	assert_int_equal(mmio_rd(p, to + 0x24), 0x5a5a5a5a);
	assert_int_equal(bar_off, 0x24);
	/* An access straddling the BAR's end is nobody's. */
	assert_int_equal(mmio_rd(p, to + 0x7ffe), 0xffffffff);
	/* Into the 64-bit window. */
	wr(p, 1, PCI_BAR0, 0 | PCI_BAR_MEM64, 4);
	wr(p, 1, PCI_BAR0 + 4, (uint32_t)(VIRT_PCI_MMIO64_BASE >> 32), 4);
	assert_int_equal(f->d.bar[0].mapped, VIRT_PCI_MMIO64_BASE);
	uint32_t v = 0;
	pci_window64_io(p, 0x8, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 0x5a5a5a5a);
	/* Outside both windows (over RAM): not decoded. */
	wr(p, 1, PCI_BAR0 + 4, 0, 4);
	wr(p, 1, PCI_BAR0, 0x100000, 4);
	assert_int_equal(f->d.bar[0].mapped, 0);
	/* Machine reset puts everything back. */
	pci_reset(p);
	assert_int_equal(f->d.bar[0].mapped, a);
}

static void test_intx(void **state)
{
	struct fixture *f = *state;
	unsigned int g = pci_intx_gsi(1);

	/* Slot 5 shares slot 1's line: the line is the OR of both. */
	assert_int_equal(pci_intx_gsi(5), g);
	pci_set_intx(&f->d, 1);
	assert_int_equal(gsi_level[g], 1);
	assert_true(rd(&f->p, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&f->e, 1);
	pci_set_intx(&f->d, 0);
	assert_int_equal(gsi_level[g], 1);
	pci_set_intx(&f->e, 0);
	assert_int_equal(gsi_level[g], 0);
	/* INTX_DISABLE masks the line but not the status bit. */
	pci_set_intx(&f->d, 1);
	wr(&f->p, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(gsi_level[g], 0);
	assert_true(rd(&f->p, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr(&f->p, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(gsi_level[g], 1);
}

static void table(struct fixture *f, uint64_t off, uint32_t *v, uint32_t len, bool is_write)
{
	assert_true(msix_bar_io(&f->d, off, (uint8_t *)v, len, is_write));
}

static void test_msix(void **state)
{
	struct fixture *f = *state;
	uint8_t cap = f->d.msix->cap;
	uint32_t v, pba;

	/* Not the table: the device's own registers. */
	assert_false(msix_bar_io(&f->d, 0x400, (uint8_t *)&v, 4, false));
	table(f, 12, &v, 4, false);
	assert_int_equal(v, MSIX_ENTRY_MASKED);
	v = 0xfee00000;
	table(f, 16, &v, 4, true);
	v = 0x41;
	table(f, 24, &v, 4, true);
	table(f, 16, &v, 4, false);
	assert_int_equal(v, 0xfee00000);
	/* Disabled: notifies are dropped, nothing pending. */
	msix_notify(&f->d, 1);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 0);
	wr(&f->p, 1, cap + 2, MSIX_CTRL_ENABLE, 2);
	assert_true(msix_enabled(&f->d));
	/* Masked vector: pending bit; unmask delivers (here: fails quietly) and clears. */
	msix_notify(&f->d, 1);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 2);
	v = 0;
	table(f, 28, &v, 4, true);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 0);
	/* Function mask holds everything pending. */
	wr(&f->p, 1, cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK, 2);
	msix_notify(&f->d, 1);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 2);
	wr(&f->p, 1, cap + 2, MSIX_CTRL_ENABLE, 2);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 0);
	/* Garbage: past the table, odd sizes and alignment, PBA writes, reserved
	 * control bits, vector numbers beyond the table. */
	v = 0xffffffff;
	assert_false(msix_bar_io(&f->d, 48, (uint8_t *)&v, 4, true));
	table(f, 2, &v, 4, true);
	table(f, 16, &v, 2, true);
	table(f, 0x800, &v, 4, true);
	table(f, 0x800, &pba, 4, false);
	assert_int_equal(pba, 0);
	table(f, 12, &v, 4, true);
	table(f, 12, &v, 4, false);
	assert_int_equal(v, MSIX_ENTRY_MASKED);
	msix_notify(&f->d, 3);
	msix_notify(&f->d, MSIX_NO_VECTOR);
	/* Table size is read-only. */
	wr(&f->p, 1, cap + 2, 0xffff, 2);
	assert_int_equal(rd(&f->p, 1, cap + 2, 2) & 0x7ff, 2);
}

/* Random config and BAR traffic: nothing may crash, read-only parts stay. */
static void test_hostile_config(void **state)
{
	struct fixture *f = *state;
	unsigned int seed = 1;

	for (int i = 0; i < 200000; i++) {
		uint64_t off = (uint64_t)rand_r(&seed) % VIRT_PCI_ECAM_SIZE;
		uint32_t len = 1u << (rand_r(&seed) % 4);
		uint64_t v = (uint64_t)rand_r(&seed) << 32 | (uint32_t)rand_r(&seed);

		if (i % 4 == 0)
			off = ECAM(1 + (rand_r(&seed) % 2) * 4, rand_r(&seed) % 0x100);
		pci_ecam_io(&f->p, off, (uint8_t *)&v, len, rand_r(&seed) & 1);
		off = (uint64_t)rand_r(&seed) % VIRT_PCI_MMIO32_SIZE;
		pci_window32_io(&f->p, off, (uint8_t *)&v, len, rand_r(&seed) & 1);
		if (f->d.msix)
			msix_bar_io(&f->d, rand_r(&seed) % 0x1000, (uint8_t *)&v, len,
				    rand_r(&seed) & 1);
	}
	assert_int_equal(rd(&f->p, 1, 0, 4), 0x10421af4);
	assert_int_equal(rd(&f->p, 0, 0, 2), VIRT_PCI_HOST_VENDOR);
	assert_int_equal(rd(&f->p, 1, f->d.msix->cap, 1), PCI_CAP_ID_MSIX);
}

static void test_plug_errors(void **state)
{
	struct fixture *f = *state;
	struct pci_dev x;
	char err[128];

	pci_dev_init(&x, "x", 1, 2, 0, 1, 2);
	assert_int_equal(pci_plug(&f->p, &x, 5, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "taken"));
	assert_int_equal(pci_plug(&f->p, &x, 32, err, sizeof(err)), -EINVAL);
	assert_int_equal(pci_add_bar(&x, 0, 0x1800, false, bar_fn, NULL), -EINVAL);
	assert_int_equal(pci_add_bar(&x, 5, 0x1000, true, bar_fn, NULL), -EINVAL);
	assert_int_equal(pci_add_bar(&x, 0, 0x100, false, bar_fn, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enumeration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_decode_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plug_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
