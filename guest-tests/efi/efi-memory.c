/* Memory services: the memory map's shape, the map key changing with allocations,
 * AllocatePages by type (any, max address, exact address), FreePages, pools. */
#include "efitest.h"

static UINT8 mapbuf[64 * 1024];

struct map {
	EFI_MEMORY_DESCRIPTOR *d;
	UINTN size, key, dsize, count;
	UINT32 version;
};

static EFI_MEMORY_DESCRIPTOR *desc(const struct map *m, UINTN i)
{
	return (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)m->d + i * m->dsize);
}

static bool get_map(struct map *m)
{
	UINTN probe = 0;
	EFI_STATUS st = BS->GetMemoryMap(&probe, NULL, &m->key, &m->dsize, &m->version);

	t_status(st, EFI_BUFFER_TOO_SMALL, "GetMemoryMap with no buffer");
	t_check(probe && probe <= sizeof(mapbuf), "GetMemoryMap reports a plausible size");
	m->size = sizeof(mapbuf);
	m->d = (EFI_MEMORY_DESCRIPTOR *)mapbuf;
	st = BS->GetMemoryMap(&m->size, m->d, &m->key, &m->dsize, &m->version);
	if (!t_status(st, EFI_SUCCESS, "GetMemoryMap"))
		return false;
	m->count = m->dsize ? m->size / m->dsize : 0;
	return true;
}

/* The type covering @addr in @m, or -1. */
static long type_at(const struct map *m, UINT64 addr)
{
	for (UINTN i = 0; i < m->count; i++) {
		EFI_MEMORY_DESCRIPTOR *d = desc(m, i);

		if (addr >= d->PhysicalStart && addr < d->PhysicalStart + d->NumberOfPages * 4096)
			return d->Type;
	}
	return -1;
}

