/* ACPI data tables of the x86-64 virt machine, built in C at start-up around
 * the iasl-compiled DSDT. No guest input; layout documented in docs/acpi.md. */
#include "acpi.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "platform/virt.h"

#define ACPI_OEM_ID "WISP  "
#define ACPI_OEM_TABLE_ID "WISPVIRT"
#define ACPI_OEM_REVISION 1
#define ACPI_CREATOR_ID "WISP"
#define ACPI_CREATOR_REVISION 1
#define ACPI_TABLE_ALIGN 16

/* FADT flags (ACPI 6.x, table 5.10). */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4) /* 1: no fixed power button */
#define FADT_F_SLP_BUTTON (1u << 5) /* 1: no fixed sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
/* FADT IA-PC boot architecture flags (table 5.11). */
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 3 /* ACPI 6.3: first with MADT online-capable */

/* MADT structure types and flags (ACPI 6.3, section 5.2.12). */
#define MADT_REVISION 5
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_X2APIC 9
#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
#define MADT_XAPIC_MAX_ID 0xFE /* 0xFF is the xAPIC broadcast ID */

#define MCFG_REVISION 1
#define ECAM_BUS_SIZE (1u << 20) /* 32 devices x 8 functions x 4 KiB */

#define GAS_SPACE_MEMORY 0
#define GAS_ACCESS_BYTE 1

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor[8];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t processor_uid;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

/* MCFG (PCI Firmware 3.3, 4.1.2): one ECAM allocation per segment/bus range. */
struct mcfg_allocation {
	uint64_t base; /* ECAM address of bus 0, even when start_bus is not 0 */
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_header h;
	uint64_t reserved;
	struct mcfg_allocation alloc;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP rev 2");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT local APIC");
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT local x2APIC");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");
_Static_assert(sizeof(struct mcfg_allocation) == 16, "MCFG allocation");
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one allocation");
_Static_assert(VIRT_PCI_ECAM_SIZE == (VIRT_PCI_BUS_MAX + 1) * (uint64_t)ECAM_BUS_SIZE,
	       "the ECAM holds exactly buses 0..VIRT_PCI_BUS_MAX");
_Static_assert(VIRT_PCI_BUS_MAX <= 0xFF, "one PCI segment has 256 buses");

/* Where each table lands in the buffer: offsets from its start. 64-bit so
 * that a huge max_cpus cannot wrap the arithmetic on any host. */
struct layout {
	uint64_t rsdp, xsdt, fadt, mcfg, dsdt, madt, end;
};

#define XSDT_ENTRIES 3 /* FADT, MADT, MCFG; the DSDT is reached through the FADT */

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static uint64_t align_up(uint64_t v)
{
	return (v + ACPI_TABLE_ALIGN - 1) & ~(uint64_t)(ACPI_TABLE_ALIGN - 1);
}

static uint32_t apic_of(const struct acpi_machine *m, unsigned int i)
{
	return m->apic_ids ? m->apic_ids[i] : i;
}

/* APIC IDs 0..0xFE (with UIDs that fit a byte) get Local APIC entries, the rest
 * Local x2APIC entries. */
static bool xapic_entry(uint32_t uid, uint32_t id)
{
	return id <= MADT_XAPIC_MAX_ID && uid <= 0xff;
}

/* Stops counting past 4 GiB: such a MADT is refused anyway (32-bit length). */
static uint64_t madt_size(const struct acpi_machine *m)
{
	uint64_t size = sizeof(struct acpi_madt) + sizeof(struct madt_ioapic);

	for (unsigned int i = 0; i < m->max_cpus && size <= UINT32_MAX; i++)
		size += xapic_entry(i, apic_of(m, i)) ? sizeof(struct madt_lapic)
						      : sizeof(struct madt_x2apic);
	return size;
}

static void plan(struct layout *l, const struct acpi_machine *m)
{
	l->rsdp = 0;
	l->xsdt = align_up(l->rsdp + sizeof(struct acpi_rsdp));
	l->fadt = align_up(l->xsdt + sizeof(struct acpi_header) + XSDT_ENTRIES * sizeof(uint64_t));
	l->mcfg = align_up(l->fadt + sizeof(struct acpi_fadt));
	l->dsdt = align_up(l->mcfg + sizeof(struct acpi_mcfg));
	l->madt = align_up(l->dsdt + acpi_dsdt_aml_len);
	l->end = l->madt + madt_size(m);
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = htole32(len);
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = htole32(ACPI_OEM_REVISION);
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = htole32(ACPI_CREATOR_REVISION);
}

/* Checksum a finished table whose header says how long it is. */
static void table_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, le32toh(h->length));
}

static void build_rsdp(struct acpi_rsdp *r, uint64_t xsdt_gpa)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = htole32(sizeof(*r));
	r->xsdt_address = htole64(xsdt_gpa);
	r->checksum = checksum(r, 20);
	r->extended_checksum = checksum(r, sizeof(*r));
}

static void build_xsdt(struct acpi_header *h, const uint64_t *entries, size_t n)
{
	uint32_t len = (uint32_t)(sizeof(*h) + n * sizeof(uint64_t));
	uint8_t *p = (uint8_t *)(h + 1);

	header_init(h, "XSDT", len, 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t le = htole64(entries[i]);

		memcpy(p + i * sizeof(le), &le, sizeof(le));
	}
	table_seal(h);
}

static struct acpi_gas gas_mem8(uint64_t addr)
{
	struct acpi_gas g = {
		.space_id = GAS_SPACE_MEMORY,
		.bit_width = 8,
		.access_size = GAS_ACCESS_BYTE,
		.address = htole64(addr),
	};
	return g;
}

