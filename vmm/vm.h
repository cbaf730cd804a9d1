/* The virtual machine: KVM VM fd, guest RAM, buses, vCPUs and lifecycle.
 * vm_request() is callable from any thread; the rest runs on the main thread. */
#ifndef WISP_VM_H
#define WISP_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "evloop.h"
#include "irq.h"
#include "memory.h"
#include "pci/pci.h"

struct vcpu;
struct serial;
struct ged;
struct qmp;
struct boot_images;
struct kvm_cpuid2;
struct virtio_dev;

/* What a vCPU or device asks the main thread to do with the whole machine. */
enum vm_action {
	VM_ACT_NONE,
	VM_ACT_RESET,	   /* guest reset request or triple fault */
	VM_ACT_HOST_RESET, /* QMP system_reset */
	VM_ACT_POWEROFF,   /* ACPI S5: exit 0 */
	VM_ACT_QUIT,	   /* QMP quit: exit 0 */
	VM_ACT_SIGNAL,	   /* SIGTERM, SIGINT, SIGHUP: exit 0 */
	VM_ACT_EXIT,	   /* leave with vm->exit_status (debug-exit, fatal error) */
};

/* What QMP's query-status reports. */
enum vm_state {
	VM_STATE_PRELAUNCH, /* -S, never run yet */
	VM_STATE_RUNNING,
	VM_STATE_PAUSED, /* QMP stop */
};

/* How the boot loader wants the boot vCPU to start. */
struct boot_entry {
	bool long_mode; /* true: 64-bit Linux boot protocol; false: PVH 32-bit */
	uint64_t rip;
	uint64_t rsi; /* Linux: boot_params */
	uint64_t rbx; /* PVH: hvm_start_info */
};

struct vm {
	const struct config *cfg;
	int kvm_fd, vm_fd;
	int run_size; /* mmap size of struct kvm_run */
	struct guest_mem mem;
	struct bus bus;
	struct evloop loop;
	struct kvm_cpuid2 *cpuid; /* what KVM supports; vCPUs patch a copy */
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	uint32_t *apic_ids; /* of every possible vCPU (-smp maxcpus), by index */
	struct serial *serial;
	struct ged *ged;
	struct qmp *qmp;
	struct irq irq;		    /* GSI routes: IOAPIC pins and MSI */
	struct pci pci;		    /* host bridge and root bus */
	struct virtio_dev **virtio; /* the -device list, in command-line order */
	unsigned int nr_virtio;
	enum vm_state state; /* main thread only */
	bool sandboxed;	     /* threads enter the seccomp sandbox */
	struct boot_entry entry;
	struct boot_images *images; /* kernel, initrd: mapped at the first load */
	void *irqchip_init;	    /* in-kernel PIC/IOAPIC state right after creation */

	/* Lifecycle, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_action action;
	int exit_status;
	bool paused;		/* vCPUs must park */
	unsigned int nr_parked; /* vCPUs waiting in their park point */
	bool quit;		/* vCPU threads must return */
	int action_fd;		/* eventfd: wakes the main loop */
	int signal_fd;		/* SIGTERM, SIGINT, SIGHUP */
};

/**
 * vm_create() - open KVM, create the VM, RAM, irqchip, vCPUs and devices.
 * Return: 0, or -errno with a message already printed on stderr.
 */
int vm_create(struct vm *vm, const struct config *cfg);

/**
 * vm_load() - put firmware/kernel, initrd, command line and ACPI tables into
 * guest RAM and set vm->entry. Used at boot and on every reset.
 * Return: 0, or -errno with a message printed.
 */
int vm_load(struct vm *vm);

/**
 * vm_run() - start the vCPUs and the event loop; return when the machine is
 * done. Return: wisp's exit status.
 */
int vm_run(struct vm *vm);

/** vm_destroy() - stop threads and free everything. */
void vm_destroy(struct vm *vm);

/**
 * vm_request() - ask the main thread for @act; the strongest request wins
 * (EXIT > POWEROFF > RESET). @status is used with VM_ACT_EXIT.
 */
void vm_request(struct vm *vm, enum vm_action act, int status);

/** vm_pause() - QMP stop: park every vCPU (event STOP). Main thread. */
void vm_pause(struct vm *vm);

/** vm_resume() - QMP cont: run the vCPUs (event RESUME). Main thread. */
void vm_resume(struct vm *vm);

/** vm_set_irq() - drive GSI @gsi to @level on the in-kernel IOAPIC. */
void vm_set_irq(struct vm *vm, unsigned int gsi, int level);

#endif
