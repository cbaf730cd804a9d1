/* PVH entry into long mode, exception stubs, and the jump buffer that Exit() uses.
 * Runs at CPL0 with no SSE: every instruction here works on this host's software KVM. */
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_EM 0x4
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CODE64 0x08
#define DATA 0x10
#define STACK_SIZE 0x20000

/* XEN_ELFNOTE_PHYS32_ENTRY: the VMM enters pvh_start32 in 32-bit protected mode, EBX =
 * hvm_start_info. */
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
	cli
	cld
	movb $0x10, %al
	outb %al, $0x80
	movl %ebx, %esi /* survives into 64-bit mode: fw_main's argument */
	lgdt gdt_ptr
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	/* UEFI images may use SSE: MP on, EM off (the firmware itself never does). */
	movl %cr0, %eax
	andl $~CR0_EM, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE | CR0_MP), %eax
	movl %eax, %cr0
	ljmp $CODE64, $start64

	.code64
start64:
	movl $DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $stack_top, %rsp
	movl %esi, %edi
	call fw_main
1:	cli
	hlt
	jmp 1b

/* fw_setjmp(buf) / fw_longjmp(buf, val): System V callee-saved registers, stack and
 * return address. StartImage sets one; Exit() jumps back to it. */
	.text
	.globl fw_setjmp
fw_setjmp:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	xorl %eax, %eax
	ret

	.globl fw_longjmp
fw_longjmp:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	movl %esi, %eax
	jmpq *56(%rdi)

/* Exception stubs 0..31, 16 bytes apart: push a zero error code where the CPU does not,
 * push the vector, call fw_exception(frame) (it never returns). */
	.p2align 4
	.globl exc_stubs
exc_stubs:
	.set vec, 0
	.rept 32
	.p2align 4
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp exc_common
	.set vec, vec + 1
	.endr
exc_common:
	cld
	movq %rsp, %rdi
	andq $~15, %rsp
	call fw_exception
2:	cli
	hlt
	jmp 2b

	.data
	.p2align 4
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 code, 64-bit */
	.quad 0x00cf92000000ffff /* 0x10 data, flat */
	.quad 0x00cf9a000000ffff /* 0x18 code, 32-bit flat */
gdt_end:
	.p2align 3
	.word 0, 0, 0
	.globl gdt_ptr
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

/* Identity map of the low 4 GiB with 2 MiB pages, built at link time (no CPL0 cycles);
 * the top GiB, the MMIO hole, uncached. paging.c adds RAM above 4 GiB. */
	.section .bootdata, "aw"
	.p2align 12
	.globl pml4, pdpt
pml4:
	.quad pdpt + 0x3
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x3
	.quad pd + 0x1000 + 0x3
	.quad pd + 0x2000 + 0x3
	.quad pd + 0x3000 + 0x3
	.fill 508, 8, 0
pd:
	.set page, 0
	.rept 2048
	.if page >= 1536
	.quad (page << 21) | 0x9b
	.else
	.quad (page << 21) | 0x83
	.endif
	.set page, page + 1
	.endr

	.section .bootbss, "aw", @nobits
	.p2align 12
	.globl stack_top
stack:
	.skip STACK_SIZE
stack_top:
