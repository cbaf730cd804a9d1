/* vCPU threads: KVM_RUN, exit dispatch, parking for reset and shutdown.
 * Exit data (ports, addresses, lengths) is guest-controlled. */
#include "vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox.h"
#include "timeline.h"
#include "vm.h"
#include "x86.h"

/* MSRs a reset must return to their creation values (when KVM has them).
 * The TSC is deliberately absent: kvmclock wants it monotonic. */
static const uint32_t reset_msrs[] = {
	0x1a0,							    /* IA32_MISC_ENABLE */
	0x174,	    0x175,	0x176,				    /* SYSENTER */
	0x277,							    /* PAT */
	0x6e0,							    /* TSC_DEADLINE */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,		    /* STAR LSTAR CSTAR SFMASK */
	0xc0000102,						    /* KERNEL_GS_BASE */
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04, /* kvmclock, PV */
	0x11,	    0x12,					    /* legacy kvmclock */
};
#define NR_RESET_MSRS (sizeof(reset_msrs) / sizeof(reset_msrs[0]))

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[NR_RESET_MSRS];
	} msrs;
};

static bool msr_supported(int kvm_fd, uint32_t idx)
{
	static struct kvm_msr_list *list;

	if (!list) {
		struct kvm_msr_list probe = {.nmsrs = 0};

		ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe); /* E2BIG, sets nmsrs */
		list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
		if (!list)
			return false;
		list->nmsrs = probe.nmsrs;
		if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
			list->nmsrs = 0;
	}
	for (uint32_t i = 0; i < list->nmsrs; i++)
		if (list->indices[i] == idx)
			return true;
	return false;
}

static int save_state(struct vcpu *v)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	unsigned int n = 0;

	if (!s)
		return -ENOMEM;
	v->init = s;
	for (unsigned int i = 0; i < NR_RESET_MSRS; i++)
		if (msr_supported(v->vm->kvm_fd, reset_msrs[i]))
			s->msrs.e[n++].index = reset_msrs[i];
	s->msrs.hdr.nmsrs = n;
	if (ioctl(v->fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s->sregs) < 0 || ioctl(v->fd, KVM_GET_FPU, &s->fpu) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &s->lapic) < 0 ||
	    ioctl(v->fd, KVM_GET_MP_STATE, &s->mp) < 0 ||
	    ioctl(v->fd, KVM_GET_MSRS, &s->msrs) != (int)n)
		return -errno ? -errno : -EIO;
	return 0;
}

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id)
{
	int ret;

	v->vm = vm;
	v->id = id;
	struct x86_topology t = {vm->cfg->sockets, vm->cfg->cores, vm->cfg->threads};

	v->apic_id = vm->apic_ids[id];
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, v->apic_id);
	if (v->fd < 0) {
		fprintf(stderr, "wisp: vCPU %u: KVM_CREATE_VCPU: %s\n", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	ret = cpuid_setup(v->fd, vm->cpuid, v->apic_id, &t);
	if (!ret)
		ret = save_state(v);
	if (ret)
		fprintf(stderr, "wisp: vCPU %u: set-up failed: %s\n", id, strerror(-ret));
	return ret;
}

int vcpu_reset(struct vcpu *v)
{
	struct vcpu_state *s = v->init;

	if (ioctl(v->fd, KVM_SET_SREGS, &s->sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &s->regs) < 0 || ioctl(v->fd, KVM_SET_FPU, &s->fpu) < 0 ||
	    ioctl(v->fd, KVM_SET_MSRS, &s->msrs) != (int)s->msrs.hdr.nmsrs ||
	    ioctl(v->fd, KVM_SET_LAPIC, &s->lapic) < 0 ||
	    ioctl(v->fd, KVM_SET_MP_STATE, &s->mp) < 0)
		return -errno ? -errno : -EIO;
	v->stopped = false;
	return v->id == 0 ? regs_setup_boot(v->fd, &v->vm->entry) : 0;
}

/* Wait while the machine is paused or this vCPU is stopped. Return: false to quit. */
static bool park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool parked = false, go;

	pthread_mutex_lock(&vm->lock);
	while ((vm->paused || v->stopped) && !vm->quit) {
		if (!parked) {
			parked = true;
			vm->nr_parked++;
			pthread_cond_broadcast(&vm->cond);
		}
		pthread_cond_wait(&vm->cond, &vm->lock);
	}
	if (parked)
		vm->nr_parked--;
	go = !vm->quit;
	v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->lock);
	return go;
}

