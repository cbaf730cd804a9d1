/* Host tests for the virtio-pci transport and the virtio-blk and virtio-rng
 * devices: a driver written here speaks to them through the PCI windows, with
 * guest RAM in a memfd and the event loop run by hand. No /dev/kvm: kicks trap
 * and interrupts go nowhere, which is all the transport needs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/virt.h"
#include "virtio/devices.h"
#include "vm.h"

#define RAM (16 << 20)
#define QSZ 16
#define DESC 0x100000ULL /* queue 0 rings */
#define AVAIL (DESC + 16 * QSZ)
#define USED 0x101000ULL
#define BUF 0x200000ULL /* data buffers */
#define DISK_SECTORS 2048

struct t {
	struct vm vm;
	struct config cfg;
	struct virtio_dev *v;
	char path[64];
	uint16_t avail_idx, used_seen, next_desc;
};

static void no_irq(void *opaque, unsigned int gsi, int level)
{
}

static struct t *make(enum config_dev_kind kind, bool readonly)
{
	struct t *t = calloc(1, sizeof(*t));
	char err[256];
	int fd;

	t->vm.vm_fd = t->vm.kvm_fd = -1;
	t->vm.cfg = &t->cfg;
	assert_int_equal(memory_init(&t->vm.mem, RAM), 0);
	assert_int_equal(evloop_init(&t->vm.loop), 0);
	t->vm.irq.vm_fd = -1;
	pthread_mutex_init(&t->vm.irq.lock, NULL);
	pci_init(&t->vm.pci, no_irq, NULL);
	strcpy(t->path, "/tmp/wisp-test-virtio-XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DISK_SECTORS * 512), 0);
	close(fd);
	t->cfg.drives[0] = (struct config_drive){
		.file = t->path, .format = "raw", .readonly = readonly, .discard = true};
	t->cfg.pci_devs[0] = (struct config_pci_dev){
		.kind = kind, .slot = -1, .drive = 0, .chardev = -1, .num_queues = 1};
	strcpy(t->cfg.pci_devs[0].serial, "wisp-serial-0123");
	t->v = kind == CONFIG_DEV_VIRTIO_BLK
		       ? virtio_blk_create(&t->vm, &t->cfg.pci_devs[0], err, sizeof(err))
		       : virtio_rng_create(&t->vm, &t->cfg.pci_devs[0], err, sizeof(err));
	if (!t->v)
		fail_msg("%s", err);
	assert_int_equal(virtio_plug(t->v, -1, err, sizeof(err)), 0);
	return t;
}

static void destroy(struct t *t)
{
	t->v->ops->free(t->v);
	evloop_free(&t->vm.loop);
	memory_free(&t->vm.mem);
	unlink(t->path);
	free(t);
}

/* ---- the driver ---- */

static uint64_t bar(struct t *t)
{
	return t->v->pci.bar[0].mapped;
}

static void mmio(struct t *t, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint64_t a = bar(t) + off;

	assert_true(a >= VIRT_PCI_MMIO32_BASE);
	pci_window32_io(&t->vm.pci, a - VIRT_PCI_MMIO32_BASE, data, len, is_write);
}

static uint32_t rd(struct t *t, uint64_t off, uint32_t len)
{
	uint32_t v = 0;

	mmio(t, off, &v, len, false);
	return v;
}

static void wr(struct t *t, uint64_t off, uint64_t v, uint32_t len)
{
	mmio(t, off, &v, len, true);
}

static uint8_t status(struct t *t)
{
	return (uint8_t)rd(t, 0x14, 1);
}

static void *gpa(struct t *t, uint64_t a)
{
	return memory_gpa(&t->vm.mem, a, 1);
}

/* Negotiate @features and set up queue 0 (size QSZ); Return: status read back. */
static uint8_t bring_up(struct t *t, uint64_t features, uint16_t qsize)
{
	wr(t, 0x14, 0, 1);
	wr(t, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(t, 0x08, sel, 4);
		wr(t, 0x0c, (uint32_t)(features >> (32 * sel)), 4);
	}
	wr(t, 0x14, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK,
	   1);
	if (!(status(t) & VIRTIO_STATUS_FEATURES_OK))
		return status(t);
	memset(gpa(t, DESC), 0, 0x2000);
	wr(t, 0x16, 0, 2);
	wr(t, 0x18, qsize, 2);
	wr(t, 0x20, DESC, 8);
	wr(t, 0x28, (uint32_t)AVAIL, 4); /* as two halves */
	wr(t, 0x2c, 0, 4);
	wr(t, 0x30, USED, 8);
	wr(t, 0x1c, 1, 2);
	wr(t, 0x14,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK,
	   1);
	t->avail_idx = t->used_seen = t->next_desc = 0;
	return status(t);
}

static uint16_t desc(struct t *t, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint16_t i = t->next_desc++ % QSZ;
	uint8_t *d = gpa(t, DESC + 16ULL * i);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	return i;
}

static void post(struct t *t, uint16_t head)
{
	uint16_t *avail = gpa(t, AVAIL);

	avail[2 + t->avail_idx % QSZ] = head;
	__atomic_store_n(&avail[1], ++t->avail_idx, __ATOMIC_RELEASE);
}

static void kick(struct t *t)
{
	wr(t, VIRTIO_BAR_NOTIFY, 0, 2);
}

static uint16_t used_idx(struct t *t)
{
	return __atomic_load_n((uint16_t *)gpa(t, USED) + 1, __ATOMIC_ACQUIRE);
}

/* Run the loop until @n more used entries appear (or give up after a while). */
static void wait_used(struct t *t, uint16_t n)
{
	for (int i = 0; i < 200 && (uint16_t)(used_idx(t) - t->used_seen) < n; i++)
		evloop_run_once(&t->vm.loop, 50);
	assert_int_equal((uint16_t)(used_idx(t) - t->used_seen), n);
	t->used_seen = used_idx(t);
}

#define BLK_FEATURES (1ULL << VIRTIO_F_VERSION_1 | 1ULL << 9 /* FLUSH */ | 1ULL << 13 | 1ULL << 14)

/* One virtio-blk request: header at BUF + 0x1000 * slot, data after it, status byte. */
static uint16_t blk_req(struct t *t, int slot, uint32_t type, uint64_t sector, uint32_t len,
			bool data_in)
{
	uint64_t base = BUF + 0x10000ULL * slot, data = base + 0x100, st = base + 0xff00;
	uint8_t *h = gpa(t, base);
	uint16_t s, d = 0, hd;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	*(uint8_t *)gpa(t, st) = 0xee;
	s = desc(t, st, 1, VIRTQ_DESC_F_WRITE, 0);
	if (len)
		d = desc(t, data, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0), s);
	hd = desc(t, base, 16, VIRTQ_DESC_F_NEXT, len ? d : s);
	post(t, hd);
	return hd;
}

