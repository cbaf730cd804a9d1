/* The UEFI memory map, the page allocator over it, and the pool allocator on top.
 * Boot services only; sizes and addresses come from images, so every range is checked. */
#include "fw.h"

#define MAP_MAX 256
/* What GetMemoryMap reports: larger than the structure, as on real firmware, so
 * callers that step by sizeof() instead of DescriptorSize are caught. */
#define DESC_SIZE 48
#define RAM_ATTR (EFI_MEMORY_UC | EFI_MEMORY_WC | EFI_MEMORY_WT | EFI_MEMORY_WB)

struct region {
	uint32_t type;
	uint64_t start, end; /* [start, end), page-aligned */
	uint64_t attr;
};

static struct region map[MAP_MAX];
static unsigned int map_len;
static UINTN map_key = 1;

static uint64_t attr_of(uint32_t type)
{
	switch (type) {
	case EfiRuntimeServicesCode:
	case EfiRuntimeServicesData:
		return RAM_ATTR | EFI_MEMORY_RUNTIME;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return EFI_MEMORY_UC;
	default:
		return RAM_ATTR;
	}
}

/* Overwrite [start, end) with @type/@attr, splitting what it cuts and merging equal
 * neighbours. Return: EFI_SUCCESS or EFI_OUT_OF_RESOURCES (map unchanged). */
static EFI_STATUS convert(uint64_t start, uint64_t end, uint32_t type, uint64_t attr)
{
	static struct region out[MAP_MAX];
	unsigned int n = 0;
	bool placed = false;

#define EMIT(reg)                                                                                  \
	do {                                                                                       \
		if (n >= MAP_MAX)                                                                  \
			return EFI_OUT_OF_RESOURCES;                                               \
		out[n++] = (reg);                                                                  \
	} while (0)
	const struct region fresh = {type, start, end, attr};

	for (unsigned int i = 0; i < map_len; i++) {
		struct region r = map[i], part = r;

		if (r.end <= start || r.start >= end) {
			if (r.start >= end && !placed) {
				EMIT(fresh);
				placed = true;
			}
			EMIT(r);
			continue;
		}
		if (r.start < start) {
			part.end = start;
			EMIT(part);
		}
		if (!placed) {
			EMIT(fresh);
			placed = true;
		}
		if (r.end > end) {
			part = r;
			part.start = end;
			EMIT(part);
		}
	}
	if (!placed)
		EMIT(fresh);
#undef EMIT
	/* Merge touching regions of the same kind. */
	map_len = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct region *last = map_len ? &map[map_len - 1] : NULL;

		if (last && last->end == out[i].start && last->type == out[i].type &&
		    last->attr == out[i].attr)
			last->end = out[i].end;
		else
			map[map_len++] = out[i];
	}
	map_key++;
	return EFI_SUCCESS;
}

void memmap_add_e820(uint64_t addr, uint64_t size, uint32_t e820_type)
{
	uint64_t lo = addr & ~(PAGE_SIZE - 1),
		 hi = (addr + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint32_t type = EfiReservedMemoryType;

	if (addr + size < addr)
		return;
	if (e820_type == 1) { /* RAM: whole pages only */
		lo = (addr + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		hi = (addr + size) & ~(PAGE_SIZE - 1);
		type = EfiConventionalMemory;
	} else if (e820_type == 3) {
		type = EfiACPIReclaimMemory;
	} else if (e820_type == 4) {
		type = EfiACPIMemoryNVS;
	}
	if (hi > lo)
		convert(lo, hi, type, type == EfiReservedMemoryType ? 0 : attr_of(type));
}

EFI_STATUS memmap_set(uint64_t addr, uint64_t pages, EFI_MEMORY_TYPE type)
{
	uint64_t attr = attr_of(type);

	/* MMIO that runtime services use (the GED registers) needs a runtime mapping. */
	if (type == EfiMemoryMappedIO && pages == 1)
		attr |= EFI_MEMORY_RUNTIME;
	return convert(addr & ~(PAGE_SIZE - 1), (addr & ~(PAGE_SIZE - 1)) + pages * PAGE_SIZE, type,
		       attr);
}

uint64_t memmap_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < map_len; i++)
		if (attr_of(map[i].type) & EFI_MEMORY_WB && map[i].type != EfiReservedMemoryType)
			top = map[i].end;
	return top;
}

UINTN memmap_key(void)
{
	return map_key;
}

const EFI_MEMORY_DESCRIPTOR *memmap_find(uint64_t addr)
{
	static EFI_MEMORY_DESCRIPTOR d;

	for (unsigned int i = 0; i < map_len; i++)
		if (addr >= map[i].start && addr < map[i].end) {
			d = (EFI_MEMORY_DESCRIPTOR){.Type = map[i].type,
						    .PhysicalStart = map[i].start,
						    .NumberOfPages =
							    (map[i].end - map[i].start) / PAGE_SIZE,
						    .Attribute = map[i].attr};
			return &d;
		}
	return NULL;
}

