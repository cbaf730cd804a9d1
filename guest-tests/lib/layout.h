/* Constants shared by the guest library's assembly and C: selectors, addresses, vectors, ABI. */
#ifndef WISP_GUEST_LAYOUT_H
#define WISP_GUEST_LAYOUT_H

/* GDT selectors (see gdt in entry.S). */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS 0x18
#define USER_CS 0x20
#define TSS_SEL 0x28
#define BOOT_CS32 0x38

/* Fixed addresses (guest.ld asserts them) so the IDT and the TSS descriptor are link-time
 * constants: no CPL0 cycles are spent building them. */
#define ISR_STUBS_ADDR 0x100000 /* 256 stubs, 16 bytes apart */
#define TSS_ADDR 0x101000
#define TSS_SIZE 104

/* Where smp_boot() copies the AP real-mode trampoline (SIPI vector 0x08). */
#define TRAMPOLINE_ADDR 0x8000

#define MAX_CPUS 64
#define KERNEL_STACK_SIZE 16384
#define USER_STACK_SIZE 65536
#define AP_STACK_SIZE 4096

/* Interrupt vectors. */
#define VEC_LAPIC_TIMER 0x40
/* System calls enter through int3 (#BP, gate DPL3). On this host's software KVM "int $n"
 * raises #UD at CPL3 (seen for n = 0x30, 0x80, 0x81) and the syscall instruction hangs the
 * vCPU; int3 works there, under QEMU TCG and on hardware. */
#define VEC_SYSCALL 3
#define VEC_SPURIOUS 0xff

/* System calls: int3, number in rax, arguments in rdi, rsi, rdx, result in rax. */
#define SYS_WRITE 0	   /* (buf, len): write bytes to the console */
#define SYS_EXIT 1	   /* (code): write code to isa-debug-exit; never returns */
#define SYS_OUT 2	   /* (port, value, size 1/2/4) */
#define SYS_IN 3	   /* (port, size 1/2/4) -> value */
#define SYS_WAIT_IRQ 4	   /* (): sti; hlt; cli, returns after one interrupt */
#define SYS_RDMSR 5	   /* (msr) -> value */
#define SYS_WRMSR 6	   /* (msr, value) */
#define SYS_POST 7	   /* (code): progress code to port 0x80 */
#define SYS_TRIPLE_FAULT 8 /* (): empty IDT, then an exception: the CPU shuts down */

/* Values written to isa-debug-exit; the VMM exits with (v << 1) | 1. */
#define EXIT_PASS 0x10	    /* process status 33 */
#define EXIT_FAIL 0x11	    /* process status 35 */
#define EXIT_EXCEPTION 0x12 /* process status 37: unexpected CPU exception */

/* Progress codes on port 0x80. */
#define POST_ENTRY32 0x01
#define POST_LONG_MODE 0x02
#define POST_USER 0x03
#define POST_TEST_DONE 0x04

#endif
