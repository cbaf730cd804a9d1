/* The PVH hand-off: hvm_start_info (version 1) from wisp or another PVH loader.
 * Start-up only; the structure is trusted as far as the loader is (it wrote our image). */
#include "fw.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

int pvh_parse(uint32_t addr, struct fw_boot_info *bi)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)addr;
	const struct hvm_memmap_entry *mm;
	const struct hvm_modlist_entry *mods;

	memset(bi, 0, sizeof(*bi));
	if (!addr || si->magic != HVM_START_MAGIC)
		return -1;
	bi->rsdp = si->rsdp_paddr;
	bi->cmdline = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : NULL;
	mods = (const void *)(uintptr_t)si->modlist_paddr;
	for (uint32_t i = 0; mods && i < si->nr_modules && i < ARRAY_SIZE(bi->mod); i++) {
		bi->mod[i].addr = mods[i].paddr;
		bi->mod[i].size = mods[i].size;
		bi->mod[i].cmdline = mods[i].cmdline_paddr
					     ? (const char *)(uintptr_t)mods[i].cmdline_paddr
					     : NULL;
		bi->nr_modules = i + 1;
	}
	/* Version 0 has no memory map; QEMU's and wisp's loaders write version 1. */
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		return -1;
	mm = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++)
		memmap_add_e820(mm[i].addr, mm[i].size, mm[i].type);
	return 0;
}