static void check_shape(const struct map *m)
{
	UINT64 free_pages = 0;

	t_check(m->dsize >= sizeof(EFI_MEMORY_DESCRIPTOR), "DescriptorSize >= sizeof");
	t_check(m->dsize % 8 == 0, "DescriptorSize is a multiple of 8");
	t_check(m->version == EFI_MEMORY_DESCRIPTOR_VERSION, "descriptor version 1");
	t_check(m->size % m->dsize == 0, "map size is whole descriptors");
	for (UINTN i = 0; i < m->count; i++) {
		EFI_MEMORY_DESCRIPTOR *d = desc(m, i);

		t_check(d->PhysicalStart % 4096 == 0, "descriptor start page-aligned");
		t_check(d->NumberOfPages > 0, "descriptor not empty");
		t_check(d->Type < EfiMaxMemoryType || d->Type >= 0x70000000, "known type");
		if (d->Type == EfiConventionalMemory)
			free_pages += d->NumberOfPages;
		if (d->Type == EfiRuntimeServicesCode || d->Type == EfiRuntimeServicesData)
			t_check(d->Attribute & EFI_MEMORY_RUNTIME,
				"runtime memory has EFI_MEMORY_RUNTIME");
		for (UINTN j = 0; j < i; j++) {
			EFI_MEMORY_DESCRIPTOR *e = desc(m, j);
			bool apart =
				d->PhysicalStart + d->NumberOfPages * 4096 <= e->PhysicalStart ||
				e->PhysicalStart + e->NumberOfPages * 4096 <= d->PhysicalStart;

			if (!t_check(apart, "descriptors do not overlap"))
				return;
		}
	}
	t_check(free_pages * 4096 >= 16 << 20, "at least 16 MiB conventional memory");
	t_print("  %lu descriptors of %lu bytes, %lu MiB free\n", (unsigned long)m->count,
		(unsigned long)m->dsize, (unsigned long)(free_pages >> 8));
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	struct map m, m2;
	EFI_PHYSICAL_ADDRESS a = 0, b, c;
	UINTN key;
	void *pool = NULL;

	t_init(image, st, "efi-memory");
	if (!get_map(&m))
		t_finish();
	check_shape(&m);
	key = m.key;

	/* AllocateAnyPages: a new region of the asked type; the map key changes. */
	t_status(BS->AllocatePages(AllocateAnyPages, EfiLoaderData, 3, &a), EFI_SUCCESS,
		 "AllocatePages(any, 3)");
	t_check(a && a % 4096 == 0, "any: page-aligned address");
	get_map(&m2);
	t_check(m2.key != key, "map key changes after AllocatePages");
	t_check(type_at(&m2, a) == EfiLoaderData && type_at(&m2, a + 2 * 4096) == EfiLoaderData,
		"allocated pages are EfiLoaderData in the map");
	t_memset((void *)(UINTN)a, 0x5a, 3 * 4096);

	/* AllocateMaxAddress: at or below the limit. */
	b = 0x7fffffff;
	t_status(BS->AllocatePages(AllocateMaxAddress, EfiBootServicesData, 2, &b), EFI_SUCCESS,
		 "AllocatePages(max 2 GiB, 2)");
	t_check(b + 2 * 4096 - 1 <= 0x7fffffff, "max address respected");

	/* AllocateMaxAddress with no limit (~0, as Linux's EFI stub asks): anywhere. */
	c = ~0ULL;
	t_status(BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &c), EFI_SUCCESS,
		 "AllocatePages(max ~0, 1)");
	t_check(c && !(c & 4095), "max ~0: a page-aligned address");
	t_status(BS->FreePages(c, 1), EFI_SUCCESS, "FreePages(max ~0 page)");
	c = 0xfff;
	t_status(BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &c), EFI_OUT_OF_RESOURCES,
		 "AllocatePages(max 0xfff, 1): page 0 is taken");

	/* AllocateAddress: exactly there, once. Free b, then claim it back at its address. */
	t_status(BS->FreePages(b, 2), EFI_SUCCESS, "FreePages");
	get_map(&m2);
	t_check(type_at(&m2, b) == EfiConventionalMemory, "freed pages are conventional again");
	c = b;
	t_status(BS->AllocatePages(AllocateAddress, EfiRuntimeServicesData, 2, &c), EFI_SUCCESS,
		 "AllocatePages(address)");
	t_check(c == b, "allocated at the address asked");
	get_map(&m2);
	t_check(type_at(&m2, c) == EfiRuntimeServicesData, "address allocation has its type");
	t_status(BS->AllocatePages(AllocateAddress, EfiLoaderData, 1, &c), EFI_NOT_FOUND,
		 "AllocatePages(address) of used pages");
	c = b + 1;
	t_status(BS->AllocatePages(AllocateAddress, EfiLoaderData, 1, &c), EFI_NOT_FOUND,
		 "AllocatePages(address) not page-aligned");
	t_status(BS->AllocatePages(AllocateAnyPages, (EFI_MEMORY_TYPE)0x6fffffff, 1, &c),
		 EFI_INVALID_PARAMETER, "AllocatePages with an invalid memory type");
	t_status(BS->FreePages(b, 2), EFI_SUCCESS, "FreePages of the address allocation");
	t_status(BS->FreePages(a, 3), EFI_SUCCESS, "FreePages of the first allocation");
	t_status(BS->FreePages(a, 3), EFI_NOT_FOUND, "FreePages twice");

	/* Pools. */
	t_status(BS->AllocatePool(EfiLoaderData, 100, &pool), EFI_SUCCESS, "AllocatePool(100)");
	t_check(pool && (UINTN)pool % 8 == 0, "pool memory 8-byte aligned");
	t_memset(pool, 1, 100);
	t_status(BS->FreePool(pool), EFI_SUCCESS, "FreePool");
	t_status(BS->AllocatePool(EfiBootServicesData, 300000, &pool), EFI_SUCCESS,
		 "AllocatePool(300000)");
	t_memset(pool, 2, 300000);
	t_status(BS->FreePool(pool), EFI_SUCCESS, "FreePool big");
	t_status(BS->AllocatePool((EFI_MEMORY_TYPE)0x6fffffff, 16, &pool), EFI_INVALID_PARAMETER,
		 "AllocatePool with an invalid memory type");
	t_finish();
}
