/* Guest program that always fails, to prove the runner notices failure (should_fail test).
 * Test body at CPL3. */
#include "wisp-test.h"

WISP_TEST("bad-exit")
{
	test_fail("deliberate failure: the runner must report this test as failed");
}
