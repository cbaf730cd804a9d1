/* Guest program: starts every AP (INIT-SIPI-SIPI via LAPIC MMIO from CPL3), each enters long
 * mode and checks in at CPL0. The CPU count comes from cmdline smp=N, else the ACPI MADT. */
#include "wisp-test.h"

WISP_TEST("smp")
{
	long cpus = cmdline_int("smp", 0);
	const struct acpi_header *madt = acpi_find_table("APIC", 0);
	unsigned madt_cpus = madt ? acpi_madt_cpus(madt) : 0;

	if (!cpus)
		cpus = madt_cpus;
	if (cpus < 1 || cpus > MAX_CPUS)
		test_fail("CPU count unknown: cmdline smp=%ld, MADT says %u", cpus, madt_cpus);
	if (madt && madt_cpus != (unsigned)cpus)
		printf("smp: note: MADT lists %u enabled CPUs, cmdline smp=%ld\n", madt_cpus, cpus);

	uint64_t t0 = time_us();
	unsigned got = smp_boot((unsigned)cpus - 1, 20000000);
	uint64_t t1 = time_us();
	printf("smp: BSP APIC ID %u, %u of %ld APs checked in after %lu us:", lapic_id(), got,
	       cpus - 1, t1 - t0);
	for (unsigned i = 0; i < got; i++)
		printf(" %u", smp_ap_apic_id(i));
	printf("\n");
	if (got != (unsigned)cpus - 1)
		test_fail("%u of %ld APs checked in", got, cpus - 1);
	return 0;
}
