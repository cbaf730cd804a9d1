/* MSI-X: the capability, the vector table and PBA inside a device's BAR, and
 * delivery through KVM MSI routes and irqfds. Every function runs with the owning
 * device's lock held. */
#ifndef WISP_MSIX_H
#define WISP_MSIX_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev;
struct irq;

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK 0x4000
#define MSIX_ENTRY_MASKED 0x1
#define MSIX_NO_VECTOR 0xffff

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl; /* the table entry as the guest wrote it */
	int gsi, efd;			       /* KVM route and irqfd, made on first use */
	uint64_t route_addr;
	uint32_t route_data;
};

struct msix {
	uint16_t nr;
	uint8_t cap;		     /* capability offset in config space */
	uint32_t table_off, pba_off; /* inside the BAR */
	struct msix_vector *vec;
	uint64_t *pba;
	struct irq *irq;
};

/**
 * msix_init() - give @d an MSI-X capability with @nr vectors whose table and
 * PBA live in BAR @bar at @table_off and @pba_off; interrupts go through @irq.
 * Return: 0 or -errno.
 */
int msix_init(struct pci_dev *d, struct irq *irq, uint16_t nr, int bar, uint32_t table_off,
	      uint32_t pba_off);

/**
 * msix_bar_io() - the table or PBA part of the BAR, if @off falls there.
 * Return: true when the access was the table's or the PBA's.
 */
bool msix_bar_io(struct pci_dev *d, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

/** msix_cfg_written() - after a config write: enable or function-mask changes. */
void msix_cfg_written(struct pci_dev *d, uint32_t off, uint32_t len);

/** msix_enabled() - MSI-X is on (the device must not use INTx then). */
bool msix_enabled(const struct pci_dev *d);

/**
 * msix_notify() - raise @vector, or mark it pending while masked. Vectors past
 * the table and MSIX_NO_VECTOR are dropped.
 */
void msix_notify(struct pci_dev *d, uint16_t vector);

/** msix_reset() - every vector masked, nothing pending, routes kept for reuse. */
void msix_reset(struct pci_dev *d);

/** msix_free() - release routes and irqfds. */
void msix_free(struct pci_dev *d);

#endif
