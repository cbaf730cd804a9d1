/* Host tests for the memory map, boot_params (bzImage) and PVH start info,
 * built against fake kernels written to temp files. No /dev/kvm needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "platform/virt.h"
#include "vm.h"
#include "x86.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct guest_mem mem(uint64_t size)
{
	struct guest_mem m;

	assert_int_equal(memory_init(&m, size), 0);
	return m;
}

static void test_gpa_accessor(void **state)
{
	struct guest_mem m = mem(4 * GiB);

	assert_int_equal(m.low_size, VIRT_MMIO_HOLE_BASE);
	assert_int_equal(memory_high_size(&m), 4 * GiB - VIRT_MMIO_HOLE_BASE);
	assert_non_null(memory_gpa(&m, 0, 4096));
	assert_non_null(memory_gpa(&m, VIRT_MMIO_HOLE_BASE - 1, 1));
	assert_null(memory_gpa(&m, VIRT_MMIO_HOLE_BASE - 1, 2)); /* crosses into the hole */
	assert_null(memory_gpa(&m, VIRT_MMIO_HOLE_BASE, 1));
	assert_null(memory_gpa(&m, VIRT_LAPIC_BASE, 4));
	assert_ptr_equal(memory_gpa(&m, VIRT_HIGH_RAM_BASE, 1), m.hva + m.low_size);
	assert_non_null(memory_gpa(&m, VIRT_HIGH_RAM_BASE + memory_high_size(&m) - 8, 8));
	assert_null(memory_gpa(&m, VIRT_HIGH_RAM_BASE + memory_high_size(&m) - 8, 9));
	assert_null(memory_gpa(&m, UINT64_MAX - 2, 8)); /* wraps past 2^64 */
	assert_null(memory_gpa(&m, 16, UINT64_MAX));
	assert_non_null(memory_gpa(&m, 0, 0));
	memory_free(&m);
}

static void check_map(const struct guest_mem *m)
{
	struct e820_entry e[E820_MAX];
	int n = bootmem_e820(m, e);
	uint64_t ram = 0;
	int ecam = 0;

	assert_true(n > 0 && n <= E820_MAX);
	for (int i = 0; i < n; i++) {
		if (i)
			assert_true(e[i].addr >=
				    e[i - 1].addr + e[i - 1].size); /* sorted, disjoint */
		if (e[i].type == E820_RESERVED && e[i].addr == VIRT_PCI_ECAM_BASE) {
			/* The one entry in the hole: the PCI ECAM, reserved. */
			assert_int_equal(e[i].size, VIRT_PCI_ECAM_SIZE);
			ecam++;
			continue;
		}
		assert_true(e[i].addr + e[i].size <= VIRT_MMIO_HOLE_BASE ||
			    e[i].addr >= VIRT_HIGH_RAM_BASE); /* never in the hole */
		if (e[i].type == E820_RAM)
			ram += e[i].size;
		else
			assert_true(e[i].addr >= VIRT_BIOS_AREA_BASE && e[i].addr < 0x100000);
		if (e[i].type == E820_ACPI)
			assert_int_equal(e[i].addr, VIRT_ACPI_BASE);
	}
	assert_int_equal(ecam, 1);
	/* All RAM but the 384 KiB legacy hole below 1 MiB is usable. */
	assert_int_equal(ram, m->size - (0x100000 - VIRT_BIOS_AREA_BASE));
}

static void test_e820(void **state)
{
	uint64_t sizes[] = {32 * MiB, 512 * MiB, 3 * GiB, 3 * GiB + 4096, 8 * GiB};

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct guest_mem m = mem(sizes[i]);

		check_map(&m);
		memory_free(&m);
	}
}

static void test_page_tables(void **state)
{
	struct guest_mem m = mem(64 * MiB);
	uint64_t *pml4 = memory_gpa(&m, VIRT_PML4_ADDR, 6 * 4096);
	uint64_t *pd = pml4 + 1024;

	assert_int_equal(bootmem_setup(&m), 0);
	assert_int_equal(pml4[0] & ~0xfffULL, VIRT_PML4_ADDR + 0x1000);
	/* Identity map: PD entry i maps 2 MiB page i, up to 4 GiB. */
	for (uint64_t i = 0; i < 2048; i += 97)
		assert_int_equal(pd[i], (i << 21) | 0x83);
	assert_int_equal(pd[2047] & ~0x1fffffULL, 4 * GiB - 2 * MiB);
	/* The reset vector: lidt cs:[0xffe0] of an all-zero descriptor, then int3. */
	assert_int_equal(bootmem_reset_stub(&m), 0);
	assert_memory_equal(memory_gpa(&m, 0xffff0, 7), "\x2e\x0f\x01\x1e\xe0\xff\xcc", 7);
	assert_memory_equal(memory_gpa(&m, 0xfffe0, 6), "\0\0\0\0\0\0", 6);
	memory_free(&m);
}

