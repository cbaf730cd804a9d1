/* libFuzzer target: the kernel loaders (bzImage boot protocol, PVH ELF) on an
 * untrusted file, with guest RAM behind them. The first byte picks the loader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"
#include "x86.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;
static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_images img = {.cmdline = "console=ttyS0"};
	struct boot_entry e;
	int ret;
	char path[64], err[256];

	if (!mem.hva) {
		memory_init(&mem, 64 << 20);
		fd = memfd_create("fuzz-kernel", 0);
		setenv("XDG_CACHE_HOME", "/proc/no-cache-here", 1); /* no unpack cache */
	}
	if (size < 1 || ftruncate(fd, 0) < 0 || pwrite(fd, data + 1, size - 1, 0) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = boot_images_open(&img, "-kernel", path, NULL, err, sizeof(err));
	if (!ret && (data[0] & 1))
		linux_load(&mem, &img, &e, err, sizeof(err));
	else if (!ret)
		pvh_load(&mem, &img, &e, err, sizeof(err));
	boot_images_close(&img);
	return 0;
}
