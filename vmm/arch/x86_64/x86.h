/* x86-64 specifics: CPUID, boot registers, the memory map and the two kernel
 * boot protocols. Start-up and reset only; inputs are files and the config. */
#ifndef WISP_X86_H
#define WISP_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memory.h"

struct kvm_cpuid2;
struct boot_entry;

/* E820 / PVH memory map entry types. */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX 8

/**
 * bootmem_e820() - the guest memory map for @m.
 * Return: number of entries written to @out (at most E820_MAX).
 */
int bootmem_e820(const struct guest_mem *m, struct e820_entry *out);

/**
 * bootmem_setup() - write the boot GDT and identity page tables (first 4 GiB,
 * 2 MiB pages) into low RAM. Return: 0 or -ENOMEM when RAM is too small.
 */
int bootmem_setup(const struct guest_mem *m);

/**
 * bootmem_reset_stub() - put a real-mode stub at the reset vector that makes the
 * CPU shut down (so wisp resets the machine). Return: 0 or -ENOMEM.
 */
int bootmem_reset_stub(const struct guest_mem *m);

/* What a loaded image asks of the loader. */
/* A file mapped read-only once, at start-up: resets copy from here again, so
 * they touch no file (and work in a sandbox, a chroot, as another user). */
struct boot_file {
	const char *path;
	const uint8_t *data;
	size_t len;
};

struct boot_images {
	struct boot_file kernel;  /* -kernel, or -bios */
	struct boot_file initrd;  /* len 0 when there is none */
	struct boot_file vmlinux; /* a bzImage's kernel unpacked (unpack cache), or len 0 */
	struct boot_file payload; /* -kernel given with -bios: PVH module 0 for the firmware */
	const char *cmdline;
	uint64_t rsdp; /* guest address of the RSDP */
};

/**
 * boot_images_open() - map @kernel and @initrd (NULL: none) and, for a bzImage,
 * its unpacked kernel from the unpack cache. @opt names the kernel's option in
 * messages ("-kernel" or "-bios").
 * Return: 0, or -errno with @err filled (missing file, not a regular file).
 */
int boot_images_open(struct boot_images *img, const char *opt, const char *kernel,
		     const char *initrd, char *err, size_t errlen);

/**
 * boot_images_open_payload() - map @path (the -kernel given together with -bios)
 * into @img->payload, which pvh_load() hands to the firmware as PVH module 0.
 * Return: 0, or -errno with @err filled.
 */
int boot_images_open_payload(struct boot_images *img, const char *path, char *err, size_t errlen);

/** boot_images_close() - unmap everything. Safe on a zeroed structure. */
void boot_images_close(struct boot_images *img);

/**
 * linux_unpack() - for a bzImage whose payload wisp can unpack: map the vmlinux
 * from the unpack cache (unpacking and storing it first if needed) into
 * @img->vmlinux. Leaves it empty otherwise.
 */
void linux_unpack(struct boot_images *img);

/**
 * linux_is_bzimage() - does @hdr (the file's first bytes, @len long) carry the
 * Linux x86 boot protocol header?
 */
int linux_is_bzimage(const uint8_t *hdr, size_t len);

/**
 * linux_load() - load a bzImage by the 64-bit boot protocol: protected-mode
 * kernel, boot_params (e820, command line, initrd, acpi_rsdp_addr).
 * @err: one line on failure. Return: 0 or -errno.
 */
int linux_load(const struct guest_mem *m, const struct boot_images *img, struct boot_entry *e,
	       char *err, size_t errlen);

/**
 * pvh_load() - load an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note and fill
 * hvm_start_info (memory map, command line, initrd as module 0, RSDP). With a
 * payload (firmware boot, docs/firmware.md): module 0 is the payload with the
 * command line as its cmdline, module 1 the initrd, and the start info carries
 * no command line of its own.
 * Return: 0, -ENOEXEC when the file is no PVH ELF, or another -errno.
 */
int pvh_load(const struct guest_mem *m, const struct boot_images *img, struct boot_entry *e,
	     char *err, size_t errlen);

/**
 * load_initrd() - copy @f into the highest page-aligned spot of low RAM that
 * ends at or below @limit and starts at or above @floor.
 * Return: 0 (with *@gpa, *@size) or -errno with @err filled.
 */
int load_initrd(const struct guest_mem *m, const struct boot_file *f, uint64_t floor,
		uint64_t limit, uint64_t *gpa, uint64_t *size, char *err, size_t errlen);

/* What elf_load() found. */
struct elf_image {
	uint64_t entry;	    /* e_entry */
	bool entry_loaded;  /* e_entry lies inside a loaded segment */
	uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY, 0 when absent */
	uint64_t end;	    /* first byte after the highest loaded segment */
};

/**
 * elf_load() - copy an x86-64 ELF's PT_LOAD segments to their physical addresses
 * (zero-filling to p_memsz). Return: 0, -ENOEXEC when not an x86-64 ELF64, -ERANGE
 * when headers or segments fall outside the file or guest RAM (or below 1 MiB).
 */
int elf_load(const struct guest_mem *m, const uint8_t *p, size_t len, struct elf_image *img);

/**
 * unpack_vmlinux() - the uncompressed vmlinux inside bzImage @path, whose payload
 * (@payload, @len bytes) is gzip, xz, lzma or zstd: read from wisp's cache, or
 * unpacked (at most @max bytes) and stored there for the next boot.
 * Return: 0 (*@out is a read-only mapping of the cached file: munmap() it), -ENOTSUP
 * when the format is not handled or no
 * cache can be kept (the guest then unpacks itself), or -EINVAL for a corrupt payload.
 */
int unpack_vmlinux(const char *path, const uint8_t *payload, size_t len, size_t max, uint8_t **out,
		   size_t *out_len);

/* -smp topology: sockets of cores of threads. */
struct x86_topology {
	unsigned int sockets, cores, threads;
};

/**
 * x86_apic_id() - APIC ID of vCPU @index: thread, core and socket numbers packed
 * into power-of-two fields, as CPUID leaf 0xB describes them.
 */
uint32_t x86_apic_id(const struct x86_topology *t, unsigned int index);

/**
 * cpuid_setup() - give a vCPU the CPUID table KVM supports, with its APIC ID
 * @apic_id and topology @t in leaves 1, 4, 0xB, 0x1F (and AMD's 0x8000001E),
 * the hypervisor bit and KVM's signature leaves. Return: 0 or -errno.
 */
int cpuid_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, uint32_t apic_id,
		const struct x86_topology *t);

/**
 * regs_setup_boot() - registers and segments for @e on the boot vCPU.
 * Return: 0 or -errno.
 */
int regs_setup_boot(int vcpu_fd, const struct boot_entry *e);

#endif