static uint8_t blk_status(struct t *t, int slot)
{
	return *(uint8_t *)gpa(t, BUF + 0x10000ULL * slot + 0xff00);
}

static uint8_t *blk_data(struct t *t, int slot)
{
	return gpa(t, BUF + 0x10000ULL * slot + 0x100);
}

static void test_blk_io(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, false);
	uint64_t cap;

	assert_int_equal(t->v->pci.slot, 1);
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	mmio(t, VIRTIO_BAR_DEVICE, &cap, 8, false);
	assert_int_equal(cap, DISK_SECTORS);
	/* Four writes in flight, then read them back. */
	for (int i = 0; i < 4; i++) {
		memset(blk_data(t, i), 'a' + i, 4096);
		blk_req(t, i, 1, 8ULL * i, 4096, false);
	}
	kick(t);
	wait_used(t, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(blk_status(t, i), 0);
		memset(blk_data(t, i), 0, 4096);
		blk_req(t, i, 0, 8ULL * i, 4096, true);
	}
	kick(t);
	wait_used(t, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(blk_status(t, i), 0);
		assert_int_equal(blk_data(t, i)[0], 'a' + i);
		assert_int_equal(blk_data(t, i)[4095], 'a' + i);
	}
	/* Flush, get-id, discard, an unknown type, past the end, a partial sector. */
	blk_req(t, 0, 4, 0, 0, false);
	blk_req(t, 1, 8, 0, 20, true);
	uint64_t seg[2] = {0, 8}; /* sector 0, 8 sectors, no flags */
	blk_req(t, 2, 11, 0, 16, false);
	memcpy(blk_data(t, 2), seg, 16);
	kick(t);
	wait_used(t, 3);
	assert_int_equal(blk_status(t, 0), 0);
	assert_int_equal(blk_status(t, 1), 0);
	assert_memory_equal(blk_data(t, 1), "wisp-serial-0123", 16);
	assert_int_equal(blk_status(t, 2), 0);
	blk_req(t, 0, 0, 0, 4096, true);
	blk_req(t, 1, 99, 0, 0, false);
	blk_req(t, 2, 0, DISK_SECTORS - 1, 4096, true);
	blk_req(t, 3, 0, 0, 100, true);
	kick(t);
	wait_used(t, 4);
	assert_int_equal(blk_status(t, 0), 0);
	assert_int_equal(blk_data(t, 0)[0], 0); /* discarded */
	assert_int_equal(blk_status(t, 1), 2);	/* UNSUPP */
	assert_int_equal(blk_status(t, 2), 1);	/* IOERR */
	assert_int_equal(blk_status(t, 3), 1);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	destroy(t);
}

