/* seccomp allowlists per thread role (libseccomp). Set-up runs before the
 * guest does; the SIGSYS handler runs on whichever thread broke the rules. */
#include "sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define MAX_NR 512

static const char *names[MAX_NR]; /* resolved before any filter is loaded */
static bool active;

/* Memory, threads, time, signals: what the C library needs in every thread. */
static const int common[] = {
	SCMP_SYS(brk),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(madvise),
	SCMP_SYS(mremap),
	SCMP_SYS(futex),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettid),
	SCMP_SYS(getpid),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(sched_yield),
	SCMP_SYS(rseq),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(getrandom),
	SCMP_SYS(eventfd2), /* an MSI-X vector's irqfd is made at its first use */
};

/* The event loop: backends, QMP clients and reset. No file is opened any more:
 * the kernel and initrd were mapped, and jansson seeded, before the sandbox. */
static const int main_only[] = {
	SCMP_SYS(read),
	SCMP_SYS(readv),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(fcntl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(accept4),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(fallocate),
	SCMP_SYS(tgkill),
	SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(io_uring_enter), /* disk I/O submission and completion */
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(fdatasync), /* qcow2 metadata */
};

/* Disk I/O workers: the file operations of aio=threads and nothing else. */
static const int aio_only[] = {
	SCMP_SYS(preadv),
	SCMP_SYS(pwritev),
	SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate),
};

/* ioctl request numbers each role may use. */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,   KVM_GET_REGS,	KVM_IRQ_LINE, KVM_IOEVENTFD, /* a guest moved a BAR */
	KVM_IRQFD, KVM_SET_GSI_ROUTING,				     /* MSI-X vectors */
};
static const unsigned long main_ioctls[] = {
	KVM_IRQ_LINE,	  KVM_GET_REGS,	   KVM_SET_REGS, KVM_GET_SREGS,
	KVM_SET_SREGS,	  KVM_SET_FPU,	   KVM_SET_MSRS, KVM_SET_LAPIC,
	KVM_SET_MP_STATE, KVM_SET_IRQCHIP, TCSETS,	 TCSETSW,
	TCGETS,		  KVM_IOEVENTFD,   KVM_IRQFD,	 KVM_SET_GSI_ROUTING,
	TUNSETOFFLOAD, /* virtio-net: the offloads the driver accepted */
};

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[160];
	int nr = si->si_syscall;
	int n = snprintf(line, sizeof(line),
			 "wisp: sandbox: forbidden system call %s (%d); -sandbox off to allow it\n",
			 nr >= 0 && nr < MAX_NR && names[nr] ? names[nr] : "?", nr);

	if (write(STDERR_FILENO, line, n) < 0)
		_exit(159);
	_exit(159);
}

bool sandbox_init(bool on)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

#if defined(__SANITIZE_ADDRESS__)
	on = false;
#endif
	if (!on)
		return false;
	for (int nr = 0; nr < MAX_NR; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigaction(SIGSYS, &sa, NULL);
	__atomic_store_n(&active, true, __ATOMIC_RELEASE);
	return true;
}

bool sandbox_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

static int allow(scmp_filter_ctx ctx, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0);

		if (r < 0 && r != -EDOM) /* -EDOM: not on this architecture */
			return r;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_EQ, list[i]));

		if (r < 0)
			return r;
	}
	return 0;
}

#define ALLOW(ctx, a) allow(ctx, a, sizeof(a) / sizeof(a[0]))
#define ALLOW_IOCTLS(ctx, a) allow_ioctls(ctx, a, sizeof(a) / sizeof(a[0]))

int sandbox_enter(enum sandbox_role role)
{
	scmp_filter_ctx ctx;
	int r;

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	r = ALLOW(ctx, common);
	if (!r && role == SANDBOX_MAIN)
		r = ALLOW(ctx, main_only);
	if (!r && role == SANDBOX_AIO)
		r = ALLOW(ctx, aio_only);
	if (!r && role != SANDBOX_AIO)
		r = role == SANDBOX_VCPU ? ALLOW_IOCTLS(ctx, vcpu_ioctls)
					 : ALLOW_IOCTLS(ctx, main_ioctls);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
