/* Boot path 1: the kernel wisp hands over as PVH module 0 is LoadImage()d as a PE32+
 * (a Linux bzImage's EFI stub, or any EFI application) with the command line in
 * LoadedImage.LoadOptions; module 1, if any, is served as the initrd through LoadFile2
 * on Linux's initrd media device path. Boot services time. */
#include "fw.h"

#define CMDLINE_MAX 4096

struct initrd_dp {
	VENDOR_DEVICE_PATH ven;
	EFI_DEVICE_PATH end;
} __attribute__((packed));

struct module_dp {
	VENDOR_DEVICE_PATH ven;
	EFI_DEVICE_PATH end;
} __attribute__((packed));

/* EFI_LOAD_FILE2_PROTOCOL has the shape of LoadFile. */
static const EFI_GUID load_file2_guid = {
	0x4006c0c1, 0xfcb3, 0x403e, {0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d}};
static const EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
static const struct initrd_dp initrd_dp = {
	{{MEDIA_DEVICE_PATH, MEDIA_VENDOR_DP, {sizeof(VENDOR_DEVICE_PATH), 0}},
	 {0x5568e427, 0x68fc, 0x4f3d, {0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68}}},
	{END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE, {4, 0}}};
/* The device the payload comes from: "wisp PVH module 0". */
static const struct module_dp module_dp = {
	{{HARDWARE_DEVICE_PATH, HW_VENDOR_DP, {sizeof(VENDOR_DEVICE_PATH), 0}},
	 {0x77697370, 0x6d6f, 0x4430, {'m', 'o', 'd', 'u', 'l', 'e', '0', 0}}},
	{END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE, {4, 0}}};

static struct fw_module initrd;

static EFI_STATUS EFIAPI initrd_load(EFI_LOAD_FILE_PROTOCOL *this, EFI_DEVICE_PATH *path,
				     BOOLEAN boot_policy, UINTN *size, VOID *buf)
{
	if (!size || !path)
		return EFI_INVALID_PARAMETER;
	if (boot_policy)
		return EFI_UNSUPPORTED;
	/* The remaining path must be empty: just the end node. */
	if (path->Type != END_DEVICE_PATH_TYPE)
		return EFI_NOT_FOUND;
	if (trace_on())
		printf("wisp-fw: trace initrd LoadFile2(size %lx, buffer %p), initrd %lx bytes\n",
		       *size, buf, initrd.size);
	if (!buf || *size < initrd.size) {
		*size = initrd.size;
		return EFI_BUFFER_TOO_SMALL;
	}
	memcpy(buf, (void *)(uintptr_t)initrd.addr, initrd.size);
	*size = initrd.size;
	return EFI_SUCCESS;
}

static EFI_LOAD_FILE_PROTOCOL initrd_lf2 = {initrd_load};

static EFI_STATUS install_initrd(const struct fw_module *m)
{
	EFI_HANDLE h = NULL;
	EFI_STATUS st;

	initrd = *m;
	st = proto_install(&h, &dp_guid, (void *)&initrd_dp);
	if (!st)
		st = proto_install(&h, &load_file2_guid, &initrd_lf2);
	return st;
}

/* The command line as UCS-2, NUL-terminated, in pool memory the image may keep; the
 * firmware's own word (wisp-fw.trace) is left out. */
static CHAR16 *ucs2(const char *s, UINT32 *bytes)
{
	size_t n = 0, m = 0, skip = 0, skip_len = 0;
	CHAR16 *w;

	while (s && n < CMDLINE_MAX && s[n])
		n++;
	if (trace_word(s, &skip, &skip_len)) {
		if (s[skip + skip_len] == ' ')
			skip_len++; /* and the blank after it */
		else if (skip)
			skip--, skip_len++; /* or before it */
	}
	w = pool_alloc(EfiLoaderData, (n + 1) * sizeof(CHAR16));
	if (!w)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!skip_len || i < skip || i >= skip + skip_len)
			w[m++] = (uint8_t)s[i];
	w[m] = 0;
	*bytes = (UINT32)((m + 1) * sizeof(CHAR16));
	return w;
}

EFI_STATUS payload_boot(EFI_HANDLE fw_image, const struct fw_boot_info *bi)
{
	const struct fw_module *k = &bi->mod[0];
	const char *cmdline = k->cmdline ? k->cmdline : bi->cmdline;
	EFI_LOADED_IMAGE_PROTOCOL *li;
	EFI_HANDLE dev = NULL, img = NULL;
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_STATUS st;

	if (!bi->nr_modules || !k->size) {
		printf("wisp-fw: nothing to boot: give wisp -kernel together with -bios\n");
		return EFI_NOT_FOUND;
	}
	if (bi->nr_modules > 1 && (st = install_initrd(&bi->mod[1])))
		return st;
	if ((st = proto_install(&dev, &dp_guid, (void *)&module_dp)))
		return st;
	printf("wisp-fw: loading %lu bytes from module 0%s%s\n", k->size,
	       bi->nr_modules > 1 ? ", initrd from module 1" : "",
	       cmdline ? ", with a command line" : "");
	post(POST_PAYLOAD);
	st = efi_load_image(FALSE, fw_image, (EFI_DEVICE_PATH *)&module_dp,
			    (void *)(uintptr_t)k->addr, k->size, &img);
	if (st)
		return st;
	fw_bs->HandleProtocol(img, &li_guid, (void **)&li);
	li->LoadOptions = ucs2(cmdline, &li->LoadOptionsSize);
	post(POST_START);
	st = efi_start_image(img, NULL, NULL);
	printf("wisp-fw: the image returned, status %lx\n", st);
	return st;
}
