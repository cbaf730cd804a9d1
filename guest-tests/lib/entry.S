/* PVH entry, long-mode switch, AP trampoline, page tables, GDT and interrupt stubs; runs at CPL0. */
#include "layout.h"

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PE 0x1
#define CR0_WP 0x10000
#define CR0_PG 0x80000000

/* XEN_ELFNOTE_PHYS32_ENTRY: the VMM enters pvh_start32 in 32-bit protected mode. */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4, 4, 18
	.asciz "Xen"
	.p2align 2
	.long pvh_start32

	.section .text.entry32, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	movb $POST_ENTRY32, %al
	outb %al, $0x80
	movl %ebx, pvh_start_info
	movl $boot_stack_top, %esp
	xorl %edi, %edi /* edi = 0: bootstrap processor */

/* BSP and APs: load our GDT, turn on PAE paging in long mode, jump to 64-bit code.
 * Uses no stack. edi says who we are and survives into start64. */
long_mode_enter:
	lgdt gdt_ptr
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $KERNEL_CS, $start64

/* APs arrive here from the real-mode trampoline, in flat 32-bit protected mode. */
ap_start32:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $1, %edi
	jmp long_mode_enter

	.code64
start64:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	testl %edi, %edi
	jnz ap_start64
	movq $boot_stack_top, %rsp
	movb $POST_LONG_MODE, %al
	outb %al, $0x80
	call kernel_main
1:	cli
	hlt
	jmp 1b

/* Each AP takes the next index and stack, checks in through ap_main(), then halts. */
ap_start64:
	movl $1, %eax
	lock xaddl %eax, ap_next_index
	cmpl $MAX_CPUS - 1, %eax
	jae 2f
	movl %eax, %edi
	incl %eax
	imull $AP_STACK_SIZE, %eax
	leaq ap_stacks(%rax), %rsp
	lidt idt_ptr
	call ap_main
2:	cli
	hlt
	jmp 2b

/* enter_user(entry, stack): drop to CPL3 with interrupts enabled. */
	.globl enter_user
enter_user:
	pushq $(USER_DS | 3)
	pushq %rsi
	pushq $0x202
	pushq $(USER_CS | 3)
	pushq %rdi
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	iretq

/* 256 interrupt stubs at ISR_STUBS_ADDR, 16 bytes apart: push a zero error code where the
 * CPU does not, push the vector, join isr_common. */
	.section .text.isr, "ax"
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr
	.p2align 4

	.text
/* Saves the general registers as struct regs and calls interrupt_dispatch(regs). */
isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call interrupt_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* AP real-mode trampoline: smp_boot() copies it to TRAMPOLINE_ADDR; position-dependent
 * only through TRAMPOLINE_ADDR. Enters protected mode and jumps to ap_start32. */
	.code16
	.globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl (TRAMPOLINE_ADDR + tramp_gdt_ptr - ap_trampoline_start)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $BOOT_CS32, $ap_start32
	.p2align 3
tramp_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
ap_trampoline_end:
	.code64

	.data
	.p2align 4
	.globl gdt
gdt:
	.quad 0                  /* null */
	.quad 0x00af9a000000ffff /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff /* 0x10 kernel data, flat */
	.quad 0x00cff2000000ffff /* 0x18 user data, DPL3 */
	.quad 0x00affa000000ffff /* 0x20 user code, 64-bit, DPL3 */
	/* 0x28 TSS, 64-bit available, at TSS_ADDR */
	.quad (TSS_SIZE - 1) | ((TSS_ADDR & 0xffffff) << 16) | (0x89 << 40) | (((TSS_ADDR >> 24) & 0xff) << 56)
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x38 code, 32-bit flat (AP trampoline) */
gdt_end:
	.p2align 3
	.word 0, 0, 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl idt_ptr
	.p2align 3
	.word 0, 0, 0
idt_ptr:
	.word 256 * 16 - 1
	.quad idt

/* Interrupt gates for every vector, kernel code, DPL0 but DPL3 for the system-call vector. */
	.p2align 4
	.globl idt
idt:
	.set vec, 0
	.rept 256
	.set addr, ISR_STUBS_ADDR + vec * 16
	.word addr & 0xffff, KERNEL_CS
	.if vec == VEC_SYSCALL
	.word 0xee00
	.else
	.word 0x8e00
	.endif
	.word (addr >> 16) & 0xffff
	.long 0, 0
	.set vec, vec + 1
	.endr

/* The TSS: only rsp0 matters, the stack CPL3 -> CPL0 transitions use. */
	.section .data.tss, "aw"
	.globl tss
tss:
	.long 0
	.quad boot_stack_top, 0, 0
	.fill 9, 8, 0 /* reserved, ist1-7, reserved */
	.word 0, TSS_SIZE
	.globl tss_end
tss_end:

	.data
	.globl pvh_start_info
	.p2align 3
pvh_start_info:
	.quad 0
ap_next_index:
	.long 0

/* Identity map of the low 4 GiB with 2 MiB pages, built at link time so the boot path
 * spends no CPL0 cycles on it. Every level is user-accessible: CPL3 reads and writes all
 * memory and MMIO directly. The top GiB (MMIO hole) is uncached. */
	.p2align 12
	.globl pml4
pml4:
	.quad pdpt + 0x7
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x7
	.quad pd + 0x1000 + 0x7
	.quad pd + 0x2000 + 0x7
	.quad pd + 0x3000 + 0x7
	.fill 508, 8, 0
pd:
	.set page, 0
	.rept 2048
	.if page >= 1536
	.quad (page << 21) | 0x9f
	.else
	.quad (page << 21) | 0x87
	.endif
	.set page, page + 1
	.endr

	.bss
	.p2align 4
	.globl boot_stack_top
boot_stack:
	.skip KERNEL_STACK_SIZE
boot_stack_top:
	.globl ap_stacks
ap_stacks:
	.skip MAX_CPUS * AP_STACK_SIZE
