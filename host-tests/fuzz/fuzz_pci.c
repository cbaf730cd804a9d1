/* libFuzzer target: a hostile guest driving the PCI bus and the virtio devices on
 * it (config space, BARs, MSI-X, virtio common config, rings in guest RAM, kicks,
 * resets). Each 12-byte record is one guest action; the event loop runs in between. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/virt.h"
#include "virtio/devices.h"
#include "vm.h"

#define RAM (4 << 20)
#define SCRATCH (1 << 20) /* guest RAM the fuzzer writes: rings and buffers */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vm vm;
static struct config cfg;
static struct virtio_dev *devs[2];

static void no_irq(void *opaque, unsigned int gsi, int level)
{
}

static void setup(void)
{
	static char path[] = "/tmp/wisp-fuzz-pci-XXXXXX";
	char err[256];
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		abort();
	close(fd);
	vm.vm_fd = vm.kvm_fd = -1;
	vm.cfg = &cfg;
	if (memory_init(&vm.mem, RAM) || evloop_init(&vm.loop))
		abort();
	vm.irq.vm_fd = -1;
	pthread_mutex_init(&vm.irq.lock, NULL);
	pci_init(&vm.pci, no_irq, NULL);
	cfg.drives[0] = (struct config_drive){.file = path, .format = "raw", .discard = true};
	cfg.pci_devs[0] = (struct config_pci_dev){.kind = CONFIG_DEV_VIRTIO_BLK,
						  .slot = -1,
						  .drive = 0,
						  .chardev = -1,
						  .num_queues = 2};
	cfg.pci_devs[1] = (struct config_pci_dev){.kind = CONFIG_DEV_VIRTIO_RNG,
						  .slot = -1,
						  .chardev = -1,
						  .rng_max_bytes = 4096,
						  .rng_period_ms = 1};
	devs[0] = virtio_blk_create(&vm, &cfg.pci_devs[0], err, sizeof(err));
	devs[1] = virtio_rng_create(&vm, &cfg.pci_devs[1], err, sizeof(err));
	if (!devs[0] || !devs[1] || virtio_plug(devs[0], -1, err, sizeof(err)) ||
	    virtio_plug(devs[1], -1, err, sizeof(err)))
		abort();
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devs[0])
		setup();
	memset(vm.mem.hva, 0, SCRATCH);
	for (size_t i = 0; i + 12 <= size; i += 12) {
		const uint8_t *r = data + i;
		struct virtio_dev *v = devs[r[1] & 1];
		uint32_t len = 1u << (r[2] & 3);
		bool wr = r[2] & 4;
		uint8_t val[8];
		uint64_t off;

		memcpy(val, r + 4, 8);
		switch (r[0] % 6) {
		case 0: /* config space of any slot, mostly ours */
			off = ((uint64_t)(r[1] >> 1 & 3) << 15) |
			      (uint64_t)(r[3] | (r[2] & 0xf0) << 4);
			pci_ecam_io(&vm.pci, off, val, len, wr);
			break;
		case 1: /* a device's BAR 0: common config, ISR, device config, notify, MSI-X */
			off = ((uint64_t)(r[2] >> 3) << 10 | r[3]) % VIRTIO_BAR_SIZE;
			if (v->pci.bar[0].mapped >= VIRT_PCI_MMIO32_BASE)
				pci_window32_io(&vm.pci,
						v->pci.bar[0].mapped + off - VIRT_PCI_MMIO32_BASE,
						val, len, wr);
			break;
		case 2: /* guest RAM: rings and buffers */
			off = ((uint64_t)r[1] << 16 | (uint64_t)r[2] << 8 | r[3]) * 8 % SCRATCH;
			memcpy(vm.mem.hva + off, val, 8);
			break;
		case 3: /* anywhere in the 32-bit window */
			off = ((uint64_t)r[1] << 24 | (uint64_t)r[2] << 16 | (uint64_t)r[3] << 8 |
			       r[4]) %
			      VIRT_PCI_MMIO32_SIZE;
			pci_window32_io(&vm.pci, off, val + 4, len > 4 ? 4 : len, wr);
			break;
		case 4:
			evloop_run_once(&vm.loop, 0);
			break;
		case 5:
			if (r[1] == 0xff)
				pci_reset(&vm.pci);
			break;
		}
	}
	for (int i = 0; i < 4; i++)
		evloop_run_once(&vm.loop, 0);
	pci_reset(&vm.pci);
	return 0;
}
