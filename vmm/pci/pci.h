/* The PCIe host bridge: ECAM configuration space of root bus 0, BARs in the 32- and
 * 64-bit windows, INTx. Config and BAR accesses arrive on vCPU threads; each device
 * has one lock that covers its config space, BAR handlers and state. */
#ifndef WISP_PCI_H
#define WISP_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define PCI_CFG_SIZE 4096
#define PCI_NR_SLOTS 32
#define PCI_NR_BARS 6

/* Standard configuration header offsets and bits (PCI Local Bus 3.0, chapter 6). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID 0x2E
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci;
struct pci_dev;
struct msix;

struct pci_bar {
	uint64_t size; /* power of two >= 4096, 0: BAR not implemented */
	bool mem64;
	bus_handler_fn fn; /* called with the device lock held, offset from the BAR */
	void *opaque;
	uint64_t mapped; /* address the BAR decodes at, 0: not decoding */
};

struct pci_dev {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];   /* configuration space as the guest reads it */
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may write */
	uint8_t w1c[PCI_CFG_SIZE];   /* bits a guest write of 1 clears */
	uint8_t *cfg_init;	     /* cfg at plug time, for machine reset */
	struct pci_bar bar[PCI_NR_BARS];
	int slot;
	uint8_t cap_end;  /* where the next capability goes */
	uint8_t cap_link; /* offset of the last "next" pointer */
	int intx_level;
	pthread_mutex_t lock;
	struct pci *pci;
	struct msix *msix;
	void *opaque;
	/* Hooks, all called with the lock held, all optional. */
	void (*bar_moved)(struct pci_dev *d, int bar, uint64_t from, uint64_t to); /* 0: off */
	void (*cfg_access)(struct pci_dev *d, uint32_t off, uint32_t len,
			   bool is_write); /* before a read, after a write */
	void (*reset)(struct pci_dev *d);  /* machine reset, after cfg is restored */
};

/* How the bridge drives an IOAPIC pin: @level 1 asserted, 0 idle. */
typedef void (*pci_irq_fn)(void *opaque, unsigned int gsi, int level);

struct pci {
	struct pci_dev host; /* 00.0 */
	struct pci_dev *slots[PCI_NR_SLOTS];
	pthread_rwlock_t map_lock; /* BAR decoding vs. lookups */
	uint64_t next32, next64;   /* BAR allocation cursors */
	pci_irq_fn set_irq;
	void *irq_opaque;
};

/**
 * pci_init() - the host bridge at 00.0; INTx goes out through @set_irq(@opaque, ...).
 * Register pci_ecam_io() on VIRT_PCI_ECAM_BASE and pci_window_io() on both windows.
 */
void pci_init(struct pci *p, pci_irq_fn set_irq, void *opaque);

/**
 * pci_dev_init() - a type 0 function with these IDs and class (base, sub, prog-if
 * as 0xBBSSPP), INTA, no BARs or capabilities yet.
 */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys);

/**
 * pci_add_bar() - memory BAR @idx (a 64-bit BAR also takes @idx + 1) of @size
 * bytes (power of two, >= 4 KiB), handled by @fn(@opaque, ...).
 * Return: 0 or -EINVAL.
 */
int pci_add_bar(struct pci_dev *d, int idx, uint64_t size, bool mem64, bus_handler_fn fn,
		void *opaque);

/**
 * pci_add_cap() - append capability @id with @len bytes of body (@body is copied
 * after the two header bytes; may be NULL for zeroes).
 * Return: its offset in configuration space, or 0 when space ran out.
 */
uint8_t pci_add_cap(struct pci_dev *d, uint8_t id, const void *body, uint8_t len);

/**
 * pci_plug() - put @d into @slot (-1: the lowest free one), assign its BARs and
 * enable memory decoding. Start-up only (before vCPUs run).
 * Return: the slot, or -EBUSY / -ENOSPC / -EINVAL with @err filled.
 */
int pci_plug(struct pci *p, struct pci_dev *d, int slot, char *err, size_t errlen);

/** pci_ecam_io() - bus handler for ECAM (config space of bus 0). */
void pci_ecam_io(void *pci, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/** pci_window_io() - bus handler for a BAR window; @offset is the guest address
 * minus the window's bus base, so register both with base 0 semantics: the
 * handler takes the absolute address (see pci_window32_io/pci_window64_io). */
void pci_window32_io(void *pci, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
void pci_window64_io(void *pci, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/** pci_set_intx() - drive @d's INTA (lock held). Honours INTX_DISABLE. */
void pci_set_intx(struct pci_dev *d, int level);

/** pci_reset() - machine reset: every function's config space to plug-time values. */
void pci_reset(struct pci *p);

/** pci_cfg_read() / pci_cfg_write() - little-endian helpers on d->cfg. */
uint32_t pci_cfg_read(const struct pci_dev *d, uint32_t off, uint32_t len);
void pci_cfg_write(struct pci_dev *d, uint32_t off, uint32_t val, uint32_t len);

/** pci_intx_gsi() - the GSI INTA of @slot goes to (the _PRT rule). */
unsigned int pci_intx_gsi(int slot);

#endif
