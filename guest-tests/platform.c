/* Guest program: the platform devices under hostile and odd accesses. Reads of nothing
 * return all-ones; the 16550 keeps its register semantics (scratch, loopback, IIR); the
 * GED ignores every value but the defined ones; random traffic at all of them leaves the
 * VMM alive and the console working. wisp-only: QEMU reads unassigned space as zero. */
#include "platform/virt.h"
#include "wisp-test.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)seed;
}

static volatile uint8_t *mmio8(uint64_t a)
{
	return (volatile uint8_t *)(uintptr_t)a;
}

static void check_nothing_reads_ones(void)
{
	TEST_ASSERT(*(volatile uint32_t *)(uintptr_t)0xD0000000 == 0xffffffff);
	TEST_ASSERT(*(volatile uint64_t *)(uintptr_t)0xFEB00000 == ~0ULL);
	TEST_ASSERT(*mmio8(VIRT_GED_BASE + 0x10) == 0xff);
	TEST_ASSERT(sys_in(0x2f8, 1) == 0xff); /* COM2: absent */
	TEST_ASSERT(sys_in(0x70, 1) == 0xff);  /* CMOS RTC: absent */
	TEST_ASSERT(sys_in(0x40, 1) == 0xff);  /* PIT: absent */
	TEST_ASSERT(sys_in(0x60, 1) == 0xff);  /* i8042: absent */
	TEST_ASSERT(sys_in(0xcf8, 4) == 0xffffffff);
	*(volatile uint32_t *)(uintptr_t)0xD0000000 = 0x12345678; /* dropped */
}

static void check_uart(void)
{
	uint16_t com = VIRT_PORT_COM1;

	sys_out(com + 7, 0x5a, 1);
	TEST_ASSERT(sys_in(com + 7, 1) == 0x5a);
	TEST_ASSERT((sys_in(com + 5, 1) & 0x60) == 0x60); /* THR empty */
	sys_out(com + 4, 0x10, 1);			  /* loopback */
	sys_out(com, 'q', 1);
	TEST_ASSERT(sys_in(com + 5, 1) & 1);
	TEST_ASSERT(sys_in(com, 1) == 'q');
	TEST_ASSERT((sys_in(com + 5, 1) & 1) == 0);
	sys_out(com + 4, 0x03, 1);
}

static void check_ged(void)
{
	volatile uint32_t *sel = (volatile uint32_t *)(uintptr_t)VIRT_GED_BASE;

	TEST_ASSERT(*sel == 0); /* no event latched */
	*sel = 0xffffffff;	/* read-only: ignored */
	TEST_ASSERT(*sel == 0);
	TEST_ASSERT(*mmio8(VIRT_GED_REGS_BASE + GED_REG_SLEEP_STS) == 0);
	/* Sleep types other than S5, S5 without SLP_EN, wrong reset values: no effect. */
	*mmio8(VIRT_GED_REGS_BASE + GED_REG_SLEEP_CTL) = (3 << GED_SLP_TYP_SHIFT) | GED_SLP_EN;
	*mmio8(VIRT_GED_REGS_BASE + GED_REG_SLEEP_CTL) = GED_SLP_TYP_S5 << GED_SLP_TYP_SHIFT;
	*mmio8(VIRT_GED_REGS_BASE + GED_REG_RESET) = GED_RESET_VALUE + 1;
	*(volatile uint16_t *)(uintptr_t)(VIRT_GED_REGS_BASE + GED_REG_SLEEP_CTL) =
		(GED_SLP_TYP_S5 << GED_SLP_TYP_SHIFT) | GED_SLP_EN; /* only byte access counts */
}

/* Random values at random offsets and widths, minus the two that end the machine. */
static void fuzz(unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		uint32_t v = rnd(), off = rnd() % (VIRT_GED_REGS_SIZE + 1);
		uint8_t b = (uint8_t)v;

		if (off == GED_REG_RESET && b == GED_RESET_VALUE)
			b ^= 1;
		if (off == GED_REG_SLEEP_CTL && (b & GED_SLP_EN))
			b &= ~GED_SLP_EN;
		*mmio8(VIRT_GED_REGS_BASE + off) = b;
		(void)*(volatile uint32_t *)(uintptr_t)(VIRT_GED_BASE + (rnd() % 2) * 4);
		*(volatile uint32_t *)(uintptr_t)(VIRT_GED_BASE) = v;
		if (i % 8 == 0) {
			uint16_t port = VIRT_PORT_COM1 + 1 + rnd() % 7; /* not THR: no noise */

			if (rnd() & 1)
				sys_in(port, 1 << (rnd() % 3));
			else if (port != VIRT_PORT_COM1 + 3) /* keep DLAB clear */
				sys_out(port, v & (port == VIRT_PORT_COM1 + 4 ? 0x0f : 0xff), 1);
		}
	}
}

WISP_TEST("platform")
{
	check_nothing_reads_ones();
	check_uart();
	check_ged();
	fuzz((unsigned)cmdline_int("rounds", 2000));
	sys_out(VIRT_PORT_COM1 + 1, 0, 1); /* interrupts off again */
	sys_out(VIRT_PORT_COM1 + 3, 0x03, 1);
	sys_out(VIRT_PORT_COM1 + 4, 0x03, 1);
	check_uart();
	printf("platform: survived the fuzzing, console still works\n");
	return 0;
}
