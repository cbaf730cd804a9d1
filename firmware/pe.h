/* PE32+ images: parse, copy into place, relocate. Pure functions over untrusted bytes
 * (no firmware state), so host-tests can feed them anything. */
#ifndef WISP_FW_PE_H
#define WISP_FW_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_SUBSYSTEM_EFI_APP 10
#define PE_SUBSYSTEM_EFI_BS_DRIVER 11
#define PE_SUBSYSTEM_EFI_RT_DRIVER 12

struct pe_info {
	uint64_t image_base;
	uint32_t size_of_image, size_of_headers, entry, section_align;
	uint32_t reloc_rva, reloc_size;
	uint32_t sections_off; /* file offset of the section table */
	uint16_t machine, subsystem, nr_sections;
	bool relocs_stripped;
};

/**
 * pe_parse() - check @buf (@len bytes) is an x86-64 PE32+ image whose headers,
 * sections and relocation directory are consistent, and describe it in @pi.
 * Return: 0, or -1 with *@why naming what is wrong.
 */
int pe_parse(const uint8_t *buf, size_t len, struct pe_info *pi, const char **why);

/**
 * pe_copy() - lay the image out at @dst (pi->size_of_image bytes): headers and
 * sections copied, everything else zeroed. Return: 0 or -1 with *@why.
 */
int pe_copy(const uint8_t *buf, size_t len, const struct pe_info *pi, uint8_t *dst,
	    const char **why);

/**
 * pe_relocate() - apply the base relocations of the image at @dst for a load address
 * of @base. Return: 0, or -1 with *@why (unknown relocation type, entry outside the image,
 * or relocations needed but stripped).
 */
int pe_relocate(uint8_t *dst, const struct pe_info *pi, uint64_t base, const char **why);

#endif