/* ---- bzImage boot protocol ---- */

static char *write_tmp(const void *buf, size_t len)
{
	char *path = strdup("/tmp/wisp-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	return path;
}

typedef int (*loader_fn)(const struct guest_mem *, const struct boot_images *, struct boot_entry *,
			 char *, size_t);

/* Map @kpath and @initrd as wisp does at start-up, then run @load. */
static int open_and_load(loader_fn load, const struct guest_mem *m, const char *kpath,
			 const char *initrd, const char *cmdline, struct boot_entry *e, char *err,
			 size_t errlen)
{
	struct boot_images img = {.cmdline = cmdline, .rsdp = VIRT_ACPI_BASE};
	int ret = boot_images_open(&img, "-kernel", kpath, initrd, err, errlen);

	if (!ret)
		ret = load(m, &img, e, err, errlen);
	boot_images_close(&img);
	return ret;
}

/* A fake bzImage: setup header + @body bytes of "kernel". */
static uint8_t *fake_bzimage(size_t *len, uint16_t version, uint16_t xlf)
{
	size_t setup_sects = 4, body = 64 * 1024;
	uint8_t *k = calloc(1, (setup_sects + 1) * 512 + body);
	uint32_t init_size = 4 * MiB, align = 2 * MiB, addr_max = 0x7fffffff, cmd_max = 2047;

	k[0x1f1] = setup_sects;
	k[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(k + 0x202, "HdrS", 4);
	memcpy(k + 0x206, &version, 2);
	memcpy(k + 0x22c, &addr_max, 4);
	memcpy(k + 0x230, &align, 4);
	k[0x234] = 1;
	memcpy(k + 0x236, &xlf, 2);
	memcpy(k + 0x238, &cmd_max, 4);
	memcpy(k + 0x260, &init_size, 4);
	memset(k + (setup_sects + 1) * 512, 0xab, body);
	*len = (setup_sects + 1) * 512 + body;
	return k;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static void test_linux_boot_params(void **state)
{
	struct guest_mem m = mem(128 * MiB);
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x20f, 1);
	uint8_t rd[5000];
	char *kpath = write_tmp(k, len), *rpath;
	struct boot_entry e;
	char err[256] = "";
	uint8_t *bp, *kern;
	uint64_t rsdp;

	memset(rd, 0x5a, sizeof(rd));
	rpath = write_tmp(rd, sizeof(rd));
	assert_int_equal(open_and_load(linux_load, &m, kpath, rpath, "console=ttyS0 quiet", &e, err,
				       sizeof(err)),
			 0);
	assert_true(e.long_mode);
	assert_int_equal(e.rip, VIRT_KERNEL_ADDR + 0x200);
	assert_int_equal(e.rsi, VIRT_BOOT_PARAMS_ADDR);
	bp = memory_gpa(&m, VIRT_BOOT_PARAMS_ADDR, 4096);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(bp[0x210], 0xff); /* type_of_loader */
	memcpy(&rsdp, bp + 0x70, 8);
	assert_int_equal(rsdp, VIRT_ACPI_BASE);
	assert_int_equal(rd32(bp, 0x228), VIRT_CMDLINE_ADDR);
	assert_string_equal(memory_gpa(&m, VIRT_CMDLINE_ADDR, 1), "console=ttyS0 quiet");
	/* initrd: page aligned, at the top of RAM, above the kernel's init_size. */
	assert_int_equal(rd32(bp, 0x21c), sizeof(rd));
	assert_int_equal(rd32(bp, 0x218) & 0xfff, 0);
	assert_true(rd32(bp, 0x218) >= VIRT_KERNEL_ADDR + 4 * MiB);
	assert_true(rd32(bp, 0x218) + sizeof(rd) <= 128 * MiB);
	assert_memory_equal(memory_gpa(&m, rd32(bp, 0x218), sizeof(rd)), rd, sizeof(rd));
	kern = memory_gpa(&m, VIRT_KERNEL_ADDR, 64 * 1024);
	assert_int_equal(kern[0], 0xab);
	assert_int_equal(kern[64 * 1024 - 1], 0xab);
	assert_true(bp[0x1e8] >= 4); /* e820 entries */
	unlink(kpath);
	unlink(rpath);
	free(kpath);
	free(rpath);
	free(k);
	memory_free(&m);
}

/* @load must refuse image @k with an error line containing @expect. */
static void expect_error(loader_fn load, uint8_t *k, size_t len, const char *initrd,
			 const char *cmdline, uint64_t ram, const char *expect)
{
	struct guest_mem m = mem(ram);
	char *kpath = write_tmp(k, len);
	struct boot_entry e;
	char err[256] = "";

	assert_true(open_and_load(load, &m, kpath, initrd, cmdline, &e, err, sizeof(err)) < 0);
	if (!strstr(err, expect))
		fail_msg("error \"%s\" lacks \"%s\"", err, expect);
	unlink(kpath);
	free(kpath);
	memory_free(&m);
}

static void expect_linux_error(uint8_t *k, size_t len, const char *initrd, const char *cmdline,
			       uint64_t ram, const char *expect)
{
	expect_error(linux_load, k, len, initrd, cmdline, ram, expect);
}

static void test_linux_refusals(void **state)
{
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x20f, 1);
	char big[4096];

	expect_linux_error(k, len, NULL, "", 8 * MiB, "needs guest RAM up to");
	expect_linux_error(k, len, "/nonexistent/initrd", "", 64 * MiB, "No such file");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	expect_linux_error(k, len, NULL, big, 64 * MiB, "the kernel takes at most 2047");
	free(k);
	k = fake_bzimage(&len, 0x20f, 0);
	expect_linux_error(k, len, NULL, "", 64 * MiB, "64-bit entry point");
	free(k);
	k = fake_bzimage(&len, 0x20a, 1);
	expect_linux_error(k, len, NULL, "", 64 * MiB, "speaks 2.10");
	memset(k + 0x202, 0, 4);
	expect_linux_error(k, len, NULL, "", 64 * MiB, "not a Linux kernel");
	expect_linux_error(k, 600, NULL, "", 64 * MiB, "not a Linux kernel");
	/* Found by fuzz_loaders: an empty file (nothing mapped) once reached the header. */
	expect_linux_error(k, 0, NULL, "", 64 * MiB, "not a Linux kernel");
	free(k);
}

static void test_initrd_too_big(void **state)
{
	size_t len;
	uint8_t *k = fake_bzimage(&len, 0x20f, 1);
	char *big = calloc(1, 40 * MiB), *rpath = write_tmp(big, 40 * MiB);

	/* 48 MiB of RAM: 16 MiB + 4 MiB for the kernel leaves 28 MiB. */
	expect_linux_error(k, len, rpath, "", 48 * MiB, "do not fit in guest RAM");
	unlink(rpath);
	free(rpath);
	free(big);
	free(k);
}

/* ---- bzImage unpacked on the host ---- */

/* A minimal vmlinux: one PT_LOAD of 0x3000 bytes at 16 MiB, entered at its start. */
static uint8_t *fake_vmlinux(size_t *len)
{
	uint8_t *f = calloc(1, 0x2000);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + 64);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_entry = VIRT_KERNEL_ADDR;
	eh->e_phoff = 64;
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf64_Phdr){.p_type = PT_LOAD,
			   .p_offset = 0x1000,
			   .p_paddr = VIRT_KERNEL_ADDR,
			   .p_filesz = 0x1000,
			   .p_memsz = 0x3000};
	memset(f + 0x1000, 0xee, 0x1000);
	*len = 0x2000;
	return f;
}

