/* The command line (QEMU option syntax) into one struct config.
 * Runs once at start-up, before any guest exists: no I/O, no exit(), no printing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/virt.h"

#define MiB (1024ULL * 1024)
#define DEFAULT_RAM (512 * MiB)
#define GiB (1024 * MiB)
#define MIN_RAM (32 * MiB)
/* Low RAM ends at the 32-bit hole, the rest starts at 4 GiB and must end below
 * the 64-bit PCI window. */
#define MAX_RAM (VIRT_MMIO_HOLE_BASE + (VIRT_PCI_MMIO64_BASE - VIRT_HIGH_RAM_BASE))
#define RAM_ALIGN 4096ULL /* -m rounds up to whole pages, as QEMU does */
#define MAX_CPUS 4096	  /* the VMM checks KVM's own limit later */
#define SUBOPTS_MAX 1024  /* longest argument that has key=value sub-options */
#define STOP 1		  /* parse_one(): stop parsing, all is well */

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

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "wisp: ");
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Reports "wisp: -opt arg: why". */
static int fail_arg(struct parser *p, const char *arg, const char *why)
{
	return fail(p, "%s %s: %s", p->opt, arg, why);
}

/* A whole unsigned number in @base (0: C prefixes), no sign or blanks. */
static int parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	return *end ? -EINVAL : 0;
}

