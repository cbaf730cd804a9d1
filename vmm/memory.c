/* Guest RAM backed by one memfd; the overflow-checked GPA accessor.
 * memory_gpa() runs on vCPU and device threads with guest-controlled input. */
#include "memory.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/virt.h"

int memory_init(struct guest_mem *m, uint64_t size)
{
	m->fd = memfd_create("wisp-ram", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, (off_t)size) < 0)
		goto fail;
	m->hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->fd, 0);
	if (m->hva == MAP_FAILED) {
		m->hva = NULL;
		goto fail;
	}
	madvise(m->hva, size, MADV_MERGEABLE);
	m->size = size;
	m->low_size = size < VIRT_MMIO_HOLE_BASE ? size : VIRT_MMIO_HOLE_BASE;
	return 0;
fail:;
	int err = -errno;
	close(m->fd);
	m->fd = -1;
	return err;
}

void memory_free(struct guest_mem *m)
{
	if (m->hva)
		munmap(m->hva, m->size);
	if (m->fd > 0)
		close(m->fd);
	m->hva = NULL;
	m->fd = -1;
}

uint64_t memory_high_size(const struct guest_mem *m)
{
	return m->size - m->low_size;
}

void *memory_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= m->low_size)
		return m->hva + gpa;
	if (gpa >= VIRT_HIGH_RAM_BASE && end - VIRT_HIGH_RAM_BASE <= memory_high_size(m))
		return m->hva + m->low_size + (gpa - VIRT_HIGH_RAM_BASE);
	return NULL;
}
