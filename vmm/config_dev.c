/* -chardev, -mon and -device into struct config, and the checks that tie them and
 * config_drive.c's -drive and -netdev together once every option is known.
 * Runs once at start-up, before any guest exists: no I/O, no exit(), no printing. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.' or '_'. */
int set_id(struct parser *p, const char *arg, const char *val, char *id)
{
	size_t len = strlen(val);
	bool ok = isalpha((unsigned char)val[0]);

	for (size_t i = 1; ok && i < len; i++)
		ok = isalnum((unsigned char)val[i]) || strchr("-._", val[i]);
	if (!ok)
		return fail(p,
			    "%s %s: bad id '%s' (a letter, then letters, digits, '-', '.' or '_')",
			    p->opt, arg, val);
	if (len >= CONFIG_ID_MAX)
		return fail(p, "%s %s: id longer than %d bytes", p->opt, arg, CONFIG_ID_MAX - 1);
	memcpy(id, val, len + 1);
	return 0;
}

/* A reference to an id (drive=, netdev=, chardev=); one that long cannot exist. */
static int set_ref(struct parser *p, const char *arg, const struct item *it, char *ref)
{
	size_t len = strlen(it->val);

	if (!len)
		return fail(p, "%s %s: empty %s=", p->opt, arg, it->key);
	if (len >= CONFIG_ID_MAX)
		return fail(p, "%s %s: %s '%s' not found", p->opt, arg, it->key, it->val);
	memcpy(ref, it->val, len + 1);
	return 0;
}

/* Index of the entry whose id (its first member) is @id among @n, or -1; "" is no id. */
int find_id(const void *base, size_t size, unsigned int n, const char *id)
{
	for (unsigned int i = 0; *id && i < n; i++) {
		if (!strcmp((const char *)base + i * size, id))
			return (int)i;
	}
	return -1;
}

/* id= of the chardev being parsed; any other key is refused. */
static int chardev_key(struct parser *p, const char *arg, const struct item *it)
{
	struct config *c = p->c;

	if (strcmp(it->key, "id"))
		return unsupported_param(p, arg, it);
	return set_id(p, arg, it->val, c->chardevs[c->nr_chardevs].id);
}

/* stdio,id=C */
static int chardev_stdio(struct parser *p, const char *arg, struct subopts *s)
{
	struct item it;
	int r = 0;

	while (!r && subopts_next(s, NULL, &it))
		r = chardev_key(p, arg, &it);
	return r;
}

/* file,id=C,path=P: output only */
static int chardev_file(struct parser *p, const char *arg, struct subopts *s,
			struct config_chardev *cd)
{
	const char *path = "";
	struct item it;
	int r = 0;

	while (!r && subopts_next(s, NULL, &it)) {
		if (!strcmp(it.key, "path"))
			path = it.val;
		else
			r = chardev_key(p, arg, &it);
	}
	if (r)
		return r;
	if (!*path)
		return fail_arg(p, arg, "needs path=");
	snprintf(cd->path, sizeof(cd->path), "%s", path); /* the argument is shorter */
	return 0;
}

/* -chardev stdio,id=C | file,id=C,path=P | socket,id=C,path=P,server=on,wait=off */
int opt_chardev(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	struct config_chardev *cd = &c->chardevs[c->nr_chardevs];
	size_t n = strcspn(arg, ",");
	struct subopts s;
	int r;

	if (c->nr_chardevs == CONFIG_MAX_CHARDEVS)
		return fail(p, "%s %s: too many chardevs (at most %d)", p->opt, arg,
			    CONFIG_MAX_CHARDEVS);
	if ((r = subopts_init(p, &s, arg)))
		return r;
	memset(cd, 0, sizeof(*cd));
	s.pos += n + (arg[n] == ',');
	s.first = false;
	if (n == 6 && !strncmp(arg, "socket", n)) {
		cd->kind = SERIAL_UNIX;
		r = unix_server(p, arg, &s, cd->path, chardev_key);
	} else if (n == 5 && !strncmp(arg, "stdio", n)) {
		cd->kind = SERIAL_STDIO;
		r = chardev_stdio(p, arg, &s);
	} else if (n == 4 && !strncmp(arg, "file", n)) {
		cd->kind = SERIAL_FILE;
		r = chardev_file(p, arg, &s, cd);
	} else {
		return fail(p, "%s %s: unsupported backend '%.*s' (use stdio, file or socket)",
			    p->opt, arg, (int)n, arg);
	}
	if (r)
		return r;
	if (!cd->id[0])
		return fail_arg(p, arg, "needs id=");
	if (FIND_ID(c->chardevs, c->nr_chardevs, cd->id) >= 0)
		return fail_arg(p, arg, "duplicate chardev id");
	p->chardev_opt[c->nr_chardevs] = p->opt;
	p->chardev_arg[c->nr_chardevs] = arg;
	c->nr_chardevs++;
	return 0;
}

