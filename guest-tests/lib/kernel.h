/* Internal interface between the guest library's CPL0 part (kernel.c), its assembly and CPL3. */
#ifndef WISP_GUEST_KERNEL_H
#define WISP_GUEST_KERNEL_H

#include <stdint.h>

/* Registers as isr_common in entry.S saves them. */
struct regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* entry.S */
extern uint64_t pvh_start_info;
extern char ap_trampoline_start[], ap_trampoline_end[];
extern char boot_stack_top[];
void enter_user(void (*entry)(void), void *stack) __attribute__((noreturn));

/* kernel.c, called from entry.S */
void kernel_main(void) __attribute__((noreturn));
void ap_main(uint32_t index);
void interrupt_dispatch(struct regs *r);

/* runtime.c: first CPL3 code */
void user_start(void) __attribute__((noreturn));

#endif
