/* Images: LoadImage of hand-made PE32+ images (section alignments below, at and above a
 * page; a DIR64 relocation; an entry that returns, one that calls Exit), LoadedImage,
 * malformed images refused, UnloadImage. */
#include "efitest.h"

#define PE_OFF 0x40
#define OPT_OFF (PE_OFF + 24)
#define SEC_OFF (OPT_OFF + 240)
#define FILE_HDRS 0x200
#define BODY 0x100
#define SLOT 0x40  /* body offset of the relocated 64-bit value */
#define RELOC 0x80 /* body offset of the relocation block */
#define PREFERRED 0x10000000ULL

static UINT8 pe[FILE_HDRS + BODY];

static void w16(UINTN off, UINT16 v)
{
	t_memcpy(pe + off, &v, 2);
}
static void w32(UINTN off, UINT32 v)
{
	t_memcpy(pe + off, &v, 4);
}
static void w64(UINTN off, UINT64 v)
{
	t_memcpy(pe + off, &v, 8);
}

/* A one-section image. exit_status 0: the entry returns the relocated slot (the slot's
 * own address); else it calls BS->Exit(handle, exit_status). Return: the section's RVA. */
static UINT32 build(UINT32 align, UINT64 exit_status)
{
	UINT32 va = align < 0x1000 ? FILE_HDRS : align;
	UINT32 size = va + ((BODY + align - 1) & ~(align - 1));
	UINT8 *b = pe + FILE_HDRS;

	t_memset(pe, 0, sizeof(pe));
	pe[0] = 'M', pe[1] = 'Z';
	w32(0x3c, PE_OFF);
	w32(PE_OFF, 0x00004550);
	w16(PE_OFF + 4, 0x8664);
	w16(PE_OFF + 6, 1);
	w16(PE_OFF + 20, 240);
	w16(PE_OFF + 22, 0x0022); /* executable, large address aware */
	w16(OPT_OFF, 0x20b);
	w32(OPT_OFF + 16, va);	      /* entry: start of the section */
	w64(OPT_OFF + 24, PREFERRED); /* ImageBase */
	w32(OPT_OFF + 32, align);
	w32(OPT_OFF + 36, FILE_HDRS); /* FileAlignment */
	w32(OPT_OFF + 56, size);
	w32(OPT_OFF + 60, FILE_HDRS);
	w16(OPT_OFF + 68, 10); /* EFI application */
	w32(OPT_OFF + 108, 16);
	w32(OPT_OFF + 112 + 5 * 8, va + RELOC);
	w32(OPT_OFF + 112 + 5 * 8 + 4, 12);
	t_memcpy(pe + SEC_OFF, ".text", 5);
	w32(SEC_OFF + 8, BODY);
	w32(SEC_OFF + 12, va);
	w32(SEC_OFF + 16, BODY);
	w32(SEC_OFF + 20, FILE_HDRS);
	w32(SEC_OFF + 36, 0xe0000020); /* code, read, write, execute */
	if (!exit_status) {
		/* mov rax, [rip + SLOT - 7]; ret */
		static const UINT8 code[] = {0x48, 0x8b, 0x05, SLOT - 7, 0, 0, 0, 0xc3};

		t_memcpy(b, code, sizeof(code));
	} else {
		/* sub rsp,0x28; mov rax,[rdx+BootServices]; movabs rdx,status; xor r8d,r8d;
		 * xor r9d,r9d; call [rax+Exit]; add rsp,0x28; ret */
		UINT8 code[] = {0x48, 0x83,
				0xec, 0x28,
				0x48, 0x8b,
				0x42, (UINT8) __builtin_offsetof(EFI_SYSTEM_TABLE, BootServices),
				0x48, 0xba,
				0,    0,
				0,    0,
				0,    0,
				0,    0,
				0x45, 0x31,
				0xc0, 0x45,
				0x31, 0xc9,
				0xff, 0x90,
				0,    0,
				0,    0,
				0x48, 0x83,
				0xc4, 0x28,
				0xc3};

		t_memcpy(code + 10, &exit_status, 8);
		{
			UINT32 off = __builtin_offsetof(EFI_BOOT_SERVICES, Exit);

			t_memcpy(code + 26, &off, 4);
		}
		t_memcpy(b, code, sizeof(code));
	}
	{
		UINT64 slot = PREFERRED + va + SLOT;
		UINT32 page = (va + SLOT) & ~0xfffu;
		UINT16 e = (UINT16)(10 << 12 | ((va + SLOT) & 0xfff));

		t_memcpy(b + SLOT, &slot, 8);
		t_memcpy(b + RELOC, &page, 4);
		w32(FILE_HDRS + RELOC + 4, 12);
		t_memcpy(b + RELOC + 8, &e, 2);
	}
	return va;
}

