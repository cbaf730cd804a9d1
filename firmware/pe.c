/* PE32+ parsing, layout and base relocation. Input is hostile: every offset and size
 * is checked against the file or the image before use; nothing here allocates. */
#include "pe.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#define MACHINE_X64 0x8664
#define OPT_MAGIC_PE32PLUS 0x20b
#define FILE_RELOCS_STRIPPED 0x0001
#define DIR_BASERELOC 5
#define REL_ABSOLUTE 0
#define REL_HIGHLOW 3
#define REL_DIR64 10
#define SECTION_SIZE 40

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Does [off, off + n) lie within @limit? */
static bool inside(uint64_t off, uint64_t n, uint64_t limit)
{
	return off <= limit && n <= limit - off;
}

int pe_parse(const uint8_t *buf, size_t len, struct pe_info *pi, const char **why)
{
	uint32_t pe, opt, nr_dirs, opt_size;

	*why = NULL;
	if (!buf || len < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
		*why = "no MZ header";
	else if (!inside(pe = rd32(buf + 0x3c), 24, len) || rd32(buf + pe) != 0x00004550)
		*why = "no PE signature";
	if (*why)
		return -1;
	pi->machine = rd16(buf + pe + 4);
	pi->nr_sections = rd16(buf + pe + 6);
	opt_size = rd16(buf + pe + 20);
	pi->relocs_stripped = rd16(buf + pe + 22) & FILE_RELOCS_STRIPPED;
	opt = pe + 24;
	if (pi->machine != MACHINE_X64) {
		*why = "not an x86-64 image";
		return -1;
	}
	if (opt_size < 112 || !inside(opt, opt_size, len) ||
	    rd16(buf + opt) != OPT_MAGIC_PE32PLUS) {
		*why = "no PE32+ optional header";
		return -1;
	}
	pi->entry = rd32(buf + opt + 16);
	pi->image_base = rd64(buf + opt + 24);
	pi->section_align = rd32(buf + opt + 32);
	pi->size_of_image = rd32(buf + opt + 56);
	pi->size_of_headers = rd32(buf + opt + 60);
	pi->subsystem = rd16(buf + opt + 68);
	nr_dirs = rd32(buf + opt + 108);
	pi->reloc_rva = pi->reloc_size = 0;
	if (nr_dirs > DIR_BASERELOC && opt_size >= 112 + 8 * (DIR_BASERELOC + 1)) {
		pi->reloc_rva = rd32(buf + opt + 112 + 8 * DIR_BASERELOC);
		pi->reloc_size = rd32(buf + opt + 112 + 8 * DIR_BASERELOC + 4);
	}
	pi->sections_off = opt + opt_size;
	if (!pi->section_align || (pi->section_align & (pi->section_align - 1)) ||
	    pi->section_align > (1u << 21))
		*why = "section alignment not a power of two up to 2 MiB";
	else if (!pi->size_of_image || pi->size_of_image > (1u << 30))
		*why = "image size zero or over 1 GiB";
	else if (pi->size_of_headers > pi->size_of_image || pi->size_of_headers > len)
		*why = "headers larger than the image or the file";
	else if (!pi->entry || pi->entry >= pi->size_of_image)
		*why = "entry point outside the image";
	else if (!inside(pi->sections_off, (uint64_t)pi->nr_sections * SECTION_SIZE, len))
		*why = "section table outside the file";
	else if (pi->reloc_size && !inside(pi->reloc_rva, pi->reloc_size, pi->size_of_image))
		*why = "relocation directory outside the image";
	if (*why)
		return -1;
	for (unsigned int i = 0; i < pi->nr_sections; i++) {
		const uint8_t *s = buf + pi->sections_off + i * SECTION_SIZE;
		uint32_t vsize = rd32(s + 8), va = rd32(s + 12), raw = rd32(s + 16),
			 off = rd32(s + 20);
		uint32_t copy = vsize && vsize < raw ? vsize : raw;

		if (!inside(va, vsize > copy ? vsize : copy, pi->size_of_image)) {
			*why = "section outside the image";
			return -1;
		}
		if (copy && !inside(off, copy, len)) {
			*why = "section data outside the file";
			return -1;
		}
	}
	return 0;
}

int pe_copy(const uint8_t *buf, size_t len, const struct pe_info *pi, uint8_t *dst,
	    const char **why)
{
	memset(dst, 0, pi->size_of_image);
	memcpy(dst, buf, pi->size_of_headers);
	for (unsigned int i = 0; i < pi->nr_sections; i++) {
		const uint8_t *s = buf + pi->sections_off + i * SECTION_SIZE;
		uint32_t vsize = rd32(s + 8), va = rd32(s + 12), raw = rd32(s + 16),
			 off = rd32(s + 20);
		uint32_t copy = vsize && vsize < raw ? vsize : raw;

		/* pe_parse checked these; check again, the buffer may be another. */
		if (!inside(va, copy, pi->size_of_image) || (copy && !inside(off, copy, len))) {
			*why = "section outside the image or file";
			return -1;
		}
		memcpy(dst + va, buf + off, copy);
	}
	return 0;
}

int pe_relocate(uint8_t *dst, const struct pe_info *pi, uint64_t base, const char **why)
{
	uint64_t delta = base - pi->image_base;
	/* 64-bit: a directory of size 0 may claim any RVA (0xffffffff + 8 wraps in 32). */
	uint64_t at = pi->reloc_rva, end = at + pi->reloc_size;

	if (!delta)
		return 0;
	if (pi->relocs_stripped) {
		*why = "relocations stripped and the image cannot sit at its preferred base";
		return -1;
	}
	while (pi->reloc_size && at + 8 <= end) {
		uint32_t page = rd32(dst + at), size = rd32(dst + at + 4);

		if (size < 8 || size > end - at) {
			*why = "relocation block size out of range";
			return -1;
		}
		for (uint64_t e = at + 8; e + 2 <= at + size; e += 2) {
			uint16_t r = rd16(dst + e);
			uint64_t where = (uint64_t)page + (r & 0xfff);
			uint8_t *p = dst + where;

			switch (r >> 12) {
			case REL_ABSOLUTE:
				break;
			case REL_DIR64:
				if (!inside(where, 8, pi->size_of_image)) {
					*why = "relocation outside the image";
					return -1;
				}
				{
					uint64_t v = rd64(p) + delta;

					memcpy(p, &v, 8);
				}
				break;
			case REL_HIGHLOW:
				if (!inside(where, 4, pi->size_of_image)) {
					*why = "relocation outside the image";
					return -1;
				}
				{
					uint32_t v = rd32(p) + (uint32_t)delta;

					memcpy(p, &v, 4);
				}
				break;
			default:
				*why = "unsupported relocation type";
				return -1;
			}
		}
		at += size;
	}
	return 0;
}
