/* One vCPU: a thread running KVM_RUN and dispatching exits to the buses.
 * vcpu_thread() runs on its own thread; the rest on the main thread. */
#ifndef WISP_VCPU_H
#define WISP_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

struct vcpu_state; /* registers, LAPIC and MSRs as KVM created them */

struct vcpu {
	struct vm *vm;
	unsigned int id;      /* index, 0 is the boot vCPU */
	unsigned int apic_id; /* also its KVM vCPU id */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int tid; /* the thread's id, for QMP */
	bool started;
	bool entered; /* has entered the guest at least once */
	bool stopped; /* shut down or failed: waits for a reset (vm->lock) */
	struct vcpu_state *init;
};

/**
 * vcpu_create() - create vCPU @id of @vm with its CPUID and saved reset state.
 * Return: 0 or -errno (message printed).
 */
int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id);

/**
 * vcpu_reset() - put the vCPU back in its power-on state; the boot vCPU (id 0)
 * then gets vm->entry. Call only while the vCPU is parked or not started.
 * Return: 0 or -errno.
 */
int vcpu_reset(struct vcpu *v);

/** vcpu_start() - spawn the thread. Return: 0 or -errno. */
int vcpu_start(struct vcpu *v);

/** vcpu_kick() - make a running vCPU leave KVM_RUN soon. */
void vcpu_kick(struct vcpu *v);

/** vcpu_free() - close the fd and free state (thread must be joined). */
void vcpu_free(struct vcpu *v);

#endif