static void run_aligned(UINT32 align)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_LOADED_IMAGE_PROTOCOL *li = NULL;
	EFI_HANDLE h = NULL;
	UINT32 va = build(align, 0);
	UINT64 base, want;
	EFI_STATUS st;

	st = BS->LoadImage(FALSE, IMAGE, NULL, pe, sizeof(pe), &h);
	if (!t_status(st, EFI_SUCCESS, "LoadImage of a hand-made PE32+"))
		return;
	t_status(BS->HandleProtocol(h, &li_guid, (void **)&li), EFI_SUCCESS,
		 "LoadedImage on the new image");
	if (!li)
		return;
	base = (UINT64)(UINTN)li->ImageBase;
	want = base + va + SLOT;
	t_check(li->ParentHandle == IMAGE, "ParentHandle is the caller");
	t_check(li->SystemTable == ST, "SystemTable");
	t_check(base % (align > 4096 ? align : 4096) == 0, "image base honours SectionAlignment");
	t_check(li->ImageSize >= va + BODY, "ImageSize covers the section");
	t_check(li->ImageCodeType == EfiLoaderCode, "application code is EfiLoaderCode");
	st = BS->StartImage(h, NULL, NULL);
	t_print("  alignment %x: base %lx, entry returned %lx\n", align, (unsigned long)base,
		(unsigned long)st);
	t_check(st == want, "relocated DIR64 slot holds its own load address");
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_LOADED_IMAGE_PROTOCOL *self = NULL;
	EFI_HANDLE h = NULL;
	UINTN exit_size = 1;
	CHAR16 *exit_data = (CHAR16 *)1;
	EFI_STATUS s;

	t_init(image, st, "efi-image");
	t_status(BS->HandleProtocol(image, &li_guid, (void **)&self), EFI_SUCCESS,
		 "LoadedImage of this image");
	if (self) {
		UINTN me = (UINTN)efi_main, b = (UINTN)self->ImageBase;

		t_check(me >= b && me < b + self->ImageSize,
			"efi_main lies inside ImageBase/ImageSize");
		t_check(self->SystemTable == ST, "own SystemTable");
	}
	run_aligned(0x200);
	run_aligned(0x1000);
	run_aligned(0x10000);

	/* Exit() from the child comes back out of StartImage. */
	build(0x1000, 0x5a5a);
	if (t_status(BS->LoadImage(FALSE, image, NULL, pe, sizeof(pe), &h), EFI_SUCCESS,
		     "LoadImage (Exit child)")) {
		s = BS->StartImage(h, &exit_size, &exit_data);
		t_status(s, 0x5a5a, "StartImage returns the status given to Exit");
		t_check(exit_size == 0 && !exit_data, "no exit data");
	}

	/* Loaded, never started: UnloadImage. */
	build(0x1000, 0);
	h = NULL;
	if (t_status(BS->LoadImage(FALSE, image, NULL, pe, sizeof(pe), &h), EFI_SUCCESS,
		     "LoadImage (to unload)"))
		t_status(BS->UnloadImage(h), EFI_SUCCESS, "UnloadImage");

	/* Malformed images are refused. */
	h = NULL;
	s = BS->LoadImage(FALSE, image, NULL, pe, 0x180, &h); /* section data cut off */
	t_check(EFI_ERROR(s) && !h, "truncated image refused");
	build(0x1000, 0);
	pe[0] = 'X';
	s = BS->LoadImage(FALSE, image, NULL, pe, sizeof(pe), &h);
	t_check(s == EFI_LOAD_ERROR || s == EFI_UNSUPPORTED, "image without MZ refused");
	build(0x1000, 0);
	w16(PE_OFF + 4, 0x14c);
	s = BS->LoadImage(FALSE, image, NULL, pe, sizeof(pe), &h);
	/* OVMF loads it anyway (it checks the optional header only); wisp-fw refuses. */
	t_check(s == EFI_SUCCESS || s == EFI_UNSUPPORTED || s == EFI_LOAD_ERROR,
		"i386 image: loaded or refused cleanly");
	if (!s)
		BS->UnloadImage(h);
	h = NULL;
	build(0x1000, 0);
	w32(OPT_OFF + 112 + 5 * 8 + 4, 0x7ffffff0); /* relocation directory past the image */
	s = BS->LoadImage(FALSE, image, NULL, pe, sizeof(pe), &h);
	t_check(EFI_ERROR(s), "relocation directory outside the image refused");
	t_finish();
}
