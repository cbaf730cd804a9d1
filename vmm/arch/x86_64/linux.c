/* Linux x86 64-bit boot protocol: bzImage, boot_params, initrd, command line.
 * Start-up and reset; the kernel file is untrusted input (checked, never trusted). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/virt.h"
#include "vm.h"
#include "x86.h"

/* Offsets into boot_params / the bzImage's first sector (Documentation/arch/x86/boot.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_SETUP_SECTS 0x1f1
#define BP_JUMP 0x200
#define BP_HDR_MAGIC 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PAYLOAD_OFFSET 0x248
#define BP_PAYLOAD_LENGTH 0x24c
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define XLF_KERNEL_64 0x1
#define BOOT_PROTO_MIN 0x20c /* 2.12: 64-bit entry and xloadflags */

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

int linux_is_bzimage(const uint8_t *hdr, size_t len)
{
	return len >= 0x270 && !memcmp(hdr + BP_HDR_MAGIC, "HdrS", 4);
}

static size_t setup_bytes(const uint8_t *k)
{
	return ((size_t)(k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4) + 1) * 512;
}

static int check_header(const uint8_t *k, size_t len, const char *path, char *err, size_t errlen)
{
	if (len < 0x400 || !linux_is_bzimage(k, len)) {
		snprintf(err, errlen, "wisp: -kernel %s: not a Linux kernel (bzImage or PVH ELF)",
			 path);
		return -ENOEXEC;
	}
	if (rd16(k, BP_VERSION) < BOOT_PROTO_MIN || !(rd16(k, BP_XLOADFLAGS) & XLF_KERNEL_64)) {
		snprintf(err, errlen,
			 "wisp: -kernel %s: needs boot protocol 2.12+ with a 64-bit entry point "
			 "(this one speaks %u.%02u)",
			 path, rd16(k, BP_VERSION) >> 8, rd16(k, BP_VERSION) & 0xff);
		return -ENOEXEC;
	}
	if (setup_bytes(k) >= len) {
		snprintf(err, errlen, "wisp: -kernel %s: truncated bzImage", path);
		return -ENOEXEC;
	}
	return 0;
}

static uint64_t kernel_addr(const uint8_t *k)
{
	uint64_t align = rd32(k, BP_KERNEL_ALIGNMENT);

	if (!k[BP_RELOCATABLE])
		return 0x100000; /* where a non-relocatable kernel was linked */
	if (align == 0 || (align & (align - 1)))
		align = 0x200000;
	return (VIRT_KERNEL_ADDR + align - 1) & ~(align - 1);
}

static int put_cmdline(const struct guest_mem *m, uint8_t *bp, const uint8_t *k,
		       const char *cmdline, char *err, size_t errlen)
{
	size_t n = strlen(cmdline), max = rd32(k, BP_CMDLINE_SIZE);
	char *dst = memory_gpa(m, VIRT_CMDLINE_ADDR, VIRT_CMDLINE_MAX);

	if (max == 0 || max > VIRT_CMDLINE_MAX - 1)
		max = VIRT_CMDLINE_MAX - 1;
	if (n > max) {
		snprintf(err, errlen, "wisp: -append: %zu bytes, the kernel takes at most %zu", n,
			 max);
		return -E2BIG;
	}
	memset(dst, 0, VIRT_CMDLINE_MAX);
	memcpy(dst, cmdline, n);
	wr32(bp, BP_CMD_LINE_PTR, VIRT_CMDLINE_ADDR);
	wr32(bp, BP_EXT_CMD_LINE_PTR, 0);
	return 0;
}

static void put_e820(const struct guest_mem *m, uint8_t *bp)
{
	struct e820_entry map[E820_MAX];
	int n = bootmem_e820(m, map);

	bp[BP_E820_ENTRIES] = n;
	memcpy(bp + BP_E820_TABLE, map, n * sizeof(map[0]));
}

/*
 * The kernel unpacked on the host (from wisp's cache after the first boot): its
 * segments go where they were linked and the boot vCPU enters startup_64 directly,
 * skipping the guest's decompressor. Return: 0, or -ENOTSUP to boot the bzImage.
 */
