/* The firmware's debug trace (command-line word "wisp-fw.trace"): every boot and
 * runtime service an image calls, its arguments and its status, on the serial console.
 * The image's boot services table gets wrappers (the firmware's own calls through fw_bs
 * stay untraced); the runtime services table is wrapped in place, so its wrappers are
 * what SetVirtualAddressMap converts. Wrappers run at boot and at runtime, CPL0. */
#include "fw.h"

#include <stddef.h>

struct svc {
	const char *name;
	uint16_t off;	/* of the function pointer in its table */
	uint8_t rt;	/* in the runtime services table */
	uint8_t nargs;	/* arguments to print */
	int8_t guid;	/* the argument that is a GUID pointer, or -1 */
	int8_t out;	/* the argument that points to a UINTN result, or -1 */
	int8_t name16;	/* the argument that is a CHAR16 string, or -1 */
	uint8_t before; /* print the call before it is made (it may not return) */
};

#define BS(f, n, g, o)                                                                             \
	{                                                                                          \
#f, offsetof(EFI_BOOT_SERVICES, f), 0, n, g, o, -1, 0                              \
	}
#define BS_BEFORE(f, n)                                                                            \
	{                                                                                          \
#f, offsetof(EFI_BOOT_SERVICES, f), 0, n, -1, -1, -1, 1                            \
	}
#define RT(f, n, g, o, s, b)                                                                       \
	{                                                                                          \
#f, offsetof(EFI_RUNTIME_SERVICES, f), 1, n, g, o, s, b                            \
	}

/* TPL, CopyMem, SetMem (no status) and the two variadic services are not wrapped. */
static const struct svc svcs[] = {
	BS(AllocatePages, 4, -1, 3),
	BS(FreePages, 2, -1, -1),
	BS(GetMemoryMap, 5, -1, 0),
	BS(AllocatePool, 3, -1, 2),
	BS(FreePool, 1, -1, -1),
	BS(CreateEvent, 5, -1, 4),
	BS(SetTimer, 3, -1, -1),
	BS(WaitForEvent, 3, -1, 2),
	BS(SignalEvent, 1, -1, -1),
	BS(CloseEvent, 1, -1, -1),
	BS(CheckEvent, 1, -1, -1),
	BS(InstallProtocolInterface, 4, 1, 0),
	BS(ReinstallProtocolInterface, 4, 1, -1),
	BS(UninstallProtocolInterface, 3, 1, -1),
	BS(HandleProtocol, 3, 1, 2),
	BS(RegisterProtocolNotify, 3, 0, 2),
	BS(LocateHandle, 5, 1, 3),
	BS(LocateDevicePath, 3, 0, 2),
	BS(InstallConfigurationTable, 2, 0, -1),
	BS(LoadImage, 6, -1, 5),
	BS_BEFORE(StartImage, 3),
	BS_BEFORE(Exit, 4),
	BS(UnloadImage, 1, -1, -1),
	BS_BEFORE(ExitBootServices, 2),
	BS(GetNextMonotonicCount, 1, -1, 0),
	BS(Stall, 1, -1, -1),
	BS(SetWatchdogTimer, 4, -1, -1),
	BS(ConnectController, 4, -1, -1),
	BS(DisconnectController, 3, -1, -1),
	BS(OpenProtocol, 6, 1, 2),
	BS(CloseProtocol, 4, 1, -1),
	BS(OpenProtocolInformation, 4, 1, 3),
	BS(ProtocolsPerHandle, 3, -1, 2),
	BS(LocateHandleBuffer, 5, 1, 3),
	BS(LocateProtocol, 3, 0, 2),
	BS(CalculateCrc32, 3, -1, -1),
	BS(CreateEventEx, 6, 4, 5),
	RT(GetTime, 2, -1, -1, -1, 0),
	RT(SetTime, 1, -1, -1, -1, 0),
	RT(GetWakeupTime, 3, -1, -1, -1, 0),
	RT(SetWakeupTime, 2, -1, -1, -1, 0),
	RT(SetVirtualAddressMap, 4, -1, -1, -1, 0),
	RT(ConvertPointer, 2, -1, 1, -1, 0),
	RT(GetVariable, 5, 1, 3, 0, 0),
	RT(GetNextVariableName, 3, 2, 0, 1, 0),
	RT(SetVariable, 5, 1, -1, 0, 0),
	RT(GetNextHighMonotonicCount, 1, -1, 0, -1, 0),
	RT(ResetSystem, 4, -1, -1, -1, 1),
	RT(UpdateCapsule, 3, -1, -1, -1, 0),
	RT(QueryCapsuleCapabilities, 4, -1, -1, -1, 0),
	RT(QueryVariableInfo, 4, -1, -1, -1, 0),
};

