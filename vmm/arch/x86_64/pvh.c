/* PVH boot: an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note, entered in 32-bit
 * protected mode with EBX = hvm_start_info. Start-up and reset; the ELF is untrusted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/virt.h"
#include "vm.h"
#include "x86.h"

#define HVM_START_MAGIC 0x336ec578

/* Xen's public arch-x86/hvm/start_info.h, version 1. */
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

struct pvh_page {
	struct hvm_start_info info;
	struct hvm_modlist_entry mod[2];
	struct hvm_memmap_entry map[E820_MAX];
};

static int fill_start_info(const struct guest_mem *m, const struct boot_images *img, uint64_t end,
			   char *err, size_t errlen)
{
	struct pvh_page *pg = memory_gpa(m, VIRT_PVH_INFO_ADDR, sizeof(*pg));
	struct e820_entry map[E820_MAX];
	char *cmd = memory_gpa(m, VIRT_CMDLINE_ADDR, VIRT_CMDLINE_MAX);
	size_t n = strlen(img->cmdline);
	int nr = bootmem_e820(m, map);
	uint64_t limit = m->low_size;

	if (n >= VIRT_CMDLINE_MAX) {
		snprintf(err, errlen, "wisp: -append: %zu bytes, at most %d", n,
			 VIRT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memset(pg, 0, sizeof(*pg));
	memset(cmd, 0, VIRT_CMDLINE_MAX);
	memcpy(cmd, img->cmdline, n);
	pg->info = (struct hvm_start_info){.magic = HVM_START_MAGIC,
					   .version = 1,
					   .cmdline_paddr = VIRT_CMDLINE_ADDR,
					   .rsdp_paddr = img->rsdp,
					   .memmap_paddr = VIRT_PVH_INFO_ADDR +
							   offsetof(struct pvh_page, map),
					   .memmap_entries = nr};
	for (int i = 0; i < nr; i++)
		pg->map[i] = (struct hvm_memmap_entry){map[i].addr, map[i].size, map[i].type, 0};
	/* Firmware boot: the payload at the top of low RAM is module 0 and owns the
	 * command line; the initrd (module 1) goes right below it. */
	if (img->payload.len) {
		struct boot_file pf = img->payload;
		int ret;

		pf.path = "(-kernel for -bios)";
		ret = load_initrd(m, &pf, end, m->low_size, &pg->mod[0].paddr, &pg->mod[0].size,
				  err, errlen);
		if (ret) {
			snprintf(err, errlen,
				 "wisp: -kernel %s: %zu bytes do not fit in guest RAM with the "
				 "firmware; raise -m",
				 img->payload.path, img->payload.len);
			return ret;
		}
		pg->mod[0].cmdline_paddr = VIRT_CMDLINE_ADDR;
		pg->info.cmdline_paddr = 0;
		limit = pg->mod[0].paddr;
	}
	if (img->initrd.path) {
		struct hvm_modlist_entry *mod = &pg->mod[img->payload.len ? 1 : 0];
		int ret = load_initrd(m, &img->initrd, end, limit, &mod->paddr, &mod->size, err,
				      errlen);

		if (ret)
			return ret;
	}
	pg->info.nr_modules = !!img->payload.len + !!img->initrd.path;
	if (pg->info.nr_modules)
		pg->info.modlist_paddr = VIRT_PVH_INFO_ADDR + offsetof(struct pvh_page, mod);
	return 0;
}

int pvh_load(const struct guest_mem *m, const struct boot_images *img, struct boot_entry *e,
	     char *err, size_t errlen)
{
	const char *path = img->kernel.path;
	struct elf_image elf;
	int ret = elf_load(m, img->kernel.data, img->kernel.len, &elf);

	if (ret == -ENOEXEC)
		snprintf(err, errlen, "wisp: %s: not a Linux kernel (bzImage or PVH ELF)", path);
	else if (ret)
		snprintf(err, errlen,
			 "wisp: %s: ELF segments outside guest RAM (or below 1 MiB); raise -m?",
			 path);
	else if (!elf.pvh_entry)
		snprintf(err, errlen,
			 "wisp: %s: ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)", path);
	else
		ret = fill_start_info(m, img, elf.end, err, errlen);
	if (!ret && !elf.pvh_entry)
		ret = -ENOEXEC;
	if (!ret)
		*e = (struct boot_entry){
			.long_mode = false, .rip = elf.pvh_entry, .rbx = VIRT_PVH_INFO_ADDR};
	return ret;
}