static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"on", "yes", "true", "y"};
	static const char *const no[] = {"off", "no", "false", "n"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*b = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* QEMU's size syntax: a number with an optional B/K/M/G/T suffix; none means MiB. */
static int parse_size(const char *s, uint64_t *bytes)
{
	static const char suffixes[] = "BKMGT";
	const char *unit;
	uint64_t v, mult = MiB;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		unit = strchr(suffixes, toupper((unsigned char)*end));
		if (!unit || end[1])
			return -EINVAL;
		mult = 1ULL << (10 * (unit - suffixes));
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

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

static int subopts_init(struct parser *p, struct subopts *s, const char *arg)
{
	size_t len = strlen(arg);

	if (len >= sizeof(s->buf))
		return fail(p, "%s: argument too long (at most %zu bytes)", p->opt,
			    sizeof(s->buf) - 1);
	memcpy(s->buf, arg, len + 1);
	s->pos = s->buf;
	s->first = true;
	return 0;
}

/* Cuts the next item out of @s in place. Return: false when there is none. */
static bool subopts_next(struct subopts *s, const char *implied, struct item *it)
{
	char *start = s->pos, *r = s->pos, *w = s->pos, *eq;
	bool first = s->first;

	if (!first && !*r)
		return false;
	s->first = false;
	while (*r && !(r[0] == ',' && r[1] != ',')) {
		if (*r == ',')
			r++; /* ",," is one comma */
		*w++ = *r++;
	}
	s->pos = *r ? r + 1 : r;
	*w = '\0';

	eq = strchr(start, '=');
	if (eq) {
		*eq = '\0';
		it->key = start;
		it->val = eq + 1;
	} else if (first && implied) {
		it->key = implied;
		it->val = start;
	} else if (!strncmp(start, "no", 2)) {
		it->key = start + 2;
		it->val = "off";
	} else {
		it->key = start;
		it->val = "on";
	}
	return true;
}

static int unsupported_param(struct parser *p, const char *arg, const struct item *it)
{
	return fail(p, "%s %s: unsupported parameter '%s'", p->opt, arg, it->key);
}

static int set_bool(struct parser *p, const char *arg, const struct item *it, bool *b)
{
	if (parse_bool(it->val, b))
		return fail(p, "%s %s: %s must be on or off", p->opt, arg, it->key);
	return 0;
}

static int set_path(struct parser *p, const char *arg, const char **field)
{
	if (!*arg)
		return fail(p, "%s: empty file name", p->opt);
	*field = arg;
	return 0;
}

static int check_accel(struct parser *p, const char *arg, const char *accel)
{
	if (strcmp(accel, "kvm"))
		return fail(p, "%s %s: unsupported accelerator '%s' (only 'kvm')", p->opt, arg,
			    accel);
	return 0;
}

/* -machine [type=]virt[,accel=kvm], also -M */
static int opt_machine(struct parser *p, const char *arg)
{
	struct subopts s;
	struct item it;
	int r = subopts_init(p, &s, arg);

	while (!r && subopts_next(&s, "type", &it)) {
		if (!strcmp(it.key, "type") && strcmp(it.val, "virt"))
			r = fail(p, "%s %s: unsupported machine type '%s' (only 'virt')", p->opt,
				 arg, it.val);
		else if (!strcmp(it.key, "accel"))
			r = check_accel(p, arg, it.val);
		else if (strcmp(it.key, "type"))
			r = unsupported_param(p, arg, &it);
	}
	return r;
}

/* -accel [accel=]kvm */
static int opt_accel(struct parser *p, const char *arg)
{
	struct subopts s;
	struct item it;
	int r = subopts_init(p, &s, arg);

	while (!r && subopts_next(&s, "accel", &it)) {
		if (!strcmp(it.key, "accel"))
			r = check_accel(p, arg, it.val);
		else
			r = unsupported_param(p, arg, &it);
	}
	return r;
}

/* -cpu host: the only model, without properties or feature flags */
static int opt_cpu(struct parser *p, const char *arg)
{
	size_t n = strcspn(arg, ",");

	if (n != 4 || strncmp(arg, "host", 4))
		return fail(p, "%s %.*s: unsupported CPU model (only 'host')", p->opt, (int)n, arg);
	if (arg[n])
		return fail_arg(p, arg, "CPU properties and feature flags are not supported");
	return 0;
}

static int set_ram_size(struct parser *p, const char *arg, const char *val)
{
	uint64_t bytes;
	int r = parse_size(val, &bytes);

	if (r == -ERANGE || (!r && bytes > UINT64_MAX - (RAM_ALIGN - 1)))
		return fail_arg(p, arg, "size too large");
	if (r)
		return fail_arg(p, arg,
				"bad size (a number with an optional B, K, M, G or T suffix;"
				" no suffix means MiB)");
	if (bytes < MIN_RAM)
		return fail(p, "%s %s: too little memory (the minimum is %llu MiB)", p->opt, arg,
			    MIN_RAM / MiB);
	bytes = (bytes + RAM_ALIGN - 1) & ~(RAM_ALIGN - 1);
	if (bytes > MAX_RAM)
		return fail(p, "%s %s: too much memory (the maximum is %llu GiB)", p->opt, arg,
			    (unsigned long long)MAX_RAM / GiB);
	p->c->ram_size = bytes;
	return 0;
}

/* -m [size=]SIZE; slots= and maxmem= belong to memory hotplug, which is not there yet */
static int opt_memory(struct parser *p, const char *arg)
{
	struct subopts s;
	struct item it;
	int r = subopts_init(p, &s, arg);

	while (!r && subopts_next(&s, "size", &it)) {
		if (!strcmp(it.key, "size"))
			r = set_ram_size(p, arg, it.val);
		else if (!strcmp(it.key, "slots") || !strcmp(it.key, "maxmem"))
			r = fail(p, "%s %s: memory hotplug is not supported ('%s')", p->opt, arg,
				 it.key);
		else
			r = unsupported_param(p, arg, &it);
	}
	return r;
}

static unsigned int *smp_field(struct smp *smp, const char *key)
{
	if (!strcmp(key, "cpus"))
		return &smp->cpus;
	if (!strcmp(key, "maxcpus"))
		return &smp->maxcpus;
	if (!strcmp(key, "sockets"))
		return &smp->sockets;
	if (!strcmp(key, "cores"))
		return &smp->cores;
	if (!strcmp(key, "threads"))
		return &smp->threads;
	return NULL;
}

/* -smp [cpus=]N[,maxcpus=M][,sockets=S][,cores=C][,threads=T]; checked by smp_finish() */
static int opt_smp(struct parser *p, const char *arg)
{
	struct subopts s;
	struct item it;
	unsigned int *field;
	uint64_t v;
	int r = subopts_init(p, &s, arg);

	p->smp.seen = true;
	while (!r && subopts_next(&s, "cpus", &it)) {
		field = smp_field(&p->smp, it.key);
		if (!field)
			r = unsupported_param(p, arg, &it);
		else if (parse_u64(it.val, 10, &v) || v < 1 || v > MAX_CPUS)
			r = fail(p, "%s %s: %s must be a number from 1 to %d", p->opt, arg, it.key,
				 MAX_CPUS);
		else
			*field = (unsigned int)v;
	}
	return r;
}

/* a / b, but at least 1 */
static unsigned int quotient(unsigned int a, unsigned int b)
{
	return a / b ? a / b : 1;
}

/* Completes the -smp values as QEMU does (preferring cores) and checks them. */
static int smp_finish(struct parser *p)
{
	const struct smp *s = &p->smp;
	struct config *c = p->c;
	unsigned int total = s->maxcpus ? s->maxcpus : s->cpus;
	unsigned int threads = s->threads ? s->threads : 1;
	unsigned int sockets = s->sockets, cores = s->cores;
	unsigned long long n, maxcpus;

	if (!sockets)
		sockets = cores ? quotient(total, cores * threads) : 1;
	if (!cores)
		cores = quotient(total, sockets * threads);
	n = (unsigned long long)sockets * cores * threads;
	maxcpus = s->maxcpus ? s->maxcpus : n;
	if (n != maxcpus)
		return fail(
			p, "-smp: sockets (%u) * cores (%u) * threads (%u) must equal maxcpus (%u)",
			sockets, cores, threads, s->maxcpus);
	if (maxcpus > MAX_CPUS)
		return fail(p,
			    "-smp: sockets (%u) * cores (%u) * threads (%u) is more than %d CPUs",
			    sockets, cores, threads, MAX_CPUS);
	c->max_cpus = (unsigned int)maxcpus;
	c->cpus = s->cpus ? s->cpus : c->max_cpus;
	if (c->cpus > c->max_cpus && s->maxcpus)
		return fail(p, "-smp: maxcpus (%u) must be at least cpus (%u)", c->max_cpus,
			    c->cpus);
	if (c->cpus > c->max_cpus)
		return fail(
			p, "-smp: sockets (%u) * cores (%u) * threads (%u) is fewer than cpus (%u)",
			sockets, cores, threads, c->cpus);
	c->sockets = sockets;
	c->cores = cores;
	c->threads = threads;
	return 0;
}

/* -name [guest=]NAME */
static int opt_name(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	struct subopts s;
	struct item it;
	size_t len;
	int r = subopts_init(p, &s, arg);

	while (!r && subopts_next(&s, "guest", &it)) {
		len = strlen(it.val);
		if (strcmp(it.key, "guest"))
			r = unsupported_param(p, arg, &it);
		else if (len >= sizeof(c->name_buf))
			r = fail(p, "%s: name longer than %zu bytes", p->opt,
				 sizeof(c->name_buf) - 1);
		else
			c->name = memcpy(c->name_buf, it.val, len + 1);
	}
	return r;
}

/*
 * Sub-options of a listening Unix socket: path=P,server=on,wait=off (wisp listens
 * and lets the guest run at once). @s is positioned after any prefix; the path is
 * copied to @buf (sizeof(sun_path)); other keys go to @other, if any.
 */
static int unix_server(struct parser *p, const char *arg, struct subopts *s, char *buf,
		       int (*other)(struct parser *p, const char *arg, const struct item *it))
{
	const char *path = "";
	bool server = false, wait = true;
	struct item it;
	int r = 0;

	while (!r && subopts_next(s, "path", &it)) {
		if (!strcmp(it.key, "path"))
			path = it.val;
		else if (!strcmp(it.key, "server"))
			r = set_bool(p, arg, &it, &server);
		else if (!strcmp(it.key, "wait"))
			r = set_bool(p, arg, &it, &wait);
		else
			r = other ? other(p, arg, &it) : unsupported_param(p, arg, &it);
	}
	if (r)
		return r;
	if (!*path)
		return fail_arg(p, arg, "empty socket path");
	if (strlen(path) >= UNIX_PATH_MAX)
		return fail(p, "%s %s: socket path longer than %d bytes", p->opt, arg,
			    UNIX_PATH_MAX - 1);
	if (!server || wait)
		return fail_arg(p, arg, "unix sockets need server=on,wait=off");
	memcpy(buf, path, strlen(path) + 1);
	return 0;
}

static int serial_unix(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	struct subopts s;
	int r = subopts_init(p, &s, arg);

	if (r)
		return r;
	s.pos += strlen("unix:");
	r = unix_server(p, arg, &s, c->serial_path_buf, NULL);
	if (r)
		return r;
	c->serial = SERIAL_UNIX;
	c->serial_path = c->serial_path_buf;
	return 0;
}

static char *new_monitor(struct parser *p, const char *arg)
{
	struct config *c = p->c;

	if (c->nr_monitors == CONFIG_MAX_MONITORS) {
		fail_arg(p, arg, "too many monitors");
		return NULL;
	}
	return c->monitor_buf[c->nr_monitors];
}

/* -qmp unix:PATH,server=on,wait=off */
static int opt_qmp(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	char *buf = new_monitor(p, arg);
	struct subopts s;
	int r;

	if (!buf)
		return -EINVAL;
	if (strncmp(arg, "unix:", 5))
		return fail_arg(p, arg, "only unix:PATH,server=on,wait=off is supported");
	if ((r = subopts_init(p, &s, arg)))
		return r;
	s.pos += strlen("unix:");
	if ((r = unix_server(p, arg, &s, buf, NULL)))
		return r;
	snprintf(c->monitor_labels[c->nr_monitors], sizeof(c->monitor_labels[0]),
		 "compat_monitor%u", p->nr_qmp++);
	c->monitors[c->nr_monitors++] = buf;
	return 0;
}

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.' or '_'. */
static int set_id(struct parser *p, const char *arg, const char *val, char *id)
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
static int find_id(const void *base, size_t size, unsigned int n, const char *id)
{
	for (unsigned int i = 0; *id && i < n; i++) {
		if (!strcmp((const char *)base + i * size, id))
			return (int)i;
	}
	return -1;
}

_Static_assert(offsetof(struct config_drive, id) == 0, "find_id() needs the id first");
_Static_assert(offsetof(struct config_netdev, id) == 0, "find_id() needs the id first");
_Static_assert(offsetof(struct config_chardev, id) == 0, "find_id() needs the id first");

#define FIND_ID(array, n, id) find_id((array), sizeof((array)[0]), (n), (id))

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
static int opt_chardev(struct parser *p, const char *arg)
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
static int opt_mon(struct parser *p, const char *arg)
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
static int mon_finish(struct parser *p)
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
static int stdio_finish(struct parser *p)
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

/* -serial stdio|file:PATH|unix:PATH,server=on,wait=off|none; wisp has one port */
static int opt_serial(struct parser *p, const char *arg)
{
	struct config *c = p->c;

	if (p->serial_seen)
		return fail_arg(p, arg, "only one -serial is supported (wisp has one serial port)");
	p->serial_seen = true;
	c->serial_path = NULL;
	if (!strcmp(arg, "stdio")) {
		c->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		c->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5)) {
		c->serial = SERIAL_FILE;
		if (!arg[5])
			return fail_arg(p, arg, "empty file name");
		c->serial_path = arg + 5;
	} else if (!strncmp(arg, "unix:", 5)) {
		return serial_unix(p, arg);
	} else {
		return fail_arg(p, arg,
				"unsupported serial backend (use stdio, file:PATH,"
				" unix:PATH,server=on,wait=off or none)");
	}
	return 0;
}

/* -sandbox on|off: QEMU's finer switches are refused by name */
static int opt_sandbox(struct parser *p, const char *arg)
{
	struct subopts s;
	struct item it;
	int r = subopts_init(p, &s, arg);

	while (!r && subopts_next(&s, "enable", &it)) {
		if (!strcmp(it.key, "enable"))
			r = set_bool(p, arg, &it, &p->c->sandbox);
		else
			r = unsupported_param(p, arg, &it);
	}
	return r;
}

static int opt_display(struct parser *p, const char *arg)
{
	if (strcmp(arg, "none"))
		return fail_arg(p, arg, "only -display none is supported (wisp has no display)");
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
static int parse_addr(struct parser *p, const char *arg, const char *val, int *slot)
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

static void pci_dev_init(struct config_pci_dev *d, enum config_dev_kind kind)
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
static int pci_dev_add(struct parser *p, const char *arg, const struct config_pci_dev *d,
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

	pci_dev_init(&d, kind);
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
	if ((r = pci_dev_add(p, arg, &d, ref)))
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
static int opt_device(struct parser *p, const char *arg)
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
static int devices_finish(struct parser *p)
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

static int drive_cache(struct parser *p, const char *arg, const char *mode, struct config_drive *d)
{
	static const struct {
		const char *name;
		bool direct, writethrough, no_flush;
	} modes[] = {
		{"none", true, false, false},	      {"writeback", false, false, false},
		{"writethrough", false, true, false}, {"directsync", true, true, false},
		{"unsafe", false, false, true},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(mode, modes[i].name)) {
			d->direct = modes[i].direct;
			d->writethrough = modes[i].writethrough;
			d->no_flush = modes[i].no_flush;
			return 0;
		}
	}
	return fail(p, "%s %s: cache must be none, writeback, writethrough, directsync or unsafe",
		    p->opt, arg);
}

static int drive_aio(struct parser *p, const char *arg, const char *mode, struct config_drive *d)
{
	if (!strcmp(mode, "io_uring") || !strcmp(mode, "native")) /* no Linux AIO: io_uring */
		d->aio = CONFIG_AIO_IO_URING;
	else if (!strcmp(mode, "threads"))
		d->aio = CONFIG_AIO_THREADS;
	else
		return fail_arg(p, arg, "aio must be io_uring, threads or native");
	return 0;
}

static int drive_discard(struct parser *p, const char *arg, const char *mode,
			 struct config_drive *d)
{
	if (!strcmp(mode, "unmap") || !strcmp(mode, "on"))
		d->discard = true;
	else if (!strcmp(mode, "ignore") || !strcmp(mode, "off"))
		d->discard = false;
	else
		return fail_arg(p, arg, "discard must be unmap, ignore, on or off");
	return 0;
}

/* The -drive keys kept for the checks after the list. */
struct drive_keys {
	const char *file, *iface, *addr;
	int direct; /* cache.direct=, which overrides cache=; -1 when absent */
};

static int drive_item(struct parser *p, const char *arg, const struct item *it,
		      struct config_drive *d, struct drive_keys *k)
{
	bool b;
	int r;

	if (!strcmp(it->key, "file"))
		k->file = it->val;
	else if (!strcmp(it->key, "if"))
		k->iface = it->val;
	else if (!strcmp(it->key, "addr"))
		k->addr = it->val;
	else if (!strcmp(it->key, "id"))
		return set_id(p, arg, it->val, d->id);
	else if (!strcmp(it->key, "format")) {
		if (strcmp(it->val, "raw"))
			return fail(p, "%s %s: format=%s is not supported yet (only raw)", p->opt,
				    arg, it->val);
	} else if (!strcmp(it->key, "readonly"))
		return set_bool(p, arg, it, &d->readonly);
	else if (!strcmp(it->key, "cache"))
		return drive_cache(p, arg, it->val, d);
	else if (!strcmp(it->key, "cache.direct")) {
		if ((r = set_bool(p, arg, it, &b)))
			return r;
		k->direct = b;
	} else if (!strcmp(it->key, "aio"))
		return drive_aio(p, arg, it->val, d);
	else if (!strcmp(it->key, "discard"))
		return drive_discard(p, arg, it->val, d);
	else
		return unsupported_param(p, arg, it);
	return 0;
}

/*
 * -drive file=F,if=virtio|none[,id=D][,addr=S][,format=raw][,readonly=]
 * [,cache=][,cache.direct=][,aio=][,discard=]. if=virtio adds a virtio-blk-pci
 * here; if=none waits for a -device virtio-blk-pci,drive=D.
 */
static int opt_drive(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	struct config_drive d = {.format = "raw", .aio = CONFIG_AIO_DEFAULT};
	struct drive_keys k = {.direct = -1};
	struct config_pci_dev dev;
	struct subopts s;
	struct item it;
	bool virtio;
	int r;

	if (c->nr_drives == CONFIG_MAX_DRIVES)
		return fail(p, "%s %s: too many drives (at most %d)", p->opt, arg,
			    CONFIG_MAX_DRIVES);
	r = subopts_init(p, &s, arg);
	while (!r && subopts_next(&s, NULL, &it))
		r = drive_item(p, arg, &it, &d, &k);
	if (r)
		return r;
	if (k.direct >= 0)
		d.direct = k.direct;
	if (!k.file)
		return fail_arg(p, arg, "needs file=");
	if (!*k.file)
		return fail_arg(p, arg, "empty file name");
	if (!k.iface)
		return fail_arg(p, arg,
				"no if= (QEMU's default, ide, is not supported): say if=virtio or"
				" if=none");
	virtio = !strcmp(k.iface, "virtio");
	if (!virtio && strcmp(k.iface, "none"))
		return fail(p, "%s %s: if=%s is not supported (say if=virtio or if=none)", p->opt,
			    arg, k.iface);
	if (!virtio && !d.id[0])
		return fail_arg(p, arg, "if=none needs id=");
	if (!virtio && k.addr)
		return fail_arg(p, arg, "addr= needs if=virtio");
	if (FIND_ID(c->drives, c->nr_drives, d.id) >= 0)
		return fail_arg(p, arg, "duplicate drive id");
	if (virtio) {
		pci_dev_init(&dev, CONFIG_DEV_VIRTIO_BLK);
		dev.drive = (int)c->nr_drives;
		if ((k.addr && (r = parse_addr(p, arg, k.addr, &dev.slot))) ||
		    (r = pci_dev_add(p, arg, &dev, "")))
			return r;
		d.used = true;
	}
	d.file = memcpy(c->drive_file_buf[c->nr_drives], k.file, strlen(k.file) + 1);
	c->drives[c->nr_drives++] = d;
	return 0;
}

/* -netdev tap,id=N,ifname=T[,script=no][,downscript=no]: no other backend */
static int opt_netdev(struct parser *p, const char *arg)
{
	struct config *c = p->c;
	struct config_netdev n;
	const char *type = "", *id = NULL, *ifname = NULL, *unknown = NULL, *script = NULL;
	struct subopts s;
	struct item it;
	int r;

	memset(&n, 0, sizeof(n));
	if (c->nr_netdevs == CONFIG_MAX_NETDEVS)
		return fail(p, "%s %s: too many netdevs (at most %d)", p->opt, arg,
			    CONFIG_MAX_NETDEVS);
	if ((r = subopts_init(p, &s, arg)))
		return r;
	while (subopts_next(&s, "type", &it)) {
		if (!strcmp(it.key, "type"))
			type = it.val;
		else if (!strcmp(it.key, "id"))
			id = it.val;
		else if (!strcmp(it.key, "ifname"))
			ifname = it.val;
		else if (!strcmp(it.key, "script") || !strcmp(it.key, "downscript"))
			script = strcmp(it.val, "no") && !script ? it.key : script;
		else if (!unknown)
			unknown = it.key;
	}
	if (!*type)
		return fail_arg(p, arg, "needs a type (only tap)");
	if (strcmp(type, "tap"))
		return fail(p, "%s %s: netdev type '%s' is not supported (only tap)", p->opt, arg,
			    type);
	if (unknown)
		return fail(p, "%s %s: unsupported parameter '%s'", p->opt, arg, unknown);
	if (script)
		return fail(p,
			    "%s %s: wisp never runs scripts: say %s=no and set the tap device up"
			    " beforehand",
			    p->opt, arg, script);
	if (!id)
		return fail_arg(p, arg, "needs id=");
	if ((r = set_id(p, arg, id, n.id)))
		return r;
	if (!ifname || !*ifname)
		return fail_arg(p, arg, "needs ifname= (the tap device)");
	if (strlen(ifname) >= sizeof(n.ifname))
		return fail(p, "%s %s: ifname longer than %zu bytes", p->opt, arg,
			    sizeof(n.ifname) - 1);
	if (FIND_ID(c->netdevs, c->nr_netdevs, n.id) >= 0)
		return fail_arg(p, arg, "duplicate netdev id");
	memcpy(n.ifname, ifname, strlen(ifname) + 1);
	c->netdevs[c->nr_netdevs++] = n;
	return 0;
}

static int opt_kernel(struct parser *p, const char *arg)
{
	return set_path(p, arg, &p->c->kernel);
}

static int opt_initrd(struct parser *p, const char *arg)
{
	return set_path(p, arg, &p->c->initrd);
}

static int opt_bios(struct parser *p, const char *arg)
{
	return set_path(p, arg, &p->c->bios);
}

static int opt_pidfile(struct parser *p, const char *arg)
{
	return set_path(p, arg, &p->c->pidfile);
}

static int opt_chroot(struct parser *p, const char *arg)
{
	return set_path(p, arg, &p->c->chroot_dir);
}

/* -runas USER: the account is looked up at start-up, not here */
static int opt_runas(struct parser *p, const char *arg)
{
	if (!*arg)
		return fail(p, "%s: empty user name", p->opt);
	p->c->runas = arg;
	return 0;
}

static int opt_append(struct parser *p, const char *arg)
{
	p->c->append = arg;
	return 0;
}

#define NO_FIELD ((size_t)-1)

struct option {
	const char *name;				 /* without its dash */
	int (*parse)(struct parser *p, const char *arg); /* NULL: a flag */
	size_t flag;					 /* a flag's bool in struct config */
	bool stop;					 /* a flag that ends parsing */
};

/* In the order of config_usage(). */
static const struct option options[] = {
	{.name = "h", .flag = offsetof(struct config, help), .stop = true},
	{.name = "help", .flag = offsetof(struct config, help), .stop = true},
	{.name = "version", .flag = offsetof(struct config, version), .stop = true},
	{.name = "machine", .parse = opt_machine},
	{.name = "M", .parse = opt_machine},
	{.name = "cpu", .parse = opt_cpu},
	{.name = "accel", .parse = opt_accel},
	{.name = "enable-kvm", .flag = NO_FIELD},
	{.name = "smp", .parse = opt_smp},
	{.name = "m", .parse = opt_memory},
	{.name = "name", .parse = opt_name},
	{.name = "serial", .parse = opt_serial},
	{.name = "nographic", .flag = NO_FIELD},
	{.name = "display", .parse = opt_display},
	{.name = "kernel", .parse = opt_kernel},
	{.name = "append", .parse = opt_append},
	{.name = "initrd", .parse = opt_initrd},
	{.name = "bios", .parse = opt_bios},
	{.name = "no-reboot", .flag = offsetof(struct config, no_reboot)},
	{.name = "pidfile", .parse = opt_pidfile},
	{.name = "runas", .parse = opt_runas},
	{.name = "chroot", .parse = opt_chroot},
	{.name = "drive", .parse = opt_drive},
	{.name = "netdev", .parse = opt_netdev},
	{.name = "device", .parse = opt_device},
	{.name = "qmp", .parse = opt_qmp},
	{.name = "chardev", .parse = opt_chardev},
	{.name = "mon", .parse = opt_mon},
	{.name = "S", .flag = offsetof(struct config, start_paused)},
	{.name = "sandbox", .parse = opt_sandbox},
	{.name = "boot-timeline", .flag = offsetof(struct config, timeline)},
};

static const struct option *find_option(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!strcmp(options[i].name, name))
			return &options[i];
	}
	return NULL;
}

