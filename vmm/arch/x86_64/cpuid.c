/* CPUID for each vCPU: KVM's supported list with topology, APIC IDs and the
 * KVM paravirtual leaves set for this machine. Start-up only. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
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

/* Leaf 0xB/0x1F subleaf @level: SMT (1 thread per core), then core (all vCPUs in one
 * socket), then the terminating invalid level. */
static struct kvm_cpuid_entry2 topology(uint32_t fn, unsigned int level, unsigned int id,
					unsigned int max_cpus)
{
	struct kvm_cpuid_entry2 e = {.function = fn,
				     .index = level,
				     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
				     .edx = id};

	if (level == 0) {
		e.ebx = 1;
		e.ecx = 1 << 8;
	} else if (level == 1) {
		e.eax = order(max_cpus);
		e.ebx = max_cpus;
		e.ecx = (2 << 8) | 1;
	} else {
		e.ecx = level;
	}
	return e;
}

static void patch(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int max_cpus, bool amd)
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
	case 0x80000008:
		if (amd)
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

static bool is_amd(const struct kvm_cpuid2 *c)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			return c->entries[i].ebx == 0x68747541 /* "Auth"enticAMD */ ||
			       c->entries[i].ebx == 0x6f677948; /* "Hygo"nGenuine */
	return false;
}

int cpuid_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int id,
		unsigned int max_cpus)
{
	/* Room for the supported list plus rebuilt topology leaves. */
	struct kvm_cpuid2 *c =
		calloc(1, sizeof(*c) + (supported->nent + 6) * sizeof(c->entries[0]));
	bool amd = is_amd(supported), leaf_1f = false;
	int ret = 0;

	if (!c)
		return -ENOMEM;
	for (unsigned int i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &supported->entries[i];

		leaf_1f |= e->function == 0x1f;
		if (e->function == 0xb || e->function == 0x1f)
			continue; /* KVM lists only some levels: rebuilt below */
		c->entries[c->nent] = *e;
		patch(&c->entries[c->nent++], id, max_cpus, amd);
	}
	for (unsigned int level = 0; level < 3; level++) {
		c->entries[c->nent++] = topology(0xb, level, id, max_cpus);
		if (leaf_1f)
			c->entries[c->nent++] = topology(0x1f, level, id, max_cpus);
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}
