/* The command line (QEMU option syntax) into one struct config.
 * Runs once at start-up, before any guest exists: no I/O, no exit(), no printing. */
#include "config.h"
#include "config_priv.h"

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
#define STOP 1		  /* parse_one(): stop parsing, all is well */

int fail(struct parser *p, const char *fmt, ...)
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
int fail_arg(struct parser *p, const char *arg, const char *why)
{
	return fail(p, "%s %s: %s", p->opt, arg, why);
}

/* A whole unsigned number in @base (0: C prefixes), no sign or blanks. */
int parse_u64(const char *s, int base, uint64_t *v)
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

int subopts_init(struct parser *p, struct subopts *s, const char *arg)
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
bool subopts_next(struct subopts *s, const char *implied, struct item *it)
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

int unsupported_param(struct parser *p, const char *arg, const struct item *it)
{
	return fail(p, "%s %s: unsupported parameter '%s'", p->opt, arg, it->key);
}

int set_bool(struct parser *p, const char *arg, const struct item *it, bool *b)
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
int unix_server(struct parser *p, const char *arg, struct subopts *s, char *buf,
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

char *new_monitor(struct parser *p, const char *arg)
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
	       "-drive file=file,if=virtio|none[,id=id][,addr=slot][,format=raw|qcow2|vpc]\n"
	       "       [,readonly=on|off][,cache=none|writeback|writethrough|directsync|unsafe]\n"
	       "       [,cache.direct=on|off][,aio=io_uring|threads|native]\n"
	       "       [,discard=unmap|ignore]\n"
	       "                 a raw, qcow2 or vpc (VHD) disk image (never probed);\n"
	       "                 locked as QEMU locks images; if=virtio\n"
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
