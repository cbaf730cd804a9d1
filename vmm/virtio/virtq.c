/* virtio 1.x split virtqueues, device side (virtio v1.2 2.7). Runs on the event-loop
 * thread while vCPUs rewrite the rings: each guest value is read once into a local,
 * checked, then used; indices are read with acquire and published with release. */
#include "virtio/virtq.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* struct virtq_desc, little-endian: le64 addr, le32 len, le16 flags, le16 next. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define DESC_SIZE 16
/* Byte offsets in the avail ring (flags, idx, ring[size], used_event) and the used
 * ring (flags, idx, ring[size] of {le32 id, le32 len}, avail_event). */
#define RING_FLAGS 0
#define RING_IDX 2
#define RING_ENTRIES 4
#define USED_ELEM_SIZE 8

static uint16_t load16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static uint16_t load16_acquire(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void store16_release(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

static void store32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

static uint8_t *avail_at(const struct virtq *q, size_t off)
{
	return (uint8_t *)q->avail + off;
}

static uint8_t *used_at(const struct virtq *q, size_t off)
{
	return (uint8_t *)q->used + off;
}

/* used_event sits after the avail ring's entries, avail_event after the used ring's. */
static uint8_t *used_event(const struct virtq *q)
{
	return avail_at(q, RING_ENTRIES + 2 * (size_t)q->size);
}

static uint8_t *avail_event(const struct virtq *q)
{
	return used_at(q, RING_ENTRIES + USED_ELEM_SIZE * (size_t)q->size);
}

static bool is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

static void *ring(const struct guest_mem *mem, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return memory_gpa(mem, gpa, len);
}

int virtq_start(struct virtq *q, const struct guest_mem *mem)
{
	uint64_t n = q->size;

	virtq_stop(q);
	if (!mem || !is_pow2(q->size) || q->size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	q->desc = ring(mem, q->desc_gpa, DESC_SIZE * n, 16);
	q->avail = ring(mem, q->avail_gpa, 6 + 2 * n, 2);
	q->used = ring(mem, q->used_gpa, 6 + USED_ELEM_SIZE * n, 4);
	if (!q->desc || !q->avail || !q->used) {
		virtq_stop(q);
		return -EINVAL;
	}
	q->mem = mem;
	q->signalled_valid = true; /* used idx 0, nothing signalled: the window starts here */
	q->ready = true;
	return 0;
}

void virtq_stop(struct virtq *q)
{
	q->mem = NULL;
	q->desc = q->avail = q->used = NULL;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = false;
	q->ready = false;
}

static int broken(struct virtq *q)
{
	q->ready = false;
	return -EINVAL;
}

/* Descriptor @i of @table, copied once: the driver may rewrite the table meanwhile,
 * and only the copy is checked and used. */
static void desc_read(const uint8_t *table, unsigned int i, struct desc *d)
{
	memcpy(d, table + (size_t)i * DESC_SIZE, sizeof(*d));
	/* A compiler barrier: the copy may not be replaced by fresh loads from @table. */
	atomic_signal_fence(memory_order_seq_cst);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* One buffer into @c: empty ones are skipped, readable ones must come first. */
static int chain_add(const struct virtq *q, struct virtq_chain *c, const struct desc *d)
{
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t *total = wr ? &c->in_len : &c->out_len;
	unsigned int n = c->nr_out + c->nr_in;
	void *p;

	if (!d->len)
		return 0;
	if ((!wr && c->nr_in) || n == VIRTQ_MAX_SEGS || *total + d->len > UINT32_MAX)
		return -EINVAL;
	p = memory_gpa(q->mem, d->addr, d->len);
	if (!p)
		return -EINVAL;
	c->iov[n].iov_base = p;
	c->iov[n].iov_len = d->len;
	*total += d->len;
	if (wr)
		c->nr_in++;
	else
		c->nr_out++;
	return 0;
}

/* Walks the chain from @head. A table of n descriptors is left after n steps at most
 * (a longer walk is a loop); an indirect descriptor ends the ring's part of the chain
 * and the walk goes on in its table. */
static int chain_walk(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const uint8_t *table = q->desc;
	unsigned int len = q->size, steps = 0, i = head;
	bool indirect = false;
	struct desc d;

	for (;;) {
		if (i >= len || steps++ == len)
			return -EINVAL;
		desc_read(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect || indirect || (d.flags & VIRTQ_DESC_F_NEXT))
				return -EINVAL;
			if (!d.len || d.len % DESC_SIZE || d.len / DESC_SIZE > VIRTQ_MAX_SEGS)
				return -EINVAL;
			table = memory_gpa(q->mem, d.addr, d.len);
			if (!table)
				return -EINVAL;
			len = d.len / DESC_SIZE;
			steps = i = 0;
			indirect = true;
			continue;
		}
		if (chain_add(q, c, &d))
			return -EINVAL;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	uint16_t avail, head;

	if (!q->ready)
		return 0;
	/* Acquire: the ring entry and descriptors below are read after the index. */
	avail = load16_acquire(avail_at(q, RING_IDX));
	if ((uint16_t)(avail - q->last_avail) > q->size)
		return broken(q);
	if (avail == q->last_avail)
		return 0;
	head = load16(avail_at(q, RING_ENTRIES + 2 * (size_t)(q->last_avail & (q->size - 1))));
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	if (chain_walk(q, head, c))
		return broken(q);
	q->last_avail++;
	return 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	uint8_t *e;

	if (!q->ready)
		return;
	e = used_at(q, RING_ENTRIES + USED_ELEM_SIZE * (size_t)(q->used_idx & (q->size - 1)));
	store32(e, head);
	store32(e + 4, written);
	q->used_idx++;
	/* Release: the element is visible before the index that hands it over. */
	store16_release(used_at(q, RING_IDX), q->used_idx);
}

/* Used Buffer Notification Suppression: notify when used_event lies in [old, new),
 * modulo 2^16 (the spec's vring_need_event()). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;

	if (!q->ready)
		return false;
	/* Full fence: our used idx store is ordered before the load of the driver's
	 * used_event/flags, which it writes before rechecking our used idx. */
	atomic_thread_fence(memory_order_seq_cst);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (valid && now == old)
		return false;
	if (!q->event_idx)
		return !(load16(avail_at(q, RING_FLAGS)) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	return !valid || need_event(load16(used_event(q)), now, old);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	if (q->event_idx)
		store16(avail_event(q), q->last_avail);
	else
		store16(used_at(q, RING_FLAGS), 0);
	/* Full fence: the request above is visible before the avail idx is read again,
	 * the mirror of the driver's publish-then-read-avail_event. */
	atomic_thread_fence(memory_order_seq_cst);
	return load16_acquire(avail_at(q, RING_IDX)) != q->last_avail;
}

void virtq_disable_notify(struct virtq *q)
{
	if (q->ready && !q->event_idx)
		store16(used_at(q, RING_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
}

uint64_t virtq_iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t skip, void *buf,
			  uint64_t len)
{
	uint64_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		uint64_t seg = iov[i].iov_len, chunk;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		chunk = seg - skip < len - done ? seg - skip : len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

uint64_t virtq_buf_to_iov(const struct iovec *iov, unsigned int n, uint64_t skip, const void *buf,
			  uint64_t len)
{
	uint64_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		uint64_t seg = iov[i].iov_len, chunk;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		chunk = seg - skip < len - done ? seg - skip : len - done;
		memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}