enum codec { XZ, GZIP, ZSTD, CORRUPT };

static size_t pack(enum codec c, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	uLongf zn = cap;
	z_stream z = {0};

	switch (c) {
	case XZ:
		assert_int_equal(
			lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, in, len, out, &n, cap),
			LZMA_OK);
		return n;
	case GZIP:
		assert_int_equal(
			deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			Z_OK);
		z.next_in = (uint8_t *)in;
		z.avail_in = len;
		z.next_out = out;
		z.avail_out = cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		zn = z.total_out;
		deflateEnd(&z);
		return zn;
	case ZSTD:
		n = ZSTD_compress(out, cap, in, len, 3);
		assert_false(ZSTD_isError(n));
		return n;
	default:
		n = pack(XZ, in, len, out, cap);
		out[n / 2] ^= 0x55; /* a lying payload */
		return n;
	}
}

/* A bzImage whose payload holds fake_vmlinux() compressed with @c. */
static uint8_t *bzimage_with_payload(enum codec c, size_t *len)
{
	size_t klen, elen, plen;
	uint8_t *k = fake_bzimage(&klen, 0x20f, 1), *elf = fake_vmlinux(&elen);
	uint8_t payload[0x4000];
	uint32_t off = 0x100, pl;

	plen = pack(c, elf, elen, payload, sizeof(payload));
	pl = plen;
	memcpy(k + 0x248, &off, 4);
	memcpy(k + 0x24c, &pl, 4);
	memcpy(k + 5 * 512 + off, payload, plen);
	free(elf);
	*len = klen;
	return k;
}

