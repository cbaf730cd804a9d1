/* libFuzzer target: guest register traffic at the 16550, the GED and the bus.
 * Each 4-byte record is (device+width, offset, value, direction). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "bus.h"
#include "dev/devices.h"
#include "evloop.h"
#include "platform/virt.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static struct serial *uart;

static void irq(void *opaque, int level)
{
}

static void setup(void)
{
	char err[64];

	vm.vm_fd = -1;
	vm.action_fd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&vm.lock, NULL);
	evloop_init(&vm.loop);
	vm.ged = ged_create(&vm);
	uart = serial_create(SERIAL_NONE, NULL, &vm.loop, irq, NULL, NULL, err, sizeof(err));
	bus_register_pio(&vm.bus, VIRT_PORT_COM1, VIRT_PORT_COM1_SIZE, serial_io, uart, "com1");
	bus_register_mmio(&vm.bus, VIRT_GED_BASE, VIRT_GED_SIZE, ged_evt_io, vm.ged, "ged");
	bus_register_mmio(&vm.bus, VIRT_GED_REGS_BASE, VIRT_GED_REGS_SIZE, ged_regs_io, vm.ged,
			  "ged-regs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!uart)
		setup();
	serial_reset(uart);
	ged_reset(vm.ged);
	vm.action = VM_ACT_NONE;
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint8_t buf[8] = {data[i + 2], data[i + 2], 0, 0, 0, 0, 0, 0};
		uint32_t len = 1 + (data[i] >> 5);
		bool wr = data[i + 3] & 1;

		if (data[i] & 1)
			bus_dispatch_pio(&vm.bus, VIRT_PORT_COM1 + data[i + 1] % 12, buf, len, wr);
		else
			bus_dispatch_mmio(&vm.bus,
					  VIRT_GED_BASE + (data[i + 1] % 2) * 0x200 +
						  data[i + 3] % 8,
					  buf, len, wr);
	}
	return 0;
}
