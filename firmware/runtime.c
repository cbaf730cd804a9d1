/* Runtime services: time, reset, the virtual address map, counters. These run on
 * after ExitBootServices on the OS's stack and page tables; the firmware stays linked
 * at its physical address, so the OS must keep runtime regions identity-mapped too
 * (Linux on x86-64 does). CPL0, no SSE, nothing here may touch boot-only memory. */
#include "fw.h"

#include "platform/virt.h"

static EFI_RUNTIME_SERVICES rt;
static volatile uint8_t *ged = (volatile uint8_t *)VIRT_GED_REGS_BASE;
static uint32_t high_count;
static bool virtual_mode;
/* The OS's virtual map, only while SetVirtualAddressMap runs. */
static EFI_MEMORY_DESCRIPTOR *va_map;
static UINTN va_size, va_desc;

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(uint64_t days, EFI_TIME *t)
{
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9;

	t->Year = (UINT16)(yoe + era * 400 + (m <= 2));
	t->Month = (UINT8)m;
	t->Day = (UINT8)(doy - (153 * mp + 2) / 5 + 1);
}

static EFI_STATUS EFIAPI get_time(EFI_TIME *t, EFI_TIME_CAPABILITIES *cap)
{
	uint64_t ns = time_wall_ns(), s = ns / 1000000000ULL;

	if (!t)
		return EFI_INVALID_PARAMETER;
	memset(t, 0, sizeof(*t));
	civil(s / 86400, t);
	t->Hour = (UINT8)(s % 86400 / 3600);
	t->Minute = (UINT8)(s % 3600 / 60);
	t->Second = (UINT8)(s % 60);
	t->Nanosecond = (UINT32)(ns % 1000000000ULL);
	t->TimeZone = EFI_UNSPECIFIED_TIMEZONE;
	if (cap)
		*cap = (EFI_TIME_CAPABILITIES){.Resolution = 1, .Accuracy = 0, .SetsToZero = FALSE};
	return EFI_SUCCESS;
}

