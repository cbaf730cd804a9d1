/* The command line (QEMU option syntax) parsed into one config structure.
 * Runs at start-up only; no guest is involved. */
#ifndef WISP_CONFIG_H
#define WISP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_MONITORS 8
#define UNIX_PATH_MAX 108 /* sizeof(sun_path) */

enum serial_kind {
	SERIAL_STDIO, /* default: the guest console on wisp's stdin/stdout */
	SERIAL_FILE,  /* file:PATH, output only */
	SERIAL_UNIX,  /* unix:PATH,server=on,wait=off */
	SERIAL_NONE,
};

struct config {
	const char *kernel;	/* -kernel: bzImage or PVH ELF */
	const char *initrd;	/* -initrd */
	const char *append;	/* -append, "" when absent */
	const char *bios;	/* -bios: firmware as a PVH ELF */
	const char *name;	/* -name */
	const char *pidfile;	/* -pidfile */
	const char *runas;	/* -runas USER */
	const char *chroot_dir; /* -chroot DIR */
	uint64_t ram_size;	/* -m, bytes; default 512 MiB */
	unsigned int cpus;	/* -smp cpus=N (or -smp N); default 1 */
	unsigned int max_cpus;	/* -smp maxcpus=M; default = cpus */
	unsigned int sockets;	/* -smp topology: sockets * cores * threads == max_cpus; */
	unsigned int cores;	/* default 1 socket of max_cpus cores with 1 thread */
	unsigned int threads;
	enum serial_kind serial;
	const char *serial_path; /* file: or unix: path */
	bool no_reboot;		 /* -no-reboot: guest reset exits wisp */
	bool debug_exit;	 /* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
	bool timeline;		 /* -boot-timeline: print boot timestamps on stderr */
	bool help;		 /* --help / -h */
	bool version;		 /* --version */
	bool start_paused;	 /* -S */
	bool sandbox;		 /* -sandbox on|off; default on */
	/* QMP monitors (-qmp unix:..., -chardev socket + -mon): socket paths. */
	const char *monitors[CONFIG_MAX_MONITORS];
	char monitor_labels[CONFIG_MAX_MONITORS][64]; /* chardev id, or compat_monitorN */
	unsigned int nr_monitors;

	/* Private storage for values cut out of a sub-option list: name and
	 * serial_path may point here, so do not copy a struct config by value. */
	char name_buf[256];
	char serial_path_buf[UNIX_PATH_MAX];
	char monitor_buf[CONFIG_MAX_MONITORS][UNIX_PATH_MAX];
};

/**
 * config_parse() - fill @c from argv in QEMU's option syntax.
 * @c:      output; every field is set (defaults for absent options)
 * @argc, @argv: as given to main(); argv[0] is skipped
 * @err:    on failure, one line (no trailing newline) saying what was wrong
 * @errlen: size of @err
 *
 * Checks syntax and values only; files are not opened here. Parsing stops at
 * --help or --version (the rest of argv is not looked at). The strings in @c
 * point into @argv or into @c itself.
 * Return: 0, or -EINVAL with @err filled ("wisp: " first).
 */
int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen);

/** config_usage() - the --help text. */
const char *config_usage(void);

#endif
