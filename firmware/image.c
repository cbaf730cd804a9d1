/* Images: LoadImage (PE32+ from a buffer), StartImage, Exit, UnloadImage, and the
 * LoadedImage protocol. Boot services time. A malformed image is refused with a console
 * line naming the problem; nothing of it stays allocated. */
#include "fw.h"
#include "pe.h"

#define IMAGE_MAGIC 0x67616d69u /* "imag" */

struct image {
	EFI_LOADED_IMAGE_PROTOCOL li; /* first: the protocol pointer is the image */
	uint32_t magic;
	EFI_HANDLE handle;
	uint64_t jmp[8];
	EFI_STATUS exit_status;
	UINTN exit_size;
	CHAR16 *exit_data;
	bool started, firmware;
	uint16_t subsystem;
	EFI_PHYSICAL_ADDRESS pages;
	UINTN nr_pages;
	uint64_t entry;
	EFI_DEVICE_PATH *dp; /* LoadedImageDevicePath: the whole path, or NULL */
};

static const EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static const EFI_GUID li_dp_guid = EFI_LOADED_IMAGE_DEVICE_PATH_PROTOCOL_GUID;
static const EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static struct image *running;

static struct image *image_of(EFI_HANDLE h)
{
	struct image *img = proto_get(h, &li_guid);

	return img && img->magic == IMAGE_MAGIC ? img : NULL;
}

static EFI_DEVICE_PATH *dp_copy(const EFI_DEVICE_PATH *dp)
{
	UINTN n = dp_size(dp);
	void *p = n ? pool_alloc(EfiBootServicesData, n) : NULL;

	if (p)
		memcpy(p, dp, n);
	return p;
}

static void unload(struct image *img)
{
	if (img->dp)
		fw_bs->UninstallProtocolInterface(img->handle, (EFI_GUID *)&li_dp_guid, img->dp);
	fw_bs->UninstallProtocolInterface(img->handle, (EFI_GUID *)&li_guid, &img->li);
	if (img->nr_pages)
		efi_free_pages(img->pages, img->nr_pages);
	if (img->dp)
		pool_free(img->dp);
	if (img->li.FilePath)
		pool_free(img->li.FilePath);
	img->magic = 0;
	pool_free(img);
}

static EFI_STATUS refuse(EFI_STATUS st, const char *why)
{
	printf("wisp-fw: LoadImage: %s\n", why);
	return st;
}

EFI_STATUS EFIAPI efi_load_image(BOOLEAN policy, EFI_HANDLE parent, EFI_DEVICE_PATH *dp, VOID *buf,
				 UINTN size, EFI_HANDLE *out)
{
	EFI_MEMORY_TYPE code = EfiLoaderCode, data = EfiLoaderData;
	struct pe_info pi;
	struct image *img;
	const char *why;
	uint64_t base;
	EFI_STATUS st;

	if (!out || !image_of(parent))
		return EFI_INVALID_PARAMETER;
	if (!buf) /* no file systems or LoadFile devices to load from here */
		return refuse(EFI_NOT_FOUND, "no source buffer, and loading by device path "
					     "is not supported");
	if (pe_parse(buf, size, &pi, &why))
		return refuse(pi.machine && pi.machine != 0x8664 ? EFI_UNSUPPORTED : EFI_LOAD_ERROR,
			      why);
	if (pi.subsystem == PE_SUBSYSTEM_EFI_BS_DRIVER)
		code = EfiBootServicesCode, data = EfiBootServicesData;
	else if (pi.subsystem == PE_SUBSYSTEM_EFI_RT_DRIVER)
		code = EfiRuntimeServicesCode, data = EfiRuntimeServicesData;
	else if (pi.subsystem != PE_SUBSYSTEM_EFI_APP)
		return refuse(EFI_UNSUPPORTED, "not an EFI application or driver (subsystem)");
	img = pool_alloc(EfiBootServicesData, sizeof(*img));
	if (!img)
		return EFI_OUT_OF_RESOURCES;
	memset(img, 0, sizeof(*img));
	img->subsystem = pi.subsystem;
	img->nr_pages = PAGES(pi.size_of_image) +
			(pi.section_align > PAGE_SIZE ? pi.section_align / PAGE_SIZE : 0);
	if (efi_allocate_pages(AllocateAnyPages, code, img->nr_pages, &img->pages)) {
		pool_free(img);
		return refuse(EFI_OUT_OF_RESOURCES, "no memory for the image");
	}
	base = (img->pages + pi.section_align - 1) & ~(uint64_t)(pi.section_align - 1);
	if (pe_copy(buf, size, &pi, (uint8_t *)(uintptr_t)base, &why) ||
	    pe_relocate((uint8_t *)(uintptr_t)base, &pi, base, &why)) {
		efi_free_pages(img->pages, img->nr_pages);
		pool_free(img);
		return refuse(EFI_LOAD_ERROR, why);
	}
	img->entry = base + pi.entry;
	printf("wisp-fw: image at %lx-%lx, entry %lx\n", base, base + pi.size_of_image - 1,
	       img->entry);
	img->li = (EFI_LOADED_IMAGE_PROTOCOL){.Revision = EFI_LOADED_IMAGE_PROTOCOL_REVISION,
					      .ParentHandle = parent,
					      .SystemTable = fw_st,
					      .ImageBase = (VOID *)(uintptr_t)base,
					      .ImageSize = pi.size_of_image,
					      .ImageCodeType = code,
					      .ImageDataType = data};
	if (dp && dp_size(dp)) {
		EFI_DEVICE_PATH *rest = dp;
		EFI_HANDLE dev = NULL;

		img->dp = dp_copy(dp);
		if (!fw_bs->LocateDevicePath((EFI_GUID *)&dp_guid, &rest, &dev)) {
			img->li.DeviceHandle = dev;
			img->li.FilePath = dp_copy(rest);
		}
	}
	img->magic = IMAGE_MAGIC;
	st = proto_install(&img->handle, &li_guid, &img->li);
	if (!st && img->dp)
		st = proto_install(&img->handle, &li_dp_guid, img->dp);
	if (st) {
		unload(img);
		return st;
	}
	*out = img->handle;
	return EFI_SUCCESS;
}