/* -mon [chardev=]C,mode=control: a QMP monitor on a -chardev socket */
int opt_mon(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	const char *dev = "", *mode = "readline";
	char *buf = new_monitor(p, arg);
	struct subopts s;
	struct item it;
	int r;

	if (!buf || (r = subopts_init(p, &s, arg)))
		return -EINVAL;
	while (!r && subopts_next(&s, "chardev", &it)) {
		if (!strcmp(it.key, "chardev"))
			dev = it.val;
		else if (!strcmp(it.key, "mode"))
			mode = it.val;
		else if (strcmp(it.key, "pretty"))
			r = unsupported_param(p, arg, &it);
	}
	if (r)
		return r;
	if (strcmp(mode, "control"))
		return fail_arg(p, arg, "only mode=control (QMP) is supported");
	if (strlen(dev) >= sizeof(p->mon_chardev[0]))
		return fail_arg(p, arg, "chardev id too long");
	memcpy(p->mon_chardev[c->nr_monitors], dev, strlen(dev) + 1);
	memcpy(c->monitor_labels[c->nr_monitors], dev, strlen(dev) + 1);
	c->monitors[c->nr_monitors++] = NULL; /* resolved once every -chardev is known */
	return 0;
}

/* Each -mon names a -chardev socket, given anywhere on the command line, that
 * nothing else uses. */
int mon_finish(struct parser *p)
{
	struct config *c = p->c;

	for (unsigned int m = 0; m < c->nr_monitors; m++) {
		const char *id = p->mon_chardev[m];
		struct config_chardev *cd;
		int i;

		if (c->monitors[m])
			continue;
		i = FIND_ID(c->chardevs, c->nr_chardevs, id);
		if (i < 0)
			return fail(p, "-mon: chardev '%s' not found", id);
		cd = &c->chardevs[i];
		if (cd->kind != SERIAL_UNIX)
			return fail(p,
				    "-mon: chardev '%s' is not a socket (a monitor needs -chardev "
				    "socket)",
				    id);
		if (cd->used)
			return fail(p, "-mon: chardev '%s' is already in use", id);
		cd->used = true;
		memcpy(c->monitor_buf[m], cd->path, strlen(cd->path) + 1); /* < UNIX_PATH_MAX */
		c->monitors[m] = c->monitor_buf[m];
	}
	return 0;
}

/* stdio serves one character device at most: -serial stdio (the default) or a
 * -chardev stdio. */
int stdio_finish(struct parser *p)
{
	const struct config *c = p->c;
	bool taken = c->serial == SERIAL_STDIO;

	for (unsigned int i = 0; i < c->nr_chardevs; i++) {
		if (c->chardevs[i].kind != SERIAL_STDIO)
			continue;
		if (taken)
			return fail(p, "%s %s: cannot use stdio by multiple character devices%s",
				    p->chardev_opt[i], p->chardev_arg[i],
				    c->serial == SERIAL_STDIO
					    ? " (the serial port is on stdio unless -serial says"
					      " otherwise)"
					    : "");
		taken = true;
	}
	return 0;
}

static int check_number(struct parser *p, const char *arg, const char *key, const char *val,
			uint64_t want, const char *want_text)
{
	uint64_t v;

	if (parse_u64(val, 0, &v) || v != want)
		return fail(p, "%s %s: only %s=%s is supported", p->opt, arg, key, want_text);
	return 0;
}

static int hex_digit(char ch)
{
	static const char digits[] = "0123456789abcdef";
	const char *d = ch ? strchr(digits, tolower((unsigned char)ch)) : NULL;

	return d ? (int)(d - digits) : -1;
}

