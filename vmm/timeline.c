/* Boot timeline marks. Called from any thread; stderr writes are line-atomic. */
#include "timeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool on;
static struct timespec t0;

void timeline_start(bool enabled)
{
	on = enabled;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	timeline_mark("VMM start");
}

void timeline_mark(const char *fmt, ...)
{
	struct timespec t;
	char what[128];
	va_list ap;

	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "wisp: timeline %10.3f ms  %s\n",
		(t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6, what);
}

void timeline_post_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	if (is_write)
		timeline_mark("guest progress code 0x%02x", data[0]);
	else
		memset(data, 0xff, len); /* write-only port */
}
