/* libFuzzer target: a hostile driver's split virtqueue. The input is a small guest RAM
 * image behind a header giving the ring parameters; the device pops until empty or
 * broken, touches every buffer, pushes, and asks the notification helpers.
 * Header (little-endian, 32 bytes):
 *   u16 size   bit 15 set: the size as is (& 0x7fff); clear: 1 << (size % 11)
 *   u8  feat   bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *   u8  rounds driver rounds after the first (% 4); each adds `bump` to avail idx
 *   u16 start  last_avail and used_idx to resume at (16-bit wrap)
 *   u16 bump
 *   u64 desc, avail, used  ring addresses
 * then the image: GPA 0 .. 48 KiB is low RAM, 48 .. 64 KiB sits at VIRT_HIGH_RAM_BASE. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "platform/virt.h"
#include "virtio/virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x10000
#define RAM_LOW 0xc000
#define HDR 32
#define PEEK 4096 /* bytes copied at each end of a chain's parts */

static uint8_t scratch[PEEK];
static struct virtq_chain chain;

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Every buffer must lie inside RAM (ASan would also catch a stray copy). */
static void check(const struct guest_mem *m, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	if (c->nr_out + c->nr_in > VIRTQ_MAX_SEGS || c->out_len > UINT32_MAX ||
	    c->in_len > UINT32_MAX)
		__builtin_trap();
	for (unsigned int i = 0; i < c->nr_out + c->nr_in; i++) {
		const uint8_t *b = c->iov[i].iov_base;

		if (b < m->hva || b > m->hva + m->size || c->iov[i].iov_len > m->size ||
		    c->iov[i].iov_len > (size_t)(m->hva + m->size - b) || !c->iov[i].iov_len)
			__builtin_trap();
		*(i < c->nr_out ? &out : &in) += c->iov[i].iov_len;
	}
	if (out != c->out_len || in != c->in_len)
		__builtin_trap();
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* What a device does with a request: read the head and tail of the readable part,
 * fill the head and tail of the writable part. */
static uint32_t serve(const struct virtq_chain *c)
{
	const struct iovec *in = c->iov + c->nr_out;
	uint64_t n;

	n = min64(c->out_len, PEEK);
	if (virtq_iov_to_buf(c->iov, c->nr_out, 0, scratch, n) != n ||
	    virtq_iov_to_buf(c->iov, c->nr_out, c->out_len - n, scratch, PEEK) != n)
		__builtin_trap();
	n = min64(c->in_len, PEEK);
	if (virtq_buf_to_iov(in, c->nr_in, 0, scratch, n) != n ||
	    virtq_buf_to_iov(in, c->nr_in, c->in_len - n, scratch, PEEK) != n)
		__builtin_trap();
	return (uint32_t)c->in_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem m = {.size = RAM_SIZE, .low_size = RAM_LOW, .fd = -1};
	struct virtq q = {0};
	unsigned int rounds;
	uint16_t raw, bump;

	if (size < HDR)
		return 0;
	raw = le(data, 2);
	q.size = raw & 0x8000 ? raw & 0x7fff : 1u << (raw % 11);
	q.event_idx = data[2] & 1;
	q.indirect = data[2] & 2;
	rounds = 1 + data[3] % 4;
	bump = le(data + 6, 2);
	q.desc_gpa = le(data + 8, 8);
	q.avail_gpa = le(data + 16, 8);
	q.used_gpa = le(data + 24, 8);
	/* Exactly RAM_SIZE bytes on the heap: ASan's redzone right behind. */
	m.hva = calloc(1, RAM_SIZE);
	if (!m.hva)
		return 0;
	memcpy(m.hva, data + HDR, min64(size - HDR, RAM_SIZE));

	if (virtq_start(&q, &m) == 0) {
		q.last_avail = q.used_idx = le(data + 4, 2);
		q.signalled_valid = q.last_avail == 0;
		for (unsigned int r = 0; r < rounds; r++) {
			for (unsigned int n = 0; n < 2 * VIRTQ_MAX_SIZE; n++) {
				int got = virtq_pop(&q, &chain);

				if (got < 0 && q.ready)
					__builtin_trap();
				if (got <= 0)
					break;
				check(&m, &chain);
				virtq_push(&q, chain.head, serve(&chain));
				if (n % 4 == 3)
					virtq_should_notify(&q);
			}
			virtq_should_notify(&q);
			virtq_enable_notify(&q);
			virtq_disable_notify(&q);
			/* The driver offers more (the rings may have moved under it). */
			uint8_t *idx = memory_gpa(&m, q.avail_gpa + 2, 2);
			if (idx) {
				uint16_t v = (uint16_t)le(idx, 2) + bump;

				idx[0] = v;
				idx[1] = v >> 8;
			}
		}
		if (virtq_pop(&q, &chain) < 0 && q.ready)
			__builtin_trap();
	}
	virtq_stop(&q);
	if (virtq_pop(&q, &chain) != 0 || virtq_should_notify(&q) || virtq_enable_notify(&q))
		__builtin_trap();
	free(m.hva);
	return 0;
}
