/* Finding and walking ACPI tables; runs at CPL3 (tables are read through the identity map,
 * so only addresses below 4 GiB are reachable). */
#include "wisp-test.h"

#define LOW_4G 0x100000000ull

uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

static bool rsdp_ok(const struct acpi_rsdp *r)
{
	if (memcmp(r->signature, "RSD PTR ", 8) || acpi_sum(r, 20))
		return false;
	return r->revision < 2 || !acpi_sum(r, r->length < 36 ? 36 : r->length);
}

const struct acpi_rsdp *acpi_find_rsdp(void)
{
	const struct hvm_start_info *si = start_info();

	if (si && si->rsdp_paddr && si->rsdp_paddr < LOW_4G) {
		const struct acpi_rsdp *r = (const void *)(uintptr_t)si->rsdp_paddr;
		if (rsdp_ok(r))
			return r;
	}
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_ok((const void *)a))
			return (const void *)a;
	return NULL;
}

const struct acpi_header *acpi_find_table(const char *sig, unsigned index)
{
	const struct acpi_rsdp *r = acpi_find_rsdp();
	const struct acpi_header *root;
	unsigned entry_size;

	if (!r)
		return NULL;
	if (r->revision >= 2 && r->xsdt_address && r->xsdt_address < LOW_4G) {
		root = (const void *)(uintptr_t)r->xsdt_address;
		entry_size = 8;
	} else {
		root = (const void *)(uintptr_t)r->rsdt_address;
		entry_size = 4;
	}
	if (root->length < sizeof(*root))
		return NULL;
	unsigned n = (root->length - sizeof(*root)) / entry_size;
	const uint8_t *entries = (const uint8_t *)(root + 1);
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0;

		memcpy(&a, entries + i * entry_size, entry_size);
		if (!a || a >= LOW_4G)
			continue;
		const struct acpi_header *h = (const void *)(uintptr_t)a;
		if (!memcmp(h->signature, sig, 4) && index-- == 0)
			return h;
	}
	return NULL;
}

unsigned acpi_madt_cpus(const struct acpi_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;
	unsigned n = 0;

	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags;

		if (p[0] == 0 && p[1] >= 8) { /* Processor Local APIC */
			memcpy(&flags, p + 4, 4);
			n += flags & 1;
		} else if (p[0] == 9 && p[1] >= 16) { /* Processor Local x2APIC */
			memcpy(&flags, p + 8, 4);
			n += flags & 1;
		}
		p += p[1];
	}
	return n;
}
