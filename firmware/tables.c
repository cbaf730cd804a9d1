/* Configuration tables: the list in the system table with InstallConfigurationTable,
 * and the tables the firmware publishes: ACPI 2.0 (the RSDP wisp built), a minimal
 * SMBIOS 3.0, and EFI_RT_PROPERTIES_TABLE. The list and tables live in runtime data. */
#include "fw.h"

#define MAX_TABLES 32

struct smbios3_entry {
	char anchor[5];
	uint8_t checksum, length, major, minor, docrev, revision, reserved;
	uint32_t max_size;
	uint64_t address;
} __attribute__((packed));

struct rt_properties {
	uint16_t version, length;
	uint32_t supported;
};

static EFI_CONFIGURATION_TABLE tables[MAX_TABLES];
static struct smbios3_entry smbios_ep __attribute__((aligned(16)));
static struct rt_properties rt_props;

/* Type 0 (BIOS), type 1 (system), type 127 (end), each followed by its strings. */
static const uint8_t smbios_structs[] = {
	/* type 0, length 0x18, handle 0 */
	0, 0x18, 0, 0, 1, 2, 0x00, 0xe8, 3, 0, 0x08, 0, 0, 0, 0, 0, 0,
	0,		  /* characteristics: not supported */
	0x00, 0x18,	  /* ext: UEFI (bit 3), virtual machine (bit 4) */
	0, 1, 0xff, 0xff, /* release 0.1, no embedded controller */
	'w', 'i', 's', 'p', 0, '0', '.', '1', 0, '0', '1', '/', '0', '1', '/', '2', '0', '2', '5',
	0, 0,
	/* type 1, length 0x1b, handle 1 */
	1, 0x1b, 1, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0,	 /* UUID unknown */
	6, 0, 0, /* power switch; no SKU, family */
	'w', 'i', 's', 'p', 0, 'v', 'i', 'r', 't', 0, '0', '.', '1', 0, 0,
	/* type 127, handle 2 */
	127, 4, 2, 0, 0, 0};

static uint8_t sum(const void *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += ((const uint8_t *)p)[i];
	return s;
}

EFI_STATUS EFIAPI efi_install_configuration_table(EFI_GUID *guid, VOID *table)
{
	UINTN n = fw_st->NumberOfTableEntries;

	if (!guid)
		return EFI_INVALID_PARAMETER;
	for (UINTN i = 0; i < n; i++) {
		if (!guid_eq(&tables[i].VendorGuid, guid))
			continue;
		if (table) {
			tables[i].VendorTable = table;
		} else { /* delete, keeping the order of the rest */
			memmove(&tables[i], &tables[i + 1], (n - i - 1) * sizeof(tables[0]));
			fw_st->NumberOfTableEntries = n - 1;
		}
		table_crc(&fw_st->Hdr);
		return EFI_SUCCESS;
	}
	if (!table)
		return EFI_NOT_FOUND;
	if (n >= MAX_TABLES)
		return EFI_OUT_OF_RESOURCES;
	tables[n] = (EFI_CONFIGURATION_TABLE){*guid, table};
	fw_st->NumberOfTableEntries = n + 1;
	table_crc(&fw_st->Hdr);
	return EFI_SUCCESS;
}

/* The RSDP: where the loader said, else searched for in the BIOS area. */
static const uint8_t *find_rsdp(uint64_t hint)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)hint;

	if (hint && !memcmp(p, "RSD PTR ", 8) && !sum(p, 20))
		return p;
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		p = (const uint8_t *)(uintptr_t)a;
		if (!memcmp(p, "RSD PTR ", 8) && !sum(p, 20))
			return p;
	}
	return NULL;
}

void tables_install(uint64_t rsdp_hint)
{
	static EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID,
			smbios3 = SMBIOS3_TABLE_GUID,
			rt_props_guid = {0xeb66918a,
					 0x7eef,
					 0x402a,
					 {0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9}};
	const uint8_t *rsdp = find_rsdp(rsdp_hint);

	fw_st->ConfigurationTable = tables;
	if (!rsdp)
		printf("wisp-fw: no ACPI RSDP found: no ACPI table published\n");
	else if (rsdp[15] >= 2)
		efi_install_configuration_table(&acpi20, (void *)rsdp);
	else
		efi_install_configuration_table(&acpi10, (void *)rsdp);

	smbios_ep = (struct smbios3_entry){.anchor = {'_', 'S', 'M', '3', '_'},
					   .length = sizeof(smbios_ep),
					   .major = 3,
					   .revision = 1,
					   .max_size = sizeof(smbios_structs),
					   .address = (uintptr_t)smbios_structs};
	smbios_ep.checksum = (uint8_t)-sum(&smbios_ep, sizeof(smbios_ep));
	efi_install_configuration_table(&smbios3, &smbios_ep);

	rt_props = (struct rt_properties){1, sizeof(rt_props), runtime_supported()};
	efi_install_configuration_table(&rt_props_guid, &rt_props);
}
