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

#define CONFIG_ID_MAX 64     /* ids: a letter, then letters, digits, '-', '.', '_' */
#define CONFIG_PATH_MAX 1024 /* a path cut out of a sub-option list (which is shorter) */
#define CONFIG_MAX_DRIVES 16
#define CONFIG_MAX_NETDEVS 8
#define CONFIG_MAX_CHARDEVS 16
#define CONFIG_MAX_PCI_DEVICES 31 /* slots 1..31; slot 0 is the host bridge */
#define CONFIG_BLK_MAX_QUEUES 16
#define CONFIG_BLK_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */

/* How a drive does its I/O (-drive aio=). */
enum config_aio {
	CONFIG_AIO_DEFAULT,  /* io_uring where the kernel allows it, else threads */
	CONFIG_AIO_IO_URING, /* aio=io_uring or aio=native: fail if io_uring is not available */
	CONFIG_AIO_THREADS,  /* aio=threads */
};

/*
 * -drive file=F[,id=D][,if=virtio|none][,addr=S][,format=raw|qcow2][,readonly=on|off]
 * [,cache=none|writeback|writethrough|directsync|unsafe][,cache.direct=on|off]
 * [,aio=io_uring|threads|native][,discard=unmap|ignore|on|off]
 * The file is not opened by config_parse(). Without format= the image is raw:
 * wisp never probes a format.
 */
struct config_drive {
	char id[CONFIG_ID_MAX]; /* "" for an anonymous if=virtio drive */
	const char *file;	/* never NULL or "" */
	const char *format;	/* "raw" (the default) or "qcow2"; others are refused by name */
	bool readonly;
	bool direct;	   /* cache=none|directsync, or cache.direct=on: O_DIRECT */
	bool writethrough; /* cache=writethrough|directsync: no volatile write cache is
			    * offered to the guest; each write is durable before it completes */
	bool no_flush;	   /* cache=unsafe: guest flushes complete without syncing */
	bool discard;	   /* discard=unmap|on: pass guest discards to the file */
	enum config_aio aio;
	bool used; /* attached to a device (a drive can back one device only) */
};

/* -netdev tap,id=N,ifname=T[,script=no][,downscript=no]: wisp never runs scripts. */
struct config_netdev {
	char id[CONFIG_ID_MAX];
	char ifname[16]; /* IFNAMSIZ; never "" */
	bool used;	 /* attached to a virtio-net-pci */
};

/*
 * -chardev stdio,id=C | file,id=C,path=P | socket,id=C,path=P,server=on,wait=off:
 * the backends a virtconsole or -mon uses. A -mon's chardev is always a socket.
 */
struct config_chardev {
	char id[CONFIG_ID_MAX];
	enum serial_kind kind;	    /* SERIAL_STDIO, SERIAL_FILE (path=, output only) or
				     * SERIAL_UNIX (a listening socket) */
	char path[CONFIG_PATH_MAX]; /* FILE, UNIX ("" for STDIO); a socket's is < 108 bytes */
	bool used;		    /* by a virtconsole or a -mon (at most one user) */
};

enum config_dev_kind {
	CONFIG_DEV_VIRTIO_BLK,	  /* -device virtio-blk-pci,drive=D or -drive if=virtio */
	CONFIG_DEV_VIRTIO_NET,	  /* -device virtio-net-pci,netdev=N[,mac=] */
	CONFIG_DEV_VIRTIO_RNG,	  /* -device virtio-rng-pci[,max-bytes=,period=] */
	CONFIG_DEV_VIRTIO_SERIAL, /* -device virtio-serial-pci (+ one virtconsole,chardev=C) */
};

/*
 * One PCI device on the root bus, in command-line order: a -drive if=virtio
 * adds its virtio-blk-pci (id "") where the -drive is. Every index below is
 * checked: it names an existing entry, and no two devices share a drive,
 * netdev, chardev or explicit slot.
 */
struct config_pci_dev {
	enum config_dev_kind kind;
	char id[CONFIG_ID_MAX];	 /* id=, "" when not given; unique among devices */
	int slot;		 /* addr= (1..31), -1: wisp picks a free slot */
	int drive;		 /* blk: index into drives[]; -1 for other kinds */
	int netdev;		 /* net: index into netdevs[]; -1 for other kinds */
	int chardev;		 /* serial: the virtconsole's chardev index, -1 for none */
	unsigned int num_queues; /* blk: num-queues= (1..16), default 1 */
	char serial[CONFIG_BLK_SERIAL_MAX + 1]; /* blk: serial=, "" when not given */
	uint8_t mac[6];		/* net: mac=, or 52:54:00:12:34:56 + n for the n-th net device */
	uint64_t rng_max_bytes; /* rng: max-bytes= per period=, 0: unlimited */
	uint64_t rng_period_ms; /* rng: period= in ms (1..2^32-1), default 1000 */
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

	/* Private storage for values cut out of a sub-option list: name,
	 * serial_path, monitors[] and drives[].file point here, so do not copy a
	 * struct config by value. */
	char name_buf[256];
	char serial_path_buf[UNIX_PATH_MAX];
	char monitor_buf[CONFIG_MAX_MONITORS][UNIX_PATH_MAX];
	char drive_file_buf[CONFIG_MAX_DRIVES][CONFIG_PATH_MAX]; /* drives[i].file */
};

/**
 * config_parse() - fill @c from argv in QEMU's option syntax.
 * @c:      output; every field is set (defaults for absent options)
 * @argc, @argv: as given to main(); argv[0] is skipped
 * @err:    on failure, one line (no trailing newline) saying what was wrong
 * @errlen: size of @err
 *
 * Checks syntax and values, and that drives, netdevs and chardevs named by
 * devices and monitors exist and are used once; files are not opened here,
 * nor PCI slots assigned (slot -1 stays -1). Parsing stops at
 * --help or --version (the rest of argv is not looked at). The strings in @c
 * point into @argv or into @c itself.
 * Return: 0, or -EINVAL with @err filled ("wisp: " first).
 */
int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen);

/** config_usage() - the --help text. */
const char *config_usage(void);

#endif