void memmap_dump(void)
{
	for (unsigned int i = 0; i < map_len; i++)
		printf("wisp-fw:   %012lx-%012lx type %u\n", map[i].start, map[i].end - 1,
		       map[i].type);
}

/* Is [start, end) wholly covered by regions of @type (any non-free type when @type is
 * EfiMaxMemoryType)? */
static bool covered(uint64_t start, uint64_t end, uint32_t type)
{
	uint64_t at = start;

	for (unsigned int i = 0; i < map_len && at < end; i++) {
		if (map[i].end <= at)
			continue;
		if (map[i].start > at)
			return false;
		if (type == EfiMaxMemoryType ? (map[i].type == EfiConventionalMemory ||
						map[i].type == EfiReservedMemoryType ||
						map[i].type >= EfiMemoryMappedIO)
					     : map[i].type != type)
			return false;
		at = map[i].end;
	}
	return at >= end;
}

/* Highest free range of @pages pages ending at or below @limit. */
static uint64_t find_free(uint64_t pages, uint64_t limit)
{
	uint64_t len = pages * PAGE_SIZE;

	for (unsigned int i = map_len; i-- > 0;) {
		uint64_t end = map[i].end < limit ? map[i].end : limit;

		if (map[i].type != EfiConventionalMemory || end <= map[i].start ||
		    end - map[i].start < len)
			continue;
		return end - len;
	}
	return 0;
}

static bool type_valid(EFI_MEMORY_TYPE mt)
{
	/* OEM (0x70000000..) and OS (0x80000000..) types are allowed. */
	return (mt > EfiReservedMemoryType && mt < EfiMaxMemoryType &&
		mt != EfiConventionalMemory && mt != EfiUnusableMemory && mt != EfiMemoryMappedIO &&
		mt != EfiMemoryMappedIOPortSpace) ||
	       (uint32_t)mt >= 0x70000000;
}

EFI_STATUS EFIAPI efi_allocate_pages(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mt, UINTN pages,
				     EFI_PHYSICAL_ADDRESS *addr)
{
	uint64_t at = 0;

	if (!addr || !type_valid(mt) || type >= MaxAllocateType)
		return EFI_INVALID_PARAMETER;
	if (!pages || pages > (1ULL << 40))
		return pages ? EFI_OUT_OF_RESOURCES : EFI_INVALID_PARAMETER;
	switch (type) {
	case AllocateAnyPages:
		/* Below 4 GiB first: some images still keep 32-bit pointers. */
		at = find_free(pages, 1ULL << 32);
		if (!at)
			at = find_free(pages, ~0ULL);
		break;
	case AllocateMaxAddress:
		/* ~0 (no limit) wraps to 0 here: Linux's EFI stub asks for exactly that. */
		if (*addr != ~0ULL && *addr + 1 < PAGE_SIZE)
			return EFI_NOT_FOUND;
		at = find_free(pages, *addr + 1 == 0 ? ~0ULL : (*addr + 1) & ~(PAGE_SIZE - 1));
		break;
	default:
		at = *addr;
		if (at & (PAGE_SIZE - 1)) /* as OVMF answers */
			return EFI_NOT_FOUND;
		if (at + pages * PAGE_SIZE < at ||
		    !covered(at, at + pages * PAGE_SIZE, EfiConventionalMemory))
			return EFI_NOT_FOUND;
		break;
	}
	if (!at)
		return type == AllocateAddress ? EFI_NOT_FOUND : EFI_OUT_OF_RESOURCES;
	if (convert(at, at + pages * PAGE_SIZE, mt, attr_of(mt)))
		return EFI_OUT_OF_RESOURCES;
	*addr = at;
	return EFI_SUCCESS;
}

EFI_STATUS EFIAPI efi_free_pages(EFI_PHYSICAL_ADDRESS addr, UINTN pages)
{
	if (addr & (PAGE_SIZE - 1) || !pages || addr + pages * PAGE_SIZE < addr)
		return EFI_INVALID_PARAMETER;
	if (!covered(addr, addr + pages * PAGE_SIZE, EfiMaxMemoryType))
		return EFI_NOT_FOUND;
	return convert(addr, addr + pages * PAGE_SIZE, EfiConventionalMemory,
		       attr_of(EfiConventionalMemory));
}