/* addr=S or S.F as QEMU reads it: hexadecimal with or without 0x, so addr=10 is
 * slot 16. Slots 1 to 0x1f; slot 0 is the host bridge; function 0 only. */
int parse_addr(struct parser *p, const char *arg, const char *val, int *slot)
{
	const char *s = val;
	unsigned int v = 0, fn = 0, digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; hex_digit(*s) >= 0; s++, digits++)
		v = v > 0xff ? v : v * 16 + (unsigned int)hex_digit(*s);
	if (digits && *s == '.' && hex_digit(s[1]) >= 0) {
		for (s++; hex_digit(*s) >= 0; s++)
			fn |= (unsigned int)hex_digit(*s);
	}
	if (!digits || *s || v > 0x1f)
		return fail(p,
			    "%s %s: addr must be a PCI slot from 1 to 1f in hexadecimal"
			    " (optionally followed by .0)",
			    p->opt, arg);
	if (fn)
		return fail_arg(
			p, arg,
			"only function 0 is supported (wisp has no multi-function devices)");
	if (!v)
		return fail_arg(p, arg, "slot 0 is the host bridge's (use 1 to 1f)");
	*slot = (int)v;
	return 0;
}

/* mac=xx:xx:xx:xx:xx:xx ('-' also separates), a unicast address */
static int parse_mac(struct parser *p, const char *arg, const char *val, uint8_t *mac)
{
	const char *s = val;
	bool ok = true, zero = true;

	for (int i = 0; ok && i < 6; i++, s += 3) {
		ok = hex_digit(s[0]) >= 0 && hex_digit(s[1]) >= 0 &&
		     (i == 5 ? !s[2] : s[2] == ':' || s[2] == '-');
		if (ok)
			mac[i] = (uint8_t)(hex_digit(s[0]) << 4 | hex_digit(s[1]));
		zero = zero && ok && !mac[i];
	}
	if (!ok)
		return fail(p, "%s %s: mac must be six hexadecimal bytes like 52:54:00:12:34:56",
			    p->opt, arg);
	if (mac[0] & 1)
		return fail_arg(p, arg, "mac is a multicast address (the first byte must be even)");
	if (zero)
		return fail_arg(p, arg, "mac must not be 00:00:00:00:00:00");
	return 0;
}

void config_pci_dev_init(struct config_pci_dev *d, enum config_dev_kind kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->slot = d->drive = d->netdev = d->chardev = -1;
	d->num_queues = 1;
	d->rng_period_ms = 1000;
}

/* A device id is unique among every -device (virtconsoles too). */
static bool device_id_taken(const struct parser *p, const char *id)
{
	const struct config *c = p->c;

	for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
		if (!strcmp(c->pci_devs[i].id, id))
			return true;
	}
	for (unsigned int i = 0; i < p->nr_consoles; i++) {
		if (!strcmp(p->consoles[i].id, id))
			return true;
	}
	return false;
}

/* Appends @d, made by the current option; @ref is its drive= or netdev=, "" for none. */
int config_pci_dev_add(struct parser *p, const char *arg, const struct config_pci_dev *d,
		       const char *ref)
{
	struct config *c = p->c;
	unsigned int n = c->nr_pci_devs;

	if (n == CONFIG_MAX_PCI_DEVICES)
		return fail(p, "%s %s: too many PCI devices (at most %d)", p->opt, arg,
			    CONFIG_MAX_PCI_DEVICES);
	if (d->id[0] && device_id_taken(p, d->id))
		return fail_arg(p, arg, "duplicate device id");
	for (unsigned int i = 0; d->slot >= 0 && i < n; i++) {
		if (c->pci_devs[i].slot == d->slot)
			return fail(p, "%s %s: PCI slot %x is already taken by %s %s", p->opt, arg,
				    d->slot, p->devs[i].opt, p->devs[i].arg);
	}
	c->pci_devs[n] = *d;
	p->devs[n].opt = p->opt;
	p->devs[n].arg = arg;
	snprintf(p->devs[n].ref, sizeof(p->devs[n].ref), "%s", ref);
	c->nr_pci_devs++;
	return 0;
}

/* A property of one kind of virtio PCI device (not id=, addr=, drive= or netdev=). */
static int device_prop(struct parser *p, const char *arg, const struct item *it,
		       struct config_pci_dev *d)
{
	uint64_t v;

