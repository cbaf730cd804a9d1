/* wisp-fw internals: what each module offers the others. Freestanding, CPL0, no SSE;
 * one CPU, no interrupts (timers are polled). */
#ifndef WISP_FW_H
#define WISP_FW_H

#include <efi.h>
#include <efiapi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Progress codes on port 0x80, one per stage of fw_main() (wisp -boot-timeline). */
enum fw_post {
	POST_ENTRY = 0x10, /* entry.S */
	POST_CONSOLE = 0x11,
	POST_MEMMAP = 0x12,
	POST_PAGING = 0x13,
	POST_ALLOC = 0x14,
	POST_TIME = 0x15,
	POST_SERVICES = 0x16,
	POST_TABLES = 0x17,
	POST_PAYLOAD = 0x18,
	POST_START = 0x19,
	POST_EXIT_BS = 0x1a,
	POST_ERROR = 0xee,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE 4096ULL
#define PAGES(bytes) (((bytes) + PAGE_SIZE - 1) / PAGE_SIZE)
/* Boot-only data: the memory map calls it EfiBootServicesData. */
#define BOOT_BSS __attribute__((section(".bootbss")))
/* The UEFI revision the tables claim: 2.70 (gnu-efi's headers say 1.02). */
#define FW_SPEC_REVISION ((2 << 16) | 70)

/* ---- libc.c ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
size_t strlen16(const CHAR16 *s);
int strcmp16(const CHAR16 *a, const CHAR16 *b);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** printf() - format to the serial console. Return: characters written. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool guid_eq(const EFI_GUID *a, const EFI_GUID *b);

/* ---- io.h-like helpers (cpu.c) ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static inline void post(enum fw_post code)
{
	outb(0x80, code);
}
/** cpu_setup_idt() - exception handlers that report and power off. */
void cpu_setup_idt(void);
/** fw_die() - print @why, then ResetSystem(EfiResetShutdown, @status). */
__attribute__((noreturn)) void fw_die(EFI_STATUS status, const char *why);
int fw_setjmp(uint64_t buf[8]) __attribute__((returns_twice));
__attribute__((noreturn)) void fw_longjmp(uint64_t buf[8], int val);

/* ---- serial.c ---- */
void serial_init(void);
void serial_write(const char *s, size_t n);
/** serial_getc() - a received byte, or -1 when none is waiting. */
int serial_getc(void);

/* ---- pvh.c: what wisp (or any PVH loader) handed over ---- */
struct fw_module {
	uint64_t addr, size;
	const char *cmdline; /* NULL when none */
};
struct fw_boot_info {
	uint64_t rsdp;
	const char *cmdline; /* the start info's own command line, or NULL */
	unsigned int nr_modules;
	struct fw_module mod[4];
};
/** pvh_parse() - read hvm_start_info at @addr: memory map (into memmap), modules, RSDP.
 * Return: 0 or -1 when it is no valid start info. */
int pvh_parse(uint32_t addr, struct fw_boot_info *bi);

/* ---- memmap.c: the UEFI memory map and the page and pool allocators ---- */
/** memmap_add_e820() - the loader's map entry into the UEFI map (start-up only). */
void memmap_add_e820(uint64_t addr, uint64_t size, uint32_t e820_type);
/** memmap_set() - make [@addr, @addr + @pages pages) of type @type (start-up only). */
EFI_STATUS memmap_set(uint64_t addr, uint64_t pages, EFI_MEMORY_TYPE type);
/** memmap_top() - the end of RAM in the map. */
uint64_t memmap_top(void);
/** memmap_key() - the current map key. */
UINTN memmap_key(void);
/** memmap_find() - the descriptor covering @addr, or NULL. */
const EFI_MEMORY_DESCRIPTOR *memmap_find(uint64_t addr);
/** memmap_runtime_each() - the number of runtime descriptors; copies them to @out. */
void memmap_dump(void);
void *pool_alloc(EFI_MEMORY_TYPE type, UINTN size);
void pool_free(void *p);
EFI_STATUS EFIAPI efi_allocate_pages(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mt, UINTN pages,
				     EFI_PHYSICAL_ADDRESS *addr);
EFI_STATUS EFIAPI efi_free_pages(EFI_PHYSICAL_ADDRESS addr, UINTN pages);
EFI_STATUS EFIAPI efi_get_memory_map(UINTN *size, EFI_MEMORY_DESCRIPTOR *map, UINTN *key,
				     UINTN *desc_size, UINT32 *desc_version);
EFI_STATUS EFIAPI efi_allocate_pool(EFI_MEMORY_TYPE type, UINTN size, VOID **buf);
EFI_STATUS EFIAPI efi_free_pool(VOID *buf);

/* ---- paging.c ---- */
/** paging_map_ram() - identity-map RAM above 4 GiB up to @top. Return: EFI status. */
EFI_STATUS paging_map_ram(uint64_t top);

/* ---- time.c ---- */
void time_init(void);
/** time_now_ns() - nanoseconds since the firmware started counting. */
uint64_t time_now_ns(void);
/** time_wall_ns() - nanoseconds since 1970 (kvmclock's wall clock, else 0 = 1970). */
uint64_t time_wall_ns(void);
/** time_source() - "kvmclock" or the fallback's name. */
const char *time_source(void);

/* ---- protocol.c: handles and protocol interfaces ---- */
EFI_STATUS proto_install(EFI_HANDLE *handle, const EFI_GUID *guid, void *iface);
/** proto_get() - @guid's interface on @handle, or NULL. */
void *proto_get(EFI_HANDLE handle, const EFI_GUID *guid);
void proto_fill(EFI_BOOT_SERVICES *bs);
/** proto_handle_valid() - is @h a live handle? */
bool proto_handle_valid(EFI_HANDLE h);

/* ---- devpath.c ---- */
/** dp_size() - bytes of device path @dp including its end node, 0 if malformed. */
UINTN dp_size(const EFI_DEVICE_PATH *dp);
/** dp_prefix() - bytes of @path that @prefix (without its end node) matches node by
 * node, or (UINTN)-1 when it is no prefix. */
UINTN dp_prefix(const EFI_DEVICE_PATH *prefix, const EFI_DEVICE_PATH *path);

/* ---- event.c ---- */
void event_fill(EFI_BOOT_SERVICES *bs);
/** event_poll() - fire the timers that are due (Stall and waits call it). */
void event_poll(void);
/** event_signal_group() - signal every event of type @type (exit boot services,
 * virtual address change) and run their notify functions. */
void event_signal_type(UINT32 type);
EFI_STATUS EFIAPI efi_create_event(UINT32 type, EFI_TPL tpl, EFI_EVENT_NOTIFY fn, VOID *ctx,
				   EFI_EVENT *ev);
EFI_STATUS EFIAPI efi_signal_event(EFI_EVENT ev);

/* ---- console.c ---- */
/** console_install() - SimpleTextInput/Output on the serial port, into @st. */
EFI_STATUS console_install(EFI_SYSTEM_TABLE *st);

/* ---- image.c ---- */
void image_fill(EFI_BOOT_SERVICES *bs);
/** image_install_firmware() - the firmware's own image handle. */
EFI_STATUS image_install_firmware(EFI_HANDLE *handle);
EFI_STATUS EFIAPI efi_load_image(BOOLEAN policy, EFI_HANDLE parent, EFI_DEVICE_PATH *dp, VOID *buf,
				 UINTN size, EFI_HANDLE *out);
EFI_STATUS EFIAPI efi_start_image(EFI_HANDLE h, UINTN *exit_size, CHAR16 **exit_data);

/* ---- boot.c: the system table and boot services ---- */
extern EFI_SYSTEM_TABLE *fw_st;
extern EFI_BOOT_SERVICES *fw_bs;
/** boot_services_install() - build the system table and boot services. */
void boot_services_install(void);
uint32_t crc32(const void *p, size_t n);
/** table_crc() - recompute a table header's CRC32. */
void table_crc(EFI_TABLE_HEADER *h);

/* ---- runtime.c ---- */
/** runtime_install() - the runtime services table. */
EFI_RUNTIME_SERVICES *runtime_install(void);
/** runtime_supported() - EFI_RT_SUPPORTED_* bits that work after ExitBootServices. */
UINT32 runtime_supported(void);

/* ---- variables.c: the volatile variable store (runtime) ---- */
/** variables_fill() - GetVariable, GetNextVariableName, SetVariable, QueryVariableInfo. */
void variables_fill(EFI_RUNTIME_SERVICES *rt);

/* ---- tables.c ---- */
/** tables_install() - ACPI 2.0 (from @rsdp; searched when 0), SMBIOS 3, RT properties. */
void tables_install(uint64_t rsdp);
EFI_STATUS EFIAPI efi_install_configuration_table(EFI_GUID *guid, VOID *table);

/* ---- trace.c: the debug trace ---- */
/** trace_word() - does @cmdline hold the word "wisp-fw.trace"? If so, where (@at, @len,
 * either may be NULL). */
bool trace_word(const char *cmdline, size_t *at, size_t *len);
/** trace_install() - log every boot and runtime service call of images from now on. */
void trace_install(EFI_SYSTEM_TABLE *st);
/** trace_on() - is the trace on? */
bool trace_on(void);

/* ---- linux.c: boot path 1 ---- */
/** payload_boot() - LoadImage/StartImage module 0 with its command line and module 1 as
 * the Linux initrd. Returns only when the image returned; fw_main then shuts down. */
EFI_STATUS payload_boot(EFI_HANDLE fw_image, const struct fw_boot_info *bi);

#endif
