/* ACPI Generic Event Device (QEMU's register layout): event selector, sleep
 * control/status and reset registers. Handlers run on vCPU threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "platform/virt.h"
#include "timeline.h"
#include "vm.h"

struct ged {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t sel; /* latched events, cleared when the guest reads them */
};

struct ged *ged_create(struct vm *vm)
{
	struct ged *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->vm = vm;
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

void ged_evt_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct ged *g = dev;
	uint32_t v;

	if (is_write)
		return; /* read-only */
	pthread_mutex_lock(&g->lock);
	v = g->sel;
	if (offset == 0 && len == 4)
		g->sel = 0;
	else
		v = 0xffffffff; /* only aligned 32-bit reads are defined */
	pthread_mutex_unlock(&g->lock);
	memset(data, 0xff, len);
	memcpy(data, &v, len > 4 ? 4 : len);
}

void ged_regs_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct ged *g = dev;

	if (!is_write) {
		memset(data, 0, len); /* sleep status: never asleep; others read 0 */
		return;
	}
	if (len != 1)
		return;
	if (offset == GED_REG_SLEEP_CTL && (data[0] & GED_SLP_EN) &&
	    ((data[0] & GED_SLP_TYP_MASK) >> GED_SLP_TYP_SHIFT) == GED_SLP_TYP_S5) {
		timeline_mark("guest entered S5 (power off)");
		vm_request(g->vm, VM_ACT_POWEROFF, 0);
	} else if (offset == GED_REG_RESET && data[0] == GED_RESET_VALUE) {
		timeline_mark("guest reset request");
		vm_request(g->vm, VM_ACT_RESET, 0);
	}
}

void ged_raise(struct ged *g, uint32_t bits)
{
	pthread_mutex_lock(&g->lock);
	g->sel |= bits;
	pthread_mutex_unlock(&g->lock);
	vm_set_irq(g->vm, VIRT_GSI_GED, 1);
	vm_set_irq(g->vm, VIRT_GSI_GED, 0);
}

void ged_reset(struct ged *g)
{
	pthread_mutex_lock(&g->lock);
	g->sel = 0;
	pthread_mutex_unlock(&g->lock);
}

void ged_free(struct ged *g)
{
	if (g)
		pthread_mutex_destroy(&g->lock);
	free(g);
}
