/* The protocol database: install/uninstall, HandleProtocol, OpenProtocol, LocateHandle
 * (and Buffer), LocateProtocol, InstallMultipleProtocolInterfaces, LocateDevicePath by
 * longest prefix, RegisterProtocolNotify. */
#include "efitest.h"

static EFI_GUID p1 = {0x1f0e4a21, 0x5b2c, 0x4f1e, {0x9a, 0x01, 0x77, 0x69, 0x73, 0x70, 0x00, 0x01}};
static EFI_GUID p2 = {0x1f0e4a21, 0x5b2c, 0x4f1e, {0x9a, 0x01, 0x77, 0x69, 0x73, 0x70, 0x00, 0x02}};
static EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static int iface1, iface2, iface3;
static int notified;

struct vpath {
	VENDOR_DEVICE_PATH v[3];
	EFI_DEVICE_PATH end;
} __attribute__((packed));

/* A path of @n vendor hardware nodes whose GUIDs end in @ids. */
static void vpath(struct vpath *p, int n, const UINT8 *ids)
{
	t_memset(p, 0, sizeof(*p));
	for (int i = 0; i < n; i++) {
		p->v[i].Header.Type = HARDWARE_DEVICE_PATH;
		p->v[i].Header.SubType = HW_VENDOR_DP;
		p->v[i].Header.Length[0] = sizeof(VENDOR_DEVICE_PATH);
		p->v[i].Guid = p1;
		p->v[i].Guid.Data4[7] = ids[i];
	}
	{
		EFI_DEVICE_PATH *end = (EFI_DEVICE_PATH *)&p->v[n];

		end->Type = END_DEVICE_PATH_TYPE;
		end->SubType = END_ENTIRE_DEVICE_PATH_SUBTYPE;
		end->Length[0] = 4;
	}
}

static VOID EFIAPI on_install(EFI_EVENT ev, VOID *ctx)
{
	notified++;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	EFI_HANDLE h1 = NULL, h2 = NULL, h3 = NULL, found = NULL, *buf = NULL, hs[64];
	static struct vpath pa, pb, q1, q2, dup;
	EFI_DEVICE_PATH *rest;
	EFI_EVENT ev;
	void *reg = NULL, *got = NULL;
	UINTN size, count = 0;
	EFI_STATUS s;

	t_init(image, st, "efi-protocols");
	t_status(BS->CreateEvent(EVT_NOTIFY_SIGNAL, TPL_CALLBACK, on_install, NULL, &ev),
		 EFI_SUCCESS, "CreateEvent for notify");
	t_status(BS->RegisterProtocolNotify(&p1, ev, &reg), EFI_SUCCESS, "RegisterProtocolNotify");

	t_status(BS->InstallProtocolInterface(&h1, &p1, EFI_NATIVE_INTERFACE, &iface1), EFI_SUCCESS,
		 "InstallProtocolInterface on a new handle");
	t_check(h1 != NULL, "a handle was created");
	t_check(notified == 1, "the protocol notify ran once");
	t_status(BS->LocateProtocol(&p1, reg, &got), EFI_SUCCESS, "LocateProtocol by registration");
	t_check(got == &iface1, "it names the new interface");
	t_status(BS->InstallProtocolInterface(&h1, &p1, EFI_NATIVE_INTERFACE, &iface2),
		 EFI_INVALID_PARAMETER, "installing a protocol twice on a handle");
	t_status(BS->HandleProtocol(h1, &p1, &got), EFI_SUCCESS, "HandleProtocol");
	t_check(got == &iface1, "HandleProtocol returns the interface");
	t_status(BS->HandleProtocol(h1, &p2, &got), EFI_UNSUPPORTED, "HandleProtocol, absent");
	t_status(BS->OpenProtocol(h1, &p1, &got, image, NULL, EFI_OPEN_PROTOCOL_GET_PROTOCOL),
		 EFI_SUCCESS, "OpenProtocol GET_PROTOCOL");
	t_status(BS->OpenProtocol(h1, &p2, NULL, image, NULL, EFI_OPEN_PROTOCOL_TEST_PROTOCOL),
		 EFI_UNSUPPORTED, "OpenProtocol TEST_PROTOCOL, absent");
	t_status(BS->OpenProtocol(h1, &p1, NULL, image, NULL, EFI_OPEN_PROTOCOL_TEST_PROTOCOL),
		 EFI_SUCCESS, "OpenProtocol TEST_PROTOCOL");
	t_status(BS->CloseProtocol(h1, &p1, image, NULL), EFI_SUCCESS, "CloseProtocol");

	/* Two handles with p1, paths A and A/B; h3 has only p2. */
	vpath(&pa, 1, (const UINT8[]){0xa1});
	vpath(&pb, 2, (const UINT8[]){0xa1, 0xb2});
	t_status(BS->InstallMultipleProtocolInterfaces(&h2, &p1, &iface2, &dp_guid, &pb, NULL),
		 EFI_SUCCESS, "InstallMultipleProtocolInterfaces");
	t_status(BS->InstallProtocolInterface(&h1, &dp_guid, EFI_NATIVE_INTERFACE, &pa),
		 EFI_SUCCESS, "device path on the first handle");
	t_status(BS->InstallMultipleProtocolInterfaces(&h3, &p2, &iface3, NULL), EFI_SUCCESS,
		 "InstallMultipleProtocolInterfaces, one protocol");
	t_memcpy(&dup, &pb, sizeof(pb));
	found = NULL;
	s = BS->InstallMultipleProtocolInterfaces(&found, &p2, &iface1, &dp_guid, &dup, NULL);
	t_status(s, EFI_ALREADY_STARTED, "a second handle with an existing device path");
	t_check(!found || BS->HandleProtocol(found, &p2, &got) != EFI_SUCCESS,
		"nothing stays installed after the failure");

	size = sizeof(hs);
	t_status(BS->LocateHandle(ByProtocol, &p1, NULL, &size, hs), EFI_SUCCESS,
		 "LocateHandle(ByProtocol)");
	t_check(size == 2 * sizeof(EFI_HANDLE), "two handles carry p1");
	size = 0;
	t_status(BS->LocateHandle(ByProtocol, &p2, NULL, &size, NULL), EFI_BUFFER_TOO_SMALL,
		 "LocateHandle, size probe");
	t_check(size == sizeof(EFI_HANDLE), "size probe asks for one handle");
	t_status(BS->LocateHandleBuffer(ByProtocol, &p1, NULL, &count, &buf), EFI_SUCCESS,
		 "LocateHandleBuffer");
	t_check(count == 2 && buf &&
			((buf[0] == h1 && buf[1] == h2) || (buf[0] == h2 && buf[1] == h1)),
		"LocateHandleBuffer finds both");
	if (buf)
		BS->FreePool(buf);
	size = sizeof(EFI_HANDLE);
	t_status(BS->LocateHandle(AllHandles, NULL, NULL, &size, hs), EFI_BUFFER_TOO_SMALL,
		 "LocateHandle(AllHandles) into one slot");
	t_check(size >= 4 * sizeof(EFI_HANDLE), "AllHandles includes ours and the image's");
	t_status(BS->LocateProtocol(&p2, NULL, &got), EFI_SUCCESS, "LocateProtocol");
	t_check(got == &iface3, "LocateProtocol finds p2");

	/* Longest prefix: A/B/C goes to h2 (A/B) with C left; A/D goes to h1 (A) with D left. */
	vpath(&q1, 3, (const UINT8[]){0xa1, 0xb2, 0xc3});
	rest = (EFI_DEVICE_PATH *)&q1;
	t_status(BS->LocateDevicePath(&p1, &rest, &found), EFI_SUCCESS, "LocateDevicePath A/B/C");
	t_check(found == h2, "A/B/C: the handle with the longer prefix A/B");
	t_check(rest == (EFI_DEVICE_PATH *)&q1.v[2], "A/B/C: the rest starts at C");
	vpath(&q2, 2, (const UINT8[]){0xa1, 0xd4});
	rest = (EFI_DEVICE_PATH *)&q2;
	t_status(BS->LocateDevicePath(&p1, &rest, &found), EFI_SUCCESS, "LocateDevicePath A/D");
	t_check(found == h1, "A/D: the handle with A");
	t_check(rest == (EFI_DEVICE_PATH *)&q2.v[1], "A/D: the rest starts at D");
	rest = (EFI_DEVICE_PATH *)&q2;
	t_status(BS->LocateDevicePath(&p2, &rest, &found), EFI_NOT_FOUND,
		 "LocateDevicePath: no handle with p2 on that path");

	/* Uninstall. */
	t_status(BS->UninstallProtocolInterface(h1, &p1, &iface2), EFI_NOT_FOUND,
		 "Uninstall with the wrong interface");
	t_status(BS->UninstallProtocolInterface(h1, &p1, &iface1), EFI_SUCCESS, "Uninstall");
	t_status(BS->HandleProtocol(h1, &p1, &got), EFI_UNSUPPORTED, "gone after Uninstall");
	t_status(BS->UninstallMultipleProtocolInterfaces(h2, &p1, &iface2, &dp_guid, &pb, NULL),
		 EFI_SUCCESS, "UninstallMultipleProtocolInterfaces");
	t_status(BS->UninstallMultipleProtocolInterfaces(h3, &p2, &iface3, NULL), EFI_SUCCESS,
		 "UninstallMultipleProtocolInterfaces, one");
	t_status(BS->LocateProtocol(&p2, NULL, &got), EFI_NOT_FOUND,
		 "LocateProtocol after removal");
	t_finish();
}
