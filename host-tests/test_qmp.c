/* Host tests for the QMP server's framing, negotiation and dispatcher, with a
 * socketless client and a machine that exists only as a structure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp/qmp.h"
#include "vm.h"

struct fixture {
	struct config cfg;
	struct vm vm;
	struct qmp *q;
	struct qmp_client *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[128];

	f->cfg.ram_size = 64 << 20;
	f->cfg.name = "t";
	f->cfg.serial = SERIAL_NONE;
	f->cfg.sockets = f->cfg.cores = f->cfg.threads = 1;
	f->vm.cfg = &f->cfg;
	f->vm.vm_fd = -1;
	f->vm.action_fd = eventfd(0, EFD_NONBLOCK);
	f->vm.state = VM_STATE_PRELAUNCH;
	pthread_mutex_init(&f->vm.lock, NULL);
	f->q = qmp_create(&f->vm, NULL, 0, err, sizeof(err));
	assert_non_null(f->q);
	f->c = qmp_client_new(f->q, -1);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qmp_free(f->q); /* frees the client too */
	close(f->vm.action_fd);
	free(f);
	return 0;
}

/* Feed @in; return everything sent back, as one string (free it). */
static char *talk(struct fixture *f, const char *in)
{
	assert_int_equal(qmp_client_input(f->c, in, strlen(in)), 0);
	return qmp_client_take_output(f->c);
}

static void expect(struct fixture *f, const char *in, const char *want)
{
	char *out = talk(f, in);

	if (!strstr(out, want))
		fail_msg("sent %s\ngot %s\nwanted %s", in, out, want);
	free(out);
}

static void negotiate(struct fixture *f)
{
	free(qmp_client_take_output(f->c)); /* the greeting */
	expect(f, "{\"execute\":\"qmp_capabilities\"}", "{\"return\":{}}");
}

static void test_greeting_and_negotiation(void **state)
{
	struct fixture *f = *state;
	char *g = qmp_client_take_output(f->c);

	assert_non_null(strstr(g, "{\"QMP\":{\"version\":{\"qemu\":"));
	assert_non_null(strstr(g, "\"capabilities\":[]"));
	free(g);
	expect(f, "{\"execute\":\"query-version\"}",
	       "\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities negotiation");
	expect(f, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}",
	       "Capability 'oob' not available");
	expect(f, "{\"execute\":\"qmp_capabilities\",\"id\":\"a\"}",
	       "{\"return\":{},\"id\":\"a\"}");
	expect(f, "{\"execute\":\"qmp_capabilities\"}", "already complete");
}

static void test_framing(void **state)
{
	struct fixture *f = *state;
	char *out;

	negotiate(f);
	/* Split anywhere, several per read, braces inside strings, escapes. */
	expect(f, "{\"execute\":", "");
	expect(f, "\"query-kvm\", \"id\": \"}{\\\"\"}", "\"id\":\"}{\\\"\"");
	out = talk(f, "{\"execute\":\"query-kvm\",\"id\":1}{\"execute\":\"query-kvm\",\"id\":2}\n");
	assert_non_null(strstr(out, "\"id\":1"));
	assert_non_null(strstr(out, "\"id\":2"));
	free(out);
	expect(f, "[1,2]", "QMP input must be a JSON object");
	expect(f, "123\n", "QMP input must be a JSON object");
	expect(f, "{\"execute\"::}", "JSON parse error");
	expect(f, "}", "JSON parse error");
	expect(f, "{\"execute\":\"query-kvm\",\"execute\":\"quit\"}", "duplicate");
	expect(f, "{\"execute\":\"query-kvm\",\"id\":\"\xff\xfe\"}", "JSON parse error");
	expect(f, "{\"execute\":\"query-kvm\"}", "\"enabled\":true");
}

static void test_request_shape(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	expect(f, "{\"exec\":\"query-kvm\"}", "QMP input member 'exec' is unexpected");
	expect(f, "{\"id\":3}", "QMP input lacks member 'execute'");
	expect(f, "{\"execute\":3,\"id\":4}", "\"id\":4");
	expect(f, "{\"execute\":3}", "member 'execute' must be a string");
	expect(f, "{\"execute\":\"query-kvm\",\"arguments\":[]}", "must be an object");
	expect(f, "{\"execute\":\"no-such\",\"id\":5}",
	       "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command no-such has not "
	       "been found\"},\"id\":5}");
	expect(f, "{\"execute\":\"query-kvm\",\"arguments\":{\"x\":1}}",
	       "Parameter 'x' is unexpected");
}

static void test_dispatch(void **state)
{
	struct fixture *f = *state;
	char *out;

	negotiate(f);
	expect(f, "{\"execute\":\"query-status\"}", "\"status\":\"prelaunch\",\"running\":false");
	expect(f, "{\"execute\":\"query-name\"}", "{\"name\":\"t\"}");
	expect(f, "{\"execute\":\"query-memory-size-summary\"}", "\"base-memory\":67108864");
	out = talk(f, "{\"execute\":\"query-commands\"}");
	for (size_t i = 0; i < qmp_nr_commands; i++)
		assert_non_null(strstr(out, qmp_commands[i].name));
	free(out);
	expect(f, "{\"execute\":\"quit\"}", "{\"return\":{}}");
	assert_int_equal(f->vm.action, VM_ACT_QUIT);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	size_t n = 3 << 20;
	char *big = malloc(n + 64), *out;

	negotiate(f);
	/* Deeper than the limit: answered at once, the rest of that value dropped. */
	memset(big, '[', 5000);
	big[5000] = '\0';
	expect(f, big, "nesting deeper than");
	memset(big, ']', 5000);
	expect(f, big, "");
	expect(f, "{\"execute\":\"query-kvm\"}", "\"enabled\":true");
	/* Longer than the limit. */
	strcpy(big, "{\"execute\":\"query-kvm\",\"id\":\"");
	memset(big + strlen(big), 'x', n);
	strcpy(big + n, "\"}");
	out = talk(f, big);
	assert_non_null(strstr(out, "JSON message longer than"));
	free(out);
	expect(f, "{\"execute\":\"query-kvm\"}", "\"enabled\":true");
	free(big);
}

static void test_random_bytes(void **state)
{
	struct fixture *f = *state;
	char buf[256];

	negotiate(f);
	srand(7);
	for (int i = 0; i < 20000; i++) {
		static const char alphabet[] = "{}[]\"\\:,0123456789 \n\xff\x00tfnul-e";
		size_t n = 1 + rand() % sizeof(buf);

		for (size_t j = 0; j < n; j++)
			buf[j] = alphabet[rand() % (sizeof(alphabet) - 1)];
		if (qmp_client_input(f->c, buf, n) < 0)
			break; /* dropped for sending too much unread: fine */
		free(qmp_client_take_output(f->c));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_greeting_and_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
