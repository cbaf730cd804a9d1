/* libFuzzer target: a hostile vpc (VHD) image, fixed or dynamic; see fuzz_image.h. */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_image("vpc", data, size);
}
