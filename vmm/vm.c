/* The machine: KVM VM, RAM slots, in-kernel irqchip, devices and lifecycle.
 * Start-up and the main thread; vm_request()/vm_set_irq() from any thread. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "acpi.h"
#include "dev/devices.h"
#include "platform/virt.h"
#include "qmp/qmp.h"
#include "sandbox.h"
#include "timeline.h"
#include "vcpu.h"
#include "virtio/devices.h"
#include "x86.h"

#define KVM_API 12
#define MAX_CPUID 256

static int die(const char *what, int err)
{
	fprintf(stderr, "wisp: %s: %s\n", what, strerror(err));
	return -err;
}

static int open_kvm(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		fprintf(stderr, "wisp: /dev/kvm: %s (is KVM enabled and are you in group kvm?)\n",
			strerror(errno));
		return -errno;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API) {
		fprintf(stderr, "wisp: /dev/kvm speaks an unknown KVM API version\n");
		return -ENOTSUP;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->run_size <= 0 || vm->vm_fd < 0)
		return die("KVM_CREATE_VM", errno);
	return 0;
}

static int check_cpus(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct x86_topology t = {c->sockets, c->cores, c->threads};
	int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	int max_id = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	uint32_t top = x86_apic_id(&t, c->max_cpus - 1);

	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (vm->cfg->max_cpus > (unsigned int)max) {
		fprintf(stderr, "wisp: -smp: %u vCPUs asked, this KVM allows at most %d\n",
			vm->cfg->max_cpus, max);
		return -EINVAL;
	}
	if (max_id > 0 && top >= (uint32_t)max_id) {
		fprintf(stderr,
			"wisp: -smp: this topology needs APIC IDs up to %u, this KVM allows "
			"%d; use power-of-two cores and threads\n",
			top, max_id - 1);
		return -EINVAL;
	}
	return 0;
}

static int set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {.slot = slot,
						.guest_phys_addr = gpa,
						.memory_size = size,
						.userspace_addr = (uintptr_t)hva};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static int setup_memory(struct vm *vm)
{
	struct guest_mem *m = &vm->mem;
	int ret = memory_init(m, vm->cfg->ram_size);

	if (ret)
		return die("guest RAM", -ret);
	ret = set_slot(vm, 0, 0, m->low_size, m->hva);
	if (!ret && memory_high_size(m))
		ret = set_slot(vm, 1, VIRT_HIGH_RAM_BASE, memory_high_size(m),
			       m->hva + m->low_size);
	return ret ? die("KVM_SET_USER_MEMORY_REGION", -ret) : 0;
}

static int setup_irqchip(struct vm *vm)
{
	struct kvm_irqchip *chips = calloc(3, sizeof(*chips));
	struct kvm_enable_cap x2apic = {.cap = KVM_CAP_X2APIC_API,
					.args[0] = KVM_X2APIC_API_USE_32BIT_IDS |
						   KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK};

	if (!chips)
		return -ENOMEM;
	vm->irqchip_init = chips;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VIRT_KVM_TSS_ADDR) < 0)
		return die("KVM_SET_TSS_ADDR", errno);
	uint64_t idmap = VIRT_KVM_IDMAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return die("KVM_SET_IDENTITY_MAP_ADDR", errno);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return die("KVM_CREATE_IRQCHIP", errno);
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X2APIC_API) > 0)
		ioctl(vm->vm_fd, KVM_ENABLE_CAP, &x2apic);
	/* Saved so that a reset gives the IOAPIC its power-on state back. */
	for (int i = 0; i < 3; i++) {
		chips[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chips[i]) < 0)
			return die("KVM_GET_IRQCHIP", errno);
	}
	return 0;
}

static int setup_cpuid(struct vm *vm)
{
	vm->cpuid = calloc(1, sizeof(*vm->cpuid) + MAX_CPUID * sizeof(vm->cpuid->entries[0]));
	if (!vm->cpuid)
		return -ENOMEM;
	vm->cpuid->nent = MAX_CPUID;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0)
		return die("KVM_GET_SUPPORTED_CPUID", errno);
	return 0;
}

static void serial_irq(void *opaque, int level)
{
	vm_set_irq(opaque, VIRT_GSI_COM1, level);
}

static void console_quit(void *opaque)
{
	timeline_mark("console asked to quit");
	vm_request(opaque, VM_ACT_EXIT, 0);
}

static void pci_irq(void *opaque, unsigned int gsi, int level)
{
	vm_set_irq(opaque, gsi, level);
}

typedef struct virtio_dev *(*virtio_create_fn)(struct vm *vm, const struct config_pci_dev *d,
					       char *err, size_t errlen);

