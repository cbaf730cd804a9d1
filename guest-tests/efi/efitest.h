/* Helpers for the EFI test applications: console output, checks, and the verdict.
 * Built with gnu-efi's crt0 and linker script, general registers only (the firmware
 * runs them at CPL0, where this host's KVM cannot execute SSE). No libefi: Debian's
 * is built with SSE. Each app runs under wisp-fw and under OVMF alike. */
#ifndef WISP_EFITEST_H
#define WISP_EFITEST_H

#include <efi.h>
#include <efiapi.h>
#include <stdarg.h>
#include <stdbool.h>

extern EFI_SYSTEM_TABLE *ST;
extern EFI_BOOT_SERVICES *BS;
extern EFI_RUNTIME_SERVICES *RT;
extern EFI_HANDLE IMAGE;

/** t_init() - remember the tables, print "WISP-EFI START <name>". */
/* efi_main(image, systab): gnu-efi's crt0 calls it with the System V convention. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);
void t_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, const char *name);
/** t_print() - printf subset (%s %c %d %u %x %lx %lu %p) to ConOut, or straight to
 * COM1 once t_no_console() was called (after ExitBootServices). */
void t_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void t_no_console(void);
/** t_check() - count a failure and print it when @ok is false. Return: @ok. */
bool t_check_at(bool ok, const char *what, int line);
#define t_check(ok, what) t_check_at((ok), (what), __LINE__)
/** t_status() - check that @got equals @want, naming both. */
bool t_status_at(EFI_STATUS got, EFI_STATUS want, const char *what, int line);
#define t_status(got, want, what) t_status_at((got), (want), (what), __LINE__)
/** t_finish() - print "WISP-EFI PASS|FAIL <name>", write 0x10 (pass) or 0x11 (fail)
 * to isa-debug-exit (port 0xf4) and shut down through ResetSystem with a status. */
__attribute__((noreturn)) void t_finish(void);

void *t_memset(void *d, int c, UINTN n);
void *t_memcpy(void *d, const void *s, UINTN n);
int t_memcmp(const void *a, const void *b, UINTN n);
bool t_guid_eq(const EFI_GUID *a, const EFI_GUID *b);
/** t_sum() - byte sum (ACPI/SMBIOS checksums). */
UINT8 t_sum(const void *p, UINTN n);
/** t_table() - the configuration table with @guid, or NULL. */
void *t_table(const EFI_GUID *guid);

static inline void t_outb(UINT16 port, UINT8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

#endif
