/* -drive and -netdev into struct config: the block and network backends.
 * Runs once at start-up, before any guest exists: no I/O, no exit(), no printing. */
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"

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
		if (!strcmp(it->val, "raw"))
			d->format = "raw";
		else if (!strcmp(it->val, "qcow2"))
			d->format = "qcow2";
		else if (!strcmp(it->val, "vpc"))
			d->format = "vpc";
		else
			return fail(p, "%s %s: format=%s is not supported (raw, qcow2 or vpc)",
				    p->opt, arg, it->val);
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
 * -drive file=F,if=virtio|none[,id=D][,addr=S][,format=raw|qcow2|vpc][,readonly=]
 * [,cache=][,cache.direct=][,aio=][,discard=]. if=virtio adds a virtio-blk-pci
 * here; if=none waits for a -device virtio-blk-pci,drive=D.
 */
int opt_drive(struct parser *p, const char *arg)
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
		config_pci_dev_init(&dev, CONFIG_DEV_VIRTIO_BLK);
		dev.drive = (int)c->nr_drives;
		if ((k.addr && (r = parse_addr(p, arg, k.addr, &dev.slot))) ||
		    (r = config_pci_dev_add(p, arg, &dev, "")))
			return r;
		d.used = true;
	}
	d.file = memcpy(c->drive_file_buf[c->nr_drives], k.file, strlen(k.file) + 1);
	c->drives[c->nr_drives++] = d;
	return 0;
}

/* -netdev tap,id=N,ifname=T[,script=no][,downscript=no]: no other backend */
int opt_netdev(struct parser *p, const char *arg)
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
