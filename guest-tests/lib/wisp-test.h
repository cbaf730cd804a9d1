/* Public API of the wisp guest-test library: freestanding 64-bit PVH guest programs whose
 * test body runs at CPL3 (natively fast here); the CPL0 part is reached by system calls. */
#ifndef WISP_TEST_H
#define WISP_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* ---- Writing a test ----
 * WISP_TEST("name") { ...; return 0; }
 * The body runs at CPL3 with interrupts enabled. Returning 0 passes, anything else fails;
 * test_pass()/test_fail() end the test from anywhere. Either way the console gets one line,
 * "WISP-TEST PASS name" or "WISP-TEST FAIL name: reason", and the VM exits through
 * isa-debug-exit with EXIT_PASS or EXIT_FAIL (EXIT_EXCEPTION on a CPU exception). */
#define WISP_TEST(name)                                                                            \
	const char wisp_test_name[] = name;                                                        \
	int test_main(void)

extern const char wisp_test_name[];
int test_main(void);

void test_pass(void) __attribute__((noreturn));
void test_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Writes code to isa-debug-exit without printing a marker. */
void test_exit(uint32_t code) __attribute__((noreturn));

#define TEST_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond);       \
	} while (0)

/* ---- Console (CPL3: formats locally, one system call per call) ---- */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Supports %d %i %u %x %X %p %s %c %%, flags '-' '0' '#', width, precision for %s,
 * length modifiers l, ll, z. Returns the length the full output would have. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_write(const char *s, size_t len);

/* ---- Strings ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* ---- Boot information (struct hvm_start_info, version 1) ---- */
#define HVM_START_MAGIC 0x336ec578
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
/* The start info the VMM passed in EBX, or NULL if its magic is wrong. */
const struct hvm_start_info *start_info(void);
/* The kernel command line ("" if none). */
const char *cmdline(void);
/* Value of "key=value" on the command line as a number, or def when absent. */
long cmdline_int(const char *key, long def);
/* True if "key" or "key=..." is on the command line. */
bool cmdline_has(const char *key);

/* ---- System calls into CPL0 (port I/O from CPL3 is unreliable on this host) ---- */
long syscall3(long nr, long a, long b, long c);
void sys_out(uint16_t port, uint32_t value, unsigned size);
uint32_t sys_in(uint16_t port, unsigned size);
/* Halts with interrupts enabled until one interrupt has been taken. */
void sys_wait_irq(void);
uint64_t sys_rdmsr(uint32_t msr);
void sys_wrmsr(uint32_t msr, uint64_t value);
/* Progress code on port 0x80 (wisp -boot-timeline shows it with a timestamp). */
void sys_post(uint8_t code);
/* Triple-faults the CPU (the VMM resets the machine, or exits with -no-reboot). */
void sys_triple_fault(void) __attribute__((noreturn));

/* ---- Interrupts ---- */
/* How many interrupts the CPL0 part has taken on vector vec (it sends the LAPIC EOI). */
uint64_t irq_count(unsigned vec);

/* ---- Time (TSC; frequency from CPUID 0x15/0x16, else assumed 2 GHz: for timeouts only) ---- */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
uint64_t tsc_hz(void);
uint64_t time_us(void);
void delay_us(uint64_t us);

/* ---- Local APIC (xAPIC MMIO at VIRT_LAPIC_BASE, accessed directly from CPL3) ---- */
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_PERIODIC (1u << 17)
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
uint32_t lapic_id(void);
/* Sends an IPI (icr_lo: vector, delivery mode, shorthand) to APIC ID dest; waits until the
 * LAPIC reports it delivered. Returns 0, or -1 if it stays pending. */
int lapic_send_ipi(uint32_t dest, uint32_t icr_lo);

/* ---- SMP ---- */
/* Starts every AP with INIT-SIPI-SIPI (broadcast, all excluding self) through a real-mode
 * trampoline copied to TRAMPOLINE_ADDR; each AP enters long mode, records its APIC ID and
 * halts at CPL0. Waits up to timeout_us for expected APs. Returns how many checked in. */
unsigned smp_boot(unsigned expected, uint64_t timeout_us);
unsigned smp_checked_in(void);
/* APIC ID of the index-th AP to check in. */
uint32_t smp_ap_apic_id(unsigned index);

/* ---- ACPI ---- */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));
/* Sum of len bytes, mod 256 (0 for a valid table). */
uint8_t acpi_sum(const void *p, size_t len);
/* The RSDP: from the start info if it gives one, else a scan of 0xE0000-0xFFFFF. Checks
 * signature and checksums; NULL if none is found. */
const struct acpi_rsdp *acpi_find_rsdp(void);
/* The index-th table with signature sig listed by the XSDT (or RSDT), or NULL. */
const struct acpi_header *acpi_find_table(const char *sig, unsigned index);
/* Enabled processors in the MADT (Local APIC and Local x2APIC entries). */
unsigned acpi_madt_cpus(const struct acpi_header *madt);

#endif
