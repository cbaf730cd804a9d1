/* Variables (round trip, size probe, enumeration, append, delete), GetTime, events and
 * timers with Stall, then ExitBootServices: a stale map key is refused, the current
 * one accepted, and runtime services (variables, GetTime, ResetSystem) work after it. */
#include "efitest.h"

static EFI_GUID vg = {0x1f0e4a21, 0x5b2c, 0x4f1e, {0x9a, 0x01, 0x77, 0x69, 0x73, 0x70, 0x0a, 0x01}};
static CHAR16 name_rt[] = L"WispTestRt", name_bs[] = L"WispTestBs";
static int fired, group_hits;
static UINT8 mapbuf[64 * 1024];

#define BS_RT (EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)

static VOID EFIAPI on_timer(EFI_EVENT ev, VOID *ctx)
{
	fired++;
}

static VOID EFIAPI on_group(EFI_EVENT ev, VOID *ctx)
{
	group_hits++;
}

static void variables(void)
{
	UINT8 data[16] = "wisp-variable!", out[32];
	UINTN size = 4, n;
	UINT32 attr = 0;
	CHAR16 name[128];
	EFI_GUID g;
	bool seen = false;

	t_status(RT->SetVariable(name_rt, &vg, BS_RT, 14, data), EFI_SUCCESS, "SetVariable");
	t_status(RT->GetVariable(name_rt, &vg, &attr, &size, out), EFI_BUFFER_TOO_SMALL,
		 "GetVariable into a small buffer");
	t_check(size == 14, "size probe reports 14");
	size = sizeof(out);
	t_status(RT->GetVariable(name_rt, &vg, &attr, &size, out), EFI_SUCCESS, "GetVariable");
	t_check(size == 14 && !t_memcmp(out, data, 14) && attr == BS_RT, "round trip");
	t_status(RT->SetVariable(name_rt, &vg, BS_RT | EFI_VARIABLE_APPEND_WRITE, 2, "xy"),
		 EFI_SUCCESS, "append");
	size = sizeof(out);
	RT->GetVariable(name_rt, &vg, NULL, &size, out);
	t_check(size == 16 && out[14] == 'x' && out[15] == 'y', "appended data");
	t_status(RT->SetVariable(name_bs, &vg, EFI_VARIABLE_BOOTSERVICE_ACCESS, 1, data),
		 EFI_SUCCESS, "SetVariable, boot services only");
	/* Enumerate: ours must show up. */
	name[0] = 0;
	for (int i = 0; i < 1000; i++) {
		n = sizeof(name);
		if (RT->GetNextVariableName(&n, name, &g) != EFI_SUCCESS)
			break;
		if (t_guid_eq(&g, &vg) && !t_memcmp(name, name_rt, sizeof(name_rt)))
			seen = true;
	}
	t_check(seen, "GetNextVariableName lists the variable");
	n = 2;
	name[0] = 0;
	t_status(RT->GetNextVariableName(&n, name, &g), EFI_BUFFER_TOO_SMALL,
		 "GetNextVariableName into a small buffer");
	size = sizeof(out);
	t_status(RT->GetVariable(L"WispNoSuchVar", &vg, NULL, &size, out), EFI_NOT_FOUND,
		 "GetVariable, absent");
	t_status(RT->SetVariable(L"WispGone", &vg, BS_RT, 1, data), EFI_SUCCESS, "set to delete");
	t_status(RT->SetVariable(L"WispGone", &vg, BS_RT, 0, NULL), EFI_SUCCESS, "delete");
	size = sizeof(out);
	t_status(RT->GetVariable(L"WispGone", &vg, NULL, &size, out), EFI_NOT_FOUND,
		 "deleted variable is gone");
	t_status(RT->SetVariable(L"WispGone", &vg, BS_RT, 0, NULL), EFI_NOT_FOUND,
		 "delete, absent");
}

