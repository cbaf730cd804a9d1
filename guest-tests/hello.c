/* Guest program: prints a greeting from CPL3 and checks the PVH start info (magic, version,
 * a memory map whose RAM covers the program). With "hold" on the command line it prints
 * "WISP-TEST HOLD" and halts instead of exiting, so bench/tiny-start can sample memory. */
#include "wisp-test.h"

extern char __image_start[], __image_end[];

static void check_start_info(void)
{
	const struct hvm_start_info *si = start_info();
	const struct hvm_memmap_entry *map;
	uint64_t lo = (uintptr_t)__image_start, hi = (uintptr_t)__image_end;
	bool covered = false;

	TEST_ASSERT(si);
	TEST_ASSERT(si->version >= 1);
	if (!si->memmap_paddr || !si->memmap_entries)
		test_fail("start info has no memory map (memmap_paddr %#lx, %u entries)",
			  si->memmap_paddr, si->memmap_entries);
	map = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		printf("hello: memmap %#014lx-%#014lx type %u\n", map[i].addr,
		       map[i].addr + map[i].size - 1, map[i].type);
		if (map[i].type == 1 && map[i].addr <= lo && map[i].addr + map[i].size >= hi)
			covered = true;
	}
	if (!covered)
		test_fail("no RAM entry in the memory map covers the image %#lx-%#lx", lo, hi);
}

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
	check_start_info();
	return 0;
}