static void test_blk_readonly(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, true);

	/* RO is offered and must be accepted by the driver to be used; writes fail. */
	bring_up(t, BLK_FEATURES | 1ULL << 5, QSZ);
	blk_req(t, 0, 1, 0, 512, false);
	blk_req(t, 1, 0, 0, 512, true);
	kick(t);
	wait_used(t, 2);
	assert_int_equal(blk_status(t, 0), 1);
	assert_int_equal(blk_status(t, 1), 0);
	destroy(t);
}

static void test_negotiation(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, false);
	uint32_t df;

	wr(t, 0x00, 1, 4);
	df = rd(t, 0x04, 4);
	assert_true(df & 1); /* VERSION_1 */
	/* Without VERSION_1, or with a feature never offered: FEATURES_OK does not stick. */
	assert_false(bring_up(t, 1ULL << 9, QSZ) & VIRTIO_STATUS_FEATURES_OK);
	assert_false(bring_up(t, BLK_FEATURES | 1ULL << 40, QSZ) & VIRTIO_STATUS_FEATURES_OK);
	/* Queue sizes: not a power of two, zero, too big: NEEDS_RESET. */
	assert_true(bring_up(t, BLK_FEATURES, 12) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(bring_up(t, BLK_FEATURES, 0) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(bring_up(t, BLK_FEATURES, 4096) & VIRTIO_STATUS_NEEDS_RESET);
	/* Reset brings it back. */
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	/* Queue select past the end reads size 0; vectors past the table read NO_VECTOR. */
	wr(t, 0x16, 7, 2);
	assert_int_equal(rd(t, 0x18, 2), 0);
	wr(t, 0x10, 50, 2);
	assert_int_equal(rd(t, 0x10, 2), 0xffff);
	/* The PCI_CFG window reads the same common config through config space. */
	uint8_t cap = t->v->cfg_cap;
	uint32_t v = 0, off = 0x12, len = 2;
	uint64_t e = ((uint64_t)t->v->pci.slot << 15);
	pci_ecam_io(&t->vm.pci, e + cap + 8, (uint8_t *)&off, 4, true);
	pci_ecam_io(&t->vm.pci, e + cap + 12, (uint8_t *)&len, 4, true);
	pci_ecam_io(&t->vm.pci, e + cap + 16, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 1); /* num_queues */
	destroy(t);
}

static void test_hostile_chains(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, false);
	uint16_t a, b;

	/* A descriptor loop. */
	bring_up(t, BLK_FEATURES, QSZ);
	a = desc(t, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	b = desc(t, BUF + 16, 16, VIRTQ_DESC_F_NEXT, 0);
	(void)b;
	post(t, a);
	kick(t);
	for (int i = 0; i < 5; i++)
		evloop_run_once(&t->vm.loop, 10);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* Kicks on a broken device do nothing. */
	kick(t);
	evloop_run_once(&t->vm.loop, 10);
	/* No status byte; a header only; an address outside RAM; a wrapping address. */
	const uint64_t bad[][3] = {{BUF, 16, 0},
				   {BUF, 8, 1},
				   {RAM + 0x1000, 16, 1},
				   {UINT64_MAX - 8, 16, 1},
				   {BUF, 0xffffffff, 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
		uint16_t s = desc(t, BUF + 0xff00, 1, VIRTQ_DESC_F_WRITE, 0);
		post(t,
		     desc(t, bad[i][0], (uint32_t)bad[i][1], bad[i][2] ? VIRTQ_DESC_F_NEXT : 0, s));
		kick(t);
		for (int j = 0; j < 5; j++)
			evloop_run_once(&t->vm.loop, 10);
		assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	}
	/* Head index out of range; avail index jumping ahead by more than the size. */
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	post(t, QSZ + 3);
	kick(t);
	evloop_run_once(&t->vm.loop, 10);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	((uint16_t *)gpa(t, AVAIL))[1] = 1000;
	kick(t);
	evloop_run_once(&t->vm.loop, 10);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* Still a working device after all that. */
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	blk_req(t, 0, 0, 0, 512, true);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(blk_status(t, 0), 0);
	destroy(t);
}

static void test_reset_mid_io(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, false);

	bring_up(t, BLK_FEATURES, QSZ);
	for (int i = 0; i < 4; i++)
		blk_req(t, i, 1, 8ULL * i, 4096, false);
	kick(t);
	evloop_run_once(&t->vm.loop, 0); /* the kick: requests go to aio */
	wr(t, 0x14, 0, 1);		 /* reset with writes in flight */
	for (int i = 0; i < 20; i++)
		evloop_run_once(&t->vm.loop, 10);
	assert_int_equal(used_idx(t), 0); /* completions of the old life are dropped */
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	blk_req(t, 0, 0, 0, 512, true);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(blk_status(t, 0), 0);
	/* A BAR move mid-life: the device answers at the new address. */
	uint64_t to = VIRT_PCI_MMIO32_BASE + 0x1000000;
	uint64_t e = ((uint64_t)t->v->pci.slot << 15) | PCI_BAR0;
	uint32_t lo = (uint32_t)to | PCI_BAR_MEM64;
	pci_ecam_io(&t->vm.pci, e, (uint8_t *)&lo, 4, true);
	assert_int_equal(bar(t), to);
	blk_req(t, 1, 0, 0, 512, true);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(blk_status(t, 1), 0);
	destroy(t);
}

static void test_rng(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_RNG, false);
	uint8_t *p = gpa(t, BUF);
	int same = 0;

	assert_int_equal(bring_up(t, 1ULL << VIRTIO_F_VERSION_1, QSZ) & 0x4f, 0x0f);
	memset(p, 0, 256);
	post(t, desc(t, BUF, 256, VIRTQ_DESC_F_WRITE, 0));
	kick(t);
	wait_used(t, 1);
	for (int i = 1; i < 256; i++)
		same += p[i] == p[0];
	assert_true(same < 32);
	assert_int_equal(((uint32_t *)gpa(t, USED + 4))[1], 256);
	destroy(t);
}