	if (d->kind == CONFIG_DEV_VIRTIO_BLK && !strcmp(it->key, "num-queues")) {
		if (parse_u64(it->val, 10, &v) || v < 1 || v > CONFIG_BLK_MAX_QUEUES)
			return fail(p, "%s %s: num-queues must be a number from 1 to %d", p->opt,
				    arg, CONFIG_BLK_MAX_QUEUES);
		d->num_queues = (unsigned int)v;
	} else if (d->kind == CONFIG_DEV_VIRTIO_BLK && !strcmp(it->key, "serial")) {
		if (strlen(it->val) > CONFIG_BLK_SERIAL_MAX)
			return fail(p, "%s %s: serial longer than %d bytes", p->opt, arg,
				    CONFIG_BLK_SERIAL_MAX);
		memcpy(d->serial, it->val, strlen(it->val) + 1);
	} else if (d->kind == CONFIG_DEV_VIRTIO_NET && !strcmp(it->key, "mac")) {
		return parse_mac(p, arg, it->val, d->mac);
	} else if (d->kind == CONFIG_DEV_VIRTIO_RNG && !strcmp(it->key, "max-bytes")) {
		if (parse_u64(it->val, 0, &v) || v < 1 || v > INT64_MAX)
			return fail(p, "%s %s: max-bytes must be a number from 1 to %lld", p->opt,
				    arg, (long long)INT64_MAX);
		d->rng_max_bytes = v;
	} else if (d->kind == CONFIG_DEV_VIRTIO_RNG && !strcmp(it->key, "period")) {
		if (parse_u64(it->val, 0, &v) || v < 1 || v > UINT32_MAX)
			return fail(p, "%s %s: period must be a number of ms from 1 to %u", p->opt,
				    arg, UINT32_MAX);
		d->rng_period_ms = v;
	} else {
		return unsupported_param(p, arg, it);
	}
	return 0;
}

/* virtio-blk-pci, virtio-net-pci, virtio-rng-pci and virtio-serial-pci */
static int pci_device(struct parser *p, const char *arg, struct subopts *s,
		      enum config_dev_kind kind)
{
	static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, none[6];
	const char *ref_key = kind == CONFIG_DEV_VIRTIO_BLK   ? "drive"
			      : kind == CONFIG_DEV_VIRTIO_NET ? "netdev"
							      : NULL;
	struct config_pci_dev d;
	char ref[CONFIG_ID_MAX] = "";
	struct item it;
	int r = 0;

	config_pci_dev_init(&d, kind);
	while (!r && subopts_next(s, "driver", &it)) {
		if (!strcmp(it.key, "driver"))
			continue;
		if (!strcmp(it.key, "id"))
			r = set_id(p, arg, it.val, d.id);
		else if (!strcmp(it.key, "addr"))
			r = parse_addr(p, arg, it.val, &d.slot);
		else if (ref_key && !strcmp(it.key, ref_key))
			r = set_ref(p, arg, &it, ref);
		else
			r = device_prop(p, arg, &it, &d);
	}
	if (r)
		return r;
	if (ref_key && !ref[0])
		return fail(p, "%s %s: needs %s=", p->opt, arg, ref_key);
	if (kind == CONFIG_DEV_VIRTIO_NET && !memcmp(d.mac, none, sizeof(none))) { /* no mac= */
		memcpy(d.mac, default_mac, sizeof(d.mac));
		d.mac[5] = (uint8_t)(d.mac[5] + p->nr_net);
	}
	if ((r = config_pci_dev_add(p, arg, &d, ref)))
		return r;
	p->nr_net += kind == CONFIG_DEV_VIRTIO_NET;
	return 0;
}

static int dev_virtio_blk(struct parser *p, const char *arg, struct subopts *s)
{
	return pci_device(p, arg, s, CONFIG_DEV_VIRTIO_BLK);
}

static int dev_virtio_net(struct parser *p, const char *arg, struct subopts *s)
{
	return pci_device(p, arg, s, CONFIG_DEV_VIRTIO_NET);
}

static int dev_virtio_rng(struct parser *p, const char *arg, struct subopts *s)
{
	return pci_device(p, arg, s, CONFIG_DEV_VIRTIO_RNG);
}