static uint64_t boot_entry_for(uint8_t *k, size_t len, struct guest_mem *m)
{
	char *kpath = write_tmp(k, len);
	struct boot_entry e;
	char err[256] = "";

	assert_int_equal(open_and_load(linux_load, m, kpath, NULL, "", &e, err, sizeof(err)), 0);
	unlink(kpath);
	free(kpath);
	return e.rip;
}

static void test_unpacked_kernel(void **state)
{
	char cache[] = "/tmp/wisp-cache-XXXXXX";
	enum codec codecs[] = {XZ, GZIP, ZSTD};

	assert_non_null(mkdtemp(cache));
	setenv("XDG_CACHE_HOME", cache, 1);
	for (unsigned int i = 0; i < 3; i++) {
		struct guest_mem m = mem(64 * MiB);
		size_t len;
		uint8_t *k = bzimage_with_payload(codecs[i], &len), *kern;

		/* Entered at the ELF's own entry, its segment loaded and bss zeroed. */
		assert_int_equal(boot_entry_for(k, len, &m), VIRT_KERNEL_ADDR);
		kern = memory_gpa(&m, VIRT_KERNEL_ADDR, 0x3000);
		assert_int_equal(kern[0], 0xee);
		assert_int_equal(kern[0x1000], 0);
		free(k);
		memory_free(&m);
	}
	/* A payload that does not unpack: the guest's own decompressor runs. */
	{
		struct guest_mem m = mem(64 * MiB);
		size_t len;
		uint8_t *k = bzimage_with_payload(CORRUPT, &len);

		assert_int_equal(boot_entry_for(k, len, &m), VIRT_KERNEL_ADDR + 0x200);
		free(k);
		memory_free(&m);
	}
	assert_int_equal(system("test $(ls -A $XDG_CACHE_HOME/wisp | grep -c '^vmlinux-') = 3"), 0);
	assert_int_equal(system("rm -rf $XDG_CACHE_HOME"), 0);
	unsetenv("XDG_CACHE_HOME");
}

static void test_unpacked_cache_hit(void **state)
{
	char cache[] = "/tmp/wisp-cache-XXXXXX";
	struct guest_mem m = mem(64 * MiB);
	size_t len;
	uint8_t *k = bzimage_with_payload(GZIP, &len);
	char *kpath = write_tmp(k, len);
	struct boot_entry e;
	char err[256];

	assert_non_null(mkdtemp(cache));
	setenv("XDG_CACHE_HOME", cache, 1);
	assert_int_equal(open_and_load(linux_load, &m, kpath, NULL, "", &e, err, sizeof(err)), 0);
	/* What a second boot reads is the cache: change it and the guest sees it. */
	assert_int_equal(
		system("f=$(ls $XDG_CACHE_HOME/wisp/vmlinux-*); "
		       "printf '\\252' | dd of=$f bs=1 seek=4096 conv=notrunc 2>/dev/null"),
		0);
	assert_int_equal(open_and_load(linux_load, &m, kpath, NULL, "", &e, err, sizeof(err)), 0);
	assert_int_equal(*(uint8_t *)memory_gpa(&m, VIRT_KERNEL_ADDR, 1), 0xaa);
	/* An unwritable cache: no unpacking on the host at all. */
	setenv("XDG_CACHE_HOME", "/proc/wisp-no-cache", 1);
	assert_int_equal(open_and_load(linux_load, &m, kpath, NULL, "", &e, err, sizeof(err)), 0);
	assert_int_equal(e.rip, VIRT_KERNEL_ADDR + 0x200);
	unsetenv("XDG_CACHE_HOME");
	setenv("XDG_CACHE_HOME", cache, 1);
	assert_int_equal(system("rm -rf $XDG_CACHE_HOME"), 0);
	unsetenv("XDG_CACHE_HOME");
	unlink(kpath);
	free(kpath);
	free(k);
	memory_free(&m);
}