/* Parses argv[*i] and its argument, if it takes one. Return: 0, STOP or -EINVAL. */
static int parse_one(struct parser *p, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const struct option *o;

	if (a[0] != '-')
		return fail(p, "%s: unexpected argument (not an option)", a);
	p->opt = a;
	o = find_option(a[1] == '-' ? a + 2 : a + 1); /* --opt is -opt, as in QEMU */
	if (!o)
		return fail(p, "%s: unsupported option", a);
	if (!o->parse) {
		if (o->flag != NO_FIELD)
			*(bool *)((char *)p->c + o->flag) = true;
		return o->stop ? STOP : 0;
	}
	if (*i + 1 >= argc || !argv[*i + 1])
		return fail(p, "%s: needs an argument", a);
	*i += 1;
	return o->parse(p, argv[*i]);
}

static void set_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->append = "";
	c->ram_size = DEFAULT_RAM;
	c->cpus = c->max_cpus = 1;
	c->sockets = c->cores = c->threads = 1;
	c->serial = SERIAL_STDIO;
	c->sandbox = true;
}

int config_parse(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct parser p = {.c = c, .err = err, .errlen = errlen};
	int r = 0;

	set_defaults(c);
	if (errlen)
		err[0] = '\0';
	for (int i = 1; i < argc && argv[i] && !r; i++)
		r = parse_one(&p, argc, argv, &i);
	if (r == STOP)
		return 0;
	if (!r && p.smp.seen)
		r = smp_finish(&p);
	if (!r)
		r = mon_finish(&p);
	if (!r)
		r = devices_finish(&p);
	return r ? r : stdio_finish(&p);
}