static int dev_virtio_serial(struct parser *p, const char *arg, struct subopts *s)
{
	return pci_device(p, arg, s, CONFIG_DEV_VIRTIO_SERIAL);
}

/* bus=ID.0: the bus of -device virtio-serial-pci,id=ID */
static int console_bus(struct parser *p, const char *arg, const char *val, char *bus)
{
	size_t len = strlen(val);

	if (len < 3 || len - 2 >= CONFIG_ID_MAX || strcmp(val + len - 2, ".0"))
		return fail(p, "%s %s: bus must be ID.0, ID the id of a -device virtio-serial-pci",
			    p->opt, arg);
	memcpy(bus, val, len - 2);
	bus[len - 2] = '\0';
	return 0;
}

/* virtconsole,chardev=C[,id=][,bus=ID.0]: attached by console_attach() */
static int dev_virtconsole(struct parser *p, const char *arg, struct subopts *s)
{
	struct console *con = &p->consoles[p->nr_consoles];
	struct item it;
	int r = 0;

	if (p->nr_consoles == CONFIG_MAX_PCI_DEVICES)
		return fail(p, "%s %s: too many virtconsole devices (at most %d)", p->opt, arg,
			    CONFIG_MAX_PCI_DEVICES);
	memset(con, 0, sizeof(*con));
	while (!r && subopts_next(s, "driver", &it)) {
		if (!strcmp(it.key, "driver"))
			continue;
		if (!strcmp(it.key, "id"))
			r = set_id(p, arg, it.val, con->id);
		else if (!strcmp(it.key, "chardev"))
			r = set_ref(p, arg, &it, con->chardev);
		else if (!strcmp(it.key, "bus"))
			r = console_bus(p, arg, it.val, con->bus);
		else
			r = unsupported_param(p, arg, &it);
	}
	if (r)
		return r;
	if (!con->chardev[0])
		return fail_arg(p, arg, "needs chardev=");
	if (con->id[0] && device_id_taken(p, con->id))
		return fail_arg(p, arg, "duplicate device id");
	con->opt = p->opt;
	con->arg = arg;
	p->nr_consoles++;
	return 0;
}

/* isa-debug-exit[,iobase=0xf4][,iosize=0x04] */
static int dev_debug_exit(struct parser *p, const char *arg, struct subopts *s)
{
	const char *iobase = "0xf4", *iosize = "0x04", *unknown = NULL;
	struct item it;
	int r;

	while (subopts_next(s, "driver", &it)) {
		if (!strcmp(it.key, "iobase"))
			iobase = it.val;
		else if (!strcmp(it.key, "iosize"))
			iosize = it.val;
		else if (strcmp(it.key, "driver") && !unknown)
			unknown = it.key;
	}
	if (p->c->debug_exit)
		return fail_arg(p, arg, "only one isa-debug-exit is supported");
	if (unknown)
		return fail(p, "%s %s: unsupported parameter '%s'", p->opt, arg, unknown);
	r = check_number(p, arg, "iobase", iobase, 0xf4, "0xf4");
	if (!r)
		r = check_number(p, arg, "iosize", iosize, 0x04, "0x04");
	p->c->debug_exit = !r;
	return r;
}

struct device_type {
	const char *name;
	int (*parse)(struct parser *p, const char *arg, struct subopts *s);
};

/* Every device -device knows, in the order --help lists them. */
static const struct device_type device_types[] = {
	{"virtio-blk-pci", dev_virtio_blk}, {"virtio-net-pci", dev_virtio_net},
	{"virtio-rng-pci", dev_virtio_rng}, {"virtio-serial-pci", dev_virtio_serial},
	{"virtconsole", dev_virtconsole},   {"isa-debug-exit", dev_debug_exit},
};

static int unsupported_device(struct parser *p, const char *driver)
{
	char names[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
				      device_types[i].name);
	return fail(p, "%s %s: unsupported device (wisp has %s)", p->opt, driver, names);
}

