/* Guest program: finds the RSDP, walks the XSDT (or RSDT), checks every table's signature and
 * checksum, finds FADT, MADT and DSDT, and matches the MADT CPU count with cmdline smp=N. */
#include "wisp-test.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("acpi: FAIL: " __VA_ARGS__);                                        \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static bool sig_ok(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static void check_table(const struct acpi_header *h, const char *what)
{
	CHECK(sig_ok(h->signature), "%s at %p: bad signature %02x%02x%02x%02x", what, (void *)h,
	      (uint8_t)h->signature[0], (uint8_t)h->signature[1], (uint8_t)h->signature[2],
	      (uint8_t)h->signature[3]);
	CHECK(h->length >= sizeof(*h), "%s at %p: length %u", what, (void *)h, h->length);
	if (h->length >= sizeof(*h))
		CHECK(!acpi_sum(h, h->length), "%.4s at %p: checksum off by %u", h->signature,
		      (void *)h, acpi_sum(h, h->length));
	printf("acpi: %.4s at %p len %u rev %u oem \"%.6s\" \"%.8s\"\n", h->signature, (void *)h,
	       h->length, h->revision, h->oem_id, h->oem_table_id);
}

WISP_TEST("acpi")
{
	const struct hvm_start_info *si = start_info();
	const struct acpi_rsdp *r = acpi_find_rsdp();

	if (!r)
		test_fail("no valid RSDP (start info rsdp_paddr %#lx, scan of 0xE0000-0xFFFFF)",
			  si ? si->rsdp_paddr : 0);
	printf("acpi: RSDP at %p (start info said %#lx) rev %u oem \"%.6s\" rsdt %#x xsdt %#lx\n",
	       (void *)r, si->rsdp_paddr, r->revision, r->oem_id, r->rsdt_address, r->xsdt_address);

	bool use_xsdt = r->revision >= 2 && r->xsdt_address;
	CHECK(use_xsdt, "no XSDT (RSDP revision %u)", r->revision);
	const struct acpi_header *root =
		(const void *)(uintptr_t)(use_xsdt ? r->xsdt_address : r->rsdt_address);
	check_table(root, use_xsdt ? "XSDT" : "RSDT");
	CHECK(!memcmp(root->signature, use_xsdt ? "XSDT" : "RSDT", 4), "root table is %.4s",
	      root->signature);

	unsigned esz = use_xsdt ? 8 : 4, n = (root->length - sizeof(*root)) / esz;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0;

		memcpy(&a, (const uint8_t *)(root + 1) + i * esz, esz);
		CHECK(a && a < 0x100000000ull, "entry %u: address %#lx", i, a);
		if (a && a < 0x100000000ull)
			check_table((const void *)(uintptr_t)a, "table");
	}

	const struct acpi_header *fadt = acpi_find_table("FACP", 0);
	const struct acpi_header *madt = acpi_find_table("APIC", 0);
	CHECK(fadt, "no FADT");
	CHECK(madt, "no MADT");
	if (fadt) {
		uint64_t dsdt = 0;
		uint32_t dsdt32 = 0;

		if (fadt->length >= 148)
			memcpy(&dsdt, (const uint8_t *)fadt + 140, 8);
		if (fadt->length >= 44)
			memcpy(&dsdt32, (const uint8_t *)fadt + 40, 4);
		if (!dsdt)
			dsdt = dsdt32;
		CHECK(dsdt && dsdt < 0x100000000ull, "FADT points at DSDT %#lx", dsdt);
		if (dsdt && dsdt < 0x100000000ull) {
			const struct acpi_header *d = (const void *)(uintptr_t)dsdt;
			check_table(d, "DSDT");
			CHECK(!memcmp(d->signature, "DSDT", 4), "FADT's DSDT is %.4s",
			      d->signature);
		}
	}
	if (madt) {
		unsigned cpus = acpi_madt_cpus(madt);
		long want = cmdline_int("smp", -1);

		printf("acpi: MADT lists %u enabled CPUs, told %ld\n", cpus, want);
		CHECK(want < 0 || cpus == (unsigned)want, "MADT lists %u CPUs, cmdline smp=%ld",
		      cpus, want);
	}
	if (failures)
		test_fail("%d check(s) failed", failures);
	return 0;
}
