/* virtio 1.x split virtqueues, device side: walking descriptor chains (direct and
 * indirect) and filling the used ring, with EVENT_IDX. Runs on the thread that owns
 * the queue (the event loop); every guest address goes through memory_gpa(), every
 * chain is bounded, and nonsense is reported, never trusted. */
#ifndef WISP_VIRTQ_H
#define WISP_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "memory.h"

#define VIRTQ_MAX_SIZE 1024 /* largest queue size any wisp device offers */
#define VIRTQ_MAX_SEGS 256  /* buffers in one chain, indirect ones included */

/* Descriptor flags and ring flags (virtio 1.x 2.7). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq {
	/* Set by the driver through the transport while the queue is disabled. */
	uint16_t size; /* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	/* Device state, set by virtq_start(). */
	const struct guest_mem *mem;
	void *desc, *avail, *used; /* host pointers, checked once at start */
	uint16_t last_avail;	   /* next avail ring entry to take */
	uint16_t used_idx;	   /* next used ring entry to fill */
	uint16_t signalled_used;   /* used_idx at the last virtq_should_notify() */
	bool signalled_valid;	   /* false: notify next time whatever the window */
	bool ready;		   /* started and not broken */
};

/* One request: the chain's buffers, device-readable ones first. */
struct virtq_chain {
	uint16_t head;	     /* to hand back to virtq_push() */
	unsigned int nr_out; /* iov[0 .. nr_out): driver -> device */
	unsigned int nr_in;  /* iov[nr_out .. nr_out + nr_in): device -> driver */
	uint64_t out_len;    /* bytes in the readable part */
	uint64_t in_len;     /* bytes in the writable part */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/**
 * virtq_start() - check the ring addresses the driver set (alignment, inside RAM,
 * no wrap) and start consuming from avail index 0.
 * Nothing is written to guest memory. To resume elsewhere (migration), set
 * last_avail and used_idx afterwards and clear signalled_valid.
 * Return: 0, or -EINVAL when the rings are not usable (the device should then
 * set NEEDS_RESET).
 */
int virtq_start(struct virtq *q, const struct guest_mem *mem);

/** virtq_stop() - forget the device-side state; the driver's settings stay. */
void virtq_stop(struct virtq *q);

/**
 * virtq_pop() - take the next available chain.
 * Zero-length descriptors are skipped (their address is not looked at). An indirect
 * descriptor (only with @indirect) ends the chain in the ring; its table follows.
 * Return: 1 with @c filled (it may have no buffers at all), 0 when the ring is empty
 * or the queue not ready, -EINVAL when the driver
 * broke the rules (index jumped by more than the size, head or next out of range,
 * a loop, more than VIRTQ_MAX_SEGS buffers, a writable buffer before a readable
 * one, a nested or empty indirect table, an address outside RAM, a total length
 * past 4 GiB). After -EINVAL the queue is not ready and pops nothing more.
 */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/**
 * virtq_push() - return chain @head with @written bytes put into its writable part.
 * Does not interrupt the driver: ask virtq_should_notify() after a batch.
 */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/**
 * virtq_should_notify() - whether the driver wants an interrupt for what was
 * pushed since the previous call (EVENT_IDX: used_event within that window, as
 * vring_need_event(); without it: VIRTQ_AVAIL_F_NO_INTERRUPT clear). Nothing
 * pushed since the previous call: false.
 */
bool virtq_should_notify(struct virtq *q);

/**
 * virtq_enable_notify() - before sleeping on an empty queue: ask the driver for a
 * kick (avail_event, or clear NO_NOTIFY) and recheck.
 * Return: true when new chains arrived meanwhile (pop again).
 */
bool virtq_enable_notify(struct virtq *q);

/**
 * virtq_disable_notify() - while busy: ask the driver not to kick (sets
 * VIRTQ_USED_F_NO_NOTIFY; a no-op with EVENT_IDX, where the stale avail_event does it).
 */
void virtq_disable_notify(struct virtq *q);

/** virtq_iov_to_buf() / virtq_buf_to_iov() - copy between iovecs and a flat buffer,
 * starting @skip bytes in. Return: bytes copied. */
uint64_t virtq_iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t skip, void *buf,
			  uint64_t len);
uint64_t virtq_buf_to_iov(const struct iovec *iov, unsigned int n, uint64_t skip, const void *buf,
			  uint64_t len);

#endif