const char *config_usage(void)
{
	return "usage: wisp [options]\n"
	       "\n"
	       "Standard options:\n"
	       "-h or -help      display this help and exit\n"
	       "-version         display version information and exit\n"
	       "-machine [type=]virt[,accel=kvm]\n"
	       "                 the machine; 'virt' is the only one (-M is the same)\n"
	       "-cpu host        pass the host CPU through (the only model)\n"
	       "-accel kvm       KVM, the only accelerator (-enable-kvm is the same)\n"
	       "-smp [cpus=]n[,maxcpus=m][,sockets=s][,cores=c][,threads=t]\n"
	       "                 n CPUs present of m (default 1, at most 4096);\n"
	       "                 sockets * cores * threads must equal m\n"
	       "-m [size=]size   guest RAM: a number with a B, K, M, G or T suffix,\n"
	       "                 MiB without one (default 512M, minimum 32M, maximum 255G)\n"
	       "-name [guest=]name\n"
	       "                 name the guest\n"
	       "\n"
	       "Character device options:\n"
	       "-serial dev      the serial port: stdio (default), file:path,\n"
	       "                 unix:path,server=on,wait=off or none\n"
	       "-chardev stdio,id=id\n"
	       "-chardev file,id=id,path=path\n"
	       "-chardev socket,id=id,path=path,server=on,wait=off\n"
	       "                 a backend for a virtconsole or -mon: stdio (not while\n"
	       "                 -serial is on stdio), output to a file, or a listening\n"
	       "                 Unix socket (the only kind -mon takes)\n"
	       "-mon [chardev=]id,mode=control\n"
	       "                 a QMP monitor on that chardev (several allowed)\n"
	       "-qmp unix:path,server=on,wait=off\n"
	       "                 a QMP monitor on a Unix socket (several allowed)\n"
	       "-S               start with the vCPUs paused (QMP 'cont' starts them)\n"
	       "-sandbox on|off  seccomp filters for every thread (default on)\n"
	       "-runas user      drop to user's uid and gids once the VM is built\n"
	       "-chroot dir      chroot to dir once the VM is built\n"
	       "\n"
	       "Block device options:\n"
	       "-drive file=file,if=virtio|none[,id=id][,addr=slot][,format=raw]\n"
	       "       [,readonly=on|off][,cache=none|writeback|writethrough|directsync|unsafe]\n"
	       "       [,cache.direct=on|off][,aio=io_uring|threads|native]\n"
	       "       [,discard=unmap|ignore]\n"
	       "                 a raw disk image (formats are never probed); if=virtio\n"
	       "                 adds its own virtio-blk-pci, if=none (with id=) is for\n"
	       "                 -device virtio-blk-pci; aio=native means io_uring\n"
	       "\n"
	       "Network options:\n"
	       "-netdev tap,id=id,ifname=name[,script=no][,downscript=no]\n"
	       "                 a tap device, for -device virtio-net-pci; wisp never\n"
	       "                 runs scripts\n"
	       "\n"
	       "Device options (at most 31 PCI devices):\n"
	       "-device virtio-blk-pci,drive=id[,id=id][,num-queues=n][,serial=s][,addr=slot]\n"
	       "                 a disk on a -drive if=none (1 to 16 queues, serial at\n"
	       "                 most 20 bytes)\n"
	       "-device virtio-net-pci,netdev=id[,id=id][,mac=52:54:00:12:34:56][,addr=slot]\n"
	       "                 a network card on a -netdev (default mac: 52:54:00:12:34:56\n"
	       "                 for the first, ...:57 for the second, ...)\n"
	       "-device virtio-rng-pci[,id=id][,max-bytes=n][,period=ms][,addr=slot]\n"
	       "                 random numbers, at most max-bytes per period (default\n"
	       "                 unlimited, period 1000 ms)\n"
	       "-device virtio-serial-pci[,id=id][,addr=slot]\n"
	       "-device virtconsole,chardev=id[,id=id][,bus=serial-id.0]\n"
	       "                 a console (one per virtio-serial-pci) on a -chardev;\n"
	       "                 bus= names the virtio-serial-pci when there are several\n"
	       "                 addr= is a PCI slot in hexadecimal, 1 to 1f, as in QEMU;\n"
	       "                 without it wisp picks a free slot\n"
	       "\n"
	       "Display options:\n"
	       "-nographic       no graphics (wisp never has any)\n"
	       "-display none    the same; no other display is supported\n"
	       "\n"
	       "Linux/PVH boot specific:\n"
	       "-kernel file     boot a bzImage or PVH ELF kernel directly\n"
	       "-append cmdline  the kernel command line (default empty)\n"
	       "-initrd file     the initial RAM disk\n"
	       "\n"
	       "Debug/Expert options:\n"
	       "-bios file       firmware, a PVH ELF\n"
	       "-no-reboot       exit instead of rebooting the guest\n"
	       "-pidfile file    write wisp's PID to file\n"
	       "-device isa-debug-exit[,iobase=0xf4][,iosize=0x04]\n"
	       "                 the test exit port: writing v exits wisp with (v << 1) | 1\n"
	       "-boot-timeline   print boot timestamps on stderr\n"
	       "\n"
	       "Options may also start with '--'. Anything else is refused.\n";
}