void linux_unpack(struct boot_images *img)
{
	const uint8_t *k = img->kernel.data;
	size_t len = img->kernel.len;
	uint64_t off, plen, max;
	uint8_t *elf;
	size_t elf_len;

	if (!linux_is_bzimage(k, len) || !k[BP_RELOCATABLE])
		return;
	off = setup_bytes(k) + rd32(k, BP_PAYLOAD_OFFSET);
	plen = rd32(k, BP_PAYLOAD_LENGTH);
	if (off > len || plen > len - off)
		return;
	/* However big init_size says the kernel is, a payload never unpacks past 1 GiB. */
	max = 4ULL * rd32(k, BP_INIT_SIZE) + (64 << 20);
	if (max > (1ULL << 30))
		max = 1ULL << 30;
	if (unpack_vmlinux(img->kernel.path, k + off, plen, max, &elf, &elf_len) == 0)
		img->vmlinux = (struct boot_file){img->kernel.path, elf, elf_len};
}

/*
 * The kernel unpacked on the host (from wisp's unpack cache): its segments go
 * where they were linked and the boot vCPU enters startup_64 directly, skipping
 * the guest's decompressor. Return: 0, or -ENOTSUP to boot the bzImage.
 */
static int place_unpacked(const struct guest_mem *m, const struct boot_images *img, uint64_t *entry,
			  uint64_t *end)
{
	struct elf_image elf;

	if (!img->vmlinux.len)
		return -ENOTSUP;
	/* Linked where the decompressor would put it, and entered at its start. */
	if (elf_load(m, img->vmlinux.data, img->vmlinux.len, &elf) || !elf.entry_loaded ||
	    elf.end > m->low_size || elf.entry != kernel_addr(img->kernel.data))
		return -ENOTSUP;
	*entry = elf.entry;
	*end = elf.end;
	return 0;
}

static int place(const struct guest_mem *m, const uint8_t *k, size_t len, const char *path,
		 uint64_t *load, char *err, size_t errlen)
{
	size_t setup = setup_bytes(k);
	uint64_t init = rd32(k, BP_INIT_SIZE), body = len - setup;
	void *dst;

	*load = kernel_addr(k);
	if (init < body)
		init = body;
	dst = memory_gpa(m, *load, init);
	if (!dst || *load + init > m->low_size) {
		snprintf(err, errlen,
			 "wisp: -kernel %s: needs guest RAM up to %llu MiB to unpack; raise -m",
			 path, (unsigned long long)((*load + init) >> 20) + 1);
		return -ENOMEM;
	}
	memcpy(dst, k + setup, body);
	memset((uint8_t *)dst + body, 0, init - body);
	return 0;
}

int linux_load(const struct guest_mem *m, const struct boot_images *img, struct boot_entry *e,
	       char *err, size_t errlen)
{
	const uint8_t *k = img->kernel.data;
	const char *path = img->kernel.path;
	uint8_t *bp = memory_gpa(m, VIRT_BOOT_PARAMS_ADDR, 4096);
	size_t len = img->kernel.len;
	uint64_t load, rd = 0, rdsz = 0, entry, end = 0;
	int ret = check_header(k, len, path, err, errlen);

	if (ret)
		return ret;
	load = kernel_addr(k);
	if (place_unpacked(m, img, &entry, &end) < 0) {
		ret = place(m, k, len, path, &load, err, errlen);
		entry = load + 0x200;
		end = load + rd32(k, BP_INIT_SIZE);
	}
	if (ret)
		return ret;
	memset(bp, 0, 4096);
	memcpy(bp + BP_HDR, k + BP_HDR, BP_JUMP + 2 + k[BP_JUMP + 1] - BP_HDR);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	memcpy(bp + BP_ACPI_RSDP_ADDR, &img->rsdp, 8);
	put_e820(m, bp);
	ret = put_cmdline(m, bp, k, img->cmdline, err, errlen);
	if (!ret && img->initrd.path) {
		uint64_t limit = (uint64_t)rd32(k, BP_INITRD_ADDR_MAX) + 1;

		ret = load_initrd(m, &img->initrd, end, limit, &rd, &rdsz, err, errlen);
	}
	if (ret)
		return ret;
	wr32(bp, BP_RAMDISK_IMAGE, (uint32_t)rd);
	wr32(bp, BP_RAMDISK_SIZE, (uint32_t)rdsz);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(rd >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(rdsz >> 32));
	*e = (struct boot_entry){.long_mode = true, .rip = entry, .rsi = VIRT_BOOT_PARAMS_ADDR};
	return 0;
}
