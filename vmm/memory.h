/* Guest RAM: one memfd mapped once, split around the 32-bit MMIO hole.
 * Every guest physical address the VMM touches goes through memory_gpa(). */
#ifndef WISP_MEMORY_H
#define WISP_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *hva;	   /* whole RAM, contiguous on the host side */
	uint64_t size;	   /* total RAM bytes */
	uint64_t low_size; /* bytes mapped at GPA 0 (below the MMIO hole) */
	int fd;		   /* the memfd backing it, -1 for anonymous */
};

/**
 * memory_init() - allocate @size bytes of guest RAM backed by a memfd.
 * Return: 0 or -errno.
 */
int memory_init(struct guest_mem *m, uint64_t size);

/** memory_free() - unmap and close. Safe on a zeroed structure. */
void memory_free(struct guest_mem *m);

/**
 * memory_gpa() - host pointer for guest range [@gpa, @gpa + @len).
 * Return: the pointer, or NULL when any byte of the range is not RAM,
 * the range crosses the MMIO hole, or @gpa + @len overflows.
 */
void *memory_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/** memory_high_size() - bytes of RAM mapped at VIRT_HIGH_RAM_BASE. */
uint64_t memory_high_size(const struct guest_mem *m);

#endif
