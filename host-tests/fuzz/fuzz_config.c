/* libFuzzer target: the command-line parser. The input is argv, NUL-separated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[64] = {"wisp"};
	struct config c;
	char err[256];
	int argc = 1;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p < buf + size && argc < 63; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	config_parse(&c, argc, argv, err, sizeof(err));
	free(buf);
	return 0;
}
