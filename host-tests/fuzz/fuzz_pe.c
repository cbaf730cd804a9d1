/* libFuzzer target: wisp-fw's PE32+ loader (firmware/pe.c: parse, lay out, relocate)
 * on hostile files. Before fuzzing, a self-test builds a small valid image, checks that
 * it loads and relocates exactly, and that each of a list of malformations is refused
 * with the right reason; any mismatch aborts (the fuzz run fails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../firmware/pe.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_IMAGE (4u << 20) /* larger images are parsed, not laid out */

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* A minimal EFI application: headers in 0x200 bytes, one .text section (file 0x200,
 * RVA 0x1000, 0x200 bytes) holding a DIR64 slot at 0x1010 and a HIGHLOW slot at
 * 0x1020, one .reloc section (file 0x400, RVA 0x2000) with one block for page 0x1000. */
enum { F_LEN = 0x600, PE_OFF = 0x80, OPT = PE_OFF + 24, SECT = OPT + 240 };
static const uint64_t BASE = 0x140000000ULL;

static void build(uint8_t *f)
{
	memset(f, 0, F_LEN);
	f[0] = 'M', f[1] = 'Z';
	wr32(f + 0x3c, PE_OFF);
	memcpy(f + PE_OFF, "PE\0\0", 4);
	wr16(f + PE_OFF + 4, 0x8664);
	wr16(f + PE_OFF + 6, 2);    /* sections */
	wr16(f + PE_OFF + 20, 240); /* optional header size: 112 + 16 directories */
	wr16(f + PE_OFF + 22, 0x22);
	wr16(f + OPT, 0x20b);
	wr32(f + OPT + 16, 0x1000); /* entry */
	wr64(f + OPT + 24, BASE);
	wr32(f + OPT + 32, 0x1000); /* section alignment */
	wr32(f + OPT + 36, 0x200);  /* file alignment */
	wr32(f + OPT + 56, 0x3000); /* size of image */
	wr32(f + OPT + 60, 0x200);  /* size of headers */
	wr16(f + OPT + 68, PE_SUBSYSTEM_EFI_APP);
	wr32(f + OPT + 108, 16);
	wr32(f + OPT + 112 + 8 * 5, 0x2000); /* base relocation directory */
	wr32(f + OPT + 112 + 8 * 5 + 4, 12);
	memcpy(f + SECT, ".text", 5);
	wr32(f + SECT + 8, 0x200);
	wr32(f + SECT + 12, 0x1000);
	wr32(f + SECT + 16, 0x200);
	wr32(f + SECT + 20, 0x200);
	memcpy(f + SECT + 40, ".reloc", 6);
	wr32(f + SECT + 40 + 8, 12);
	wr32(f + SECT + 40 + 12, 0x2000);
	wr32(f + SECT + 40 + 16, 0x200);
	wr32(f + SECT + 40 + 20, 0x400);
	f[0x200] = 0xc3;
	wr64(f + 0x210, BASE + 0x1234);
	wr32(f + 0x220, (uint32_t)BASE + 0x5678);
	wr32(f + 0x400, 0x1000); /* block: page, size, two entries */
	wr32(f + 0x404, 12);
	wr16(f + 0x408, (uint16_t)(REL_DIR64 << 12 | 0x010));
	wr16(f + 0x40a, (uint16_t)(REL_HIGHLOW << 12 | 0x020));
}

static void fail(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_pe self-test: %s (%s)\n", what, why ? why : "no reason");
	abort();
}

