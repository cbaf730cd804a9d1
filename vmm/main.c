/* wisp: parse the command line, build the machine, run it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "timeline.h"
#include "vm.h"

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		fprintf(stderr, "wisp: -pidfile %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* -runas: look the account up while /etc is in reach. Return: 0 or -1. */
static int find_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(name);

	if (!pw) {
		fprintf(stderr, "wisp: -runas %s: no such user\n", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Give up root once every privileged thing (KVM, sockets, pidfile) is done. */
static int drop_privileges(const char *name, uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ||
	    (uid != 0 && setuid(0) == 0)) {
		fprintf(stderr, "wisp: -runas %s: cannot switch user: %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* -chroot: every file wisp needs is open or mapped by now. */
static int enter_chroot(const char *dir)
{
	if (chroot(dir) < 0 || chdir("/") < 0) {
		fprintf(stderr, "wisp: -chroot %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct vm vm;
	char err[512];
	int status = 1;
	uid_t uid = 0;
	gid_t gid = 0;

	if (config_parse(&cfg, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (cfg.help || cfg.version) {
		fputs(cfg.help ? config_usage() : "wisp " WISP_VERSION "\n", stdout);
		return 0;
	}
	if (cfg.runas && find_user(cfg.runas, &uid, &gid) < 0)
		return 1;
	timeline_start(cfg.timeline);
	/* A console reader or socket client that goes away is an EPIPE, not our death. */
	signal(SIGPIPE, SIG_IGN);
	if (vm_create(&vm, &cfg) == 0 && vm_load(&vm) == 0 &&
	    (!cfg.pidfile || write_pidfile(cfg.pidfile) == 0) &&
	    (!cfg.chroot_dir || enter_chroot(cfg.chroot_dir) == 0) &&
	    (!cfg.runas || drop_privileges(cfg.runas, uid, gid) == 0))
		status = vm_run(&vm);
	vm_destroy(&vm);
	if (cfg.pidfile)
		unlink(cfg.pidfile);
	return status;
}
