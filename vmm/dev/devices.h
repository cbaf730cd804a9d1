/* Small platform devices: 16550 UART, GED (power button, sleep, reset) and
 * isa-debug-exit. Their bus handlers run on vCPU threads with guest input. */
#ifndef WISP_DEVICES_H
#define WISP_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct vm;
struct evloop;

/* ---- 16550 UART ---- */
struct serial;

/** How the UART raises its interrupt line (level: 1 pending, 0 idle). */
typedef void (*serial_irq_fn)(void *opaque, int level);

/**
 * serial_create() - a 16550 whose output goes to @kind/@path and whose input
 * comes from stdin (SERIAL_STDIO) or the connected socket client (SERIAL_UNIX).
 * Input fds are watched on @loop. Ctrl-A x on a stdio console asks @quit.
 * Return: the device, or NULL with @err filled.
 */
struct serial *serial_create(enum serial_kind kind, const char *path, struct evloop *loop,
			     serial_irq_fn irq, void (*quit)(void *opaque), void *opaque, char *err,
			     size_t errlen);

/** serial_io() - bus handler for the 8 UART registers. */
void serial_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/** serial_reset() - registers to power-on values (buffered input is kept). */
void serial_reset(struct serial *s);

/** serial_free() - restore the terminal, close fds. */
void serial_free(struct serial *s);

/* ---- Generic Event Device and its sleep/reset registers ---- */
struct ged;

/** ged_create() - the GED of @vm. Return: device or NULL. */
struct ged *ged_create(struct vm *vm);

/** ged_evt_io() - bus handler for the event selector (read returns and clears). */
void ged_evt_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/** ged_regs_io() - bus handler for sleep control/status and reset registers. */
void ged_regs_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/** ged_raise() - latch event @bits (GED_EVT_*) and interrupt the guest. */
void ged_raise(struct ged *g, uint32_t bits);

/** ged_reset() - clear latched events. */
void ged_reset(struct ged *g);

/** ged_free() - free the device. */
void ged_free(struct ged *g);

/* ---- isa-debug-exit (QEMU semantics) ---- */

/** debug_exit_io() - a write of v makes wisp exit with status (v << 1) | 1. */
void debug_exit_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