/* ---- PVH ---- */

struct pvh_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

/* A minimal ELF64: one PT_LOAD at 1 MiB and one PT_NOTE with the PVH entry. */
static uint8_t *fake_pvh(size_t *len, bool with_note, uint64_t paddr)
{
	size_t sz = 0x1000 + 0x100;
	uint8_t *f = calloc(1, sz);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
	Elf64_Phdr *ph = (Elf64_Phdr *)(f + 64);
	uint32_t note[] = {4, 4, 18, 0x006e6558 /* "Xen\0" */, 0x100010};

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = 64;
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x1000,
			     .p_paddr = paddr,
			     .p_filesz = 0x100,
			     .p_memsz = 0x2000};
	ph[1] = (Elf64_Phdr){.p_type = with_note ? PT_NOTE : PT_NULL,
			     .p_offset = 0x200,
			     .p_filesz = sizeof(note)};
	memcpy(f + 0x200, note, sizeof(note));
	memset(f + 0x1000, 0xcd, 0x100);
	*len = sz;
	return f;
}

static void test_pvh_start_info(void **state)
{
	struct guest_mem m = mem(64 * MiB);
	size_t len;
	uint8_t *f = fake_pvh(&len, true, 0x100000), rd[100] = {1, 2, 3};
	char *path = write_tmp(f, len), *rpath = write_tmp(rd, sizeof(rd));
	struct boot_entry e;
	struct pvh_info *si;
	uint8_t *load;
	char err[256] = "";

	assert_int_equal(open_and_load(pvh_load, &m, path, rpath, "x=1", &e, err, sizeof(err)), 0);
	assert_false(e.long_mode);
	assert_int_equal(e.rip, 0x100010);
	assert_int_equal(e.rbx, VIRT_PVH_INFO_ADDR);
	si = memory_gpa(&m, VIRT_PVH_INFO_ADDR, sizeof(*si));
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->rsdp_paddr, VIRT_ACPI_BASE);
	assert_string_equal(memory_gpa(&m, si->cmdline_paddr, 1), "x=1");
	assert_int_equal(si->nr_modules, 1);
	assert_true(si->memmap_entries >= 4);
	load = memory_gpa(&m, 0x100000, 0x2000);
	assert_int_equal(load[0], 0xcd);
	assert_int_equal(load[0x100], 0); /* bss zeroed */
	unlink(path);
	unlink(rpath);
	free(path);
	free(rpath);
	free(f);
	memory_free(&m);
}

static void expect_pvh_error(uint8_t *f, size_t len, const char *expect)
{
	expect_error(pvh_load, f, len, NULL, "", 64 * MiB, expect);
}

static void test_pvh_refusals(void **state)
{
	size_t len;
	uint8_t *f = fake_pvh(&len, false, 0x100000);
	Elf64_Phdr *ph;

	expect_pvh_error(f, len, "without a PVH entry note");
	free(f);
	f = fake_pvh(&len, true, 64 * MiB - 0x1000); /* segment runs past RAM */
	expect_pvh_error(f, len, "outside guest RAM");
	free(f);
	f = fake_pvh(&len, true, UINT64_MAX - 0x1000); /* wraps */
	expect_pvh_error(f, len, "outside guest RAM");
	free(f);
	f = fake_pvh(&len, true, 0x100000);
	ph = (Elf64_Phdr *)(f + 64);
	ph[0].p_offset = UINT64_MAX - 8; /* file offset past the end */
	expect_pvh_error(f, len, "outside guest RAM");
	ph[0].p_offset = 0x1000;
	ph[1].p_filesz = 1ULL << 40; /* note larger than the file */
	expect_pvh_error(f, len, "without a PVH entry note");
	((Elf64_Ehdr *)f)->e_phnum = 60000; /* headers past the end */
	expect_pvh_error(f, len, "");
	expect_pvh_error(f, 10, "not a Linux kernel");
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpa_accessor),	cmocka_unit_test(test_e820),
		cmocka_unit_test(test_page_tables),	cmocka_unit_test(test_linux_boot_params),
		cmocka_unit_test(test_linux_refusals),	cmocka_unit_test(test_initrd_too_big),
		cmocka_unit_test(test_unpacked_kernel), cmocka_unit_test(test_unpacked_cache_hit),
		cmocka_unit_test(test_pvh_start_info),	cmocka_unit_test(test_pvh_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
