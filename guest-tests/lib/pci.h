/* PCI Express for guest programs: ECAM found through the ACPI MCFG table, config-space
 * accessors, BAR sizing and placement, capability lists. Runs at CPL3 (ECAM and BARs are MMIO
 * reached through the identity map, so only addresses below 4 GiB are usable). */
#ifndef WISP_GUEST_PCI_H
#define WISP_GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* Config-space registers (type 0 header). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_64 0x4
#define PCI_BAR_PREFETCH 0x8

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11

/* MSI-X capability (offsets from the capability) and table entries. */
#define PCI_MSIX_CTRL 2
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_PBA 8
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_MSIX_CTRL_MASKALL 0x4000
#define PCI_MSIX_CTRL_SIZE 0x07ff
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_CTRL 12
#define PCI_MSIX_ENTRY_MASKED 0x1

#define PCI_NUM_BARS 6

/* One function on bus 0. */
struct pci_dev {
	uint8_t bus, slot, fn;
	volatile uint8_t *cfg; /* its 4 KiB of ECAM */
	uint16_t vendor, device;
	uint32_t class; /* class code << 16 | subclass << 8 | prog-if */
	uint8_t header_type;
};

/* One memory or I/O BAR as sizing found it. */
struct pci_bar {
	uint64_t addr; /* current base (memory) or port (I/O); 0 if unassigned */
	uint64_t size; /* 0: BAR not implemented */
	bool io, is64, prefetch;
};

/* Finds MCFG and maps segment 0's ECAM. Returns 0, or -1 (with a line on the console) if
 * there is no MCFG or it has no usable entry. Idempotent. */
int pci_init(void);
/* ECAM base and the bus range MCFG gives for segment 0 (valid after pci_init()). */
uint64_t pci_ecam_base(void);
unsigned pci_bus_end(void);

/* Config space of bus:slot.fn (no presence check), through ECAM. */
volatile uint8_t *pci_cfg_addr(unsigned bus, unsigned slot, unsigned fn);
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* Fills d for bus:slot.fn; returns false if nothing answers there (vendor all-ones). */
bool pci_probe(struct pci_dev *d, unsigned bus, unsigned slot, unsigned fn);
/* The index-th function on bus 0 with this vendor and device (0xffff: any device).
 * Returns 0 with d filled, or -1. */
int pci_find(struct pci_dev *d, uint16_t vendor, uint16_t device, unsigned index);

/* Sizes BAR n (write all-ones, read the mask, restore; memory decode is turned off around it
 * and restored). Fills bar; for the upper half of a 64-bit BAR size stays 0. */
void pci_bar_probe(const struct pci_dev *d, unsigned n, struct pci_bar *bar);
/* Writes a new base into memory BAR n (both halves of a 64-bit one). */
void pci_bar_set(const struct pci_dev *d, unsigned n, uint64_t addr);

/* The 32-bit window free BAR space is taken from: cmdline pci_mmio32=BASE and
 * pci_mmio32_size=SIZE, else the platform's VIRT_PCI_MMIO32_*. */
uint64_t pci_window_base(void);
uint64_t pci_window_size(void);
/* Reserves an aligned, never-used range in the window, above every BAR any function on bus 0
 * had when first called. Returns its base, or 0 when the window is full. */
uint64_t pci_alloc(uint64_t size);
/* Gives every unassigned memory BAR of d space from pci_alloc() (BARs the VMM or firmware
 * already placed are kept), then enables memory decode and bus mastering. Returns 0 or -1. */
int pci_setup(const struct pci_dev *d);
/* MMIO address of memory BAR n (its current base, both halves), or 0. */
uint64_t pci_bar_addr(const struct pci_dev *d, unsigned n);

/* Config-space offset of the next capability with this ID after the one at `after` (0: the
 * first in the list), or 0. Follows at most 48 links, so a looping list ends too. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after);

/* ---- MSI-X (cap: offset of the MSI-X capability) ---- */
/* Number of table entries. */
unsigned pci_msix_size(const struct pci_dev *d, unsigned cap);
/* Address of table entry n / of the PBA, through the BARs' current bases (0 if unassigned). */
volatile uint32_t *pci_msix_entry(const struct pci_dev *d, unsigned cap, unsigned n);
volatile uint64_t *pci_msix_pba(const struct pci_dev *d, unsigned cap);
/* Points entry n at the local APIC apic_id, fixed delivery, edge, vector vec; masked or not. */
void pci_msix_route(const struct pci_dev *d, unsigned cap, unsigned n, uint32_t apic_id,
		    uint8_t vec, bool masked);
void pci_msix_mask(const struct pci_dev *d, unsigned cap, unsigned n, bool masked);
/* Sets or clears MSI-X Enable and Function Mask in the control register. */
void pci_msix_control(const struct pci_dev *d, unsigned cap, bool enable, bool function_mask);

#endif
