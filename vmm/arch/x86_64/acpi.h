/* ACPI data tables (RSDP, XSDT, FADT, MADT, MCFG) built in C around the DSDT that
 * iasl compiled from acpi-asl/ at build time. Runs at start-up, no guest input. */
#ifndef WISP_ACPI_H
#define WISP_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct acpi_machine {
	unsigned int cpus;	  /* vCPUs present at boot: the first @cpus of the MADT */
	unsigned int max_cpus;	  /* possible vCPUs (>= cpus), listed in the MADT */
	const uint32_t *apic_ids; /* APIC ID of each possible vCPU; NULL: ID = index */
};

/**
 * acpi_build() - lay out every ACPI table in one buffer.
 * @buf:      host memory that the guest sees at @gpa
 * @gpa:      guest physical address of @buf (VIRT_ACPI_BASE in the machine)
 * @size:     bytes available in @buf
 * @m:        the machine's facts
 * @rsdp_gpa: out, guest address of the RSDP (always @gpa: RSDP comes first,
 *            16-byte aligned, so legacy scans of 0xE0000.. find it)
 *
 * All checksums are filled. Return: bytes used, or -ENOSPC / -EINVAL.
 */
long acpi_build(void *buf, uint64_t gpa, size_t size, const struct acpi_machine *m,
		uint64_t *rsdp_gpa);

/* The DSDT AML, generated at build time from acpi-asl/dsdt.asl. */
extern const unsigned char acpi_dsdt_aml[];
extern const unsigned int acpi_dsdt_aml_len;

#endif
