/* The system table and the boot services that belong to no other module: TPL, exit
 * boot services, counters, Stall, CRC32, CopyMem/SetMem. Boot services time, one CPU. */
#include "fw.h"

static EFI_SYSTEM_TABLE system_table;
static EFI_BOOT_SERVICES boot_services;
static CHAR16 vendor[] = u"wisp";
static EFI_TPL current_tpl = TPL_APPLICATION;
static uint64_t monotonic;
static bool boot_services_done;

EFI_SYSTEM_TABLE *fw_st;
EFI_BOOT_SERVICES *fw_bs;

uint32_t crc32(const void *p, size_t n)
{
	/* Reflected CRC-32 (IEEE), a nibble at a time: small and no SSE4.2. */
	static const uint32_t t[16] = {0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
				       0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
				       0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
				       0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
	const uint8_t *b = p;
	uint32_t c = ~0u;

	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		c = (c >> 4) ^ t[c & 15];
		c = (c >> 4) ^ t[c & 15];
	}
	return ~c;
}

void table_crc(EFI_TABLE_HEADER *h)
{
	h->CRC32 = 0;
	h->CRC32 = crc32(h, h->HeaderSize);
}

static EFI_TPL EFIAPI raise_tpl(EFI_TPL tpl)
{
	EFI_TPL old = current_tpl;

	current_tpl = tpl;
	return old;
}

static VOID EFIAPI restore_tpl(EFI_TPL tpl)
{
	current_tpl = tpl;
}

static EFI_STATUS EFIAPI exit_boot_services(EFI_HANDLE image, UINTN key)
{
	if (boot_services_done)
		return EFI_SUCCESS;
	if (!proto_handle_valid(image))
		return EFI_INVALID_PARAMETER;
	if (key != memmap_key())
		return EFI_INVALID_PARAMETER;
	post(POST_EXIT_BS);
	event_signal_type(EVT_SIGNAL_EXIT_BOOT_SERVICES);
	boot_services_done = true;
	/* As the spec asks: no boot services or consoles from now on. */
	system_table.ConsoleInHandle = NULL;
	system_table.ConIn = NULL;
	system_table.ConsoleOutHandle = NULL;
	system_table.ConOut = NULL;
	system_table.StandardErrorHandle = NULL;
	system_table.StdErr = NULL;
	system_table.BootServices = NULL;
	table_crc(&system_table.Hdr);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI get_next_monotonic_count(UINT64 *count)
{
	if (!count)
		return EFI_INVALID_PARAMETER;
	*count = monotonic++;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI stall(UINTN us)
{
	uint64_t end = time_now_ns() + (uint64_t)us * 1000;

	while (time_now_ns() < end) {
		event_poll(); /* timers fire while images stall, as with a timer interrupt */
		__asm__ volatile("pause");
	}
	return EFI_SUCCESS;
}

/* No watchdog: nothing here could reset a hung image but the host's timeout. */
static EFI_STATUS EFIAPI set_watchdog_timer(UINTN timeout, UINT64 code, UINTN size, CHAR16 *data)
{
	return EFI_SUCCESS;
}

/* No drivers: nothing to connect. */
static EFI_STATUS EFIAPI connect_controller(EFI_HANDLE controller, EFI_HANDLE *drivers,
					    EFI_DEVICE_PATH *remaining, BOOLEAN recursive)
{
	return proto_handle_valid(controller) ? EFI_NOT_FOUND : EFI_INVALID_PARAMETER;
}

static EFI_STATUS EFIAPI disconnect_controller(EFI_HANDLE controller, EFI_HANDLE driver,
					       EFI_HANDLE child)
{
	return proto_handle_valid(controller) ? EFI_SUCCESS : EFI_INVALID_PARAMETER;
}

static EFI_STATUS EFIAPI calculate_crc32(VOID *data, UINTN size, UINT32 *out)
{
	if (!data || !size || !out)
		return EFI_INVALID_PARAMETER;
	*out = crc32(data, size);
	return EFI_SUCCESS;
}

static VOID EFIAPI copy_mem(VOID *dst, VOID *src, UINTN n)
{
	memmove(dst, src, n);
}

static VOID EFIAPI set_mem(VOID *dst, UINTN n, UINT8 v)
{
	memset(dst, v, n);
}

void boot_services_install(void)
{
	EFI_BOOT_SERVICES *bs = &boot_services;

	bs->Hdr = (EFI_TABLE_HEADER){.Signature = EFI_BOOT_SERVICES_SIGNATURE,
				     .Revision = FW_SPEC_REVISION,
				     .HeaderSize = sizeof(*bs)};
	bs->RaiseTPL = raise_tpl;
	bs->RestoreTPL = restore_tpl;
	bs->AllocatePages = efi_allocate_pages;
	bs->FreePages = efi_free_pages;
	bs->GetMemoryMap = efi_get_memory_map;
	bs->AllocatePool = efi_allocate_pool;
	bs->FreePool = efi_free_pool;
	bs->InstallConfigurationTable = efi_install_configuration_table;
	bs->ExitBootServices = exit_boot_services;
	bs->GetNextMonotonicCount = get_next_monotonic_count;
	bs->Stall = stall;
	bs->SetWatchdogTimer = set_watchdog_timer;
	bs->ConnectController = connect_controller;
	bs->DisconnectController = disconnect_controller;
	bs->CalculateCrc32 = calculate_crc32;
	bs->CopyMem = copy_mem;
	bs->SetMem = set_mem;
	event_fill(bs);
	proto_fill(bs);
	image_fill(bs);
	table_crc(&bs->Hdr);

	system_table.Hdr = (EFI_TABLE_HEADER){.Signature = EFI_SYSTEM_TABLE_SIGNATURE,
					      .Revision = FW_SPEC_REVISION,
					      .HeaderSize = sizeof(system_table)};
	system_table.FirmwareVendor = vendor;
	system_table.FirmwareRevision = 0x00010000;
	system_table.BootServices = bs;
	system_table.RuntimeServices = runtime_install();
	fw_st = &system_table;
	fw_bs = bs;
	table_crc(&system_table.Hdr);
}
