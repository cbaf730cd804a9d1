/* libFuzzer target: a QMP client's byte stream, through framing, negotiation and
 * every command, against a machine that exists only as a structure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "dev/devices.h"
#include "qmp/qmp.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct vm vm;
static struct qmp *q;

static void setup(void)
{
	cfg.ram_size = 64 << 20;
	cfg.sockets = cfg.cores = cfg.threads = 1;
	cfg.serial = SERIAL_NONE;
	vm.cfg = &cfg;
	vm.vm_fd = -1;
	vm.action_fd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.cond, NULL);
	vm.ged = ged_create(&vm);
	q = qmp_create(&vm, NULL, 0, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_client *c;

	if (!q)
		setup();
	vm.state = VM_STATE_PRELAUNCH;
	vm.action = VM_ACT_NONE;
	c = qmp_client_new(q, -1);
	/* Negotiated half the time, so commands are reached quickly. */
	if (size && data[0] & 1) {
		static const char caps[] = "{\"execute\":\"qmp_capabilities\"}";

		qmp_client_input(c, caps, sizeof(caps) - 1);
	}
	if (qmp_client_input(c, (const char *)data, size) == 0)
		free(qmp_client_take_output(c));
	qmp_client_free(c);
	return 0;
}
