/* Boot vCPU registers for the two entry protocols (64-bit Linux, 32-bit PVH).
 * Start-up and reset only. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "platform/virt.h"
#include "vm.h"
#include "x86.h"

#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = !code64,
		.s = 1,
		.l = code64,
		.g = 1,
	};
}

int regs_setup_boot(int vcpu_fd, const struct boot_entry *e)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rflags = 0x2, .rip = e->rip, .rsi = e->rsi, .rbx = e->rbx};

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.gdt.base = VIRT_BOOT_GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cs = seg(e->long_mode ? 0x10 : 0x08, 0xb, e->long_mode);
	s.ds = s.es = s.fs = s.gs = s.ss = seg(0x18, 0x3, false);
	s.tr = (struct kvm_segment){.selector = 0x20, .limit = 0x67, .type = 0xb, .present = 1};
	s.ldt = (struct kvm_segment){.type = 0x2, .present = 1, .unusable = 1};
	s.cr0 = CR0_PE | CR0_ET;
	s.cr4 = 0;
	s.efer = 0;
	if (e->long_mode) {
		s.cr3 = VIRT_PML4_ADDR;
		s.cr4 = CR4_PAE;
		s.cr0 |= CR0_PG;
		s.efer = EFER_LME | EFER_LMA;
	}
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
