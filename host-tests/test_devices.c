/* Host tests for the bus and the platform devices (16550, GED, debug-exit),
 * including random hostile register traffic. No /dev/kvm needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "dev/devices.h"
#include "evloop.h"
#include "platform/virt.h"
#include "vm.h"

/* ---- bus ---- */

static int hits;
static uint64_t last_off;

static void count_io(void *dev, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	hits++;
	last_off = off;
	if (!is_write)
		memset(data, 0x11, len);
}

static void test_bus(void **state)
{
	struct bus *b = calloc(1, sizeof(*b));
	uint8_t d[8];

	assert_int_equal(bus_register_mmio(b, 0x3000, 0x100, count_io, NULL, "c"), 0);
	assert_int_equal(bus_register_mmio(b, 0x1000, 0x100, count_io, NULL, "a"), 0);
	assert_int_equal(bus_register_mmio(b, 0x2000, 0x100, count_io, NULL, "b"), 0);
	assert_int_equal(bus_register_mmio(b, 0x10ff, 2, count_io, NULL, "x"), -EEXIST);
	assert_int_equal(bus_register_mmio(b, 0x0fff, 2, count_io, NULL, "x"), -EEXIST);
	assert_int_equal(bus_register_mmio(b, UINT64_MAX - 4, 16, count_io, NULL, "x"), -EINVAL);
	assert_int_equal(bus_register_mmio(b, 0x5000, 0, count_io, NULL, "x"), -EINVAL);
	assert_int_equal(bus_register_pio(b, 0xfffc, 8, count_io, NULL, "x"), -EINVAL);
	assert_true(b->mmio[0].base < b->mmio[1].base && b->mmio[1].base < b->mmio[2].base);

	hits = 0;
	assert_true(bus_dispatch_mmio(b, 0x2010, d, 4, false));
	assert_int_equal(last_off, 0x10);
	assert_int_equal(d[0], 0x11);
	/* Nothing there, or straddling the end, or absurd lengths: all-ones, no call. */
	assert_false(bus_dispatch_mmio(b, 0x2100, d, 4, false));
	assert_int_equal(d[0], 0xff);
	assert_false(bus_dispatch_mmio(b, 0x20fe, d, 4, false));
	assert_false(bus_dispatch_mmio(b, 0x2000, d, 0, true));
	assert_false(bus_dispatch_mmio(b, 0x2000, d, 9, false));
	assert_false(bus_dispatch_mmio(b, UINT64_MAX, d, 8, false));
	assert_int_equal(hits, 1);
	for (int i = 0; i < BUS_MAX_MMIO; i++)
		bus_register_mmio(b, 0x100000 + i * 0x1000, 0x10, count_io, NULL, "f");
	assert_int_equal(bus_register_mmio(b, 0x900000, 0x10, count_io, NULL, "f"), -ENOSPC);
	free(b);
}

/* ---- 16550 ---- */

static int irq_level, irq_edges;

static void fake_irq(void *opaque, int level)
{
	irq_edges += level && !irq_level;
	irq_level = level;
}

static struct serial *uart(struct evloop *loop)
{
	char err[128];
	struct serial *s;

	assert_int_equal(evloop_init(loop), 0);
	s = serial_create(SERIAL_NONE, NULL, loop, fake_irq, NULL, NULL, err, sizeof(err));
	assert_non_null(s);
	irq_level = irq_edges = 0;
	return s;
}

static uint8_t rd(struct serial *s, int reg)
{
	uint8_t v;

	serial_io(s, reg, &v, 1, false);
	return v;
}

static void wr(struct serial *s, int reg, uint8_t v)
{
	serial_io(s, reg, &v, 1, true);
}

static void test_uart_loopback_and_irq(void **state)
{
	struct evloop loop;
	struct serial *s = uart(&loop);

	assert_int_equal(rd(s, 5) & 0x60, 0x60); /* THR and transmitter empty */
	assert_int_equal(rd(s, 2), 0x01);	 /* no interrupt */
	wr(s, 4, 0x18);				 /* loopback, OUT2 */
	assert_int_equal(rd(s, 6) & 0xf0, 0x80); /* OUT2 -> DCD */
	wr(s, 4, 0x1f);
	assert_int_equal(rd(s, 6) & 0xf0, 0xf0);
	wr(s, 1, 0x01); /* receive interrupt */
	wr(s, 0, 'w');
	assert_int_equal(rd(s, 5) & 1, 1);
	assert_int_equal(rd(s, 2) & 0x0f, 0x04);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(s, 0), 'w');
	assert_int_equal(rd(s, 5) & 1, 0);
	assert_int_equal(irq_level, 0);
	/* THRE: enabling it with THR empty raises; reading IIR acknowledges. */
	wr(s, 1, 0x02);
	assert_int_equal(irq_level, 1);
	assert_int_equal(rd(s, 2) & 0x0f, 0x02);
	assert_int_equal(irq_level, 0);
	/* OUT2 clear: the line stays low whatever is pending. */
	wr(s, 4, 0x10);
	wr(s, 0, 'x');
	assert_int_equal(irq_level, 0);
	/* DLAB: divisor latches shadow RBR/IER. */
	wr(s, 3, 0x80);
	wr(s, 0, 0x01);
	wr(s, 1, 0x00);
	assert_int_equal(rd(s, 0), 0x01);
	wr(s, 3, 0x03);
	assert_int_equal(rd(s, 0), 'x');
	serial_free(s);
	evloop_free(&loop);
}