EFI_STATUS EFIAPI efi_get_memory_map(UINTN *size, EFI_MEMORY_DESCRIPTOR *out, UINTN *key,
				     UINTN *desc_size, UINT32 *desc_version)
{
	UINTN need = map_len * DESC_SIZE;

	if (!size)
		return EFI_INVALID_PARAMETER;
	if (desc_size)
		*desc_size = DESC_SIZE;
	if (desc_version)
		*desc_version = EFI_MEMORY_DESCRIPTOR_VERSION;
	if (*size < need) {
		*size = need;
		return EFI_BUFFER_TOO_SMALL;
	}
	if (!out)
		return EFI_INVALID_PARAMETER;
	for (unsigned int i = 0; i < map_len; i++) {
		EFI_MEMORY_DESCRIPTOR *d = (void *)((uint8_t *)out + i * DESC_SIZE);

		memset(d, 0, DESC_SIZE);
		d->Type = map[i].type;
		d->PhysicalStart = map[i].start;
		d->NumberOfPages = (map[i].end - map[i].start) / PAGE_SIZE;
		d->Attribute = map[i].attr;
	}
	*size = need;
	if (key)
		*key = map_key;
	return EFI_SUCCESS;
}

/* ---- Pool: chunks of pages per memory type, first-fit free lists; big requests get
 * their own pages. Every block starts with a header. ---- */
#define POOL_MAGIC 0x6c6f6f70u /* "pool" */
#define POOL_FREE 0x65657266u  /* "free" */
#define CHUNK_PAGES 16
#define BIG 8192

struct pool_hdr {
	uint32_t magic, type;
	uint64_t size;	       /* bytes after the header */
	struct pool_hdr *next; /* free list */
	uint64_t big;	       /* pages when allocated directly */
	uint64_t pad;
} __attribute__((aligned(16))); /* 48 bytes: blocks stay 16-byte aligned */

#define POOL_TYPES 16
static struct pool_hdr *free_list[POOL_TYPES];

void *pool_alloc(EFI_MEMORY_TYPE type, UINTN size)
{
	unsigned int t = (uint32_t)type < POOL_TYPES ? type : 0;
	uint64_t need = (size + 15) & ~15ULL;
	EFI_PHYSICAL_ADDRESS a;
	struct pool_hdr *h, **pp;

	if (size > (1ULL << 40) || (uint32_t)type >= POOL_TYPES)
		return NULL;
	if (need >= BIG) {
		UINTN pages = PAGES(need + sizeof(*h));

		if (efi_allocate_pages(AllocateAnyPages, type, pages, &a))
			return NULL;
		h = (void *)(uintptr_t)a;
		*h = (struct pool_hdr){POOL_MAGIC, type, need, NULL, pages, 0};
		return h + 1;
	}
	for (int tries = 0; tries < 2; tries++) {
		for (pp = &free_list[t]; (h = *pp); pp = &h->next) {
			if (h->size < need)
				continue;
			if (h->size >= need + sizeof(*h) + 16) { /* split */
				struct pool_hdr *rest = (void *)((uint8_t *)(h + 1) + need);

				*rest = (struct pool_hdr){
					POOL_FREE, type, h->size - need - sizeof(*h),
					h->next,   0,	 0};
				h->next = rest;
				h->size = need;
			}
			*pp = h->next;
			h->magic = POOL_MAGIC;
			h->next = NULL;
			return h + 1;
		}
		if (efi_allocate_pages(AllocateAnyPages, type, CHUNK_PAGES, &a))
			return NULL;
		h = (void *)(uintptr_t)a;
		*h = (struct pool_hdr){POOL_FREE,    type, CHUNK_PAGES * PAGE_SIZE - sizeof(*h),
				       free_list[t], 0,	   0};
		free_list[t] = h;
	}
	return NULL;
}

void pool_free(void *p)
{
	struct pool_hdr *h = (struct pool_hdr *)p - 1;

	if (h->big) {
		efi_free_pages((uintptr_t)h, h->big);
		return;
	}
	h->magic = POOL_FREE;
	h->next = free_list[h->type];
	free_list[h->type] = h;
}

EFI_STATUS EFIAPI efi_allocate_pool(EFI_MEMORY_TYPE type, UINTN size, VOID **buf)
{
	if (!buf || !type_valid(type) || (uint32_t)type >= POOL_TYPES)
		return EFI_INVALID_PARAMETER;
	*buf = pool_alloc(type, size);
	return *buf ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
}

EFI_STATUS EFIAPI efi_free_pool(VOID *buf)
{
	struct pool_hdr *h = (struct pool_hdr *)buf - 1;

	if (!buf || ((uintptr_t)buf & 15) || h->magic != POOL_MAGIC)
		return EFI_INVALID_PARAMETER;
	pool_free(buf);
	return EFI_SUCCESS;
}
