/* ELF64 loading into guest RAM, for PVH images and unpacked vmlinux kernels.
 * Start-up and reset; the file is untrusted: every offset and size is checked. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "x86.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf {
	const uint8_t *p;
	size_t len;
};

static const void *at(const struct elf *f, uint64_t off, uint64_t len)
{
	return off <= f->len && len <= f->len - off ? f->p + off : NULL;
}

/* The PHYS32 entry from a PT_NOTE segment; 0 when absent. */
static uint32_t find_pvh_entry(const struct elf *f, const Elf64_Phdr *ph)
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

static int load_segment(const struct guest_mem *m, const struct elf *f, const Elf64_Phdr *ph,
			struct elf_image *img)
{
	const void *src = at(f, ph->p_offset, ph->p_filesz);
	uint8_t *dst = memory_gpa(m, ph->p_paddr, ph->p_memsz);

	if (!src || !dst || ph->p_filesz > ph->p_memsz || ph->p_paddr < 0x100000)
		return -ERANGE;
	memcpy(dst, src, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	if (ph->p_paddr + ph->p_memsz > img->end)
		img->end = ph->p_paddr + ph->p_memsz;
	if (img->entry >= ph->p_paddr && img->entry - ph->p_paddr < ph->p_memsz)
		img->entry_loaded = true;
	return 0;
}

int elf_load(const struct guest_mem *m, const uint8_t *p, size_t len, struct elf_image *img)
{
	struct elf f = {p, len};
	const Elf64_Ehdr *eh = at(&f, 0, sizeof(*eh));

	*img = (struct elf_image){0};
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64)
		return -ENOEXEC;
	img->entry = eh->e_entry;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph =
			at(&f, eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(*ph));
		int ret;

		if (!ph || eh->e_phentsize < sizeof(*ph))
			return -ERANGE;
		if (ph->p_type == PT_NOTE && !img->pvh_entry)
			img->pvh_entry = find_pvh_entry(&f, ph);
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if ((ret = load_segment(m, &f, ph, img)))
			return ret;
	}
	return 0;
}
