/* The guest library's CPL3 runtime: system-call wrappers, console, boot information, test
 * start and end, time. Runs at CPL3 (natively fast); never touches ports directly. */
#include "kernel.h"
#include "wisp-test.h"
#include <platform/virt.h>

extern volatile uint64_t irq_counts[256];

long syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int3" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "memory", "cc");
	return ret;
}

void sys_out(uint16_t port, uint32_t value, unsigned size)
{
	syscall3(SYS_OUT, port, value, size);
}

uint32_t sys_in(uint16_t port, unsigned size)
{
	return (uint32_t)syscall3(SYS_IN, port, size, 0);
}

void sys_wait_irq(void)
{
	syscall3(SYS_WAIT_IRQ, 0, 0, 0);
}

uint64_t sys_rdmsr(uint32_t msr)
{
	return (uint64_t)syscall3(SYS_RDMSR, msr, 0, 0);
}

void sys_wrmsr(uint32_t msr, uint64_t value)
{
	syscall3(SYS_WRMSR, msr, (long)value, 0);
}

void sys_post(uint8_t code)
{
	syscall3(SYS_POST, code, 0, 0);
}

void sys_triple_fault(void)
{
	syscall3(SYS_TRIPLE_FAULT, 0, 0, 0);
	for (;;)
		; /* not reached: the CPU has shut down */
}

void console_write(const char *s, size_t len)
{
	syscall3(SYS_WRITE, (long)s, (long)len, 0);
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void test_exit(uint32_t code)
{
	syscall3(SYS_EXIT, code, 0, 0);
	__builtin_unreachable();
}

void test_pass(void)
{
	sys_post(POST_TEST_DONE);
	printf("WISP-TEST PASS %s\n", wisp_test_name);
	test_exit(EXIT_PASS);
}

void test_fail(const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	sys_post(POST_TEST_DONE);
	printf("WISP-TEST FAIL %s: %s\n", wisp_test_name, reason);
	test_exit(EXIT_FAIL);
}

const struct hvm_start_info *start_info(void)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)pvh_start_info;

	if (!si || si->magic != HVM_START_MAGIC)
		return NULL;
	return si;
}

/* Copied at start: smp_boot() may overwrite low memory where the VMM put it. */
static char cmdline_copy[VIRT_CMDLINE_MAX];

const char *cmdline(void)
{
	return cmdline_copy;
}

/* Pointer to the value of key ("" for a bare key), or NULL. */
static const char *cmdline_find(const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline_copy; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && (p[klen] == '=' || p[klen] == ' ' || !p[klen]))
			return p[klen] == '=' ? p + klen + 1 : p + klen;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool cmdline_has(const char *key)
{
	return cmdline_find(key) != NULL;
}

long cmdline_int(const char *key, long def)
{
	const char *v = cmdline_find(key);
	long n = 0;
	unsigned base = 10;

	if (!v || *v < '0' || *v > '9')
		return def;
	if (v[0] == '0' && v[1] == 'x')
		base = 16, v += 2;
	for (;; v++) {
		unsigned d;

		if (*v >= '0' && *v <= '9')
			d = (unsigned)(*v - '0');
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = (unsigned)(*v - 'a' + 10);
		else
			break;
		n = n * base + d;
	}
	return n;
}

uint64_t irq_count(unsigned vec)
{
	return vec < 256 ? irq_counts[vec] : 0;
}

static uint64_t tsc_freq;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

uint64_t tsc_hz(void)
{
	uint32_t a, b, c, d;

	if (tsc_freq)
		return tsc_freq;
	tsc_freq = 2000000000ull;
	cpuid(0, &a, &b, &c, &d);
	if (a >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);
		if (a && b && c) {
			tsc_freq = (uint64_t)c * b / a;
			return tsc_freq;
		}
	}
	if (a >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);
		if (a)
			tsc_freq = (uint64_t)a * 1000000;
	}
	return tsc_freq;
}

uint64_t time_us(void)
{
	return rdtsc() / (tsc_hz() / 1000000);
}

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * (tsc_hz() / 1000000);

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(VIRT_LAPIC_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)(VIRT_LAPIC_BASE + reg) = value;
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

int lapic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	for (int i = 0; i < 1000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & (1u << 12)))
			return 0;
		delay_us(10);
	}
	return -1;
}

void user_start(void)
{
	const struct hvm_start_info *si = start_info();

	if (!si)
		test_fail("no hvm_start_info (EBX=%#lx)", pvh_start_info);
	if (si->cmdline_paddr) {
		const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = 0;

		while (n < sizeof(cmdline_copy) - 1 && c[n])
			n++;
		memcpy(cmdline_copy, c, n);
	}
	int rc = test_main();
	if (rc)
		test_fail("test_main returned %d", rc);
	test_pass();
}
