/* Guest program: prints a greeting and passes. Test body at CPL3. With "hold" on the command
 * line it prints "WISP-TEST HOLD" and halts instead, so bench/tiny-start can sample memory. */
#include "wisp-test.h"

WISP_TEST("hello")
{
	uint64_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	printf("hello from a wisp guest program at CPL%lu, cmdline \"%s\"\n", cs & 3, cmdline());
	if (cmdline_has("hold")) {
		printf("WISP-TEST HOLD %s\n", wisp_test_name);
		for (;;)
			sys_wait_irq();
	}
	return 0;
}
