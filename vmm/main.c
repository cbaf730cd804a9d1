/* wisp: parse the command line, build the machine, run it. */
#include <errno.h>
#include <fcntl.h>
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

int main(int argc, char **argv)
{
	struct config cfg;
	struct vm vm;
	char err[512];
	int status = 1;

	if (config_parse(&cfg, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (cfg.help || cfg.version) {
		fputs(cfg.help ? config_usage() : "wisp " WISP_VERSION "\n", stdout);
		return 0;
	}
	timeline_start(cfg.timeline);
	if (vm_create(&vm, &cfg) == 0 && vm_load(&vm) == 0 &&
	    (!cfg.pidfile || write_pidfile(cfg.pidfile) == 0))
		status = vm_run(&vm);
	vm_destroy(&vm);
	if (cfg.pidfile)
		unlink(cfg.pidfile);
	return status;
}