/* A few GUIDs by name (first field), to make a trace readable. */
static const struct {
	uint32_t d1;
	const char *name;
} guid_names[] = {
	{0x5b1b31a1, "LoadedImage"},
	{0x09576e91, "DevicePath"},
	{0xbc62157e, "LoadedImageDevicePath"},
	{0x4006c0c1, "LoadFile2"},
	{0x56ec3091, "LoadFile"},
	{0x964e5b22, "SimpleFileSystem"},
	{0x3152bca5, "Rng"},
	{0x9042a9de, "GraphicsOutput"},
	{0x982c298b, "UgaDraw"},
	{0x4cf5b200, "PciIo"},
	{0x607f766c, "Tcg2"},
	{0xf4560cf6, "MemoryAttribute"},
	{0x05ad34ba, "DxeServicesTable"},
	{0x8be4df61, "GlobalVariable"},
	{0x387477c2, "SimpleTextOutput"},
	{0x387477c1, "SimpleTextInput"},
	{0xdd9e7534, "SimpleTextInputEx"},
	{0x8868e871, "Acpi20Table"},
	{0xf2fd1544, "Smbios3Table"},
	{0xeb9d2d32, "SmbiosTable"},
	{0x1ce1e5bc, "LinuxRandomSeed"},
	{0xb1b621d5, "DtbTable"},
	{0xeb66918a, "RtPropertiesTable"},
};

typedef UINTN(EFIAPI *svc_fn)(UINTN, UINTN, UINTN, UINTN, UINTN, UINTN, UINTN, UINTN);

static bool enabled;
static svc_fn real[ARRAY_SIZE(svcs)];
static EFI_BOOT_SERVICES traced_bs BOOT_BSS;
static EFI_BOOT_SERVICES real_bs BOOT_BSS;

bool trace_on(void)
{
	return enabled;
}

static void print_guid(const EFI_GUID *g)
{
	const char *name = NULL;

	if (!g) {
		printf(" guid=NULL");
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(guid_names); i++)
		if (guid_names[i].d1 == g->Data1)
			name = guid_names[i].name;
	printf(" %08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x%s%s", g->Data1, g->Data2,
	       g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4],
	       g->Data4[5], g->Data4[6], g->Data4[7], name ? "=" : "", name ? name : "");
}

static void print_name16(const CHAR16 *s)
{
	char buf[64];
	unsigned int n = 0;

	for (; s && s[n] && n < sizeof(buf) - 1; n++)
		buf[n] = s[n] < 0x80 ? (char)s[n] : '?';
	buf[n] = 0;
	printf(" \"%s\"", buf);
}

static void print_call(const struct svc *s, const UINTN a[8], const EFI_STATUS *st)
{
	printf("wisp-fw: trace %s %s(", s->rt ? "rt" : "bs", s->name);
	for (int i = 0; i < s->nargs; i++)
		printf(i ? ", %lx" : "%lx", a[i]);
	printf(")");
	if (s->guid >= 0)
		print_guid((const EFI_GUID *)a[s->guid]);
	if (s->name16 >= 0)
		print_name16((const CHAR16 *)a[s->name16]);
	if (!st) {
		printf(" ...\n");
		return;
	}
	printf(" = %lx", *st);
	if (s->out >= 0 && a[s->out] && (*st == EFI_SUCCESS || *st == EFI_BUFFER_TOO_SMALL))
		printf(" -> %lx", *(const UINTN *)a[s->out]);
	if (s->off == offsetof(EFI_BOOT_SERVICES, GetMemoryMap) && !s->rt && a[3])
		printf(" desc_size %lx key %lx", *(const UINTN *)a[3],
		       a[2] && *st == EFI_SUCCESS ? *(const UINTN *)a[2] : 0);
	printf("\n");
}