static void test_uart_overrun(void **state)
{
	struct evloop loop;
	struct serial *s = uart(&loop);
	int n = 0;

	wr(s, 4, 0x10);
	for (int i = 0; i < 5000; i++)
		wr(s, 0, (uint8_t)i);
	while (rd(s, 5) & 1)
		n++, rd(s, 0);
	assert_true(n > 0 && n < 5000); /* bounded buffer, excess dropped */
	serial_free(s);
	evloop_free(&loop);
}

static void test_uart_hostile(void **state)
{
	struct evloop loop;
	struct serial *s = uart(&loop);
	uint8_t d[8];

	srand(1234);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = 1 + rand() % 8;

		for (int j = 0; j < 8; j++)
			d[j] = rand();
		serial_io(s, rand() % 8, d, len, rand() & 1);
	}
	serial_reset(s);
	assert_int_equal(rd(s, 1), 0);
	assert_int_equal(irq_level, 0);
	serial_free(s);
	evloop_free(&loop);
}

/* ---- GED, debug-exit ---- */

static struct vm *fake_vm(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	vm->vm_fd = -1; /* vm_set_irq() fails quietly: no KVM here */
	vm->action_fd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&vm->lock, NULL);
	return vm;
}

static void test_ged(void **state)
{
	struct vm *vm = fake_vm();
	struct ged *g = ged_create(vm);
	uint8_t v;
	uint32_t sel;

	ged_raise(g, GED_EVT_PWR_DOWN);
	ged_evt_io(g, 0, (uint8_t *)&sel, 4, false);
	assert_int_equal(sel, GED_EVT_PWR_DOWN);
	ged_evt_io(g, 0, (uint8_t *)&sel, 4, false);
	assert_int_equal(sel, 0); /* read clears */
	/* Sleep types other than S5, or without SLP_EN: nothing. */
	v = GED_SLP_TYP_S5 << GED_SLP_TYP_SHIFT;
	ged_regs_io(g, GED_REG_SLEEP_CTL, &v, 1, true);
	v = (3 << GED_SLP_TYP_SHIFT) | GED_SLP_EN;
	ged_regs_io(g, GED_REG_SLEEP_CTL, &v, 1, true);
	v = 0x41;
	ged_regs_io(g, GED_REG_RESET, &v, 1, true);
	assert_int_equal(vm->action, VM_ACT_NONE);
	v = GED_RESET_VALUE;
	ged_regs_io(g, GED_REG_RESET, &v, 1, true);
	assert_int_equal(vm->action, VM_ACT_RESET);
	v = (GED_SLP_TYP_S5 << GED_SLP_TYP_SHIFT) | GED_SLP_EN;
	ged_regs_io(g, GED_REG_SLEEP_CTL, &v, 1, true);
	assert_int_equal(vm->action, VM_ACT_POWEROFF);
	/* A weaker request never overrides a stronger one. */
	vm_request(vm, VM_ACT_RESET, 0);
	assert_int_equal(vm->action, VM_ACT_POWEROFF);
	ged_free(g);
	close(vm->action_fd);
	free(vm);
}

static void test_ged_hostile(void **state)
{
	struct vm *vm = fake_vm();
	struct ged *g = ged_create(vm);
	uint8_t d[8];

	srand(99);
	for (int i = 0; i < 100000; i++) {
		for (int j = 0; j < 8; j++)
			d[j] = rand();
		if (rand() & 1)
			ged_evt_io(g, rand() % VIRT_GED_SIZE, d, 1 + rand() % 8, rand() & 1);
		else
			ged_regs_io(g, rand() % VIRT_GED_REGS_SIZE, d, 1 + rand() % 8, rand() & 1);
	}
	ged_free(g);
	close(vm->action_fd);
	free(vm);
}

static void test_debug_exit(void **state)
{
	struct vm *vm = fake_vm();
	uint32_t v = 0x10;
	uint8_t b = 0xff;

	debug_exit_io(vm, 0, (uint8_t *)&v, 4, true);
	assert_int_equal(vm->action, VM_ACT_EXIT);
	assert_int_equal(vm->exit_status, 33);
	vm->action = VM_ACT_NONE;
	debug_exit_io(vm, 0, &b, 1, true);
	assert_int_equal(vm->exit_status, 0xff); /* (0xff << 1 | 1) & 0xff, as QEMU's exit() */
	close(vm->action_fd);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus),	     cmocka_unit_test(test_uart_loopback_and_irq),
		cmocka_unit_test(test_uart_overrun), cmocka_unit_test(test_uart_hostile),
		cmocka_unit_test(test_ged),	     cmocka_unit_test(test_ged_hostile),
		cmocka_unit_test(test_debug_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
