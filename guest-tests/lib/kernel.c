/* The guest library's CPL0 part: IDT, TSS, interrupts, system calls, polled COM1 output.
 * Runs at CPL0, where this host executes ~1000x slower than native: do as little as possible,
 * general registers only (built with -mgeneral-regs-only). */
#include "kernel.h"
#include "io.h"
#include "layout.h"
#include "wisp-test.h"
#include <platform/virt.h>

#define COM1 VIRT_PORT_COM1
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_FIFO_SIZE 16

#define LAPIC_EOI 0xb0

/* Counts of interrupts taken per vector; CPL3 reads them (all pages are user-visible). */
volatile uint64_t irq_counts[256];
/* AP check-in: how many APs reached ap_main, and their LAPIC IDs by arrival order. */
volatile uint32_t ap_checked_in;
volatile uint32_t ap_apic_ids[MAX_CPUS];

static volatile int console_lock;

static void lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static void unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* One LSR read per 16 bytes: THRE set means the transmit FIFO is empty. */
static void serial_write(const char *s, uint64_t len)
{
	lock(&console_lock);
	while (len) {
		while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
			__asm__ volatile("pause");
		for (int i = 0; i < UART_FIFO_SIZE && len; i++, len--)
			outb(COM1 + UART_THR, (uint8_t)*s++);
	}
	unlock(&console_lock);
}

static void kputs(const char *s)
{
	serial_write(s, strlen(s));
}

static void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, n < (int)sizeof(buf) ? (uint64_t)n : sizeof(buf) - 1);
}

static __attribute__((noreturn)) void debug_exit(uint32_t code)
{
	outl(VIRT_PORT_DEBUG_EXIT, code);
	/* A VMM may let the vCPU run on briefly while it exits: wait before complaining. */
	for (int i = 0; i < 10000; i++)
		__asm__ volatile("pause");
	kputs("wisp-test: isa-debug-exit did not stop the VM\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

static char user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

void kernel_main(void)
{
	/* 8N1, FIFOs on; the divisor is left as the VMM set it. */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03);
	outb(COM1 + UART_FCR, 0x07);

	/* IDT, GDT and TSS are link-time data (entry.S): just load them. */
	__asm__ volatile("lidt idt_ptr; ltr %w0" : : "r"(TSS_SEL));

	/* Mask both 8259s where they exist (QEMU's pc machines); nothing answers on wisp. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	outb(VIRT_PORT_POST, POST_USER);
	enter_user(user_start, user_stack + USER_STACK_SIZE - 8);
}

void ap_main(uint32_t index)
{
	volatile uint32_t *lapic = (volatile uint32_t *)(uintptr_t)VIRT_LAPIC_BASE;

	ap_apic_ids[index] = lapic[LAPIC_ID / 4] >> 24;
	__atomic_fetch_add(&ap_checked_in, 1, __ATOMIC_SEQ_CST);
}

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static __attribute__((noreturn)) void exception(struct regs *r)
{
	uint64_t cr2;
	const char *name = exception_names[r->vec];

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kprintf("WISP-TEST FAIL %s: exception %s (vector %lu) error %#lx at rip %#lx cs %#lx "
		"rsp %#lx cr2 %#lx\n",
		wisp_test_name, name ? name : "?", r->vec, r->err, r->rip, r->cs, r->rsp, cr2);
	debug_exit(EXIT_EXCEPTION);
}

static uint64_t port_in(uint16_t port, unsigned size)
{
	if (size == 1)
		return inb(port);
	if (size == 2)
		return inw(port);
	return inl(port);
}

static void port_out(uint16_t port, uint32_t v, unsigned size)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static void syscall(struct regs *r)
{
	switch (r->rax) {
	case SYS_WRITE:
		serial_write((const char *)r->rdi, r->rsi);
		r->rax = 0;
		break;
	case SYS_EXIT:
		debug_exit((uint32_t)r->rdi);
	case SYS_OUT:
		port_out((uint16_t)r->rdi, (uint32_t)r->rsi, (unsigned)r->rdx);
		r->rax = 0;
		break;
	case SYS_IN:
		r->rax = port_in((uint16_t)r->rdi, (unsigned)r->rsi);
		break;
	case SYS_WAIT_IRQ:
		/* The interrupt is taken here, nested on this stack, before cli. */
		__asm__ volatile("sti; hlt; cli");
		r->rax = 0;
		break;
	case SYS_RDMSR:
		r->rax = rdmsr((uint32_t)r->rdi);
		break;
	case SYS_WRMSR:
		wrmsr((uint32_t)r->rdi, r->rsi);
		r->rax = 0;
		break;
	case SYS_POST:
		outb(VIRT_PORT_POST, (uint8_t)r->rdi);
		r->rax = 0;
		break;
	case SYS_TRIPLE_FAULT: {
		/* An empty IDT: the next exception cannot be delivered, nor the #DF. */
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) none = {0, 0};

		__asm__ volatile("lidt %0; ud2" : : "m"(none));
		break;
	}
	default:
		r->rax = (uint64_t)-1;
	}
}

void interrupt_dispatch(struct regs *r)
{
	if (r->vec == VEC_SYSCALL && (r->cs & 3) == 3) {
		syscall(r);
		return;
	}
	if (r->vec < 32)
		exception(r);
	irq_counts[r->vec]++;
	if (r->vec != VEC_SPURIOUS)
		*(volatile uint32_t *)(uintptr_t)(VIRT_LAPIC_BASE + LAPIC_EOI) = 0;
}
