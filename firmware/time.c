/* Time for the firmware: kvmclock's wall clock and TSC scale read once at start-up, then
 * only the TSC (so runtime GetTime touches no MSR the OS owns). Without kvmclock: the
 * TSC rate from CPUID 0x15/0x16 (else 1 GHz assumed) and a wall clock starting at 1970. */
#include "fw.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

struct pvclock_vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((aligned(32)));

struct pvclock_wall_clock {
	uint32_t version, sec, nsec;
} __attribute__((aligned(16)));

static struct pvclock_vcpu_time_info pvti;
static struct pvclock_wall_clock wc;
static uint64_t tsc0, ns0, wall0, mul32; /* ns = ns0 + ((tsc - tsc0) << shift) * mul32 >> 32 */
static int shift;
static const char *source = "none";

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static bool have_kvmclock(void)
{
	uint32_t r[4];

	cpuid(0x40000000, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d || r[0] < 0x40000001)
		return false;
	cpuid(0x40000001, r);
	return r[0] & KVM_FEATURE_CLOCKSOURCE2;
}

void time_init(void)
{
	uint32_t r[4];
	uint64_t hz = 0;

	if (have_kvmclock()) {
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uintptr_t)&wc);
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&pvti | 1);
		/* KVM has filled pvti by the time the write returns; stop its updates. */
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
		if (pvti.tsc_to_system_mul && !(pvti.version & 1)) {
			tsc0 = pvti.tsc_timestamp;
			ns0 = pvti.system_time;
			mul32 = pvti.tsc_to_system_mul;
			shift = pvti.tsc_shift;
			wall0 = (uint64_t)wc.sec * 1000000000ULL + wc.nsec;
			source = "kvmclock";
			return;
		}
	}
	cpuid(0, r);
	if (r[0] >= 0x15) {
		cpuid(0x15, r);
		if (r[0] && r[1] && r[2])
			hz = (uint64_t)r[2] * r[1] / r[0];
	}
	if (!hz && r[0] >= 0x16) {
		cpuid(0x16, r);
		hz = (uint64_t)(r[0] & 0xffff) * 1000000;
	}
	source = hz ? "TSC (CPUID rate)" : "TSC (1 GHz assumed)";
	if (!hz)
		hz = 1000000000ULL;
	tsc0 = rdtsc();
	/* (1e9 << 32) / hz fits 64 bits for any hz above 0.25 Hz. */
	mul32 = (1000000000ULL << 32) / hz;
	shift = 0;
	while (mul32 >> 32) { /* keep the multiplier to 32 bits */
		mul32 >>= 1;
		shift++;
	}
}

uint64_t time_now_ns(void)
{
	uint64_t d = rdtsc() - tsc0;

	d = shift >= 0 ? d << shift : d >> -shift;
	return ns0 + (uint64_t)(((unsigned __int128)d * mul32) >> 32);
}

uint64_t time_wall_ns(void)
{
	return wall0 + time_now_ns();
}

const char *time_source(void)
{
	return source;
}