/* The PCI devices of the command line, by kind. */
static const virtio_create_fn virtio_create[] = {
	[CONFIG_DEV_VIRTIO_BLK] = virtio_blk_create,
	[CONFIG_DEV_VIRTIO_NET] = virtio_net_create,
	[CONFIG_DEV_VIRTIO_RNG] = virtio_rng_create,
	[CONFIG_DEV_VIRTIO_SERIAL] = virtio_console_create,
};

static int setup_pci(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct bus *b = &vm->bus;
	char err[512];
	int ret;

	pci_init(&vm->pci, pci_irq, vm);
	ret = bus_register_mmio(b, VIRT_PCI_ECAM_BASE, VIRT_PCI_ECAM_SIZE, pci_ecam_io, &vm->pci,
				"pci-ecam");
	ret |= bus_register_mmio(b, VIRT_PCI_MMIO32_BASE, VIRT_PCI_MMIO32_SIZE, pci_window32_io,
				 &vm->pci, "pci-mmio32");
	ret |= bus_register_mmio(b, VIRT_PCI_MMIO64_BASE, VIRT_PCI_MMIO64_SIZE, pci_window64_io,
				 &vm->pci, "pci-mmio64");
	if (ret)
		return die("PCI set-up", EEXIST);
	vm->virtio = calloc(c->nr_pci_devs + 1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
		const struct config_pci_dev *d = &c->pci_devs[i];
		struct virtio_dev *v = virtio_create[d->kind](vm, d, err, sizeof(err));

		if (!v) {
			fprintf(stderr, "%s\n", err);
			return -EINVAL;
		}
		vm->virtio[vm->nr_virtio++] = v;
	}
	/* Devices with addr= first, so that the others fill the slots around them. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < c->nr_pci_devs; i++) {
			int slot = c->pci_devs[i].slot;

			if ((slot < 0) != pass)
				continue;
			if ((ret = virtio_plug(vm->virtio[i], slot, err, sizeof(err))) < 0) {
				fprintf(stderr, "%s\n", err);
				return ret;
			}
		}
	}
	return 0;
}

/* Every device the machine has, in one place. */
static int setup_devices(struct vm *vm)
{
	const struct config *c = vm->cfg;
	struct bus *b = &vm->bus;
	char err[256];
	int ret = 0;

	vm->serial = serial_create(c->serial, c->serial_path, &vm->loop, serial_irq, console_quit,
				   vm, err, sizeof(err));
	vm->ged = ged_create(vm);
	if (!vm->ged || (!vm->serial && c->serial != SERIAL_NONE)) {
		fprintf(stderr, "%s\n", vm->ged ? err : "wisp: out of memory");
		return -EINVAL;
	}
	if (vm->serial)
		ret |= bus_register_pio(b, VIRT_PORT_COM1, VIRT_PORT_COM1_SIZE, serial_io,
					vm->serial, "com1");
	ret |= bus_register_pio(b, VIRT_PORT_POST, 1, timeline_post_io, NULL, "post");
	if (c->debug_exit)
		ret |= bus_register_pio(b, VIRT_PORT_DEBUG_EXIT, 4, debug_exit_io, vm,
					"isa-debug-exit");
	ret |= bus_register_mmio(b, VIRT_GED_BASE, VIRT_GED_SIZE, ged_evt_io, vm->ged, "ged");
	ret |= bus_register_mmio(b, VIRT_GED_REGS_BASE, VIRT_GED_REGS_SIZE, ged_regs_io, vm->ged,
				 "ged-regs");
	if (ret)
		return die("device set-up", EEXIST);
	return setup_pci(vm);
}

static void noop_signal(int sig)
{
}

int vm_create(struct vm *vm, const struct config *cfg)
{
	struct x86_topology topo = {cfg->sockets, cfg->cores, cfg->threads};
	struct sigaction sa = {.sa_handler = noop_signal};
	char err[512];
	sigset_t set;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->action_fd = vm->loop.epfd = vm->signal_fd = -1;
	vm->mem.fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	/* SIGUSR1 kicks vCPUs out of KVM_RUN; only vCPU threads take it. */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* SIGTERM, SIGINT and SIGHUP end the run cleanly, through the event loop. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	if ((ret = open_kvm(vm)) || (ret = check_cpus(vm)) || (ret = setup_memory(vm)) ||
	    (ret = setup_irqchip(vm)) || (ret = setup_cpuid(vm)))
		return ret;
	if ((ret = irq_init(&vm->irq, vm->vm_fd)) < 0)
		return die("KVM_SET_GSI_ROUTING", -ret);
	if ((ret = evloop_init(&vm->loop)) < 0)
		return die("epoll", -ret);
	vm->qmp = qmp_create(vm, cfg->monitors, cfg->nr_monitors, err, sizeof(err));
	if (!vm->qmp) {
		fprintf(stderr, "%s\n", err);
		return -EINVAL;
	}
	vm->action_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->action_fd < 0)
		return die("eventfd", errno);
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	vm->apic_ids = calloc(cfg->max_cpus, sizeof(*vm->apic_ids));
	if (!vm->vcpus || !vm->apic_ids)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->max_cpus; i++)
		vm->apic_ids[i] = x86_apic_id(&topo, i);
	for (unsigned int i = 0; i < cfg->cpus; i++) {
		vm->nr_vcpus = i + 1; /* so that vm_destroy() frees a half-made one */
		vm->vcpus[i] = (struct vcpu){.vm = vm, .fd = -1};
		if ((ret = vcpu_create(&vm->vcpus[i], vm, i)))
			return ret;
	}
	return setup_devices(vm);
}

