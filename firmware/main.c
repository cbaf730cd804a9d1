/* wisp-fw: a small UEFI-compatible firmware for wisp's virt machine. This is the boot
 * sequence, in order; each stage reports a progress code on port 0x80. CPL0, one CPU,
 * no interrupts, no SSE. See docs/firmware.md. */
#include "fw.h"

#include "platform/virt.h"

extern char __rt_code_start[], __rt_data_start[], __boot_data_start[], __image_end[];

static uint64_t addr(const char *p)
{
	return (uintptr_t)p;
}

/* The firmware's own pages, the loader's structures and modules, MMIO the runtime
 * services use: none of it is free memory. */
static void reserve(const struct fw_boot_info *bi)
{
	memmap_set(0, PAGES(VIRT_CMDLINE_ADDR + VIRT_CMDLINE_MAX), EfiBootServicesData);
	memmap_set(addr(__rt_code_start), PAGES(addr(__rt_data_start) - addr(__rt_code_start)),
		   EfiRuntimeServicesCode);
	memmap_set(addr(__rt_data_start), PAGES(addr(__boot_data_start) - addr(__rt_data_start)),
		   EfiRuntimeServicesData);
	memmap_set(addr(__boot_data_start), PAGES(addr(__image_end) - addr(__boot_data_start)),
		   EfiBootServicesData);
	for (unsigned int i = 0; i < bi->nr_modules; i++)
		memmap_set(bi->mod[i].addr, PAGES(bi->mod[i].size + (bi->mod[i].addr & 0xfff)),
			   EfiLoaderData);
	memmap_set(VIRT_GED_REGS_BASE, 1, EfiMemoryMappedIO);
	memmap_set(VIRT_PCI_ECAM_BASE, PAGES(VIRT_PCI_ECAM_SIZE), EfiMemoryMappedIO);
}

void fw_main(uint32_t start_info);
void fw_main(uint32_t start_info)
{
	static struct fw_boot_info bi;
	EFI_HANDLE fw_image = NULL;
	EFI_STATUS st;

	serial_init();
	post(POST_CONSOLE);
	printf("wisp-fw " WISP_VERSION "\n");
	cpu_setup_idt();

	if (pvh_parse(start_info, &bi))
		fw_die(EFI_LOAD_ERROR, "no PVH start info with a memory map");
	reserve(&bi);
	post(POST_MEMMAP);

	if (paging_map_ram(memmap_top()))
		fw_die(EFI_OUT_OF_RESOURCES, "cannot map RAM above 4 GiB");
	post(POST_PAGING);

	time_init();
	post(POST_TIME);

	boot_services_install(); /* allocator, protocol database, events, images */
	post(POST_ALLOC);
	if ((st = console_install(fw_st)) || (st = image_install_firmware(&fw_image)))
		fw_die(st, "cannot install the console or the firmware image");
	post(POST_SERVICES);

	tables_install(bi.rsdp);
	post(POST_TABLES);
	printf("wisp-fw: %lu MiB RAM, clock %s\n", memmap_top() >> 20, time_source());
	if (trace_word(bi.nr_modules && bi.mod[0].cmdline ? bi.mod[0].cmdline : bi.cmdline, NULL,
		       NULL))
		trace_install(fw_st);

	st = payload_boot(fw_image, &bi);
	fw_die(st ? st : EFI_SUCCESS, st ? "boot failed" : "the image returned");
}
