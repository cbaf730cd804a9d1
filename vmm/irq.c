/* KVM GSI routing: the whole table is rewritten on every change, under irq->lock.
 * Changes come from vCPU threads (MSI-X table writes) and start-up. */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "platform/virt.h"

/* Called with irq->lock held. */
static int commit(struct irq *irq)
{
	size_t max = VIRT_IOAPIC_PINS + IRQ_MAX_MSI;
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	unsigned int n = 0;
	int ret;

	if (!r)
		return -ENOMEM;
	for (unsigned int pin = 0; pin < VIRT_IOAPIC_PINS; pin++)
		r->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin}};
	for (unsigned int i = 0; i < IRQ_MAX_MSI; i++)
		if (irq->msi[i].used)
			r->entries[n++] = (struct kvm_irq_routing_entry){
				.gsi = VIRT_GSI_MSI_BASE + i,
				.type = KVM_IRQ_ROUTING_MSI,
				.u.msi = {.address_lo = (uint32_t)irq->msi[i].addr,
					  .address_hi = (uint32_t)(irq->msi[i].addr >> 32),
					  .data = irq->msi[i].data}};
	r->nr = n;
	ret = ioctl(irq->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return ret;
}

int irq_init(struct irq *irq, int vm_fd)
{
	int ret;

	memset(irq, 0, sizeof(*irq));
	irq->vm_fd = vm_fd;
	pthread_mutex_init(&irq->lock, NULL);
	pthread_mutex_lock(&irq->lock);
	ret = commit(irq);
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

int irq_msi_add(struct irq *irq, uint64_t addr, uint32_t data, int *efd)
{
	struct kvm_irqfd fd = {0};
	int i, ret;

	*efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*efd < 0)
		return -errno;
	pthread_mutex_lock(&irq->lock);
	for (i = 0; i < IRQ_MAX_MSI && irq->msi[i].used; i++)
		;
	if (i == IRQ_MAX_MSI) {
		ret = -ENOSPC;
		goto out;
	}
	irq->msi[i].used = true;
	irq->msi[i].addr = addr;
	irq->msi[i].data = data;
	if ((ret = commit(irq)) == 0) {
		fd.fd = *efd;
		fd.gsi = VIRT_GSI_MSI_BASE + i;
		ret = ioctl(irq->vm_fd, KVM_IRQFD, &fd) < 0 ? -errno : 0;
	}
	if (ret)
		irq->msi[i].used = false;
out:
	pthread_mutex_unlock(&irq->lock);
	if (ret) {
		close(*efd);
		*efd = -1;
		return ret;
	}
	return VIRT_GSI_MSI_BASE + i;
}

static bool valid(int gsi)
{
	return gsi >= VIRT_GSI_MSI_BASE && gsi < VIRT_GSI_MSI_BASE + IRQ_MAX_MSI;
}

int irq_msi_set(struct irq *irq, int gsi, uint64_t addr, uint32_t data)
{
	int ret = -EINVAL;

	if (!valid(gsi))
		return ret;
	pthread_mutex_lock(&irq->lock);
	if (irq->msi[gsi - VIRT_GSI_MSI_BASE].used) {
		irq->msi[gsi - VIRT_GSI_MSI_BASE].addr = addr;
		irq->msi[gsi - VIRT_GSI_MSI_BASE].data = data;
		ret = commit(irq);
	}
	pthread_mutex_unlock(&irq->lock);
	return ret;
}

void irq_msi_del(struct irq *irq, int gsi, int efd)
{
	struct kvm_irqfd fd = {.fd = efd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN};

	if (!valid(gsi) || efd < 0)
		return;
	pthread_mutex_lock(&irq->lock);
	ioctl(irq->vm_fd, KVM_IRQFD, &fd);
	irq->msi[gsi - VIRT_GSI_MSI_BASE].used = false;
	commit(irq);
	pthread_mutex_unlock(&irq->lock);
	close(efd);
}

void irq_signal(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the interrupt is pending anyway. */
	}
}
