/* Virtio 1.x over PCI (modern transport only) for guest programs: capability parsing, status
 * and feature negotiation, split virtqueues polled from CPL3, DMA memory. Runs at CPL3;
 * guest-physical equals virtual (identity map), so buffers are passed by address. */
#ifndef WISP_GUEST_VIRTIO_H
#define WISP_GUEST_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* modern device ID = 0x1040 + virtio device type */

/* Device types. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_BIT(n) (1ull << (n))

/* Virtio PCI capability types (cfg_type). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* Common configuration structure, offsets. */
#define VIRTIO_COMMON_DFSELECT 0x00
#define VIRTIO_COMMON_DF 0x04
#define VIRTIO_COMMON_GFSELECT 0x08
#define VIRTIO_COMMON_GF 0x0c
#define VIRTIO_COMMON_MSIX 0x10
#define VIRTIO_COMMON_NUMQ 0x12
#define VIRTIO_COMMON_STATUS 0x14
#define VIRTIO_COMMON_CFGGENERATION 0x15
#define VIRTIO_COMMON_Q_SELECT 0x16
#define VIRTIO_COMMON_Q_SIZE 0x18
#define VIRTIO_COMMON_Q_MSIX 0x1a
#define VIRTIO_COMMON_Q_ENABLE 0x1c
#define VIRTIO_COMMON_Q_NOFF 0x1e
#define VIRTIO_COMMON_Q_DESCLO 0x20
#define VIRTIO_COMMON_Q_DESCHI 0x24
#define VIRTIO_COMMON_Q_AVAILLO 0x28
#define VIRTIO_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_COMMON_Q_USEDLO 0x30
#define VIRTIO_COMMON_Q_USEDHI 0x34
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Split-ring layout. */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_USED_F_NO_NOTIFY 1
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[]; /* size entries, then avail_event */
};

/* ---- DMA memory (identity-mapped RAM after the program image) ---- */
/* Zeroed memory aligned to align (a power of two); fails the test when RAM runs out. */
void *dma_alloc(size_t size, size_t align);
/* Bytes left between the allocator and the end of RAM (dma_alloc of all of them, aligned to
 * 4096, leaves nothing above: handy for buffers a device may overrun). */
size_t dma_free_bytes(void);

/* ---- Devices ---- */
struct virtio_dev {
	struct pci_dev pci;
	volatile uint8_t *common, *isr, *device, *notify;
	uint32_t notify_mult;
	uint32_t device_len, notify_len;
	uint64_t features; /* negotiated */
	uint16_t num_queues;
	unsigned msix_cap; /* 0 if none */
};

/* Finds the index-th modern virtio device of this type on bus 0 and opens it. Returns 0, or
 * -1 if there is none or it is unusable (the reason is printed). */
int virtio_find(struct virtio_dev *v, unsigned type, unsigned index);
/* Places the device's BARs if needed, enables decode and bus mastering, and maps the common,
 * notify, ISR and device-specific structures from the vendor capabilities. Returns 0 or -1. */
int virtio_open(struct virtio_dev *v, const struct pci_dev *p);
/* Re-reads the capabilities after the BARs moved (same as the mapping part of virtio_open). */
int virtio_map(struct virtio_dev *v);

uint8_t virtio_status(const struct virtio_dev *v);
void virtio_set_status(const struct virtio_dev *v, uint8_t status);
/* Writes 0 to device_status and waits (up to 1 s) until it reads back 0. Returns 0 or -1. */
int virtio_reset(const struct virtio_dev *v);
/* Offered feature bits (all 64). */
uint64_t virtio_device_features(const struct virtio_dev *v);
/* Reset, ACKNOWLEDGE, DRIVER, accept offered & want (VERSION_1 is required and always taken),
 * FEATURES_OK and its read-back. Returns 0 or -1. */
int virtio_negotiate(struct virtio_dev *v, uint64_t want);
/* Sets DRIVER_OK. */
void virtio_driver_ok(const struct virtio_dev *v);

/* Device-specific configuration (read with the generation counter for 8-byte fields). */
uint8_t virtio_cfg8(const struct virtio_dev *v, unsigned off);
uint16_t virtio_cfg16(const struct virtio_dev *v, unsigned off);
uint32_t virtio_cfg32(const struct virtio_dev *v, unsigned off);
uint64_t virtio_cfg64(const struct virtio_dev *v, unsigned off);
/* Common configuration registers by offset. */
uint8_t virtio_common8(const struct virtio_dev *v, unsigned off);
uint16_t virtio_common16(const struct virtio_dev *v, unsigned off);
uint32_t virtio_common32(const struct virtio_dev *v, unsigned off);
void virtio_common_write8(const struct virtio_dev *v, unsigned off, uint8_t val);
void virtio_common_write16(const struct virtio_dev *v, unsigned off, uint16_t val);
void virtio_common_write32(const struct virtio_dev *v, unsigned off, uint32_t val);
/* Reads (and so clears) the ISR status byte. */
uint8_t virtio_isr(const struct virtio_dev *v);

/* ---- Split virtqueues ---- */
#define VQ_MAX_SIZE 256
#define VQ_MAX_INDIRECT 16

struct vq {
	struct virtio_dev *dev;
	uint16_t index, size, msix;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_desc *indirect; /* size tables of VQ_MAX_INDIRECT, if negotiated */
	volatile uint16_t *notify;
	uint16_t free_head, num_free, last_used, avail_idx, last_kick;
	bool event_idx;
	void *cookie[VQ_MAX_SIZE];
	uint16_t chain_len[VQ_MAX_SIZE];
};

/* One buffer of a request: device-readable (write = false) or device-writable. */
struct vq_buf {
	void *addr;
	uint32_t len;
	bool write;
};

/* Sets up queue index with size entries (0: the device's maximum, capped at VQ_MAX_SIZE),
 * MSI-X vector msix (VIRTIO_MSI_NO_VECTOR for none), and enables it. Before DRIVER_OK.
 * Returns 0 or -1 (no such queue, vector refused). */
int vq_init(struct vq *q, struct virtio_dev *v, unsigned index, unsigned size, uint16_t msix);
/* Sets the same queue up again with the same memory and vector, rings emptied (after a reset
 * and renegotiation; the device must have forgotten the old rings). Returns 0 or -1. */
int vq_reinit(struct vq *q);
/* Queues one request of n buffers (device-readable ones first) with cookie, as a direct chain
 * or, if indirect and the feature was negotiated, as one indirect descriptor. Does not notify.
 * Returns the head descriptor index, or -1 when the ring is full. */
int vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, void *cookie, bool indirect);
/* Notifies the device unless it suppressed notifications (flags or EVENT_IDX). */
void vq_kick(struct vq *q);
/* Notifies the device unconditionally. */
void vq_notify(struct vq *q);
/* Takes one used element if there is one: returns true with its cookie and length. */
bool vq_poll(struct vq *q, void **cookie, uint32_t *len);
/* Waits up to timeout_us for one used element. Returns 0, -1 on timeout, -2 if the device
 * sets NEEDS_RESET or FAILED meanwhile. */
int vq_wait(struct vq *q, void **cookie, uint32_t *len, uint64_t timeout_us);
/* Adds bufs, kicks and waits for that request. Returns the used length, or -1/-2 as vq_wait
 * (or -1 if another request completes first). */
long vq_call(struct vq *q, const struct vq_buf *bufs, unsigned n, uint64_t timeout_us);

#endif
