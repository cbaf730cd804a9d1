/* Configuration tables: ACPI 2.0 (RSDP, XSDT and every table it lists checksum to 0),
 * SMBIOS, EFI_RT_PROPERTIES_TABLE, InstallConfigurationTable add/replace/delete, and the
 * CRC32s of the system, boot and runtime service table headers. */
#include "efitest.h"

static EFI_GUID
	acpi20 = ACPI_20_TABLE_GUID,
	smbios = SMBIOS_TABLE_GUID, smbios3 = SMBIOS3_TABLE_GUID,
	mine = {0x1f0e4a21, 0x5b2c, 0x4f1e, {0x9a, 0x01, 0x77, 0x69, 0x73, 0x70, 0x0c, 0x01}},
	rt_props = {0xeb66918a, 0x7eef, 0x402a, {0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9}};

static void check_crc(EFI_TABLE_HEADER *h, const char *what)
{
	UINT32 saved = h->CRC32, crc = 0;

	h->CRC32 = 0;
	BS->CalculateCrc32(h, h->HeaderSize, &crc);
	h->CRC32 = saved;
	if (!t_check(crc == saved, what))
		t_print("  %s: crc %x, header says %x\n", what, crc, saved);
}

static void check_acpi(void)
{
	UINT8 *rsdp = t_table(&acpi20), *xsdt;
	UINT32 len, n;

	if (!t_check(rsdp != NULL, "ACPI 2.0 table present"))
		return;
	t_check(!t_memcmp(rsdp, "RSD PTR ", 8), "RSDP signature");
	t_check(t_sum(rsdp, 20) == 0, "RSDP checksum");
	t_check(rsdp[15] >= 2, "RSDP revision 2");
	t_check(t_sum(rsdp, 36) == 0, "RSDP extended checksum");
	xsdt = (UINT8 *)(UINTN) * (UINT64 *)(rsdp + 24);
	if (!t_check(xsdt && !t_memcmp(xsdt, "XSDT", 4), "XSDT"))
		return;
	len = *(UINT32 *)(xsdt + 4);
	t_check(t_sum(xsdt, len) == 0, "XSDT checksum");
	n = (len - 36) / 8;
	for (UINT32 i = 0; i < n; i++) {
		UINT8 *t = (UINT8 *)(UINTN) * (UINT64 *)(xsdt + 36 + 8 * i);
		UINT32 tl = *(UINT32 *)(t + 4);

		if (!t_check(t_sum(t, tl) == 0, "ACPI table checksum"))
			t_print("  table %c%c%c%c\n", t[0], t[1], t[2], t[3]);
	}
	t_print("  ACPI: XSDT lists %u tables\n", n);
}

static void check_smbios(void)
{
	UINT8 *e3 = t_table(&smbios3), *e2 = t_table(&smbios);

	t_check(e3 || e2, "an SMBIOS table is present");
	if (e3) {
		t_check(!t_memcmp(e3, "_SM3_", 5), "SMBIOS 3 anchor");
		t_check(t_sum(e3, e3[6]) == 0, "SMBIOS 3 entry point checksum");
		t_check(e3[7] == 3, "SMBIOS major version 3");
		t_check(*(UINT64 *)(e3 + 16) != 0, "SMBIOS 3 structure table address");
		{
			UINT8 *s = (UINT8 *)(UINTN) * (UINT64 *)(e3 + 16);

			t_check(s[0] == 0 || s[0] == 1, "first structure is type 0 or 1");
		}
	}
	if (e2)
		t_check(!t_memcmp(e2, "_SM_", 4), "SMBIOS 2 anchor");
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	static int a, b;
	UINTN n0;
	struct {
		UINT16 version, length;
		UINT32 supported;
	} * props;

	t_init(image, st, "efi-tables");
	t_check(ST->Hdr.Signature == EFI_SYSTEM_TABLE_SIGNATURE, "system table signature");
	t_check(ST->Hdr.Revision >= (2 << 16), "UEFI 2.x");
	check_crc(&ST->Hdr, "system table CRC32");
	check_crc(&BS->Hdr, "boot services CRC32");
	check_crc(&RT->Hdr, "runtime services CRC32");
	t_check(ST->ConOut && ST->ConIn && ST->StdErr, "consoles present");
	check_acpi();
	check_smbios();
	props = t_table(&rt_props);
	if (props) {
		t_check(props->version == 1 && props->length == 8,
			"RT properties version 1, 8 bytes");
		t_check(props->supported & 0x400, "RT properties: ResetSystem supported");
		t_print("  RT properties: %x\n", props->supported);
	}

	n0 = ST->NumberOfTableEntries;
	t_status(BS->InstallConfigurationTable(&mine, &a), EFI_SUCCESS,
		 "InstallConfigurationTable");
	t_check(ST->NumberOfTableEntries == n0 + 1 && t_table(&mine) == &a, "table added");
	check_crc(&ST->Hdr, "system table CRC32 after an install");
	t_status(BS->InstallConfigurationTable(&mine, &b), EFI_SUCCESS, "replace");
	t_check(ST->NumberOfTableEntries == n0 + 1 && t_table(&mine) == &b, "table replaced");
	t_status(BS->InstallConfigurationTable(&mine, NULL), EFI_SUCCESS, "delete");
	t_check(ST->NumberOfTableEntries == n0 && !t_table(&mine), "table deleted");
	t_status(BS->InstallConfigurationTable(&mine, NULL), EFI_NOT_FOUND, "delete, absent");
	t_check(t_table(&acpi20) != NULL, "ACPI still there after the delete");
	t_finish();
}
