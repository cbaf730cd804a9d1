/* Device path helpers: sizes and whole-node prefixes. Paths come from images: every
 * walk is bounded and a zero-length node ends it as malformed. */
#include "fw.h"

#define DP_MAX 4096

static UINTN node_len(const EFI_DEVICE_PATH *n)
{
	return n->Length[0] | n->Length[1] << 8;
}

UINTN dp_size(const EFI_DEVICE_PATH *dp)
{
	UINTN off = 0;

	if (!dp)
		return 0;
	while (off < DP_MAX) {
		const EFI_DEVICE_PATH *n = (const void *)((const uint8_t *)dp + off);
		UINTN len = node_len(n);

		if (len < sizeof(*n))
			return 0;
		off += len;
		if (n->Type == END_DEVICE_PATH_TYPE && n->SubType == END_ENTIRE_DEVICE_PATH_SUBTYPE)
			return off;
	}
	return 0;
}

UINTN dp_prefix(const EFI_DEVICE_PATH *prefix, const EFI_DEVICE_PATH *path)
{
	UINTN plen = dp_size(prefix), len = dp_size(path), off = 0;

	if (!plen || !len)
		return (UINTN)-1;
	plen -= sizeof(EFI_DEVICE_PATH); /* without the end node */
	if (plen > len - sizeof(EFI_DEVICE_PATH) || memcmp(prefix, path, plen))
		return (UINTN)-1;
	/* The prefix must end on one of path's node boundaries. */
	while (off < plen)
		off += node_len((const void *)((const uint8_t *)path + off));
	return off == plen ? plen : (UINTN)-1;
}
