/* The protocol database: handles, the interfaces installed on them, lookups by GUID and
 * by device path, and protocol notifications. Boot services time; every handle and
 * pointer an image passes is checked against the database. */
#include "fw.h"

#define HANDLE_MAGIC 0x646e6168u /* "hand" */
#define MAX_HANDLES 128
#define MAX_PROTOS 12
#define MAX_NOTIFY 16
#define NOTIFY_QUEUE 8

struct handle {
	uint32_t magic;
	unsigned int n;
	struct {
		EFI_GUID guid;
		void *iface;
	} p[MAX_PROTOS];
};

struct notify {
	EFI_GUID guid;
	EFI_EVENT ev;
	EFI_HANDLE queue[NOTIFY_QUEUE];
	unsigned int head, tail;
};

static struct handle handles[MAX_HANDLES] BOOT_BSS;
static struct notify notifies[MAX_NOTIFY] BOOT_BSS;
static const EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;

bool proto_handle_valid(EFI_HANDLE h)
{
	struct handle *p = h;

	if (p < handles || p >= handles + MAX_HANDLES)
		return false;
	return ((uintptr_t)p - (uintptr_t)handles) % sizeof(*p) == 0 && p->magic == HANDLE_MAGIC;
}

static int find(struct handle *h, const EFI_GUID *g)
{
	for (unsigned int i = 0; i < h->n; i++)
		if (guid_eq(&h->p[i].guid, g))
			return (int)i;
	return -1;
}

void *proto_get(EFI_HANDLE handle, const EFI_GUID *guid)
{
	int i;

	if (!guid || !proto_handle_valid(handle) || (i = find(handle, guid)) < 0)
		return NULL;
	return ((struct handle *)handle)->p[i].iface;
}

EFI_STATUS proto_install(EFI_HANDLE *handle, const EFI_GUID *guid, void *iface)
{
	struct handle *h = NULL;

	if (!handle || !guid)
		return EFI_INVALID_PARAMETER;
	if (*handle) {
		if (!proto_handle_valid(*handle))
			return EFI_INVALID_PARAMETER;
		h = *handle;
		if (find(h, guid) >= 0)
			return EFI_INVALID_PARAMETER;
	} else {
		for (unsigned int i = 0; i < MAX_HANDLES && !h; i++)
			if (handles[i].magic != HANDLE_MAGIC)
				h = &handles[i];
		if (!h)
			return EFI_OUT_OF_RESOURCES;
		h->n = 0;
	}
	if (h->n >= MAX_PROTOS)
		return EFI_OUT_OF_RESOURCES;
	h->p[h->n].guid = *guid;
	h->p[h->n++].iface = iface;
	h->magic = HANDLE_MAGIC;
	*handle = h;
	for (unsigned int i = 0; i < MAX_NOTIFY; i++) {
		struct notify *n = &notifies[i];

		if (!n->ev || !guid_eq(&n->guid, guid))
			continue;
		if (n->tail - n->head < NOTIFY_QUEUE)
			n->queue[n->tail++ % NOTIFY_QUEUE] = h;
		efi_signal_event(n->ev);
	}
	return EFI_SUCCESS;
}

