/* PVH boot: an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note, entered in 32-bit
 * protected mode with EBX = hvm_start_info. Start-up and reset; the ELF is untrusted. */
#include <elf.h>
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

#define XEN_ELFNOTE_PHYS32_ENTRY 18
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
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry map[E820_MAX];
};

struct elf {
	const uint8_t *p;
	size_t len;
};

static const void *at(const struct elf *f, uint64_t off, uint64_t len)
{
	return off <= f->len && len <= f->len - off ? f->p + off : NULL;
}

/* The PHYS32 entry from a PT_NOTE segment; 0 when absent. */
static uint32_t find_entry(const struct elf *f, const Elf64_Phdr *ph)
{
	uint64_t off = 0;

	if (!at(f, ph->p_offset, ph->p_filesz))
		return 0;
	while (off + sizeof(Elf64_Nhdr) <= ph->p_filesz) {
		const Elf64_Nhdr *n = at(f, ph->p_offset + off, sizeof(*n));
		uint64_t name = (n ? (n->n_namesz + 3ULL) & ~3ULL : 0);
		uint64_t desc = (n ? (n->n_descsz + 3ULL) & ~3ULL : 0);
		const uint32_t *d;
		const char *nm;

		if (!n)
			return 0;
		nm = at(f, ph->p_offset + off + sizeof(*n), 4);
		d = at(f, ph->p_offset + off + sizeof(*n) + name, 4);
		if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 && d && nm &&
		    !memcmp(nm, "Xen", 4))
			return *d;
		off += sizeof(*n) + name + desc;
	}
	return 0;
}

static int load_segments(const struct guest_mem *m, const struct elf *f, const Elf64_Ehdr *eh,
			 uint32_t *entry, uint64_t *end)
{
	*entry = 0;
	*end = 0;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph =
			at(f, eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(*ph));
		const void *src;
		uint8_t *dst;

		if (!ph)
			return -ENOEXEC;
		if (ph->p_type == PT_NOTE && !*entry)
			*entry = find_entry(f, ph);
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		src = at(f, ph->p_offset, ph->p_filesz);
		dst = memory_gpa(m, ph->p_paddr, ph->p_memsz);
		if (!src || !dst || ph->p_filesz > ph->p_memsz || ph->p_paddr < 0x100000)
			return -ERANGE;
		memcpy(dst, src, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr + ph->p_memsz > *end)
			*end = ph->p_paddr + ph->p_memsz;
	}
	return *entry ? 0 : -ENOEXEC;
}

static int read_elf(const char *path, struct elf *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1LL << 30)) {
		close(fd);
		return -ENOEXEC;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read_full(fd, buf, st.st_size) < 0) {
		free(buf);
		close(fd);
		return -EIO;
	}
	close(fd);
	f->p = buf;
	f->len = st.st_size;
	return 0;
}

static int fill_start_info(const struct guest_mem *m, const struct boot_images *img, uint64_t end,
			   char *err, size_t errlen)
{
	struct pvh_page *pg = memory_gpa(m, VIRT_PVH_INFO_ADDR, sizeof(*pg));
	struct e820_entry map[E820_MAX];
	char *cmd = memory_gpa(m, VIRT_CMDLINE_ADDR, VIRT_CMDLINE_MAX);
	size_t n = strlen(img->cmdline);
	int nr = bootmem_e820(m, map);

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
	if (img->initrd) {
		int ret = load_initrd(m, img->initrd, end, m->low_size, &pg->mod.paddr,
				      &pg->mod.size, err, errlen);

		if (ret)
			return ret;
		pg->info.nr_modules = 1;
		pg->info.modlist_paddr = VIRT_PVH_INFO_ADDR + offsetof(struct pvh_page, mod);
	}
	return 0;
}

int pvh_load(const struct guest_mem *m, const struct boot_images *img, struct boot_entry *e,
	     char *err, size_t errlen)
{
	struct elf f = {0};
	const Elf64_Ehdr *eh;
	uint32_t entry;
	uint64_t end;
	int ret = read_elf(img->kernel, &f);

	if (ret) {
		snprintf(err, errlen, "wisp: %s: %s", img->kernel, strerror(-ret));
		return ret;
	}
	eh = at(&f, 0, sizeof(*eh));
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64) {
		ret = -ENOEXEC;
		snprintf(err, errlen, "wisp: %s: not a Linux kernel (bzImage or PVH ELF)",
			 img->kernel);
		goto out;
	}
	ret = load_segments(m, &f, eh, &entry, &end);
	if (ret == -ENOEXEC)
		snprintf(err, errlen,
			 "wisp: %s: ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
			 img->kernel);
	else if (ret)
		snprintf(err, errlen,
			 "wisp: %s: ELF segments outside guest RAM (or below 1 MiB); raise -m?",
			 img->kernel);
	else
		ret = fill_start_info(m, img, end, err, errlen);
	if (!ret)
		*e = (struct boot_entry){
			.long_mode = false, .rip = entry, .rbx = VIRT_PVH_INFO_ADDR};
out:
	free((void *)f.p);
	return ret;
}