static void time_and_events(void)
{
	EFI_TIME t;
	EFI_EVENT tm, per, wait, g1, g2, sig;
	EFI_GUID group = vg;
	UINTN idx;
	UINT64 c1 = 0, c2 = 0;

	t_status(RT->GetTime(&t, NULL), EFI_SUCCESS, "GetTime");
	t_print("  GetTime: %u-%u-%u %u:%u:%u\n", t.Year, t.Month, t.Day, t.Hour, t.Minute,
		t.Second);
	t_check(t.Year >= 2024 && t.Year < 2200 && t.Month >= 1 && t.Month <= 12 && t.Day >= 1 &&
			t.Day <= 31 && t.Hour < 24 && t.Minute < 60 && t.Second < 60,
		"GetTime fields are a date");
	t_status(BS->GetNextMonotonicCount(&c1), EFI_SUCCESS, "GetNextMonotonicCount");
	BS->GetNextMonotonicCount(&c2);
	t_check(c2 > c1, "monotonic count increases");

	/* A one-shot timer: not ready at once, ready after a Stall past its time. */
	t_status(BS->CreateEvent(EVT_TIMER, 0, NULL, NULL, &tm), EFI_SUCCESS, "CreateEvent(timer)");
	t_status(BS->SetTimer(tm, TimerRelative, 200000), EFI_SUCCESS, "SetTimer 20 ms");
	t_status(BS->CheckEvent(tm), EFI_NOT_READY, "timer not yet due");
	BS->Stall(40000);
	t_status(BS->CheckEvent(tm), EFI_SUCCESS, "timer due after Stall(40 ms)");
	t_status(BS->CheckEvent(tm), EFI_NOT_READY, "CheckEvent clears the signal");
	/* A periodic timer, waited for three times. */
	t_status(BS->CreateEvent(EVT_TIMER, 0, NULL, NULL, &per), EFI_SUCCESS, "periodic timer");
	BS->SetTimer(per, TimerPeriodic, 50000);
	for (int i = 0; i < 3; i++)
		t_status(BS->WaitForEvent(1, &per, &idx), EFI_SUCCESS, "WaitForEvent(periodic)");
	BS->SetTimer(per, TimerCancel, 0);
	/* A notify-signal timer runs its function while the image stalls. */
	t_status(BS->CreateEvent(EVT_TIMER | EVT_NOTIFY_SIGNAL, TPL_CALLBACK, on_timer, NULL, &sig),
		 EFI_SUCCESS, "timer with notify");
	BS->SetTimer(sig, TimerRelative, 100000);
	BS->Stall(50000);
	for (int i = 0; i < 100 && !fired; i++)
		BS->Stall(1000);
	t_check(fired == 1, "timer notify ran once");
	t_status(BS->WaitForEvent(1, &sig, &idx), EFI_INVALID_PARAMETER,
		 "WaitForEvent on a notify-signal event");
	/* SignalEvent, and event groups. */
	BS->CreateEvent(0, 0, NULL, NULL, &wait);
	t_status(BS->SignalEvent(wait), EFI_SUCCESS, "SignalEvent");
	t_status(BS->CheckEvent(wait), EFI_SUCCESS, "signalled event is ready");
	t_status(BS->CreateEventEx(EVT_NOTIFY_SIGNAL, TPL_CALLBACK, on_group, NULL, &group, &g1),
		 EFI_SUCCESS, "CreateEventEx");
	t_status(BS->CreateEventEx(EVT_NOTIFY_SIGNAL, TPL_CALLBACK, on_group, NULL, &group, &g2),
		 EFI_SUCCESS, "CreateEventEx, same group");
	BS->SignalEvent(g1);
	t_check(group_hits == 2, "signalling one event of a group notifies both");
	t_status(BS->CreateEvent(EVT_NOTIFY_SIGNAL | EVT_NOTIFY_WAIT, TPL_CALLBACK, on_timer, NULL,
				 &wait),
		 EFI_INVALID_PARAMETER, "CreateEvent with both notify types");
	for (EFI_EVENT *e = (EFI_EVENT[]){tm, per, sig, g1, g2}, *end = e + 5; e < end; e++)
		t_status(BS->CloseEvent(*e), EFI_SUCCESS, "CloseEvent");
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	UINTN size = sizeof(mapbuf), key = 0, dsize;
	UINT32 ver;
	UINT8 out[32];
	EFI_TIME t;
	EFI_STATUS s;

	t_init(image, st, "efi-runtime");
	variables();
	time_and_events();

	/* ExitBootServices: a stale key is refused, the current one accepted. */
	t_status(BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)mapbuf, &key, &dsize, &ver),
		 EFI_SUCCESS, "GetMemoryMap");
	t_status(BS->ExitBootServices(image, key + 1), EFI_INVALID_PARAMETER,
		 "ExitBootServices with a stale key");
	size = sizeof(mapbuf);
	t_print("  exiting boot services\n");
	BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)mapbuf, &key, &dsize, &ver);
	s = BS->ExitBootServices(image, key);
	t_no_console();
	t_status(s, EFI_SUCCESS, "ExitBootServices");
	size = sizeof(out);
	t_status(RT->GetVariable(name_rt, &vg, NULL, &size, out), EFI_SUCCESS,
		 "runtime-access variable after ExitBootServices");
	size = sizeof(out);
	t_status(RT->GetVariable(name_bs, &vg, NULL, &size, out), EFI_NOT_FOUND,
		 "boot-services-only variable hidden after ExitBootServices");
	t_status(RT->GetTime(&t, NULL), EFI_SUCCESS, "GetTime after ExitBootServices");
	t_finish();
}
