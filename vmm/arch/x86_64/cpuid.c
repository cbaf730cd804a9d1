/* CPUID for each vCPU: KVM's supported list with topology, APIC IDs and the
 * KVM paravirtual leaves set for this machine. Start-up only. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "x86.h"

#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_HTT (1U << 28)
#define KVM_CPUID_SIGNATURE 0x40000000
#define KVM_CPUID_FEATURES 0x40000001

static unsigned int order(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

static void topology(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int max_cpus)
{
	/* Level 0: SMT (1 thread per core). Level 1: core, all vCPUs in one socket. */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1 << 8) | 0;
		break;
	case 1:
		e->eax = order(max_cpus);
		e->ebx = max_cpus;
		e->ecx = (2 << 8) | 1;
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = id;
}

static void patch(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int max_cpus)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (id << 24) | ((max_cpus > 255 ? 255 : max_cpus) << 16);
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (max_cpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		break;
	case 4:
		/* Cores per package - 1 in EAX[31:26]; threads sharing a cache. */
		e->eax &= 0x3ff;
		if (e->eax & 0x1f) {
			unsigned int share = ((e->eax >> 5) & 7) >= 3 ? max_cpus : 1;

			e->eax |= ((max_cpus - 1) & 0x3f) << 26 | ((share - 1) & 0xfff) << 14;
		}
		break;
	case 0xb:
	case 0x1f:
		topology(e, id, max_cpus);
		break;
	case 0x80000008:
		e->ecx = (order(max_cpus) << 12) | ((max_cpus - 1) & 0xff);
		break;
	case 0x8000001e:
		e->eax = id;
		e->ebx = id & 0xff; /* core id, one thread per core */
		e->ecx = 0;
		break;
	case KVM_CPUID_SIGNATURE:
		e->eax = KVM_CPUID_FEATURES;
		memcpy(&e->ebx, "KVMK", 4);
		memcpy(&e->ecx, "VMKV", 4);
		memcpy(&e->edx, "M\0\0\0", 4);
		break;
	}
}

int cpuid_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id,
		unsigned int max_cpus)
{
	size_t sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	for (unsigned int i = 0; i < c->nent; i++)
		patch(&c->entries[i], id, max_cpus);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}
