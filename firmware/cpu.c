/* Exceptions: every one is reported on the console and powers the machine off with an
 * error status, never a silent hang. CPL0, boot services time. */
#include "fw.h"

struct idt_gate {
	uint16_t off_lo, sel, flags, off_mid;
	uint32_t off_hi, zero;
};

extern char exc_stubs[];
static struct idt_gate idt[32] BOOT_BSS;

void cpu_setup_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = {sizeof(idt) - 1, (uintptr_t)idt};

	for (unsigned int v = 0; v < 32; v++) {
		uint64_t a = (uintptr_t)exc_stubs + v * 16;

		idt[v] = (struct idt_gate){(uint16_t)a,		0x08, 0x8e00, (uint16_t)(a >> 16),
					   (uint32_t)(a >> 32), 0};
	}
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/* frame: vector, error code, then what the CPU pushed (rip, cs, rflags, rsp, ss). */
void fw_exception(const uint64_t *frame);
void fw_exception(const uint64_t *frame)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printf("wisp-fw: CPU exception %lu (error %lx) at rip %lx, rsp %lx, cr2 %lx\n", frame[0],
	       frame[1], frame[2], frame[5], cr2);
	fw_die(EFI_ABORTED, "unexpected exception");
}

void fw_die(EFI_STATUS status, const char *why)
{
	printf("wisp-fw: %s%s (status %lx); powering off\n", status ? "fatal: " : "", why, status);
	post(POST_ERROR);
	if (fw_st && fw_st->RuntimeServices)
		fw_st->RuntimeServices->ResetSystem(EfiResetShutdown, status, 0, NULL);
	for (;;)
		__asm__ volatile("cli; hlt");
}