static EFI_STATUS uninstall(EFI_HANDLE handle, const EFI_GUID *guid, void *iface)
{
	struct handle *h = handle;
	int i;

	if (!guid || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	if ((i = find(h, guid)) < 0 || h->p[i].iface != iface)
		return EFI_NOT_FOUND;
	h->p[i] = h->p[--h->n];
	if (!h->n)
		h->magic = 0;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI install_protocol_interface(EFI_HANDLE *handle, EFI_GUID *guid,
						    EFI_INTERFACE_TYPE type, VOID *iface)
{
	if (type != EFI_NATIVE_INTERFACE)
		return EFI_INVALID_PARAMETER;
	return proto_install(handle, guid, iface);
}

static EFI_STATUS EFIAPI uninstall_protocol_interface(EFI_HANDLE handle, EFI_GUID *guid,
						      VOID *iface)
{
	return uninstall(handle, guid, iface);
}

static EFI_STATUS EFIAPI reinstall_protocol_interface(EFI_HANDLE handle, EFI_GUID *guid, VOID *old,
						      VOID *new)
{
	struct handle *h = handle;
	int i;

	if (!guid || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	if ((i = find(h, guid)) < 0 || h->p[i].iface != old)
		return EFI_NOT_FOUND;
	h->p[i].iface = new;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI handle_protocol(EFI_HANDLE handle, EFI_GUID *guid, VOID **iface)
{
	if (!iface || !guid || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	if (find(handle, guid) < 0) {
		*iface = NULL;
		return EFI_UNSUPPORTED;
	}
	*iface = proto_get(handle, guid);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI open_protocol(EFI_HANDLE handle, EFI_GUID *guid, VOID **iface,
				       EFI_HANDLE agent, EFI_HANDLE controller, UINT32 attr)
{
	if (!guid || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	if (attr != EFI_OPEN_PROTOCOL_TEST_PROTOCOL && !iface)
		return EFI_INVALID_PARAMETER;
	if (attr & ~0x3fu || !attr)
		return EFI_INVALID_PARAMETER;
	if (find(handle, guid) < 0) {
		if (iface && attr != EFI_OPEN_PROTOCOL_TEST_PROTOCOL)
			*iface = NULL;
		return EFI_UNSUPPORTED;
	}
	if (attr != EFI_OPEN_PROTOCOL_TEST_PROTOCOL)
		*iface = proto_get(handle, guid);
	return EFI_SUCCESS;
}

/* No drivers hold protocols open by driver here, so closing only checks. */
static EFI_STATUS EFIAPI close_protocol(EFI_HANDLE handle, EFI_GUID *guid, EFI_HANDLE agent,
					EFI_HANDLE controller)
{
	if (!guid || !proto_handle_valid(handle) || !proto_handle_valid(agent))
		return EFI_INVALID_PARAMETER;
	return find(handle, guid) < 0 ? EFI_NOT_FOUND : EFI_SUCCESS;
}

static EFI_STATUS EFIAPI open_protocol_information(EFI_HANDLE handle, EFI_GUID *guid,
						   EFI_OPEN_PROTOCOL_INFORMATION_ENTRY **buf,
						   UINTN *count)
{
	if (!guid || !buf || !count || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	if (find(handle, guid) < 0)
		return EFI_NOT_FOUND;
	*buf = pool_alloc(EfiBootServicesData, 16);
	*count = 0;
	return *buf ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
}

static EFI_STATUS EFIAPI protocols_per_handle(EFI_HANDLE handle, EFI_GUID ***buf, UINTN *count)
{
	struct handle *h = handle;

	if (!buf || !count || !proto_handle_valid(handle))
		return EFI_INVALID_PARAMETER;
	*buf = pool_alloc(EfiBootServicesData, h->n * sizeof(EFI_GUID *) + 8);
	if (!*buf)
		return EFI_OUT_OF_RESOURCES;
	for (unsigned int i = 0; i < h->n; i++)
		(*buf)[i] = &h->p[i].guid;
	*count = h->n;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI register_protocol_notify(EFI_GUID *guid, EFI_EVENT ev, VOID **reg)
{
	if (!guid || !ev || !reg)
		return EFI_INVALID_PARAMETER;
	for (unsigned int i = 0; i < MAX_NOTIFY; i++)
		if (!notifies[i].ev) {
			notifies[i] = (struct notify){.guid = *guid, .ev = ev};
			*reg = &notifies[i];
			return EFI_SUCCESS;
		}
	return EFI_OUT_OF_RESOURCES;
}

static struct notify *notify_of(void *reg)
{
	struct notify *n = reg;

	if (n < notifies || n >= notifies + MAX_NOTIFY || !n->ev)
		return NULL;
	return n;
}

static bool matches(struct handle *h, EFI_LOCATE_SEARCH_TYPE type, const EFI_GUID *guid)
{
	return h->magic == HANDLE_MAGIC && (type == AllHandles || find(h, guid) >= 0);
}

static EFI_STATUS EFIAPI locate_handle(EFI_LOCATE_SEARCH_TYPE type, EFI_GUID *guid, VOID *key,
				       UINTN *size, EFI_HANDLE *buf)
{
	UINTN n = 0;

	if (!size || (type == ByProtocol && !guid) || type > ByProtocol)
		return EFI_INVALID_PARAMETER;
	if (type == ByRegisterNotify) {
		struct notify *nt = notify_of(key);

		if (!nt)
			return EFI_INVALID_PARAMETER;
		if (nt->head == nt->tail)
			return EFI_NOT_FOUND;
		if (*size < sizeof(EFI_HANDLE)) {
			*size = sizeof(EFI_HANDLE);
			return EFI_BUFFER_TOO_SMALL;
		}
		if (!buf)
			return EFI_INVALID_PARAMETER;
		buf[0] = nt->queue[nt->head++ % NOTIFY_QUEUE];
		*size = sizeof(EFI_HANDLE);
		return EFI_SUCCESS;
	}
	for (unsigned int i = 0; i < MAX_HANDLES; i++)
		if (matches(&handles[i], type, guid))
			n++;
	if (!n)
		return EFI_NOT_FOUND;
	if (*size < n * sizeof(EFI_HANDLE)) {
		*size = n * sizeof(EFI_HANDLE);
		return EFI_BUFFER_TOO_SMALL;
	}
	if (!buf)
		return EFI_INVALID_PARAMETER;
	n = 0;
	for (unsigned int i = 0; i < MAX_HANDLES; i++)
		if (matches(&handles[i], type, guid))
			buf[n++] = &handles[i];
	*size = n * sizeof(EFI_HANDLE);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI locate_handle_buffer(EFI_LOCATE_SEARCH_TYPE type, EFI_GUID *guid,
					      VOID *key, UINTN *count, EFI_HANDLE **buf)
{
	UINTN size = 0;
	EFI_STATUS st;

	if (!count || !buf)
		return EFI_INVALID_PARAMETER;
	*count = 0;
	*buf = NULL;
	st = locate_handle(type, guid, key, &size, NULL);
	if (st != EFI_BUFFER_TOO_SMALL)
		return st;
	*buf = pool_alloc(EfiBootServicesData, size);
	if (!*buf)
		return EFI_OUT_OF_RESOURCES;
	st = locate_handle(type, guid, key, &size, *buf);
	*count = size / sizeof(EFI_HANDLE);
	return st;
}

static EFI_STATUS EFIAPI locate_protocol(EFI_GUID *guid, VOID *reg, VOID **iface)
{
	if (!guid || !iface)
		return EFI_INVALID_PARAMETER;
	*iface = NULL;
	if (reg) {
		struct notify *nt = notify_of(reg);

		if (!nt)
			return EFI_INVALID_PARAMETER;
		while (nt->head != nt->tail) {
			EFI_HANDLE h = nt->queue[nt->head++ % NOTIFY_QUEUE];

			if ((*iface = proto_get(h, guid)))
				return EFI_SUCCESS;
		}
		return EFI_NOT_FOUND;
	}
	for (unsigned int i = 0; i < MAX_HANDLES; i++) {
		if (handles[i].magic != HANDLE_MAGIC || find(&handles[i], guid) < 0)
			continue;
		*iface = proto_get(&handles[i], guid);
		return EFI_SUCCESS;
	}
	return EFI_NOT_FOUND;
}

/* The handle with @guid whose device path is the longest whole-node prefix of *@dp. */
static EFI_STATUS EFIAPI locate_device_path(EFI_GUID *guid, EFI_DEVICE_PATH **dp,
					    EFI_HANDLE *device)
{
	UINTN best_len = 0;
	struct handle *best = NULL;

	if (!guid || !dp || !*dp || !device)
		return EFI_INVALID_PARAMETER;
	for (unsigned int i = 0; i < MAX_HANDLES; i++) {
		struct handle *h = &handles[i];
		EFI_DEVICE_PATH *hp;
		UINTN len;

		if (h->magic != HANDLE_MAGIC || find(h, guid) < 0 || !(hp = proto_get(h, &dp_guid)))
			continue;
		len = dp_prefix(hp, *dp);
		if (len != (UINTN)-1 && (!best || len > best_len))
			best = h, best_len = len;
	}
	if (!best)
		return EFI_NOT_FOUND;
	*device = best;
	*dp = (EFI_DEVICE_PATH *)((uint8_t *)*dp + best_len);
	return EFI_SUCCESS;
}

/* Is there already a handle carrying exactly device path @dp? */
static bool dp_taken(const EFI_DEVICE_PATH *dp)
{
	UINTN len = dp_size(dp);

	for (unsigned int i = 0; len && i < MAX_HANDLES; i++) {
		EFI_DEVICE_PATH *hp;

		if (handles[i].magic == HANDLE_MAGIC && (hp = proto_get(&handles[i], &dp_guid)) &&
		    dp_size(hp) == len && !memcmp(hp, dp, len))
			return true;
	}
	return false;
}

static EFI_STATUS EFIAPI install_multiple(EFI_HANDLE *handle, ...)
{
	__builtin_ms_va_list ap;
	EFI_GUID *done[MAX_PROTOS];
	void *ifaces[MAX_PROTOS];
	unsigned int n = 0;
	EFI_STATUS st = EFI_SUCCESS;
	bool fresh;

	if (!handle)
		return EFI_INVALID_PARAMETER;
	fresh = !*handle;
	__builtin_ms_va_start(ap, handle);
	for (;;) {
		EFI_GUID *g = __builtin_va_arg(ap, EFI_GUID *);
		void *iface;

		if (!g)
			break;
		iface = __builtin_va_arg(ap, void *);
		if (n >= MAX_PROTOS) {
			st = EFI_OUT_OF_RESOURCES;
			break;
		}
		if (guid_eq(g, &dp_guid) && dp_taken(iface)) {
			st = EFI_ALREADY_STARTED;
			break;
		}
		st = proto_install(handle, g, iface);
		if (st)
			break;
		done[n] = g;
		ifaces[n++] = iface;
	}
	__builtin_ms_va_end(ap);
	if (st) { /* undo, all or nothing */
		while (n--)
			uninstall(*handle, done[n], ifaces[n]);
		if (fresh)
			*handle = NULL;
	}
	return st;
}

static EFI_STATUS EFIAPI uninstall_multiple(EFI_HANDLE handle, ...)
{
	__builtin_ms_va_list ap;
	EFI_GUID *done[MAX_PROTOS];
	void *ifaces[MAX_PROTOS];
	unsigned int n = 0;
	EFI_STATUS st = EFI_SUCCESS;

	__builtin_ms_va_start(ap, handle);
	for (;;) {
		EFI_GUID *g = __builtin_va_arg(ap, EFI_GUID *);
		void *iface;

		if (!g)
			break;
		iface = __builtin_va_arg(ap, void *);
		if (n >= MAX_PROTOS || uninstall(handle, g, iface)) {
			st = EFI_INVALID_PARAMETER;
			break;
		}
		done[n] = g;
		ifaces[n++] = iface;
	}
	__builtin_ms_va_end(ap);
	if (st) /* put back what was removed */
		while (n--)
			proto_install(&handle, done[n], ifaces[n]);
	return st;
}

void proto_fill(EFI_BOOT_SERVICES *bs)
{
	bs->InstallProtocolInterface = install_protocol_interface;
	bs->ReinstallProtocolInterface = reinstall_protocol_interface;
	bs->UninstallProtocolInterface = uninstall_protocol_interface;
	bs->HandleProtocol = handle_protocol;
	bs->RegisterProtocolNotify = register_protocol_notify;
	bs->LocateHandle = locate_handle;
	bs->LocateDevicePath = locate_device_path;
	bs->OpenProtocol = open_protocol;
	bs->CloseProtocol = close_protocol;
	bs->OpenProtocolInformation = open_protocol_information;
	bs->ProtocolsPerHandle = protocols_per_handle;
	bs->LocateHandleBuffer = locate_handle_buffer;
	bs->LocateProtocol = locate_protocol;
	bs->InstallMultipleProtocolInterfaces = install_multiple;
	bs->UninstallMultipleProtocolInterfaces = uninstall_multiple;
}
