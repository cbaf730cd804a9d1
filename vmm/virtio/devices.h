/* The virtio devices wisp has. Each is made from its -device configuration at
 * start-up and freed through v->ops->free. */
#ifndef WISP_VIRTIO_DEVICES_H
#define WISP_VIRTIO_DEVICES_H

#include <stddef.h>

#include "config.h"
#include "virtio.h"

/**
 * virtio_*_create() - a device for @d (its drive, netdev or chardev resolved in
 * vm->cfg), not yet plugged. Opens its backend (image file, tap, chardev).
 * Return: the device, or NULL with @err filled ("wisp: ..." one line).
 */
struct virtio_dev *virtio_blk_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen);
struct virtio_dev *virtio_net_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen);
struct virtio_dev *virtio_rng_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen);
struct virtio_dev *virtio_console_create(struct vm *vm, const struct config_pci_dev *d, char *err,
					 size_t errlen);

#endif