__attribute__((noinline)) static UINTN call(unsigned int i, UINTN a0, UINTN a1, UINTN a2, UINTN a3,
					    UINTN a4, UINTN a5, UINTN a6, UINTN a7)
{
	const UINTN a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
	EFI_STATUS st;

	if (svcs[i].before)
		print_call(&svcs[i], a, NULL);
	st = real[i](a0, a1, a2, a3, a4, a5, a6, a7);
	print_call(&svcs[i], a, &st);
	return st;
}

/* One wrapper per service: each knows its index. Callers with fewer than eight
 * arguments leave the rest undefined; they are passed on and ignored. */
#define W(i)                                                                                       \
	static UINTN EFIAPI w##i(UINTN a0, UINTN a1, UINTN a2, UINTN a3, UINTN a4, UINTN a5,       \
				 UINTN a6, UINTN a7)                                               \
	{                                                                                          \
		UINTN r = call(i, a0, a1, a2, a3, a4, a5, a6, a7);                                 \
		__asm__ volatile("" : : : "memory"); /* no tail call */                            \
		return r;                                                                          \
	}
#define W10(t) W(t##0) W(t##1) W(t##2) W(t##3) W(t##4) W(t##5) W(t##6) W(t##7) W(t##8) W(t##9)
/* clang-format off */
W(0) W(1) W(2) W(3) W(4) W(5) W(6) W(7) W(8) W(9)
W10(1) W10(2) W10(3) W10(4)
W(50)
#undef W10
#undef W

static const svc_fn wrappers[] = {
	w0,  w1,  w2,  w3,  w4,  w5,  w6,  w7,  w8,  w9,  w10, w11, w12,
	w13, w14, w15, w16, w17, w18, w19, w20, w21, w22, w23, w24, w25,
	w26, w27, w28, w29, w30, w31, w32, w33, w34, w35, w36, w37, w38,
	w39, w40, w41, w42, w43, w44, w45, w46, w47, w48, w49, w50,
};
/* clang-format on */
_Static_assert(ARRAY_SIZE(wrappers) == ARRAY_SIZE(svcs), "one wrapper per traced service");

bool trace_word(const char *cmdline, size_t *at, size_t *len)
{
	static const char word[] = "wisp-fw.trace";
	const size_t n = sizeof(word) - 1;

	for (size_t i = 0; cmdline && cmdline[i]; i++) {
		if ((i && cmdline[i - 1] != ' ') || strncmp(cmdline + i, word, n) ||
		    (cmdline[i + n] && cmdline[i + n] != ' '))
			continue;
		if (at)
			*at = i;
		if (len)
			*len = n;
		return true;
	}
	return false;
}

void trace_install(EFI_SYSTEM_TABLE *st)
{
	enabled = true;
	real_bs = *st->BootServices;
	traced_bs = real_bs;
	for (unsigned int i = 0; i < ARRAY_SIZE(svcs); i++) {
		void *table = svcs[i].rt ? (void *)st->RuntimeServices : (void *)&traced_bs;
		svc_fn *slot = (svc_fn *)((char *)table + svcs[i].off);

		real[i] = *slot;
		*slot = wrappers[i];
	}
	table_crc(&traced_bs.Hdr);
	table_crc(&st->RuntimeServices->Hdr);
	/* The firmware's own calls go to the real services. */
	fw_bs = &real_bs;
	st->BootServices = &traced_bs;
	table_crc(&st->Hdr);
	printf("wisp-fw: tracing boot and runtime services\n");
}
