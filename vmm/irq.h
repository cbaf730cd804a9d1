/* Interrupt routing: the VM's KVM GSI routing table (IOAPIC pins and MSI routes)
 * and irqfds. Callable from any thread; the table is rebuilt under one lock. */
#ifndef WISP_IRQ_H
#define WISP_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_MAX_MSI 1024 /* MSI routes the machine can have at once */

struct irq {
	int vm_fd;
	pthread_mutex_t lock;
	struct {
		bool used;
		uint64_t addr;
		uint32_t data;
	} msi[IRQ_MAX_MSI]; /* GSI VIRT_GSI_MSI_BASE + i */
};

/**
 * irq_init() - install the IOAPIC pin routes on @vm_fd.
 * Return: 0 or -errno.
 */
int irq_init(struct irq *irq, int vm_fd);

/**
 * irq_msi_add() - a new MSI route, initially for message @addr/@data, with an
 * irqfd bound to it: writing 1 to the returned *@efd raises the interrupt.
 * Return: the GSI, or -errno.
 */
int irq_msi_add(struct irq *irq, uint64_t addr, uint32_t data, int *efd);

/**
 * irq_msi_set() - point MSI route @gsi at message @addr/@data.
 * Return: 0 or -errno.
 */
int irq_msi_set(struct irq *irq, int gsi, uint64_t addr, uint32_t data);

/** irq_msi_del() - unbind and close @efd, free route @gsi. */
void irq_msi_del(struct irq *irq, int gsi, int efd);

/** irq_signal() - raise the interrupt behind irqfd @efd (write 1). */
void irq_signal(int efd);

#endif
