/* Guest program: programs the LAPIC timer periodic from CPL3 through MMIO and waits for N
 * interrupts, which the CPL0 part counts and acknowledges. Cmdline: ticks=N, period_us=P. */
#include "wisp-test.h"

WISP_TEST("lapic-timer")
{
	unsigned ticks = (unsigned)cmdline_int("ticks", 10);
	unsigned period_us = (unsigned)cmdline_int("period_us", 10000);
	uint64_t timeout_us = 30000000, start, elapsed;

	/* Software enable, spurious vector 0xff; accept every priority. */
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	/* KVM and QEMU both clock the timer at 1 GHz: divide by 16 gives 62.5 counts per us. */
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_LAPIC_TIMER);
	uint64_t base = irq_count(VEC_LAPIC_TIMER);
	start = time_us();
	lapic_write(LAPIC_TIMER_INIT, period_us * 125 / 2);

	while (irq_count(VEC_LAPIC_TIMER) - base < ticks && time_us() - start < timeout_us)
		sys_wait_irq();
	elapsed = time_us() - start;
	uint64_t got = irq_count(VEC_LAPIC_TIMER) - base;
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0);

	printf("lapic-timer: %lu of %u interrupts, period %u us, %lu us elapsed (TSC at %lu MHz), "
	       "%lu spurious\n",
	       got, ticks, period_us, elapsed, tsc_hz() / 1000000, irq_count(VEC_SPURIOUS));
	if (got < ticks)
		test_fail("only %lu of %u timer interrupts in %lu us", got, ticks, elapsed);
	return 0;
}
