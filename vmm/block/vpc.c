/* placeholder */
#include <errno.h>
#include <stdio.h>

#include "block/blockdev.h"

static int x_open(struct blockdev *bd, char *err, size_t errlen)
{
	snprintf(err, errlen, "wisp: %s: vpc is not implemented", bd->file);
	return -ENOTSUP;
}

const struct blockdev_format blockdev_vpc = {.name = "vpc", .open = x_open};