static int load_tables(struct vm *vm, uint64_t *rsdp)
{
	struct acpi_machine am = {
		.cpus = vm->cfg->cpus, .max_cpus = vm->cfg->max_cpus, .apic_ids = vm->apic_ids};
	void *buf = memory_gpa(&vm->mem, VIRT_ACPI_BASE, VIRT_ACPI_SIZE);
	long n;

	if (!buf || bootmem_setup(&vm->mem) < 0) {
		fprintf(stderr, "wisp: -m: too little guest RAM for the boot structures\n");
		return -ENOMEM;
	}
	n = acpi_build(buf, VIRT_ACPI_BASE, VIRT_RESET_STUB_ADDR - VIRT_ACPI_BASE, &am, rsdp);
	if (n < 0)
		return die("ACPI tables", (int)-n);
	return bootmem_reset_stub(&vm->mem);
}

/* The boot files, mapped once: every later load copies from the mappings. */
static int open_images(struct vm *vm)
{
	const struct config *c = vm->cfg;
	char err[512] = "";

	if (vm->images)
		return 0;
	if (!c->bios && !c->kernel) {
		fprintf(stderr, "wisp: nothing to boot: give -kernel (or -bios)\n");
		return -EINVAL;
	}
	vm->images = calloc(1, sizeof(*vm->images));
	if (!vm->images)
		return -ENOMEM;
	if (boot_images_open(vm->images, c->bios ? "-bios" : "-kernel",
			     c->bios ? c->bios : c->kernel, c->initrd, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -EINVAL;
	}
	/* -bios with -kernel: the kernel goes to the firmware (docs/firmware.md). */
	if (c->bios && c->kernel &&
	    boot_images_open_payload(vm->images, c->kernel, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -EINVAL;
	}
	vm->images->cmdline = c->append ? c->append : "";
	return 0;
}

int vm_load(struct vm *vm)
{
	struct boot_images *img;
	char err[512] = "";
	int ret;

	if ((ret = open_images(vm)))
		return ret;
	img = vm->images;
	/* Fresh RAM: a reset returns every page to the host and reads as zero. */
	fallocate(vm->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, vm->mem.size);
	if ((ret = load_tables(vm, &img->rsdp)))
		return ret;
	if (vm->cfg->bios || (img->kernel.len >= 4 && !memcmp(img->kernel.data, "\177ELF", 4)))
		ret = pvh_load(&vm->mem, img, &vm->entry, err, sizeof(err));
	else
		ret = linux_load(&vm->mem, img, &vm->entry, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s\n", err);
	return ret;
}

void vm_request(struct vm *vm, enum vm_action act, int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->lock);
	if (act > vm->action) {
		vm->exit_status = status;
		__atomic_store_n(&vm->action, act, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->lock);
	if (act == VM_ACT_NONE)
		return;
	if (write(vm->action_fd, &one, sizeof(one)) < 0)
		perror("wisp: eventfd");
}

void vm_set_irq(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level};

	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static void pause_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused = true;
	pthread_mutex_unlock(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (vm->nr_parked < vm->nr_vcpus)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

static void resume_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void vm_pause(struct vm *vm)
{
	if (vm->state != VM_STATE_RUNNING)
		return;
	pause_all(vm);
	vm->state = VM_STATE_PAUSED;
	timeline_mark("paused");
	qmp_event(vm->qmp, "STOP", NULL);
}

void vm_resume(struct vm *vm)
{
	if (vm->state == VM_STATE_RUNNING)
		return;
	vm->state = VM_STATE_RUNNING;
	timeline_mark("running");
	qmp_event(vm->qmp, "RESUME", NULL);
	resume_all(vm);
}

static void shutdown_event(struct vm *vm, bool guest, const char *reason)
{
	qmp_event(vm->qmp, "SHUTDOWN", json_pack("{s:b,s:s}", "guest", guest, "reason", reason));
}

/* A machine reset: fresh RAM and tables, reloaded kernel, power-on vCPUs. A paused
 * machine stays paused. */
static int reset(struct vm *vm)
{
	int ret;

	pause_all(vm);
	timeline_mark("reset");
	/* No disk request may write into the fresh RAM. */
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		virtio_drain(vm->virtio[i]);
	if ((ret = vm_load(vm)))
		return ret;
	for (int i = 0; i < 3; i++)
		ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &((struct kvm_irqchip *)vm->irqchip_init)[i]);
	if (vm->serial)
		serial_reset(vm->serial);
	ged_reset(vm->ged);
	pci_reset(&vm->pci);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if ((ret = vcpu_reset(&vm->vcpus[i])))
			return die("vCPU reset", -ret);
	pthread_mutex_lock(&vm->lock);
	vm->action = VM_ACT_NONE;
	pthread_mutex_unlock(&vm->lock);
	if (vm->state == VM_STATE_RUNNING)
		resume_all(vm);
	return 0;
}

/* What ends the run, and the SHUTDOWN event QEMU sends for it. Return: true to end. */
static bool finish(struct vm *vm, enum vm_action act)
{
	switch (act) {
	case VM_ACT_RESET:
	case VM_ACT_HOST_RESET:
		if (vm->cfg->no_reboot) {
			timeline_mark("exit on reset (-no-reboot)");
			shutdown_event(vm, act == VM_ACT_RESET,
				       act == VM_ACT_RESET ? "guest-reset"
							   : "host-qmp-system-reset");
			return true;
		}
		qmp_event(vm->qmp, "RESET",
			  json_pack("{s:b,s:s}", "guest", act == VM_ACT_RESET, "reason",
				    act == VM_ACT_RESET ? "guest-reset" : "host-qmp-system-reset"));
		if (reset(vm) == 0)
			return false;
		pthread_mutex_lock(&vm->lock);
		vm->action = VM_ACT_EXIT;
		vm->exit_status = 1;
		pthread_mutex_unlock(&vm->lock);
		return true;
	case VM_ACT_POWEROFF:
		shutdown_event(vm, true, "guest-shutdown");
		return true;
	case VM_ACT_QUIT:
		shutdown_event(vm, false, "host-qmp-quit");
		return true;
	case VM_ACT_SIGNAL:
		shutdown_event(vm, false, "host-signal");
		return true;
	case VM_ACT_EXIT:
		return true;
	default:
		return false;
	}
}

static void on_action(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t n;
	enum vm_action act;

	if (read(vm->action_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&vm->lock);
	act = vm->action;
	pthread_mutex_unlock(&vm->lock);
	if (finish(vm, act))
		vm->loop.stop = 1;
}

/* Like QEMU: a termination signal ends the run at once, with status 0. */
static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	fprintf(stderr, "wisp: terminating on signal %u\n", si.ssi_signo);
	vm_request(vm, VM_ACT_SIGNAL, 0);
}

int vm_run(struct vm *vm)
{
	int ret;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if ((ret = vcpu_reset(&vm->vcpus[i])))
			return die("vCPU set-up", -ret);
	if (vm->signal_fd >= 0 &&
	    (ret = evloop_add(&vm->loop, vm->signal_fd, EPOLLIN, on_signal, vm)) < 0)
		return die("epoll", -ret);
	if ((ret = evloop_add(&vm->loop, vm->action_fd, EPOLLIN, on_action, vm)) < 0)
		return die("epoll", -ret);
	vm->state = vm->cfg->start_paused ? VM_STATE_PRELAUNCH : VM_STATE_RUNNING;
	vm->paused = vm->cfg->start_paused;
	vm->sandboxed = sandbox_init(vm->cfg->sandbox);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if ((ret = vcpu_start(&vm->vcpus[i])))
			return die("vCPU thread", -ret);
	if (vm->sandboxed && (ret = sandbox_enter(SANDBOX_MAIN)) < 0)
		return die("sandbox", -ret);
	if ((ret = evloop_run(&vm->loop)) < 0)
		return die("event loop", -ret);
	pthread_mutex_lock(&vm->lock);
	ret = vm->action == VM_ACT_EXIT ? vm->exit_status : 0;
	pthread_mutex_unlock(&vm->lock);
	timeline_mark("VMM exit, status %d", ret);
	return ret;
}

void vm_destroy(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started) {
			vcpu_kick(&vm->vcpus[i]);
			pthread_join(vm->vcpus[i].thread, NULL);
		}
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(&vm->vcpus[i]);
	free(vm->vcpus);
	free(vm->apic_ids);
	if (vm->images)
		boot_images_close(vm->images);
	free(vm->images);
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		vm->virtio[i]->ops->free(vm->virtio[i]);
	free(vm->virtio);
	qmp_flush(vm->qmp);
	qmp_free(vm->qmp);
	serial_free(vm->serial);
	ged_free(vm->ged);
	evloop_free(&vm->loop);
	memory_free(&vm->mem);
	free(vm->cpuid);
	free(vm->irqchip_init);
	if (vm->action_fd >= 0)
		close(vm->action_fd);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}