/* The clock is the host's: the guest cannot set it. */
static EFI_STATUS EFIAPI set_time(EFI_TIME *t)
{
	return EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI get_wakeup_time(BOOLEAN *on, BOOLEAN *pending, EFI_TIME *t)
{
	return EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI set_wakeup_time(BOOLEAN on, EFI_TIME *t)
{
	return EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI get_next_high_mono_count(UINT32 *count)
{
	if (!count)
		return EFI_INVALID_PARAMETER;
	*count = ++high_count;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI reset_system(EFI_RESET_TYPE type, EFI_STATUS status, UINTN size,
				      CHAR16 *data)
{
	if (status != EFI_SUCCESS) {
		/* The status leaves through isa-debug-exit when the machine has one: wisp
		 * and QEMU then exit with (byte << 1) | 1; elsewhere the write is dropped. */
		outb(0x80, POST_ERROR);
		outb(0xf4, (uint8_t)(status & 0x7f ? status & 0x7f : 0x7f));
	}
	if (type == EfiResetShutdown)
		ged[GED_REG_SLEEP_CTL] = GED_SLP_TYP_S5 << GED_SLP_TYP_SHIFT | GED_SLP_EN;
	else
		ged[GED_REG_RESET] = GED_RESET_VALUE;
	/* Still here (not wisp's platform): a triple fault resets any PC. */
	__asm__ volatile("lidt %0; int3" : : "m"((uint8_t[10]){0}));
	for (;;)
		__asm__ volatile("cli; hlt");
	return EFI_DEVICE_ERROR;
}

static bool translate(uint64_t *addr)
{
	for (UINTN off = 0; va_map && off + va_desc <= va_size; off += va_desc) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((uint8_t *)va_map + off);

		if (!(d->Attribute & EFI_MEMORY_RUNTIME) || *addr < d->PhysicalStart ||
		    *addr - d->PhysicalStart >= d->NumberOfPages * PAGE_SIZE)
			continue;
		*addr = *addr - d->PhysicalStart + d->VirtualStart;
		return true;
	}
	return false;
}

static EFI_STATUS EFIAPI convert_pointer(UINTN disposition, VOID **addr)
{
	uint64_t a;

	if (!addr)
		return EFI_INVALID_PARAMETER;
	if (!*addr)
		return disposition & EFI_OPTIONAL_PTR ? EFI_SUCCESS : EFI_INVALID_PARAMETER;
	if (!va_map)
		return EFI_UNSUPPORTED;
	a = (uintptr_t)*addr;
	if (!translate(&a))
		return EFI_NOT_FOUND;
	*addr = (VOID *)(uintptr_t)a;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI set_virtual_address_map(UINTN size, UINTN desc, UINT32 version,
						 EFI_MEMORY_DESCRIPTOR *map)
{
	void **fn = (void **)&rt.GetTime, **end = (void **)(&rt.QueryVariableInfo + 1);

	if (virtual_mode || fw_st->BootServices)
		return EFI_UNSUPPORTED;
	if (!map || desc < sizeof(EFI_MEMORY_DESCRIPTOR) ||
	    version != EFI_MEMORY_DESCRIPTOR_VERSION || size % desc)
		return EFI_INVALID_PARAMETER;
	va_map = map;
	va_size = size;
	va_desc = desc;
	event_signal_type(EVT_SIGNAL_VIRTUAL_ADDRESS_CHANGE);
	for (; fn < end; fn++)
		convert_pointer(0, fn);
	convert_pointer(0, (VOID **)&ged);
	convert_pointer(0, (VOID **)&fw_st->RuntimeServices);
	convert_pointer(EFI_OPTIONAL_PTR, (VOID **)&fw_st->ConfigurationTable);
	convert_pointer(0, (VOID **)&fw_st->FirmwareVendor);
	va_map = NULL;
	virtual_mode = true;
	table_crc(&rt.Hdr);
	table_crc(&fw_st->Hdr);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI update_capsule(EFI_CAPSULE_HEADER **caps, UINTN n, EFI_PHYSICAL_ADDRESS sg)
{
	return EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI query_capsule_caps(EFI_CAPSULE_HEADER **caps, UINTN n, UINT64 *max,
					    EFI_RESET_TYPE *type)
{
	return EFI_UNSUPPORTED;
}

UINT32 runtime_supported(void)
{
	/* EFI_RT_SUPPORTED_*: GET_TIME, GET_VARIABLE, GET_NEXT_VARIABLE_NAME, SET_VARIABLE,
	 * SET_VIRTUAL_ADDRESS_MAP, CONVERT_POINTER, GET_NEXT_HIGH_MONOTONIC_COUNT,
	 * RESET_SYSTEM, QUERY_VARIABLE_INFO. */
	return 0x0001 | 0x0010 | 0x0020 | 0x0040 | 0x0080 | 0x0100 | 0x0200 | 0x0400 | 0x2000;
}

EFI_RUNTIME_SERVICES *runtime_install(void)
{
	rt.Hdr = (EFI_TABLE_HEADER){.Signature = EFI_RUNTIME_SERVICES_SIGNATURE,
				    .Revision = FW_SPEC_REVISION,
				    .HeaderSize = sizeof(rt)};
	rt.GetTime = get_time;
	rt.SetTime = set_time;
	rt.GetWakeupTime = get_wakeup_time;
	rt.SetWakeupTime = set_wakeup_time;
	rt.SetVirtualAddressMap = set_virtual_address_map;
	rt.ConvertPointer = convert_pointer;
	variables_fill(&rt);
	rt.GetNextHighMonotonicCount = get_next_high_mono_count;
	rt.ResetSystem = reset_system;
	rt.UpdateCapsule = update_capsule;
	rt.QueryCapsuleCapabilities = query_capsule_caps;
	table_crc(&rt.Hdr);
	return &rt;
}