/* -device DRIVER[,prop=value...]: the driver may also come as driver= anywhere */
int opt_device(struct parser *p, const char *arg)
{
	const char *driver = "";
	struct subopts names, s;
	struct item it;
	int r = subopts_init(p, &names, arg);

	if (r)
		return r;
	while (subopts_next(&names, "driver", &it)) {
		if (!strcmp(it.key, "driver"))
			driver = it.val;
	}
	if (!*driver)
		return fail_arg(p, arg, "no device named");
	for (size_t i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++) {
		if (!strcmp(device_types[i].name, driver)) {
			r = subopts_init(p, &s, arg);
			return r ? r : device_types[i].parse(p, arg, &s);
		}
	}
	return unsupported_device(p, driver);
}

/* Who uses drive/netdev @index already (a -device or a -drive if=virtio), or -1. */
static int user_of(const struct config *c, enum config_dev_kind kind, int index)
{
	for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
		const struct config_pci_dev *d = &c->pci_devs[i];

		if (d->kind == kind &&
		    (kind == CONFIG_DEV_VIRTIO_BLK ? d->drive : d->netdev) == index)
			return (int)i;
	}
	return -1;
}

/* Points a virtio-blk-pci or virtio-net-pci at the drive or netdev it names. */
static int device_attach(struct parser *p, unsigned int i)
{
	struct config *c = p->c;
	struct config_pci_dev *d = &c->pci_devs[i];
	const struct pending_dev *pd = &p->devs[i];
	bool blk = d->kind == CONFIG_DEV_VIRTIO_BLK;
	const char *what = blk ? "drive" : "netdev";
	int k = blk ? FIND_ID(c->drives, c->nr_drives, pd->ref)
		    : FIND_ID(c->netdevs, c->nr_netdevs, pd->ref);
	bool *used;
	int u;

	if (k < 0)
		return fail(p, "%s %s: %s '%s' not found", pd->opt, pd->arg, what, pd->ref);
	used = blk ? &c->drives[k].used : &c->netdevs[k].used;
	if (*used) {
		u = user_of(c, d->kind, k);
		return fail(p, "%s %s: %s '%s' is already used by %s %s", pd->opt, pd->arg, what,
			    pd->ref, u >= 0 ? p->devs[u].opt : "?", u >= 0 ? p->devs[u].arg : "?");
	}
	*used = true;
	*(blk ? &d->drive : &d->netdev) = k;
	return 0;
}

/* Puts a virtconsole on its virtio-serial-pci (bus=, or the only one) and its chardev. */
static int console_attach(struct parser *p, const struct console *con)
{
	struct config *c = p->c;
	struct config_pci_dev *d = NULL;
	unsigned int n = 0;
	int k;

	for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
		if (c->pci_devs[i].kind == CONFIG_DEV_VIRTIO_SERIAL &&
		    (!con->bus[0] || !strcmp(c->pci_devs[i].id, con->bus))) {
			d = &c->pci_devs[i];
			n++;
		}
	}
	if (!n && con->bus[0])
		return fail(p, "%s %s: no -device virtio-serial-pci,id=%s", con->opt, con->arg,
			    con->bus);
	if (!n)
		return fail(p, "%s %s: needs a -device virtio-serial-pci", con->opt, con->arg);
	if (n > 1)
		return fail(p, "%s %s: %u virtio-serial-pci devices: say which with bus=ID.0",
			    con->opt, con->arg, n);
	if (d->chardev >= 0)
		return fail(p, "%s %s: virtio-serial-pci %s already has a console", con->opt,
			    con->arg, d->id[0] ? d->id : "(without id)");
	k = FIND_ID(c->chardevs, c->nr_chardevs, con->chardev);
	if (k < 0)
		return fail(p, "%s %s: chardev '%s' not found", con->opt, con->arg, con->chardev);
	if (c->chardevs[k].used)
		return fail(p, "%s %s: chardev '%s' is already in use", con->opt, con->arg,
			    con->chardev);
	c->chardevs[k].used = true;
	d->chardev = k;
	return 0;
}

/* Resolves drive=, netdev= and the virtconsoles once every option is known. */
int devices_finish(struct parser *p)
{
	int r = 0;

	for (unsigned int i = 0; !r && i < p->c->nr_pci_devs; i++) {
		if (p->devs[i].ref[0])
			r = device_attach(p, i);
	}
	for (unsigned int i = 0; !r && i < p->nr_consoles; i++)
		r = console_attach(p, &p->consoles[i]);
	return r;
}