static void io_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *p = (uint8_t *)r + r->io.data_offset;

	for (uint32_t i = 0; i < r->io.count; i++, p += r->io.size)
		bus_dispatch_pio(&v->vm->bus, r->io.port, p, r->io.size,
				 r->io.direction == KVM_EXIT_IO_OUT);
}

static void stop(struct vcpu *v, enum vm_action act, int status)
{
	pthread_mutex_lock(&v->vm->lock);
	v->stopped = true;
	pthread_mutex_unlock(&v->vm->lock);
	vm_request(v->vm, act, status);
}

static void fatal(struct vcpu *v, const char *what)
{
	struct kvm_regs regs = {0};

	ioctl(v->fd, KVM_GET_REGS, &regs);
	fprintf(stderr, "wisp: vCPU %u stopped: %s at rip=0x%llx\n", v->id, what,
		(unsigned long long)regs.rip);
	stop(v, VM_ACT_EXIT, 1);
}

static void handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char what[96];

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		io_exit(v);
		break;
	case KVM_EXIT_MMIO:
		bus_dispatch_mmio(&v->vm->bus, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
				  r->mmio.is_write);
		break;
	case KVM_EXIT_SHUTDOWN: {
		struct kvm_regs regs = {0};

		ioctl(v->fd, KVM_GET_REGS, &regs);
		timeline_mark("vCPU %u triple fault at rip=0x%llx", v->id,
			      (unsigned long long)regs.rip);
		stop(v, VM_ACT_RESET, 0);
		break;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		if (r->system_event.type == KVM_SYSTEM_EVENT_RESET)
			stop(v, VM_ACT_RESET, 0);
		else if (r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			stop(v, VM_ACT_POWEROFF, 0);
		else
			fatal(v, "guest crash event");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
			 r->internal.suberror,
			 r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				 ? " (emulation failure)"
				 : "");
		fatal(v, what);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "entry failed, hardware reason 0x%llx",
			 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		fatal(v, what);
		break;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		break;
	default:
		snprintf(what, sizeof(what), "unexpected exit reason %u", r->exit_reason);
		fatal(v, what);
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	v->tid = gettid();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (v->vm->sandboxed && sandbox_enter(SANDBOX_VCPU) < 0) {
		fprintf(stderr, "wisp: vCPU %u: cannot enter the sandbox\n", v->id);
		stop(v, VM_ACT_EXIT, 1);
	}
	while (park(v)) {
		if (!v->entered && v->id == 0)
			timeline_mark("vCPU 0 enters the guest");
		v->entered = true;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "wisp: vCPU %u: KVM_RUN: %s\n", v->id, strerror(errno));
			stop(v, VM_ACT_EXIT, 1);
			continue;
		}
		handle_exit(v);
		/* After power-off or exit, no vCPU runs another guest instruction. */
		if (__atomic_load_n(&v->vm->action, __ATOMIC_ACQUIRE) >= VM_ACT_POWEROFF)
			stop(v, VM_ACT_NONE, 0);
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);

	v->started = !ret;
	return -ret;
}

void vcpu_kick(struct vcpu *v)
{
	v->run->immediate_exit = 1;
	if (v->started)
		pthread_kill(v->thread, SIGUSR1);
}

void vcpu_free(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v->init);
}
