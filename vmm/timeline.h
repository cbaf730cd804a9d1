/* Boot timeline: timestamps on stderr for VMM start, first guest entry,
 * guest progress codes (port 0x80) and shutdown. Thread-safe. */
#ifndef WISP_TIMELINE_H
#define WISP_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

/** timeline_start() - take time zero; print marks from now on when @enabled. */
void timeline_start(bool enabled);

/** timeline_mark() - print one "wisp: timeline +T ms: what" line when enabled. */
void timeline_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** timeline_post_io() - bus handler for the progress-code port (0x80). */
void timeline_post_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