EFI_STATUS EFIAPI efi_start_image(EFI_HANDLE h, UINTN *exit_size, CHAR16 **exit_data)
{
	struct image *img = image_of(h), *caller = running;
	EFI_STATUS st;

	if (!img || img->started || img->firmware)
		return EFI_INVALID_PARAMETER;
	img->started = true;
	running = img;
	if (fw_setjmp(img->jmp) == 0) {
		EFI_IMAGE_ENTRY_POINT entry = (EFI_IMAGE_ENTRY_POINT)(uintptr_t)img->entry;

		img->exit_status = entry(h, fw_st);
	}
	running = caller;
	st = img->exit_status;
	if (exit_size)
		*exit_size = img->exit_size;
	if (exit_data)
		*exit_data = img->exit_data;
	/* Applications are unloaded when they return; drivers stay. */
	if (img->subsystem == PE_SUBSYSTEM_EFI_APP || EFI_ERROR(st))
		unload(img);
	return st;
}

static EFI_STATUS EFIAPI exit_image(EFI_HANDLE h, EFI_STATUS status, UINTN size, CHAR16 *data)
{
	struct image *img = image_of(h);

	if (!img || img->firmware)
		return EFI_INVALID_PARAMETER;
	if (!img->started) { /* loaded, never started: just unload */
		unload(img);
		return EFI_SUCCESS;
	}
	if (img != running)
		return EFI_INVALID_PARAMETER;
	img->exit_status = status;
	img->exit_size = data ? size : 0;
	img->exit_data = data;
	fw_longjmp(img->jmp, 1);
}

static EFI_STATUS EFIAPI unload_image(EFI_HANDLE h)
{
	struct image *img = image_of(h);

	if (!img || img->firmware)
		return EFI_INVALID_PARAMETER;
	if (img->started) {
		if (!img->li.Unload)
			return EFI_UNSUPPORTED;
		EFI_STATUS st = img->li.Unload(h);

		if (st)
			return st;
	}
	unload(img);
	return EFI_SUCCESS;
}

EFI_STATUS image_install_firmware(EFI_HANDLE *handle)
{
	extern char __rt_code_start[], __image_end[];
	static struct {
		VENDOR_DEVICE_PATH ven;
		EFI_DEVICE_PATH end;
	} __attribute__((packed))
	fw_dp = {{{HARDWARE_DEVICE_PATH, HW_VENDOR_DP, {sizeof(VENDOR_DEVICE_PATH), 0}},
		  {0x77697370, 0x6677, 0x4657, {'w', 'i', 's', 'p', '-', 'f', 'w', 0}}},
		 {END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE, {4, 0}}};
	struct image *img = pool_alloc(EfiBootServicesData, sizeof(*img));
	EFI_STATUS st;

	if (!img)
		return EFI_OUT_OF_RESOURCES;
	memset(img, 0, sizeof(*img));
	img->li = (EFI_LOADED_IMAGE_PROTOCOL){.Revision = EFI_LOADED_IMAGE_PROTOCOL_REVISION,
					      .SystemTable = fw_st,
					      .ImageBase = __rt_code_start,
					      .ImageSize = (UINT64)(__image_end - __rt_code_start),
					      .ImageCodeType = EfiRuntimeServicesCode,
					      .ImageDataType = EfiRuntimeServicesData};
	img->magic = IMAGE_MAGIC;
	img->firmware = img->started = true;
	st = proto_install(&img->handle, &li_guid, &img->li);
	if (!st)
		st = proto_install(&img->handle, &dp_guid, &fw_dp);
	if (!st) {
		img->li.DeviceHandle = img->handle;
		*handle = img->handle;
	}
	return st;
}

void image_fill(EFI_BOOT_SERVICES *bs)
{
	bs->LoadImage = efi_load_image;
	bs->StartImage = efi_start_image;
	bs->Exit = exit_image;
	bs->UnloadImage = unload_image;
}
