/* Private to config.c, config_dev.c and config_drive.c: the parser's state and the
 * sub-option helpers they share. Start-up only, like config.c: no I/O, no exit(), no printing. */
#ifndef WISP_CONFIG_PRIV_H
#define WISP_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SUBOPTS_MAX 1024 /* longest argument that has key=value sub-options */

/* Values cut out of a sub-option list fit the path buffers of struct config. */
_Static_assert(SUBOPTS_MAX <= CONFIG_PATH_MAX, "a -drive file= or -chardev path= may not fit");

/* -smp parameters as given (0 = absent); several -smp options merge as in QEMU. */
struct smp {
	unsigned int cpus, maxcpus, sockets, cores, threads;
	bool seen;
};

/* A -drive or -device that adds a PCI device, kept for references resolved at the end. */
struct pending_dev {
	const char *opt, *arg;	 /* as typed, for messages */
	char ref[CONFIG_ID_MAX]; /* blk: drive=, net: netdev=; "" for none (if=virtio) */
};

/* -device virtconsole: attached to its virtio-serial-pci once every device is known. */
struct console {
	const char *opt, *arg;
	char id[CONFIG_ID_MAX];
	char chardev[CONFIG_ID_MAX];
	char bus[CONFIG_ID_MAX]; /* bus=ID.0 without ".0"; "" when not given */
};

struct parser {
	struct config *c;
	char mon_chardev[CONFIG_MAX_MONITORS][64]; /* -mon's chardev, by monitor index */
	unsigned int nr_qmp;			   /* -qmp monitors so far */
	const char *chardev_opt[CONFIG_MAX_CHARDEVS], *chardev_arg[CONFIG_MAX_CHARDEVS];
	struct pending_dev devs[CONFIG_MAX_PCI_DEVICES]; /* by pci_devs[] index */
	struct console consoles[CONFIG_MAX_PCI_DEVICES];
	unsigned int nr_consoles;
	unsigned int nr_net; /* virtio-net-pci devices so far, for default MACs */
	char *err;
	size_t errlen;
	const char *opt; /* the option as typed, for messages */
	struct smp smp;
	bool serial_seen;
};

/*
 * Sub-options "key=value,key=value" as QemuOpts reads them: ",," stands for a
 * comma; a first item without '=' is the value of an implied key; a later bare
 * "key" means key=on and "nokey" key=off.
 */
struct subopts {
	char buf[SUBOPTS_MAX];
	char *pos; /* next unread byte */
	bool first;
};

struct item {
	const char *key;
	const char *val;
};

/* In config.c: */

/* Writes "wisp: " and the message into the caller's error buffer. Return: -EINVAL. */
__attribute__((format(printf, 2, 3))) int fail(struct parser *p, const char *fmt, ...);

/* Reports "wisp: -opt arg: why". Return: -EINVAL. */
int fail_arg(struct parser *p, const char *arg, const char *why);

/* A whole unsigned number in @base (0: C prefixes), no sign or blanks, into @v.
 * Return: 0, -EINVAL (not such a number) or -ERANGE (too large). */
int parse_u64(const char *s, int base, uint64_t *v);

/* Copies @arg into @s for subopts_next(). Return: 0 or -EINVAL (too long, reported). */
int subopts_init(struct parser *p, struct subopts *s, const char *arg);

/* Cuts the next item out of @s in place; a first item without '=' has the key
 * @implied (NULL: none). Return: false when there is none. */
bool subopts_next(struct subopts *s, const char *implied, struct item *it);

/* Reports @it's key as unsupported by the current option. Return: -EINVAL. */
int unsupported_param(struct parser *p, const char *arg, const struct item *it);

/* @it's value as on/off (and QEMU's synonyms) into @b. Return: 0 or -EINVAL (reported). */
int set_bool(struct parser *p, const char *arg, const struct item *it, bool *b);

/* Reads path=P,server=on,wait=off from @s (positioned after any prefix) and copies
 * the path to @buf (UNIX_PATH_MAX bytes); other keys go to @other, or are refused
 * when it is NULL. Return: 0 or -EINVAL (reported). */
int unix_server(struct parser *p, const char *arg, struct subopts *s, char *buf,
		int (*other)(struct parser *p, const char *arg, const struct item *it));

/* The path buffer of the next monitor, not yet counted. Return: NULL when there are
 * already CONFIG_MAX_MONITORS (reported). */
char *new_monitor(struct parser *p, const char *arg);

/* In config_dev.c, helpers config_drive.c shares: */

/* @val as the id of what the current option makes, into @id (CONFIG_ID_MAX bytes),
 * by QEMU's rule: a letter, then letters, digits, '-', '.' or '_'.
 * Return: 0 or -EINVAL (reported). */
int set_id(struct parser *p, const char *arg, const char *val, char *id);

/* Index of the entry whose id (its first member) is @id among the @n entries of
 * @size bytes at @base, or -1; "" is no id. Use FIND_ID(). */
int find_id(const void *base, size_t size, unsigned int n, const char *id);

_Static_assert(offsetof(struct config_drive, id) == 0, "find_id() needs the id first");
_Static_assert(offsetof(struct config_netdev, id) == 0, "find_id() needs the id first");
_Static_assert(offsetof(struct config_chardev, id) == 0, "find_id() needs the id first");

#define FIND_ID(array, n, id) find_id((array), sizeof((array)[0]), (n), (id))

/* addr=S or S.F as QEMU reads it (hexadecimal, so addr=10 is slot 16) into @slot;
 * slots 1 to 0x1f, function 0 only. Return: 0 or -EINVAL (reported). */
int parse_addr(struct parser *p, const char *arg, const char *val, int *slot);

/* Sets @d to a device of @kind with the defaults: no slot, drive, netdev or chardev
 * (-1), one queue, a 1 s rng period. */
void config_pci_dev_init(struct config_pci_dev *d, enum config_dev_kind kind);

/* Appends @d, made by the current option; @ref is its drive= or netdev=, "" for none.
 * Return: 0 or -EINVAL (too many devices, duplicate id or taken slot; reported). */
int config_pci_dev_add(struct parser *p, const char *arg, const struct config_pci_dev *d,
		       const char *ref);

/* Each an option's parser (@arg its argument) or a check once every option is known.
 * Return: 0 or -EINVAL, reported through fail(). */

/* In config_dev.c: */
int opt_chardev(struct parser *p, const char *arg);
int opt_mon(struct parser *p, const char *arg);
int opt_device(struct parser *p, const char *arg);

/* In config_drive.c: */
int opt_drive(struct parser *p, const char *arg);
int opt_netdev(struct parser *p, const char *arg);

/* In config_dev.c: */

/* Points each -mon at its -chardev socket. */
int mon_finish(struct parser *p);

/* Attaches drive=, netdev= and the virtconsoles to what they name. */
int devices_finish(struct parser *p);

/* Checks that at most one character device is on stdio. */
int stdio_finish(struct parser *p);

#endif
