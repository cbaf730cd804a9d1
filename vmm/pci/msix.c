/* MSI-X table, PBA and delivery. Table writes come from vCPU threads, notifies
 * from the event loop; the device lock serialises both. Routes are made lazily at
 * the first unmasked notify, so the guest's table writes cost no ioctl. */
#include "msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "irq.h"
#include "pci.h"

int msix_init(struct pci_dev *d, struct irq *irq, uint16_t nr, int bar, uint32_t table_off,
	      uint32_t pba_off)
{
	struct msix *m = calloc(1, sizeof(*m));
	uint8_t body[10];

	if (!m || !nr || nr > 2048) {
		free(m);
		return m ? -EINVAL : -ENOMEM;
	}
	m->nr = nr;
	m->table_off = table_off;
	m->pba_off = pba_off;
	m->irq = irq;
	m->vec = calloc(nr, sizeof(*m->vec));
	m->pba = calloc((nr + 63) / 64, sizeof(*m->pba));
	if (!m->vec || !m->pba) {
		free(m->vec);
		free(m->pba);
		free(m);
		return -ENOMEM;
	}
	for (uint16_t i = 0; i < nr; i++)
		m->vec[i] = (struct msix_vector){.ctrl = MSIX_ENTRY_MASKED, .gsi = -1, .efd = -1};
	body[0] = (uint8_t)(nr - 1);
	body[1] = (uint8_t)((nr - 1) >> 8);
	memcpy(&body[2], &(uint32_t){table_off | (uint32_t)bar}, 4);
	memcpy(&body[6], &(uint32_t){pba_off | (uint32_t)bar}, 4);
	d->msix = m;
	m->cap = pci_add_cap(d, PCI_CAP_ID_MSIX, body, sizeof(body));
	if (!m->cap) {
		msix_free(d);
		return -ENOSPC;
	}
	d->wmask[m->cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8;
	return 0;
}

bool msix_enabled(const struct pci_dev *d)
{
	return d->msix && (pci_cfg_read(d, d->msix->cap + 2, 2) & MSIX_CTRL_ENABLE);
}

static bool masked(const struct pci_dev *d, uint16_t v)
{
	return (d->msix->vec[v].ctrl & MSIX_ENTRY_MASKED) ||
	       (pci_cfg_read(d, d->msix->cap + 2, 2) & MSIX_CTRL_FMASK);
}

/* An x86 MSI goes to the LAPIC window; anything else is dropped. */
static void fire(struct msix *m, uint16_t v)
{
	struct msix_vector *e = &m->vec[v];
	uint64_t addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;

	if ((e->addr_lo & 0xfff00000) != 0xfee00000)
		return;
	if (e->gsi < 0) {
		e->gsi = irq_msi_add(m->irq, addr, e->data, &e->efd);
		if (e->gsi < 0)
			return;
	} else if (e->route_addr != addr || e->route_data != e->data) {
		if (irq_msi_set(m->irq, e->gsi, addr, e->data))
			return;
	}
	e->route_addr = addr;
	e->route_data = e->data;
	irq_signal(e->efd);
}

static void set_pending(struct msix *m, uint16_t v, bool on)
{
	if (on)
		m->pba[v / 64] |= 1ULL << (v % 64);
	else
		m->pba[v / 64] &= ~(1ULL << (v % 64));
}

static bool pending(const struct msix *m, uint16_t v)
{
	return m->pba[v / 64] & (1ULL << (v % 64));
}

void msix_notify(struct pci_dev *d, uint16_t v)
{
	struct msix *m = d->msix;

	if (!m || v >= m->nr || !msix_enabled(d))
		return;
	if (masked(d, v))
		set_pending(m, v, true);
	else
		fire(m, v);
}

/* Deliver what became deliverable after an unmask. */
static void flush_pending(struct pci_dev *d)
{
	struct msix *m = d->msix;

	if (!msix_enabled(d))
		return;
	for (uint16_t v = 0; v < m->nr; v++) {
		if (pending(m, v) && !masked(d, v)) {
			set_pending(m, v, false);
			fire(m, v);
		}
	}
}

bool msix_bar_io(struct pci_dev *d, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct msix *m = d->msix;
	uint64_t table_end, pba_end;

	if (!m)
		return false;
	table_end = m->table_off + 16ULL * m->nr;
	pba_end = m->pba_off + 8ULL * ((m->nr + 63) / 64);
	if (off >= m->pba_off && off < pba_end) {
		/* The PBA is read-only; 4- and 8-byte reads. */
		if (!is_write) {
			memset(data, 0, len);
			if (off + len <= pba_end)
				memcpy(data, (uint8_t *)m->pba + (off - m->pba_off), len);
		}
		return true;
	}
	if (off < m->table_off || off >= table_end)
		return false;
	uint64_t rel = off - m->table_off;
	if ((len != 4 && len != 8) || (rel & (len - 1))) {
		/* The spec allows aligned dword and qword accesses only. */
		if (!is_write)
			memset(data, 0xff, len);
		return true;
	}
	struct msix_vector *e = &m->vec[rel / 16];
	uint32_t *w[4] = {&e->addr_lo, &e->addr_hi, &e->data, &e->ctrl};
	for (uint32_t i = 0; i < len / 4; i++) {
		uint32_t word = (uint32_t)((rel % 16) / 4 + i), val;

		if (word > 3)
			break;
		if (!is_write) {
			memcpy(data + 4 * i, w[word], 4);
			continue;
		}
		memcpy(&val, data + 4 * i, 4);
		*w[word] = word == 3 ? (val & MSIX_ENTRY_MASKED) : word == 0 ? val & ~3U : val;
	}
	if (is_write)
		flush_pending(d);
	return true;
}

void msix_cfg_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	if (d->msix && off < d->msix->cap + 4u && d->msix->cap + 2u < off + len)
		flush_pending(d);
}

void msix_reset(struct pci_dev *d)
{
	struct msix *m = d->msix;

	if (!m)
		return;
	for (uint16_t v = 0; v < m->nr; v++) {
		m->vec[v].addr_lo = m->vec[v].addr_hi = m->vec[v].data = 0;
		m->vec[v].ctrl = MSIX_ENTRY_MASKED;
	}
	memset(m->pba, 0, 8 * ((m->nr + 63) / 64));
}

void msix_free(struct pci_dev *d)
{
	struct msix *m = d->msix;

	if (!m)
		return;
	for (uint16_t v = 0; v < m->nr; v++)
		if (m->vec[v].gsi >= 0)
			irq_msi_del(m->irq, m->vec[v].gsi, m->vec[v].efd);
	free(m->vec);
	free(m->pba);
	free(m);
	d->msix = NULL;
}
