/* virtio 1.x over PCI (modern only): the transport every wisp virtio device
 * embeds. Config accesses arrive on vCPU threads, queue kicks on the event loop;
 * the PCI device lock (v->pci.lock) covers all device state. */
#ifndef WISP_VIRTIO_H
#define WISP_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci/pci.h"
#include "virtq.h"

struct vm;

/* Device IDs (virtio 1.2, 5) and feature bits (6). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* The layout of wisp's single virtio BAR (BAR 0, 64-bit). */
#define VIRTIO_BAR_COMMON 0x0000
#define VIRTIO_BAR_ISR 0x1000
#define VIRTIO_BAR_DEVICE 0x2000
#define VIRTIO_BAR_NOTIFY 0x3000
#define VIRTIO_BAR_MSIX_TABLE 0x4000
#define VIRTIO_BAR_MSIX_PBA 0x6000
#define VIRTIO_BAR_SIZE 0x8000
#define VIRTIO_NOTIFY_MULTIPLIER 4
#define VIRTIO_MAX_QUEUES 64

struct virtio_dev;

struct virtio_ops {
	/* Queue @q was kicked (event loop, lock held, device DRIVER_OK). */
	void (*queue_notify)(struct virtio_dev *v, unsigned int q);
	/* The driver wrote device config bytes [@off, @off + @len) (lock held);
	 * v->config already holds the new bytes where the device allowed them. */
	void (*config_write)(struct virtio_dev *v, uint32_t off, uint32_t len);
	/* DRIVER_OK was set: start backends (lock held). Optional. */
	void (*driver_ok)(struct virtio_dev *v);
	/* Device reset (status 0 or machine reset, lock held): stop using the
	 * queues; requests still in flight must not touch them when they finish. */
	void (*reset)(struct virtio_dev *v);
	/* Finish every request in flight (machine reset, main thread, lock not held,
	 * vCPUs parked). Optional: devices with no asynchronous backend I/O. */
	void (*drain)(struct virtio_dev *v);
	/* Free the device: its backends, virtio_free(), the structure. Main thread,
	 * vCPUs stopped. */
	void (*free)(struct virtio_dev *v);
};

struct virtio_dev {
	struct pci_dev pci; /* first: a pci_dev pointer is a virtio_dev pointer */
	const struct virtio_ops *ops;
	struct vm *vm;
	void *priv; /* the device's own state */
	unsigned int nr_queues;
	uint16_t queue_max;
	uint64_t features;	  /* offered; the transport adds its own bits */
	uint64_t driver_features; /* accepted at FEATURES_OK */
	uint8_t *config;	  /* device config, what the driver reads */
	uint8_t *config_wmask;	  /* bytes of it the driver may write */
	uint32_t config_len;
	/* Common configuration registers. */
	uint32_t dfselect, gfselect;
	uint16_t queue_select, config_msix;
	uint8_t status, isr, config_gen;
	uint8_t cfg_cap; /* the VIRTIO_PCI_CAP_PCI_CFG capability */
	/* Requests from before the last reset still touching guest memory: until
	 * they are done, device_status does not read 0 (the reset is not over). */
	unsigned int resetting;
	uint8_t reset_status;  /* what device_status reads meanwhile */
	unsigned int nr_fails; /* virtio_fail() reports, to keep stderr bounded */
	struct virtio_queue {
		struct virtq vq;
		uint16_t msix;
		bool enabled;
		int kick_fd;  /* ioeventfd on this queue's notify address */
		bool kick_io; /* KVM serves the notify address (else it traps) */
		struct virtio_dev *dev;
		unsigned int index;
	} * queues;
};

/**
 * virtio_init() - a virtio device with @nr_queues queues of at most @queue_max
 * entries, offering @features, with @config_len bytes of device config.
 * The caller fills v->config and v->config_wmask afterwards.
 * Return: 0 or -errno with @err filled.
 */
int virtio_init(struct virtio_dev *v, struct vm *vm, const char *name, uint16_t device_id,
		uint32_t class_code, const struct virtio_ops *ops, unsigned int nr_queues,
		uint16_t queue_max, uint64_t features, uint32_t config_len, char *err,
		size_t errlen);

/**
 * virtio_plug() - put the device on the root bus at @slot (-1: the next free one)
 * and watch its kick eventfds. Start-up only.
 * Return: 0 or -errno with @err filled.
 */
int virtio_plug(struct virtio_dev *v, int slot, char *err, size_t errlen);

/** virtio_has() - driver accepted feature @bit. */
bool virtio_has(const struct virtio_dev *v, unsigned int bit);

/** virtio_ready() - DRIVER_OK and no NEEDS_RESET: queues may be used. */
bool virtio_ready(const struct virtio_dev *v);

/**
 * virtio_notify() - interrupt the driver for queue @q if it wants one
 * (virtq_should_notify()), by MSI-X or by ISR bit 0 and INTx. Lock held.
 */
void virtio_notify(struct virtio_dev *v, unsigned int q);

/** virtio_config_changed() - new config generation and a config interrupt. Lock held. */
void virtio_config_changed(struct virtio_dev *v);

/**
 * virtio_fail() - the driver broke the rules: set NEEDS_RESET, stop the queues
 * and raise a config interrupt. @why goes to stderr once per reset. Lock held.
 */
void virtio_fail(struct virtio_dev *v, const char *why);

/**
 * virtio_reset_wait() - from ops->reset: @n requests are still in flight; the
 * reset completes once virtio_reset_done() was called @n times. Lock held.
 */
void virtio_reset_wait(struct virtio_dev *v, unsigned int n);

/** virtio_reset_done() - one request from before a reset is finished. Lock held. */
void virtio_reset_done(struct virtio_dev *v);

/** virtio_drain() - ops->drain if the device has one (machine reset). */
void virtio_drain(struct virtio_dev *v);

/** virtio_free() - unwatch, close eventfds, free transport state. */
void virtio_free(struct virtio_dev *v);

#endif
