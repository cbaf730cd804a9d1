/* Guest program: the machine's reset paths. "how=reg" writes the FADT reset value to the
 * GED reset register (what Linux's reboot does); "how=triple" triple-faults the CPU. Each
 * boot prints "WISP-TEST BOOT reset"; the runner checks what the VMM did next: with
 * -no-reboot it must exit 0 after one boot, without it the machine must boot again. */
#include "platform/virt.h"
#include "wisp-test.h"

WISP_TEST("reset")
{
	printf("WISP-TEST BOOT %s\n", wisp_test_name);
	if (cmdline_has("how=triple")) {
		sys_triple_fault();
	} else {
		*(volatile uint8_t *)(uintptr_t)(VIRT_GED_REGS_BASE + GED_REG_RESET) =
			GED_RESET_VALUE;
	}
	delay_us(2000000);
	test_fail("still running 2 s after asking for a reset");
}
