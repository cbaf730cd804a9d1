/* seccomp sandbox: one syscall allowlist per thread role, installed by each
 * thread on itself once set-up is over. */
#ifndef WISP_SANDBOX_H
#define WISP_SANDBOX_H

#include <stdbool.h>

enum sandbox_role {
	SANDBOX_VCPU, /* KVM_RUN and exit handling */
	SANDBOX_MAIN, /* event loop: devices' backends, QMP, reset */
	SANDBOX_AIO,  /* disk I/O worker threads (aio=threads) */
};

/**
 * sandbox_init() - prepare (on the main thread, before other threads start):
 * resolve syscall names for the violation message and catch SIGSYS.
 * Return: whether threads should enter the sandbox: @on (-sandbox on, the
 * default), except in sanitizer builds, whose runtime needs ptrace and more.
 */
bool sandbox_init(bool on);

/** sandbox_active() - sandbox_init() said yes: threads started earlier must enter. */
bool sandbox_active(void);

/**
 * sandbox_enter() - restrict the calling thread to @role's system calls, with
 * no_new_privs. A forbidden call prints one line naming it and kills wisp.
 * Return: 0 or -errno.
 */
int sandbox_enter(enum sandbox_role role);

#endif