static void build_fadt(struct acpi_fadt *f, uint64_t dsdt_gpa)
{
	header_init(&f->h, "FACP", sizeof(*f), FADT_REVISION);
	f->minor_revision = FADT_MINOR_REVISION;
	f->flags = htole32(FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
			   FADT_F_RESET_REG_SUP | FADT_F_HW_REDUCED_ACPI);
	f->iapc_boot_arch = htole16(FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT);
	f->p_lvl2_lat = htole16(101);  /* > 100: no C2 */
	f->p_lvl3_lat = htole16(1001); /* > 1000: no C3 */
	f->reset_reg = gas_mem8(VIRT_GED_REGS_BASE + GED_REG_RESET);
	f->reset_value = GED_RESET_VALUE;
	f->x_dsdt = htole64(dsdt_gpa);
	f->sleep_control_reg = gas_mem8(VIRT_GED_REGS_BASE + GED_REG_SLEEP_CTL);
	f->sleep_status_reg = gas_mem8(VIRT_GED_REGS_BASE + GED_REG_SLEEP_STS);
	memcpy(f->hypervisor_vendor, "WISP\0\0\0\0", 8);
	table_seal(&f->h);
}

static void *madt_add_lapic(struct madt_lapic *e, uint8_t uid, uint8_t id, uint32_t flags)
{
	e->type = MADT_TYPE_LAPIC;
	e->length = sizeof(*e);
	e->processor_uid = uid;
	e->apic_id = id;
	e->flags = htole32(flags);
	return e + 1;
}

static void *madt_add_x2apic(struct madt_x2apic *e, uint32_t uid, uint32_t id, uint32_t flags)
{
	e->type = MADT_TYPE_X2APIC;
	e->length = sizeof(*e);
	e->x2apic_id = htole32(id);
	e->flags = htole32(flags);
	e->processor_uid = htole32(uid);
	return e + 1;
}

/* CPU i has ACPI processor UID i and the APIC ID its topology gives it. */
static void *madt_add_cpu(void *p, uint32_t uid, uint32_t id, uint32_t flags)
{
	if (xapic_entry(uid, id))
		return madt_add_lapic(p, (uint8_t)uid, (uint8_t)id, flags);
	return madt_add_x2apic(p, uid, id, flags);
}

static void build_madt(struct acpi_madt *t, const struct acpi_machine *m)
{
	void *p = t + 1;
	struct madt_ioapic *io;

	header_init(&t->h, "APIC", (uint32_t)madt_size(m), MADT_REVISION);
	t->lapic_address = htole32(VIRT_LAPIC_BASE);
	t->flags = 0; /* no PCAT_COMPAT: there is no 8259 PIC */
	for (unsigned int i = 0; i < m->max_cpus; i++)
		p = madt_add_cpu(p, i, apic_of(m, i),
				 i < m->cpus ? MADT_CPU_ENABLED : MADT_CPU_ONLINE_CAPABLE);
	io = p;
	io->type = MADT_TYPE_IOAPIC;
	io->length = sizeof(*io);
	io->ioapic_id = 0;
	io->address = htole32(VIRT_IOAPIC_BASE);
	io->gsi_base = 0;
	table_seal(&t->h);
}

/* Segment 0, buses 0..VIRT_PCI_BUS_MAX, at VIRT_PCI_ECAM_BASE. */
static void build_mcfg(struct acpi_mcfg *t)
{
	header_init(&t->h, "MCFG", sizeof(*t), MCFG_REVISION);
	t->alloc.base = htole64(VIRT_PCI_ECAM_BASE);
	t->alloc.segment = htole16(0);
	t->alloc.start_bus = 0;
	t->alloc.end_bus = VIRT_PCI_BUS_MAX;
	table_seal(&t->h);
}

static int check_args(const void *buf, uint64_t gpa, size_t size, const struct acpi_machine *m)
{
	if (!buf || !m || m->cpus == 0 || m->max_cpus < m->cpus)
		return -EINVAL;
	if (gpa % ACPI_TABLE_ALIGN || gpa + size < gpa)
		return -EINVAL;
	return 0;
}

long acpi_build(void *buf, uint64_t gpa, size_t size, const struct acpi_machine *m,
		uint64_t *rsdp_gpa)
{
	uint64_t xsdt_entries[XSDT_ENTRIES];
	uint8_t *b = buf;
	struct layout l;
	int err = check_args(buf, gpa, size, m);

	if (err)
		return err;
	plan(&l, m);
	if (l.end > size || l.end - l.madt > UINT32_MAX)
		return -ENOSPC; /* the buffer, or the MADT's 32-bit length */
	xsdt_entries[0] = gpa + l.fadt;
	xsdt_entries[1] = gpa + l.madt;
	xsdt_entries[2] = gpa + l.mcfg;
	memset(b, 0, l.end);
	memcpy(b + l.dsdt, acpi_dsdt_aml, acpi_dsdt_aml_len);
	build_fadt((struct acpi_fadt *)(b + l.fadt), gpa + l.dsdt);
	build_madt((struct acpi_madt *)(b + l.madt), m);
	build_mcfg((struct acpi_mcfg *)(b + l.mcfg));
	build_xsdt((struct acpi_header *)(b + l.xsdt), xsdt_entries, XSDT_ENTRIES);
	build_rsdp((struct acpi_rsdp *)(b + l.rsdp), gpa + l.xsdt);
	if (rsdp_gpa)
		*rsdp_gpa = gpa + l.rsdp;
	return (long)l.end;
}
