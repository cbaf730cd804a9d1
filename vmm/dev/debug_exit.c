/* isa-debug-exit with QEMU's semantics: the guest picks wisp's exit status.
 * Runs on vCPU threads; any written value is acceptable. */
#include <string.h>

#include "devices.h"
#include "timeline.h"
#include "vm.h"

void debug_exit_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	uint32_t v = 0;

	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(&v, data, len > 4 ? 4 : len);
	timeline_mark("guest debug-exit 0x%x", v);
	vm_request(dev, VM_ACT_EXIT, (int)((v << 1) | 1) & 0xff);
}