/* Random register traffic and random ring contents: no crash, no hang. */
static void test_hostile_random(void **state)
{
	struct t *t = make(CONFIG_DEV_VIRTIO_BLK, false);
	unsigned int seed = 7;

	for (int round = 0; round < 300; round++) {
		bring_up(t,
			 BLK_FEATURES | (round & 1 ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0) |
				 (round & 2 ? 1ULL << VIRTIO_F_EVENT_IDX : 0),
			 QSZ);
		uint32_t *g = gpa(t, DESC);
		for (int i = 0; i < 0x2000 / 4; i++)
			g[i] = (uint32_t)rand_r(&seed) & (i % 4 == 0 ? 0x003fffff : 0xffffffff);
		for (int i = 0; i < 64; i++) {
			uint32_t off = (uint32_t)rand_r(&seed) % VIRTIO_BAR_SIZE;
			uint32_t len = 1u << (rand_r(&seed) % 4);

			if (off == 0x14)
				continue; /* leave status alone: the point is the rings */
			wr(t, off, (uint64_t)rand_r(&seed), len);
		}
		kick(t);
		evloop_run_once(&t->vm.loop, 1);
	}
	for (int i = 0; i < 20; i++)
		evloop_run_once(&t->vm.loop, 5);
	assert_int_equal(bring_up(t, BLK_FEATURES, QSZ) & 0x4f, 0x0f);
	blk_req(t, 0, 0, 0, 512, true);
	kick(t);
	wait_used(t, 1);
	assert_int_equal(blk_status(t, 0), 0);
	destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_io),	       cmocka_unit_test(test_blk_readonly),
		cmocka_unit_test(test_negotiation),    cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_reset_mid_io),   cmocka_unit_test(test_rng),
		cmocka_unit_test(test_hostile_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
