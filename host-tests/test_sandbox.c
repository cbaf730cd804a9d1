/* Host tests for the seccomp sandbox: in a child process, each role allows what
 * it needs and kills on anything else, with one line naming the call. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

enum probe { P_WRITE, P_SOCKET, P_OPEN, P_IOCTL_KVM_RUN, P_IOCTL_CREATE_VM };

/* Run @probe in a child under @role. Return: its exit status; *@msg gets stderr. */
static int run(enum sandbox_role role, enum probe probe, char *msg, size_t len)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		if (!sandbox_init(true) || sandbox_enter(role) < 0)
			_exit(2);
		switch (probe) {
		case P_WRITE:
			_exit(write(STDERR_FILENO, "ok\n", 3) == 3 ? 0 : 3);
		case P_SOCKET:
			socket(AF_INET, SOCK_STREAM, 0);
			break;
		case P_OPEN:
			open("/etc/hostname", O_RDONLY);
			break;
		case P_IOCTL_KVM_RUN:
			ioctl(-1, KVM_RUN, 0); /* allowed: fails with EBADF */
			_exit(0);
		case P_IOCTL_CREATE_VM:
			ioctl(-1, KVM_CREATE_VM, 0);
			break;
		}
		_exit(4); /* the forbidden call returned */
	}
	close(fds[1]);
	n = read(fds[0], msg, len - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_roles(void **state)
{
	char msg[256];

	assert_int_equal(run(SANDBOX_VCPU, P_WRITE, msg, sizeof(msg)), 0);
	assert_int_equal(run(SANDBOX_VCPU, P_IOCTL_KVM_RUN, msg, sizeof(msg)), 0);
	assert_int_equal(run(SANDBOX_MAIN, P_OPEN, msg, sizeof(msg)), 159); /* nobody opens */
	assert_int_equal(run(SANDBOX_VCPU, P_SOCKET, msg, sizeof(msg)), 159);
	assert_non_null(strstr(msg, "wisp: sandbox: forbidden system call socket"));
	assert_int_equal(run(SANDBOX_MAIN, P_SOCKET, msg, sizeof(msg)), 159);
	assert_int_equal(run(SANDBOX_VCPU, P_OPEN, msg, sizeof(msg)), 159);
	assert_non_null(strstr(msg, "forbidden system call open"));
	assert_int_equal(run(SANDBOX_VCPU, P_IOCTL_CREATE_VM, msg, sizeof(msg)), 159);
	assert_non_null(strstr(msg, "forbidden system call ioctl"));
	assert_int_equal(run(SANDBOX_MAIN, P_IOCTL_CREATE_VM, msg, sizeof(msg)), 159);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