/* Load @f (@len bytes) at @base; expect @want as the reason (NULL: success). */
static void expect(const uint8_t *f, size_t len, uint64_t base, const char *want, const char *what)
{
	static uint8_t img[0x3000];
	struct pe_info pi;
	const char *why = NULL;
	int r = pe_parse(f, len, &pi, &why);

	if (!r && pi.size_of_image <= sizeof(img)) {
		r = pe_copy(f, len, &pi, img, &why);
		if (!r)
			r = pe_relocate(img, &pi, base, &why);
	}
	if (!want && r)
		fail(what, why);
	if (want && (!r || !why || strcmp(why, want)))
		fail(what, r ? why : "accepted");
	if (!want && base == BASE + 0x100000) {
		uint8_t v8[8], v4[4];

		wr64(v8, BASE + 0x100000 + 0x1234);
		wr32(v4, (uint32_t)(BASE + 0x100000) + 0x5678);
		if (memcmp(img + 0x1010, v8, 8) || memcmp(img + 0x1020, v4, 4) ||
		    img[0x1000] != 0xc3 || img[0x1fff] || img[0x2000] != 0x00 || img[0x2004] != 12)
			fail(what, "relocated image differs");
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static uint8_t f[F_LEN];

	build(f);
	expect(f, F_LEN, BASE, NULL, "valid image at its base");
	expect(f, F_LEN, BASE + 0x100000, NULL, "valid image relocated");
#define BAD(stmt, want)                                                                            \
	do {                                                                                       \
		build(f);                                                                          \
		stmt;                                                                              \
		expect(f, F_LEN, BASE + 0x100000, want, #stmt);                                    \
	} while (0)
	BAD(f[1] = 'X', "no MZ header");
	BAD(wr32(f + 0x3c, F_LEN - 8), "no PE signature");
	BAD(wr32(f + 0x3c, 0xfffffff0), "no PE signature");
	BAD(wr16(f + PE_OFF + 4, 0x14c), "not an x86-64 image");
	BAD(wr16(f + OPT, 0x10b), "no PE32+ optional header");
	BAD(wr16(f + PE_OFF + 20, 100), "no PE32+ optional header");
	BAD(wr32(f + OPT + 32, 0x3000), "section alignment not a power of two up to 2 MiB");
	BAD(wr32(f + OPT + 32, 0), "section alignment not a power of two up to 2 MiB");
	BAD(wr32(f + OPT + 32, 1u << 22), "section alignment not a power of two up to 2 MiB");
	BAD(wr32(f + OPT + 56, 0), "image size zero or over 1 GiB");
	BAD(wr32(f + OPT + 60, 0x4000), "headers larger than the image or the file");
	BAD(wr32(f + OPT + 16, 0x3000), "entry point outside the image");
	BAD(wr32(f + OPT + 16, 0), "entry point outside the image");
	BAD(wr16(f + PE_OFF + 6, 0xffff), "section table outside the file");
	BAD(wr32(f + OPT + 112 + 8 * 5, 0x2ffc), "relocation directory outside the image");
	BAD(wr32(f + SECT + 12, 0x2f00), "section outside the image");
	BAD(wr32(f + SECT + 8, 0xffffffff), "section outside the image");
	BAD(wr32(f + SECT + 20, F_LEN - 0x100), "section data outside the file");
	BAD(wr32(f + 0x404, 4), "relocation block size out of range");
	BAD(wr32(f + 0x404, 0x100), "relocation block size out of range");
	BAD((wr32(f + 0x400, 0x2000), wr16(f + 0x408, (uint16_t)(REL_DIR64 << 12 | 0xffc))),
	    "relocation outside the image");
	BAD((wr32(f + 0x400, 0x2ffc), wr16(f + 0x408, 0),
	     wr16(f + 0x40a, (uint16_t)(REL_HIGHLOW << 12 | 0x002))),
	    "relocation outside the image");
	BAD(wr16(f + 0x408, (uint16_t)(4 << 12 | 0x010)), "unsupported relocation type");
	BAD(wr16(f + PE_OFF + 22, 0x23), "relocations stripped and the image cannot sit at its "
					 "preferred base");
#undef BAD
	/* An empty relocation directory may claim any RVA: nothing to apply (this one
	 * once made pe_relocate read at image + 0xffffffff). */
	build(f);
	wr32(f + OPT + 112 + 8 * 5, 0xffffffff);
	wr32(f + OPT + 112 + 8 * 5 + 4, 0);
	expect(f, F_LEN, BASE + 0x200000, NULL, "empty relocation directory at RVA 0xffffffff");
	/* Stripped relocations are fine at the preferred base. */
	build(f);
	wr16(f + PE_OFF + 22, 0x23);
	expect(f, F_LEN, BASE, NULL, "stripped image at its base");
	/* A truncated file: refused until it holds the .reloc section's 12 bytes at 0x400
	 * (its virtual size; the rest of the raw size is padding), never read beyond. */
	build(f);
	for (size_t n = 0; n < F_LEN; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct pe_info pi;
		const char *why;

		memcpy(copy, f, n);
		if (!pe_parse(copy, n, &pi, &why) != (n >= 0x40c))
			fail("a truncated file parsed, or a whole one did not", why);
		free(copy);
	}
	(void)argc, (void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_info pi;
	const char *why = NULL;
	uint8_t *img;

	if (pe_parse(data, size, &pi, &why)) {
		if (!why)
			abort(); /* a refusal always says why */
		return 0;
	}
	if (pi.entry >= pi.size_of_image || pi.size_of_headers > size ||
	    pi.size_of_headers > pi.size_of_image)
		abort();
	if (pi.size_of_image > MAX_IMAGE)
		return 0;
	img = malloc(pi.size_of_image);
	if (!img)
		return 0;
	if (!pe_copy(data, size, &pi, img, &why)) {
		/* Two load addresses: the preferred one, and one the input picks. */
		uint64_t base = pi.image_base + ((uint64_t)(size & 0xff) << 16);

		pe_relocate(img, &pi, base, &why);
		pe_relocate(img, &pi, pi.image_base ^ 0xfff00000ULL, &why);
	}
	free(img);
	return 0;
}
