/* The guest memory map, boot GDT and identity page tables.
 * Start-up and reset only; input is the RAM size chosen on the command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/virt.h"
#include "x86.h"

int bootmem_e820(const struct guest_mem *m, struct e820_entry *out)
{
	int n = 0;

	out[n++] = (struct e820_entry){0, VIRT_BIOS_AREA_BASE, E820_RAM};
	out[n++] = (struct e820_entry){VIRT_BIOS_AREA_BASE, VIRT_ACPI_BASE - VIRT_BIOS_AREA_BASE,
				       E820_RESERVED};
	out[n++] = (struct e820_entry){VIRT_ACPI_BASE, VIRT_ACPI_SIZE, E820_ACPI};
	if (m->low_size > 0x100000)
		out[n++] = (struct e820_entry){0x100000, m->low_size - 0x100000, E820_RAM};
	/* The ECAM is also a PNP0C02 resource in the DSDT, which is what the PCI
	 * Firmware spec asks for; Linux checks E820 as well when it finds port
	 * 0xCF8 (docs/acpi.md). */
	out[n++] = (struct e820_entry){VIRT_PCI_ECAM_BASE, VIRT_PCI_ECAM_SIZE, E820_RESERVED};
	if (memory_high_size(m))
		out[n++] = (struct e820_entry){VIRT_HIGH_RAM_BASE, memory_high_size(m), E820_RAM};
	return n;
}

/* Flat segments: 0x08 32-bit code, 0x10 64-bit code, 0x18 data, 0x20 TSS. */
static const uint64_t boot_gdt[] = {
	0,
	0x00cf9b000000ffffULL,
	0x00af9b000000ffffULL,
	0x00cf93000000ffffULL,
	0x00008b0000000067ULL,
};

/*
 * At the real-mode reset vector (F000:FFF0), for kernels that reboot by jumping
 * there (Linux does, after EFI reboot is chosen for a hardware-reduced platform
 * without EFI): load an empty IDT and trap, so the CPU shuts down and wisp resets
 * the machine as for any triple fault. The empty IDT descriptor sits at 0xFFFE0.
 */
static const uint8_t reset_stub[32] = {
	[16] = 0x2e, 0x0f, 0x01, 0x1e, 0xe0, 0xff, /* lidt cs:[0xffe0] */
	0xcc,					   /* int3: no IDT, so shutdown */
	0xeb,	     0xfe,			   /* jmp . */
};

int bootmem_reset_stub(const struct guest_mem *m)
{
	void *p = memory_gpa(m, VIRT_RESET_STUB_ADDR, sizeof(reset_stub));

	if (!p)
		return -ENOMEM;
	memcpy(p, reset_stub, sizeof(reset_stub));
	return 0;
}

int bootmem_setup(const struct guest_mem *m)
{
	uint64_t *pml4 = memory_gpa(m, VIRT_PML4_ADDR, 6 * 4096);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	void *gdt = memory_gpa(m, VIRT_BOOT_GDT_ADDR, sizeof(boot_gdt));

	if (!pml4 || !gdt)
		return -ENOMEM;
	memcpy(gdt, boot_gdt, sizeof(boot_gdt));
	memset(pml4, 0, 6 * 4096);
	pml4[0] = (VIRT_PML4_ADDR + 0x1000) | 0x3; /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (VIRT_PML4_ADDR + 0x2000 + i * 0x1000) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB */
	return 0;
}

int load_initrd(const struct guest_mem *m, const struct boot_file *f, uint64_t floor,
		uint64_t limit, uint64_t *gpa, uint64_t *size, char *err, size_t errlen)
{
	uint64_t top = limit < m->low_size ? limit : m->low_size;
	uint64_t at = (top - f->len) & ~0xfffULL;
	void *dst;

	if (f->len > top || at < floor || !(dst = memory_gpa(m, at, f->len))) {
		snprintf(err, errlen,
			 "wisp: -initrd %s: %zu bytes do not fit in guest RAM (room: %llu bytes); "
			 "raise -m",
			 f->path, f->len, (unsigned long long)(top > floor ? top - floor : 0));
		return -E2BIG;
	}
	memcpy(dst, f->data, f->len);
	*gpa = at;
	*size = f->len;
	return 0;
}

/* Map @path read-only. Return: 0, -ENOEXEC when not a regular file (or over
 * 1 GiB), or -errno. */
static int map_file(const char *path, struct boot_file *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	struct stat st;

	f->path = path;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1LL << 30)) {
		ret = -ENOEXEC;
	} else if (st.st_size > 0) {
		void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (p == MAP_FAILED)
			ret = -errno;
		else
			f->data = p, f->len = st.st_size;
	}
	close(fd);
	return ret;
}

int boot_images_open(struct boot_images *img, const char *opt, const char *kernel,
		     const char *initrd, char *err, size_t errlen)
{
	int ret = map_file(kernel, &img->kernel);

	if (ret == -ENOEXEC)
		snprintf(err, errlen, "wisp: %s %s: not a Linux kernel (bzImage or PVH ELF)", opt,
			 kernel);
	else if (ret)
		snprintf(err, errlen, "wisp: %s %s: %s", opt, kernel, strerror(-ret));
	if (!ret && initrd) {
		ret = map_file(initrd, &img->initrd);
		if (ret == -ENOEXEC)
			snprintf(err, errlen, "wisp: -initrd %s: not a regular file", initrd);
		else if (ret)
			snprintf(err, errlen, "wisp: -initrd %s: %s", initrd, strerror(-ret));
	}
	if (!ret)
		linux_unpack(img);
	return ret;
}

int boot_images_open_payload(struct boot_images *img, const char *path, char *err, size_t errlen)
{
	int ret = map_file(path, &img->payload);

	if (ret == -ENOEXEC)
		snprintf(err, errlen, "wisp: -kernel %s: not a regular file (or over 1 GiB)", path);
	else if (ret)
		snprintf(err, errlen, "wisp: -kernel %s: %s", path, strerror(-ret));
	return ret;
}

void boot_images_close(struct boot_images *img)
{
	struct boot_file *files[] = {&img->kernel, &img->initrd, &img->vmlinux, &img->payload};

	for (int i = 0; i < 4; i++) {
		if (files[i]->len)
			munmap((void *)files[i]->data, files[i]->len);
		*files[i] = (struct boot_file){0};
	}
}
