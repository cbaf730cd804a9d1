/* Port I/O and MMIO dispatch. Lookups run on vCPU threads for every exit;
 * registration happens at start-up (and, later, under the hotplug lock). */
#include "bus.h"

#include <errno.h>
#include <string.h>

static bool overlaps(const struct bus_region *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

static int insert(struct bus_region *tab, int *nr, int max, struct bus_region n)
{
	int i;

	if (n.len == 0 || n.base + n.len < n.base)
		return -EINVAL;
	for (i = 0; i < *nr; i++)
		if (overlaps(&tab[i], n.base, n.len))
			return -EEXIST;
	if (*nr == max)
		return -ENOSPC;
	for (i = *nr; i > 0 && tab[i - 1].base > n.base; i--)
		tab[i] = tab[i - 1];
	tab[i] = n;
	(*nr)++;
	return 0;
}

int bus_register_mmio(struct bus *b, uint64_t base, uint64_t len, bus_handler_fn fn, void *dev,
		      const char *name)
{
	struct bus_region r = {base, len, fn, dev, name};

	return insert(b->mmio, &b->nr_mmio, BUS_MAX_MMIO, r);
}

int bus_register_pio(struct bus *b, uint16_t base, uint16_t len, bus_handler_fn fn, void *dev,
		     const char *name)
{
	struct bus_region r = {base, len, fn, dev, name};

	if ((uint32_t)base + len > 0x10000)
		return -EINVAL;
	return insert(b->pio, &b->nr_pio, BUS_MAX_PIO, r);
}

static const struct bus_region *find(const struct bus_region *tab, int nr, uint64_t addr,
				     uint32_t len)
{
	int lo = 0, hi = nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (addr < tab[mid].base)
			hi = mid;
		else if (addr - tab[mid].base >= tab[mid].len)
			lo = mid + 1;
		else
			return len <= tab[mid].len - (addr - tab[mid].base) ? &tab[mid] : NULL;
	}
	return NULL;
}

static bool dispatch(const struct bus_region *r, uint64_t addr, uint8_t *data, uint32_t len,
		     bool is_write)
{
	if (!r || len == 0 || len > 8) {
		if (!is_write)
			memset(data, 0xff, len > 8 ? 8 : len);
		return false;
	}
	r->fn(r->dev, addr - r->base, data, len, is_write);
	return true;
}

bool bus_dispatch_mmio(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	return dispatch(find(b->mmio, b->nr_mmio, addr, len), addr, data, len, is_write);
}

bool bus_dispatch_pio(struct bus *b, uint16_t port, uint8_t *data, uint32_t len, bool is_write)
{
	return dispatch(find(b->pio, b->nr_pio, port, len), port, data, len, is_write);
}
