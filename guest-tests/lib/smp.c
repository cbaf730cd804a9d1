/* Starting application processors with INIT-SIPI-SIPI; runs at CPL3 (LAPIC MMIO and the
 * trampoline copy need no privilege here, since every page is user-accessible). */
#include "kernel.h"
#include "wisp-test.h"

extern volatile uint32_t ap_checked_in;
extern volatile uint32_t ap_apic_ids[MAX_CPUS];

#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_ASSERT 0x4000
#define ICR_ALL_BUT_SELF 0xc0000

unsigned smp_checked_in(void)
{
	return __atomic_load_n(&ap_checked_in, __ATOMIC_SEQ_CST);
}

uint32_t smp_ap_apic_id(unsigned index)
{
	return index < MAX_CPUS ? ap_apic_ids[index] : 0xffffffff;
}

unsigned smp_boot(unsigned expected, uint64_t timeout_us)
{
	uint32_t sipi = ICR_STARTUP | ICR_ASSERT | ICR_ALL_BUT_SELF | (TRAMPOLINE_ADDR >> 12);

	memcpy((void *)(uintptr_t)TRAMPOLINE_ADDR, ap_trampoline_start,
	       (size_t)(ap_trampoline_end - ap_trampoline_start));
	if (lapic_send_ipi(0, ICR_INIT | ICR_ASSERT | ICR_ALL_BUT_SELF))
		printf("smp: INIT IPI still pending\n");
	delay_us(10000);
	for (int i = 0; i < 2 && smp_checked_in() < expected; i++) {
		if (lapic_send_ipi(0, sipi))
			printf("smp: SIPI still pending\n");
		delay_us(200);
	}
	uint64_t start = time_us();
	while (smp_checked_in() < expected && time_us() - start < timeout_us)
		__asm__ volatile("pause");
	return smp_checked_in();
}
