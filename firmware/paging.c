/* Page tables: entry.S maps the low 4 GiB at link time; this adds RAM above 4 GiB with
 * 2 MiB pages. Start-up only, CPL0. */
#include "fw.h"

extern uint64_t pdpt[512];

EFI_STATUS paging_map_ram(uint64_t top)
{
	/* The platform keeps RAM below 256 GiB (the 64-bit PCI window): one PDPT suffices. */
	uint64_t gib = (top + (1ULL << 30) - 1) >> 30;

	if (gib > 512)
		gib = 512;
	for (uint64_t g = 4; g < gib; g++) {
		EFI_PHYSICAL_ADDRESS a = 0xffffffff;
		uint64_t *pd;

		if (pdpt[g])
			continue;
		if (efi_allocate_pages(AllocateMaxAddress, EfiBootServicesData, 1, &a))
			return EFI_OUT_OF_RESOURCES;
		pd = (uint64_t *)(uintptr_t)a;
		for (uint64_t i = 0; i < 512; i++)
			pd[i] = (g << 30 | i << 21) | 0x83; /* present, writable, 2 MiB */
		pdpt[g] = a | 0x3;
	}
	/* Reload CR3: flushes anything cached about the new entries. */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
	return EFI_SUCCESS;
}
