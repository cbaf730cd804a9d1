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

#define CONFIG_ID_MAX 64
#define CONFIG_MAX_DRIVES 16
#define CONFIG_MAX_NETDEVS 8
#define CONFIG_MAX_CHARDEVS 16
#define CONFIG_MAX_PCI_DEVICES 31 /* slots 1..31; slot 0 is the host bridge */

/* How a drive does its I/O (-drive aio=). */
enum config_aio {
	CONFIG_AIO_DEFAULT,  /* io_uring where the kernel allows it, else threads */
	CONFIG_AIO_IO_URING, /* aio=io_uring: fail if io_uring is not available */
	CONFIG_AIO_THREADS,  /* aio=threads */
};

/* -drive file=F[,id=D][,if=virtio|none][,format=raw][,readonly=on][,cache=none]
 * [,aio=io_uring|threads][,discard=unmap|ignore] */
struct config_drive {
	char id[CONFIG_ID_MAX]; /* "" for an anonymous if=virtio drive */
	const char *file;
	const char *format; /* "raw"; other formats are refused by name until they exist */
	bool readonly;
	bool direct;  /* cache=none (or cache.direct=on): O_DIRECT */
	bool discard; /* discard=unmap: pass guest discards to the file */
	enum config_aio aio;
	bool used; /* attached to a device (a drive can back one device only) */
};

/* -netdev tap,id=N,ifname=T,script=no,downscript=no */
struct config_netdev {
	char id[CONFIG_ID_MAX];
	char ifname[16]; /* IFNAMSIZ */
	bool used;
};

/* -chardev stdio|socket|file,id=C,...: the backends a virtconsole or -mon uses. */
struct config_chardev {
	char id[CONFIG_ID_MAX];
	enum serial_kind kind; /* SERIAL_STDIO, SERIAL_FILE (path=) or SERIAL_UNIX (socket) */
	char path[UNIX_PATH_MAX];
	bool used;
};

enum config_dev_kind {
	CONFIG_DEV_VIRTIO_BLK,	  /* -device virtio-blk-pci,drive=D or -drive if=virtio */
	CONFIG_DEV_VIRTIO_NET,	  /* -device virtio-net-pci,netdev=N[,mac=] */
	CONFIG_DEV_VIRTIO_RNG,	  /* -device virtio-rng-pci[,max-bytes=,period=] */
	CONFIG_DEV_VIRTIO_SERIAL, /* -device virtio-serial-pci (+ one virtconsole,chardev=C) */
};

/* One PCI device on the root bus, in command-line order. */
struct config_pci_dev {
	enum config_dev_kind kind;
	char id[CONFIG_ID_MAX];	 /* id=, "" when not given */
	int slot;		 /* addr=N (1..31), -1: the next free slot */
	int drive;		 /* blk: index into drives[] */
	int netdev;		 /* net: index into netdevs[] */
	int chardev;		 /* serial: the virtconsole's chardev index, -1 for none */
	unsigned int num_queues; /* blk: num-queues=, default 1 */
	char serial[21];	 /* blk: serial= (VIRTIO_BLK_ID_BYTES) */
	uint8_t mac[6];		 /* net: mac=, or wisp's default 52:54:00:12:34:(56 + n) */
	uint64_t rng_max_bytes;	 /* rng: max-bytes= per period=, 0: unlimited */
	uint64_t rng_period_ms;	 /* rng: period= in ms, default 1000 */
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

	/* Disks, networks, character devices and the PCI devices using them. */
	struct config_drive drives[CONFIG_MAX_DRIVES];
	unsigned int nr_drives;
	struct config_netdev netdevs[CONFIG_MAX_NETDEVS];
	unsigned int nr_netdevs;
	struct config_chardev chardevs[CONFIG_MAX_CHARDEVS];
	unsigned int nr_chardevs;
	struct config_pci_dev pci_devs[CONFIG_MAX_PCI_DEVICES];
	unsigned int nr_pci_devs;

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
