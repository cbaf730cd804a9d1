/* CPUID for each vCPU: KVM's supported list with the -smp topology, APIC IDs
 * and the KVM paravirtual leaves set for this machine. Start-up only. */
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

uint32_t x86_apic_id(const struct x86_topology *t, unsigned int index)
{
	unsigned int smt = order(t->threads), core = order(t->cores);
	unsigned int thread = index % t->threads, c = (index / t->threads) % t->cores;
	unsigned int socket = index / (t->threads * t->cores);

	return (socket << (smt + core)) | (c << smt) | thread;
}

/* Leaf 0xB/0x1F subleaf @level: SMT, core, then the terminating invalid level. */
static struct kvm_cpuid_entry2 level_leaf(uint32_t fn, unsigned int level, uint32_t apic,
					  const struct x86_topology *t)
{
	struct kvm_cpuid_entry2 e = {.function = fn,
				     .index = level,
				     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
				     .edx = apic};

	if (level == 0) {
		e.eax = order(t->threads);
		e.ebx = t->threads;
		e.ecx = 1 << 8;
	} else if (level == 1) {
		e.eax = order(t->threads) + order(t->cores);
		e.ebx = t->threads * t->cores;
		e.ecx = (2 << 8) | 1;
	} else {
		e.ecx = level;
	}
	return e;
}

/* Leaf 4 (Intel caches): cores per package, and who shares each cache level. */
static void cache_leaf(struct kvm_cpuid_entry2 *e, const struct x86_topology *t)
{
	unsigned int smt = order(t->threads), pkg = smt + order(t->cores);
	unsigned int share = ((e->eax >> 5) & 7) >= 3 ? pkg : smt;

	e->eax &= 0x3ff;
	if (e->eax & 0x1f) /* a cache is described at this index */
		e->eax |= (((1U << order(t->cores)) - 1) & 0x3f) << 26 |
			  (((1U << share) - 1) & 0xfff) << 14;
}

static void patch(struct kvm_cpuid_entry2 *e, uint32_t apic, const struct x86_topology *t, bool amd)
{
	unsigned int per_pkg = t->threads * t->cores;
	unsigned int pkg_bits = order(t->threads) + order(t->cores);

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (apic << 24) |
			 ((per_pkg > 255 ? 255 : (1U << pkg_bits)) << 16);
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (per_pkg > 1)
			e->edx |= CPUID_1_EDX_HTT;
		break;
	case 4:
		cache_leaf(e, t);
		break;
	case 0x80000008:
		if (amd)
			e->ecx = (pkg_bits << 12) | ((per_pkg - 1) & 0xff);
		break;
	case 0x8000001e:
		if (amd) {
			e->eax = apic;
			e->ebx = ((t->threads - 1) << 8) | ((apic >> order(t->threads)) & 0xff);
			e->ecx = apic >> pkg_bits; /* node = socket */
		}
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

int cpuid_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, uint32_t apic_id,
		const struct x86_topology *t)
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
		patch(&c->entries[c->nent++], apic_id, t, amd);
	}
	for (unsigned int level = 0; level < 3; level++) {
		c->entries[c->nent++] = level_leaf(0xb, level, apic_id, t);
		if (leaf_1f)
			c->entries[c->nent++] = level_leaf(0x1f, level, apic_id, t);
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}
