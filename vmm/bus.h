/* Port I/O and MMIO dispatch: a flat port table and a sorted MMIO array.
 * Called from vCPU threads with guest-controlled offsets and lengths. */
#ifndef WISP_BUS_H
#define WISP_BUS_H

#include <stdbool.h>
#include <stdint.h>

/**
 * One handler shape for every device: @offset is from the region's base,
 * @data holds @len bytes (1..8) to write or to fill on a read.
 */
typedef void (*bus_handler_fn)(void *dev, uint64_t offset, uint8_t *data, uint32_t len,
			       bool is_write);

struct bus_region {
	uint64_t base, len;
	bus_handler_fn fn;
	void *dev;
	const char *name;
};

#define BUS_MAX_MMIO 64
#define BUS_MAX_PIO 32

struct bus {
	struct bus_region mmio[BUS_MAX_MMIO]; /* sorted by base, no overlaps */
	int nr_mmio;
	struct bus_region pio[BUS_MAX_PIO];
	int nr_pio;
};

/**
 * bus_register_mmio() / bus_register_pio() - claim [@base, @base + @len).
 * Return: 0, -EEXIST on overlap, -ENOSPC when the table is full.
 */
int bus_register_mmio(struct bus *b, uint64_t base, uint64_t len, bus_handler_fn fn, void *dev,
		      const char *name);
int bus_register_pio(struct bus *b, uint16_t base, uint16_t len, bus_handler_fn fn, void *dev,
		     const char *name);

/**
 * bus_dispatch_mmio() / bus_dispatch_pio() - route one guest access.
 * Accesses that hit nothing read as all-ones and are dropped on write.
 * Return: true when a device claimed the access.
 */
bool bus_dispatch_mmio(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);
bool bus_dispatch_pio(struct bus *b, uint16_t port, uint8_t *data, uint32_t len, bool is_write);

#endif
