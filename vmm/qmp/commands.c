/* The QMP command registry and the commands of the machine's lifecycle and
 * queries. Event-loop thread only; arguments were checked by the server. */
#include <stdio.h>
#include <string.h>

#include "dev/devices.h"
#include "platform/virt.h"
#include "qmp.h"
#include "vcpu.h"
#include "vm.h"

static json_t *qmp_capabilities(struct qmp *q, json_t *args, struct qmp_error *err)
{
	json_t *enable = json_object_get(args, "enable"), *cap;
	size_t i;

	json_array_foreach(enable, i, cap)
	{
		err->cls = QMP_GENERIC_ERROR;
		snprintf(err->desc, sizeof(err->desc), "Capability '%.64s' not available",
			 json_is_string(cap) ? json_string_value(cap) : "?");
		return NULL;
	}
	return json_object();
}

static json_t *query_version(struct qmp *q, json_t *args, struct qmp_error *err)
{
	return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", WISP_VERSION_MICRO, "minor",
			 WISP_VERSION_MINOR, "major", WISP_VERSION_MAJOR, "package",
			 "wisp " WISP_VERSION);
}

static json_t *query_commands(struct qmp *q, json_t *args, struct qmp_error *err)
{
	json_t *list = json_array();

	for (size_t i = 0; i < qmp_nr_commands; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", qmp_commands[i].name));
	return list;
}

static json_t *query_status(struct qmp *q, json_t *args, struct qmp_error *err)
{
	static const char *const names[] = {
		[VM_STATE_PRELAUNCH] = "prelaunch",
		[VM_STATE_RUNNING] = "running",
		[VM_STATE_PAUSED] = "paused",
	};
	enum vm_state s = qmp_vm(q)->state;

	return json_pack("{s:s,s:b}", "status", names[s], "running", s == VM_STATE_RUNNING);
}

static json_t *query_name(struct qmp *q, json_t *args, struct qmp_error *err)
{
	const char *name = qmp_vm(q)->cfg->name;

	return name ? json_pack("{s:s}", "name", name) : json_object();
}

static json_t *query_kvm(struct qmp *q, json_t *args, struct qmp_error *err)
{
	return json_pack("{s:b,s:b}", "enabled", 1, "present", 1);
}

static json_t *query_cpus_fast(struct qmp *q, json_t *args, struct qmp_error *err)
{
	struct vm *vm = qmp_vm(q);
	const struct config *c = vm->cfg;
	json_t *list = json_array();

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/machine/unattached/device[%u]", i);
		json_array_append_new(list,
				      json_pack("{s:i,s:s,s:i,s:{s:i,s:i,s:i},s:s}", "cpu-index", i,
						"qom-path", path, "thread-id", vm->vcpus[i].tid,
						"props", "socket-id", i / (c->cores * c->threads),
						"core-id", (i / c->threads) % c->cores, "thread-id",
						i % c->threads, "target", "x86_64"));
	}
	return list;
}

static json_t *query_memory_size_summary(struct qmp *q, json_t *args, struct qmp_error *err)
{
	return json_pack("{s:I,s:I}", "base-memory", (json_int_t)qmp_vm(q)->cfg->ram_size,
			 "plugged-memory", (json_int_t)0);
}

static json_t *empty_list(struct qmp *q, json_t *args, struct qmp_error *err)
{
	return json_array(); /* no block devices and no PCI bus yet */
}

static json_t *chardev(const char *label, const char *kind, const char *path)
{
	char name[160];

	snprintf(name, sizeof(name), "%s%s%s", kind, path ? path : "",
		 !strcmp(kind, "unix:") ? ",server=on" : "");
	return json_pack("{s:s,s:s,s:b}", "label", label, "filename", name, "frontend-open", 1);
}

static json_t *query_chardev(struct qmp *q, json_t *args, struct qmp_error *err)
{
	static const char *const kinds[] = {[SERIAL_STDIO] = "stdio",
					    [SERIAL_FILE] = "file",
					    [SERIAL_UNIX] = "unix:",
					    [SERIAL_NONE] = NULL};
	const struct config *c = qmp_vm(q)->cfg;
	json_t *list = json_array();

	if (kinds[c->serial]) /* QEMU names a file backend without its path */
		json_array_append_new(list,
				      chardev("serial0", kinds[c->serial],
					      c->serial == SERIAL_UNIX ? c->serial_path : NULL));
	for (unsigned int i = 0; i < c->nr_monitors; i++)
		json_array_append_new(list, chardev(c->monitor_labels[i], "unix:", c->monitors[i]));
	/* -chardev backends of devices (a monitor's chardev is listed above). */
	for (unsigned int i = 0; i < c->nr_chardevs; i++) {
		const struct config_chardev *cd = &c->chardevs[i];
		bool monitor = false;

		for (unsigned int m = 0; m < c->nr_monitors; m++)
			monitor |= !strcmp(c->monitor_labels[m], cd->id);
		if (!monitor && kinds[cd->kind])
			json_array_append_new(list,
					      chardev(cd->id, kinds[cd->kind],
						      cd->kind == SERIAL_UNIX ? cd->path : NULL));
	}
	return list;
}

static json_t *stop(struct qmp *q, json_t *args, struct qmp_error *err)
{
	vm_pause(qmp_vm(q));
	return json_object();
}

static json_t *cont(struct qmp *q, json_t *args, struct qmp_error *err)
{
	vm_resume(qmp_vm(q));
	return json_object();
}

static json_t *system_powerdown(struct qmp *q, json_t *args, struct qmp_error *err)
{
	qmp_event(q, "POWERDOWN", NULL);
	ged_raise(qmp_vm(q)->ged, GED_EVT_PWR_DOWN);
	return json_object();
}

static json_t *system_reset(struct qmp *q, json_t *args, struct qmp_error *err)
{
	vm_request(qmp_vm(q), VM_ACT_HOST_RESET, 0);
	return json_object();
}

static json_t *quit(struct qmp *q, json_t *args, struct qmp_error *err)
{
	vm_request(qmp_vm(q), VM_ACT_QUIT, 0);
	return json_object();
}

static const struct qmp_arg capabilities_args[] = {
	{"enable", JSON_ARRAY, false},
	{NULL, 0, false},
};

/* Every command wisp answers, in one table: later features add theirs here. */
const struct qmp_command qmp_commands[] = {
	{"qmp_capabilities", qmp_capabilities, capabilities_args},
	{"query-version", query_version, NULL},
	{"query-commands", query_commands, NULL},
	{"query-status", query_status, NULL},
	{"query-name", query_name, NULL},
	{"query-kvm", query_kvm, NULL},
	{"query-cpus-fast", query_cpus_fast, NULL},
	{"query-memory-size-summary", query_memory_size_summary, NULL},
	{"query-block", empty_list, NULL},
	{"query-pci", empty_list, NULL},
	{"query-chardev", query_chardev, NULL},
	{"stop", stop, NULL},
	{"cont", cont, NULL},
	{"system_powerdown", system_powerdown, NULL},
	{"system_reset", system_reset, NULL},
	{"quit", quit, NULL},
};
const size_t qmp_nr_commands = sizeof(qmp_commands) / sizeof(qmp_commands[0]);
