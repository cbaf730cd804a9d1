/* Host tests for the ACPI tables: layout and checksums read back at the spec's
 * offsets, then the real iasl -d and acpiexec (acpica-tools, on PATH). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "acpi.h"
#include "platform/virt.h"

#define HDR_LEN 36
#define FADT_LEN 276
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)
#define FADT_BOOT_8042 (1u << 1)
#define FADT_BOOT_NO_VGA (1u << 2)
#define FADT_BOOT_NO_MSI (1u << 3)
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)
#define MADT_ENABLED 1u
#define MADT_ONLINE_CAPABLE 2u
#define MAX_TEST_CPUS 4096
#define MCFG_LEN 60

static uint8_t buf[VIRT_ACPI_SIZE];

/* What acpi_build() produced, found by following pointers from the RSDP. */
struct tables {
	uint64_t gpa;
	long len;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *mcfg, *dsdt;
};

struct combo {
	unsigned int cpus, max_cpus;
};

static uint16_t rd16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	return rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	return rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A guest address range that must lie inside what acpi_build() used. */
static const uint8_t *at(const struct tables *t, uint64_t gpa, uint64_t len)
{
	assert_true(gpa >= t->gpa);
	assert_true(gpa - t->gpa + len <= (uint64_t)t->len);
	return buf + (gpa - t->gpa);
}

static const uint8_t *table_at(const struct tables *t, uint64_t gpa)
{
	const uint8_t *p = at(t, gpa, HDR_LEN);
	uint32_t len = rd32(p, 4);

	assert_true(len >= HDR_LEN);
	at(t, gpa, len);
	assert_int_equal(sum(p, len), 0);
	assert_memory_equal(p + 10, "WISP  ", 6);
	return p;
}

static void check_rsdp(const uint8_t *r)
{
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r, 20), 36);
	assert_int_equal(sum(r, 36), 0);
	assert_int_equal(r[33] | r[34] | r[35], 0); /* reserved */
}

static void find_xsdt_tables(struct tables *t)
{
	uint32_t n = (rd32(t->xsdt, 4) - HDR_LEN) / 8;

	assert_memory_equal(t->xsdt, "XSDT", 4);
	assert_int_equal((rd32(t->xsdt, 4) - HDR_LEN) % 8, 0);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = table_at(t, rd64(t->xsdt, HDR_LEN + 8 * i));

		if (!memcmp(p, "FACP", 4) && !t->fadt)
			t->fadt = p;
		else if (!memcmp(p, "APIC", 4) && !t->madt)
			t->madt = p;
		else if (!memcmp(p, "MCFG", 4) && !t->mcfg)
			t->mcfg = p;
		else
			fail_msg("unexpected or repeated table %.4s in the XSDT", (const char *)p);
	}
	assert_non_null(t->fadt);
	assert_non_null(t->madt);
	assert_non_null(t->mcfg);
}

/* No two tables may share a byte. */
static void check_disjoint(const struct tables *t)
{
	const uint8_t *p[] = {t->rsdp, t->xsdt, t->fadt, t->madt, t->mcfg, t->dsdt};
	size_t n = sizeof(p) / sizeof(p[0]);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			uint32_t li = i ? rd32(p[i], 4) : 36;

			if (i != j)
				assert_true(p[j] >= p[i] + li || p[j] < p[i]);
		}
	}
}

static void build_at(struct tables *t, uint64_t gpa, unsigned int cpus, unsigned int max_cpus)
{
	struct acpi_machine m = {.cpus = cpus, .max_cpus = max_cpus};
	uint64_t rsdp = 0;

	memset(t, 0, sizeof(*t));
	memset(buf, 0xA5, sizeof(buf));
	t->gpa = gpa;
	t->len = acpi_build(buf, gpa, sizeof(buf), &m, &rsdp);
	assert_true(t->len > 0);
	assert_true(t->len <= (long)sizeof(buf));
	assert_int_equal(rsdp, gpa);
	t->rsdp = at(t, rsdp, 36);
	check_rsdp(t->rsdp);
	t->xsdt = table_at(t, rd64(t->rsdp, 24));
	find_xsdt_tables(t);
	t->dsdt = table_at(t, rd64(t->fadt, 140));
	check_disjoint(t);
}

static void build(struct tables *t, unsigned int cpus, unsigned int max_cpus)
{
	build_at(t, VIRT_ACPI_BASE, cpus, max_cpus);
}

/* An 8-bit SystemMemory register with byte access at @addr. */
static void check_gas_mem8(const uint8_t *g, uint64_t addr)
{
	assert_int_equal(g[0], 0);
	assert_int_equal(g[1], 8);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], 1);
	assert_int_equal(rd64(g, 4), addr);
}

static void check_fadt(const uint8_t *f)
{
	uint32_t flags = rd32(f, 112);
	uint16_t boot = rd16(f, 109);

	assert_int_equal(rd32(f, 4), FADT_LEN);
	assert_int_equal(f[8], 6);
	assert_true(flags & FADT_F_HW_REDUCED_ACPI);
	assert_true(flags & FADT_F_RESET_REG_SUP);
	assert_int_equal(boot & (FADT_BOOT_8042 | FADT_BOOT_NO_MSI), 0);
	assert_true(boot & FADT_BOOT_NO_VGA);
	assert_true(boot & FADT_BOOT_NO_CMOS_RTC);
	assert_int_equal(rd16(f, 46), 0); /* no SCI in hardware-reduced ACPI */
	assert_int_equal(rd32(f, 36), 0); /* no FACS */
	assert_int_equal(rd64(f, 132), 0);
	assert_int_equal(rd32(f, 40), 0); /* DSDT only through X_DSDT */
	check_gas_mem8(f + 116, VIRT_GED_REGS_BASE + GED_REG_RESET);
	assert_int_equal(f[128], GED_RESET_VALUE);
	check_gas_mem8(f + 244, VIRT_GED_REGS_BASE + GED_REG_SLEEP_CTL);
	check_gas_mem8(f + 256, VIRT_GED_REGS_BASE + GED_REG_SLEEP_STS);
	assert_memory_equal(f + 268, "WISP\0\0\0\0", 8);
}

/* One allocation: segment 0, buses 0..VIRT_PCI_BUS_MAX at the ECAM. */
static void check_mcfg(const uint8_t *t)
{
	const uint8_t *a = t + 44;

	assert_int_equal(rd32(t, 4), MCFG_LEN);
	assert_int_equal(t[8], 1);
	assert_int_equal(rd64(t, 36), 0); /* reserved */
	assert_int_equal(rd64(a, 0), VIRT_PCI_ECAM_BASE);
	assert_int_equal(rd16(a, 8), 0);
	assert_int_equal(a[10], 0);
	assert_int_equal(a[11], VIRT_PCI_BUS_MAX);
	assert_int_equal(rd32(a, 12), 0); /* reserved */
	/* The buses it names fill the ECAM exactly, 1 MiB each. */
	assert_int_equal((uint64_t)(a[11] - a[10] + 1) << 20, VIRT_PCI_ECAM_SIZE);
	/* Linux ignores an MCFG area at or above 4 GiB from a pre-2010 BIOS. */
	assert_true(VIRT_PCI_ECAM_BASE + VIRT_PCI_ECAM_SIZE <= 0x100000000ULL);
}

static void check_dsdt(const uint8_t *d)
{
	assert_int_equal(rd32(d, 4), acpi_dsdt_aml_len);
	assert_memory_equal(d, acpi_dsdt_aml, acpi_dsdt_aml_len);
}

/* Record one processor entry; every APIC ID must appear once, in order. */
static void madt_cpu(const struct combo *c, uint32_t id, uint32_t uid, uint32_t flags,
		     unsigned int *seen)
{
	assert_int_equal(id, *seen);
	assert_int_equal(uid, id);
	if (id < c->cpus)
		assert_int_equal(flags, MADT_ENABLED);
	else
		assert_int_equal(flags, MADT_ONLINE_CAPABLE);
	(*seen)++;
}

static void check_madt(const uint8_t *t, const struct combo *c)
{
	uint32_t len = rd32(t, 4);
	unsigned int cpus = 0, ioapics = 0;

	assert_int_equal(t[8], 5);
	assert_int_equal(rd32(t, 36), VIRT_LAPIC_BASE);
	assert_int_equal(rd32(t, 40), 0); /* no PCAT_COMPAT */
	for (uint32_t off = 44; off < len; off += t[off + 1]) {
		const uint8_t *e = t + off;

		assert_true(off + 2 <= len && e[1] >= 2 && off + e[1] <= len);
		if (e[0] == 0) { /* Processor Local APIC: IDs below 0xFF only */
			assert_int_equal(e[1], 8);
			assert_true(e[3] < 0xFF);
			madt_cpu(c, e[3], e[2], rd32(e, 4), &cpus);
		} else if (e[0] == 9) { /* Processor Local x2APIC: IDs 0xFF and up */
			assert_int_equal(e[1], 16);
			assert_int_equal(rd16(e, 2), 0); /* reserved */
			assert_true(rd32(e, 4) >= 0xFF);
			madt_cpu(c, rd32(e, 4), rd32(e, 12), rd32(e, 8), &cpus);
		} else if (e[0] == 1) {
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 0);
			assert_int_equal(e[3], 0); /* reserved */
			assert_int_equal(rd32(e, 4), VIRT_IOAPIC_BASE);
			assert_int_equal(rd32(e, 8), 0);
			ioapics++;
		} else {
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(cpus, c->max_cpus);
	assert_int_equal(ioapics, 1);
}

static void test_layout(void **state)
{
	const struct combo *c = *state;
	struct tables t;

	build(&t, c->cpus, c->max_cpus);
	check_fadt(t.fadt);
	check_madt(t.madt, c);
	check_mcfg(t.mcfg);
	check_dsdt(t.dsdt);
}

/* With a topology, APIC IDs are sparse: the MADT lists UID i with apic_ids[i]. */
static void test_madt_sparse_apic_ids(void **state)
{
	static const uint32_t ids[] = {0, 1, 2, 4, 5, 6, 300, 301};
	struct acpi_machine m = {.cpus = 5, .max_cpus = 8, .apic_ids = ids};
	uint64_t rsdp;
	long n = acpi_build(buf, VIRT_ACPI_BASE, sizeof(buf), &m, &rsdp);
	const uint8_t *x, *t = NULL;
	unsigned int i = 0;

	assert_true(n > 0);
	x = buf + (rd64(buf, 24) - VIRT_ACPI_BASE);
	for (uint32_t off = 36; off < rd32(x, 4); off += 8)
		if (!memcmp(buf + (rd64(x, off) - VIRT_ACPI_BASE), "APIC", 4))
			t = buf + (rd64(x, off) - VIRT_ACPI_BASE);
	assert_non_null(t);
	assert_int_equal(sum(t, rd32(t, 4)), 0);
	for (uint32_t off = 44; off < rd32(t, 4); off += t[off + 1]) {
		const uint8_t *e = t + off;
		uint32_t uid, id, flags;

		if (e[0] == 1)
			continue;
		if (e[0] == 0) {
			uid = e[2], id = e[3], flags = rd32(e, 4);
		} else {
			assert_int_equal(e[0], 9);
			id = rd32(e, 4), flags = rd32(e, 8), uid = rd32(e, 12);
		}
		assert_int_equal(uid, i);
		assert_int_equal(id, ids[i]);
		assert_int_equal(flags, i < 5 ? MADT_ENABLED : MADT_ONLINE_CAPABLE);
		assert_int_equal(e[0], ids[i] < 0xff ? 0 : 9);
		i++;
	}
	assert_int_equal(i, 8);
}

static void test_gpa_is_honoured(void **state)
{
	struct combo c = {2, 3};
	struct tables t;

	(void)state;
	build_at(&t, 0x123456780, c.cpus, c.max_cpus);
	check_fadt(t.fadt);
	check_madt(t.madt, &c);
	check_mcfg(t.mcfg);
	check_dsdt(t.dsdt);
}

static long try_build(void *b, uint64_t gpa, size_t size, unsigned int cpus, unsigned int max)
{
	struct acpi_machine m = {.cpus = cpus, .max_cpus = max};
	uint64_t rsdp;

	return acpi_build(b, gpa, size, &m, &rsdp);
}

static void test_bad_input(void **state)
{
	struct acpi_machine m = {.cpus = 1, .max_cpus = 1};
	uint64_t rsdp;

	(void)state;
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, sizeof(buf), 0, 0), -EINVAL);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, sizeof(buf), 0, 4), -EINVAL);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, sizeof(buf), 4, 2), -EINVAL);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE + 4, sizeof(buf), 1, 1), -EINVAL);
	assert_int_equal(try_build(buf, UINT64_MAX - 15, sizeof(buf), 1, 1), -EINVAL);
	assert_int_equal(try_build(NULL, VIRT_ACPI_BASE, sizeof(buf), 1, 1), -EINVAL);
	assert_int_equal(acpi_build(buf, VIRT_ACPI_BASE, sizeof(buf), NULL, &rsdp), -EINVAL);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, 0, 1, 1), -ENOSPC);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, 16, 1, 1), -ENOSPC);
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, sizeof(buf), 1, UINT_MAX), -ENOSPC);
	/* The out-parameter is optional. */
	assert_true(acpi_build(buf, VIRT_ACPI_BASE, sizeof(buf), &m, NULL) > 0);
}

/* One byte short fails and writes nothing; exactly enough succeeds. */
static void test_exact_size(void **state)
{
	static uint8_t pattern[sizeof(buf)];
	long need = try_build(buf, VIRT_ACPI_BASE, sizeof(buf), 3, 300);

	(void)state;
	assert_true(need > 0);
	memset(buf, 0x5A, sizeof(buf));
	memset(pattern, 0x5A, sizeof(pattern));
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, (size_t)need - 1, 3, 300), -ENOSPC);
	assert_memory_equal(buf, pattern, sizeof(buf));
	assert_int_equal(try_build(buf, VIRT_ACPI_BASE, (size_t)need, 3, 300), need);
}

/* ---- The real ACPICA tools ---- */

struct tmpdir {
	char path[PATH_MAX];
};

/* A fresh directory per test; a failing test leaves it behind for a look. */
static void tmpdir_make(struct tmpdir *d)
{
	const char *base = getenv("TMPDIR");

	snprintf(d->path, sizeof(d->path), "%s/wisp-acpi-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(d->path));
}

static void tmpdir_remove(struct tmpdir *d)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const struct tmpdir *d, const char *name, const void *p, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Read all of a stream into a NUL-terminated heap buffer. */
static char *slurp(FILE *f)
{
	size_t cap = 4096, n = 0, got;
	char *s = malloc(cap);

	assert_non_null(s);
	while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
	}
	s[n] = '\0';
	return s;
}

static char *read_file(const struct tmpdir *d, const char *name)
{
	char path[PATH_MAX + 64];
	FILE *f;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s was not written", path);
	s = slurp(f);
	fclose(f);
	return s;
}

/* Run @cmd in directory @d with stdout and stderr captured; *status gets its exit code. */
static char *run(const struct tmpdir *d, const char *cmd, int *status)
{
	char *full;
	FILE *p;
	char *out;
	int st;

	assert_true(asprintf(&full, "cd '%s' && %s </dev/null 2>&1", d->path, cmd) > 0);
	p = popen(full, "r");
	assert_non_null(p);
	free(full);
	out = slurp(p);
	st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (*status == 127)
		fail_msg("%s: not found (install acpica-tools)\n%s", cmd, out);
	return out;
}

/* Show what a tool printed, then fail. Written out with fputs because gcc 12
 * with -fsanitize=undefined misreports %s arguments here as null. */
static void fail_text(const char *what, const char *needle, const char *hay)
{
	fputs(what, stderr);
	fputs(needle, stderr);
	fputs("\" in:\n", stderr);
	fputs(hay, stderr);
	fail();
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_text("expected \"", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_text("unexpected \"", needle, hay);
}

/* What ACPICA prints when it dislikes a table or a method. */
static void assert_clean(const char *out)
{
	static const char *const bad[] = {"Error",   "Warning", "Exception", "Incorrect",
					  "Invalid", "Unknown", "failed",    "****"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_lacks(out, bad[i]);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void write_tables(const struct tmpdir *d, const struct tables *t)
{
	write_file(d, "xsdt.dat", t->xsdt, rd32(t->xsdt, 4));
	write_file(d, "facp.dat", t->fadt, rd32(t->fadt, 4));
	write_file(d, "apic.dat", t->madt, rd32(t->madt, 4));
	write_file(d, "mcfg.dat", t->mcfg, rd32(t->mcfg, 4));
	write_file(d, "dsdt.dat", t->dsdt, rd32(t->dsdt, 4));
}

static void check_disassembly(const struct tmpdir *d, const struct combo *c)
{
	char *facp = read_file(d, "facp.dsl"), *apic = read_file(d, "apic.dsl");
	char *xsdt = read_file(d, "xsdt.dsl"), *dsdt = read_file(d, "dsdt.dsl");
	char *mcfg = read_file(d, "mcfg.dsl");
	char line[128];

	assert_clean(facp);
	assert_clean(apic);
	assert_clean(xsdt);
	assert_clean(dsdt);
	assert_clean(mcfg);
	assert_contains(facp, "Hardware Reduced (V5) : 1");
	assert_contains(facp, "Reset Register Supported (V2) : 1");
	assert_contains(facp, "8042 Present on ports 60/64 (V2) : 0");
	assert_contains(facp, "CMOS RTC Not Present (V5) : 1");
	assert_int_equal(count(apic, "[Processor Local APIC]") +
				 count(apic, "[Processor Local x2APIC]"),
			 c->max_cpus);
	assert_int_equal(count(apic, "Processor Enabled : 1"), c->cpus);
	assert_int_equal(count(apic, "[I/O APIC]"), 1);
	assert_int_equal(count(xsdt, "ACPI Table Address"), 3);
	assert_contains(dsdt, "Device (GED0)");
	assert_contains(dsdt, "Method (_EVT, 1, Serialized)");
	assert_contains(dsdt, "Device (PCI0)");
	assert_contains(dsdt, "Name (_PRT, Package (0x80)");
	assert_contains(mcfg, "[Memory Mapped Configuration table]");
	snprintf(line, sizeof(line), "Base Address : %016llX",
		 (unsigned long long)VIRT_PCI_ECAM_BASE);
	assert_contains(mcfg, line);
	assert_contains(mcfg, "Segment Group Number : 0000");
	assert_contains(mcfg, "Start Bus Number : 00");
	snprintf(line, sizeof(line), "End Bus Number : %02X", VIRT_PCI_BUS_MAX);
	assert_contains(mcfg, line);
	free(mcfg);
	free(facp);
	free(apic);
	free(xsdt);
	free(dsdt);
}

/* iasl 20200925 cannot detect a raw RSDP file, so the RSDP is left to check_rsdp(). */
static void test_iasl_disassembles(void **state)
{
	const struct combo *c = *state;
	struct tables t;
	struct tmpdir d;
	char *out;
	int st;

	build(&t, c->cpus, c->max_cpus);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = run(&d, "iasl -d xsdt.dat facp.dat apic.dat mcfg.dat dsdt.dat", &st);
	assert_int_equal(st, 0);
	assert_clean(out);
	assert_int_equal(count(out, "appears to be a valid ACPI table"), 5);
	free(out);
	check_disassembly(&d, c);
	tmpdir_remove(&d);
}

/* acpiexec loads our FADT, DSDT and MADT (not the XSDT: it would map the
 * guest addresses in it) and evaluates methods. Its SystemMemory regions are
 * simulated, filled with the byte given by -fv: that is what _EVT reads. */
static char *acpiexec(const struct tmpdir *d, const char *fill, const char *cmds)
{
	char *cmd, *out;
	int st;

	assert_true(asprintf(&cmd, "acpiexec -fv %s -b '%s' facp.dat dsdt.dat apic.dat", fill,
			     cmds) > 0);
	out = run(d, cmd, &st);
	free(cmd);
	assert_int_equal(st, 0);
	assert_clean(out);
	assert_contains(out, "FACP"); /* ours, not acpiexec's built-in one */
	assert_contains(out, "000114 (v06 WISP ");
	return out;
}

static void check_crs(const char *out)
{
	char io[64], com1_irq[64], ged_irq[64];

	/* IO descriptor, then Extended Interrupt (consumer, edge, high, exclusive). */
	snprintf(io, sizeof(io), "47 01 %02X %02X %02X %02X 01 %02X", VIRT_PORT_COM1 & 0xFF,
		 VIRT_PORT_COM1 >> 8, VIRT_PORT_COM1 & 0xFF, VIRT_PORT_COM1 >> 8,
		 VIRT_PORT_COM1_SIZE);
	snprintf(com1_irq, sizeof(com1_irq), "89 06 00 03 01 %02X 00 00", VIRT_GSI_COM1);
	snprintf(ged_irq, sizeof(ged_irq), "89 06 00 03 01 %02X 00 00 00 79 00", VIRT_GSI_GED);
	assert_contains(out, io);
	assert_contains(out, com1_irq);
	assert_contains(out, ged_irq);
}

static void test_acpiexec_methods(void **state)
{
	struct tables t;
	struct tmpdir d;
	char *out;

	(void)state;
	build(&t, 2, 4);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = acpiexec(&d, "0",
		       "evaluate \\_S5; evaluate \\_SB.COM1._CRS; "
		       "evaluate \\_SB.GED0._CRS; evaluate \\_SB.COM1._STA; "
		       "evaluate \\_SB.PWRB._STA; evaluate \\_SB.GED0._STA");
	assert_contains(out, "Evaluation of \\_S5 returned object");
	assert_contains(out, "[Package] Contains 4 Elements:\n    [Integer] = 0000000000000005");
	assert_int_equal(count(out, "[Integer] = 000000000000000F"), 2);
	assert_int_equal(count(out, "[Integer] = 000000000000000B"), 1);
	check_crs(out);
	free(out);
	tmpdir_remove(&d);
}

/* _EVT notifies the power button iff the selector has GED_EVT_PWR_DOWN. */
static void test_acpiexec_ged_event(void **state)
{
	char evt[64], fill[8];
	struct tables t;
	struct tmpdir d;
	char *out;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	snprintf(evt, sizeof(evt), "evaluate \\_SB.GED0._EVT %d", VIRT_GSI_GED);
	snprintf(fill, sizeof(fill), "%d", GED_EVT_PWR_DOWN);
	out = acpiexec(&d, fill, evt);
	assert_contains(out, "Received a Device Notify on [PWRB]");
	assert_contains(out, "Value 0x80");
	free(out);
	snprintf(fill, sizeof(fill), "%d", GED_EVT_CPU_HOTPLUG | GED_EVT_MEM_HOTPLUG);
	out = acpiexec(&d, fill, evt);
	assert_contains(out, "Evaluating \\_SB.GED0._EVT");
	assert_lacks(out, "Device Notify");
	free(out);
	tmpdir_remove(&d);
}

/* S5 goes through the FADT's sleep control register (hardware-reduced path).
 * acpiexec then polls the sleep status register for WAK_STS forever, so it is
 * stopped by timeout once it has said what it did. */
static void test_acpiexec_sleep_s5(void **state)
{
	struct tables t;
	struct tmpdir d;
	char *out;
	int st;

	(void)state;
	build(&t, 1, 2);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = run(&d, "timeout 2 stdbuf -o0 acpiexec -b 'sleep 5' facp.dat dsdt.dat apic.dat", &st);
	assert_lacks(out, "Error");
	assert_lacks(out, "Warning");
	assert_contains(out, "Register values for sleep state S5: Sleep-A: 05");
	assert_contains(out, "HwExtendedSleep");
	assert_contains(out, "Entering sleep state [S5]");
	free(out);
	tmpdir_remove(&d);
}

/* ---- The PCI host bridge in the DSDT ---- */

/* ToUUID() byte order: the first three fields little-endian, the rest as written. */
#define PCI_HOST_UUID "(5b 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66)"     /* 33DB4D5B-... */
#define PCI_DSM_UUID "(d0 37 c9 e5 53 35 7a 4d 91 17 ea 4d 19 c3 43 4d)"      /* E5C937D0-... */
#define PLATFORM_OSC_UUID "(6e b0 11 08 27 4a f9 44 8d 60 3c bb c2 2e 7b 48)" /* 0811B06E-... */
#define OSC_PATH "\\_SB.PCI0._OSC"
#define DSM_PATH "\\_SB.PCI0._DSM"
#define OSC_QUERY 0x01u
#define OSC_FAILURE 0x02u
#define OSC_BAD_UUID 0x04u
#define OSC_BAD_REVISION 0x08u
#define OSC_MASKED 0x10u
#define OSC_SUPPORT_LINUX 0x11Fu /* ExtConfig ASPM ClockPM Segments MSI HPX-Type3 */
#define OSC_CTRL_HOTPLUG 0x01u
#define OSC_CTRL_SHPC 0x02u
#define OSC_CTRL_PME 0x04u
#define OSC_CTRL_AER 0x08u
#define OSC_CTRL_PCIE_CAP 0x10u
#define OSC_CTRL_LTR 0x20u
#define OSC_CTRL_DPC 0x80u
#define OSC_CTRL_GRANTED                                                                           \
	(OSC_CTRL_HOTPLUG | OSC_CTRL_PME | OSC_CTRL_AER | OSC_CTRL_PCIE_CAP | OSC_CTRL_LTR)
/* What Linux 6.1 asks for when built with CONFIG_PCIE_EDR (Debian's: no DPC). */
#define OSC_CTRL_LINUX (OSC_CTRL_GRANTED | OSC_CTRL_SHPC | OSC_CTRL_DPC)

/* "(b0 b1 ...)": @len bytes as an acpiexec buffer argument. */
static void buffer_arg(char *out, size_t size, const uint8_t *p, size_t len)
{
	size_t n = 0;

	n += snprintf(out + n, size - n, "(");
	for (size_t i = 0; i < len; i++)
		n += snprintf(out + n, size - n, i ? " %02x" : "%02x", p[i]);
	snprintf(out + n, size - n, ")");
}

/* How acpiexec prints a returned buffer of at most 16 bytes. */
static void buffer_result(char *out, size_t size, const uint8_t *p, size_t len)
{
	size_t n = snprintf(out, size, "[Buffer] Length %02zX =     0000:", len);

	for (size_t i = 0; i < len; i++)
		n += snprintf(out + n, size - n, " %02X", p[i]);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The line after the next "Evaluation of @path returned object" in *@p. */
static const char *next_result(const char **p, const char *path)
{
	char what[128];
	const char *r;

	snprintf(what, sizeof(what), "Evaluation of %s returned object", path);
	r = strstr(*p, what);
	if (!r)
		fail_text("expected another \"", what, *p);
	r = strchr(r, '\n');
	assert_non_null(r);
	r++;
	while (*r == ' ')
		r++;
	*p = r;
	return r;
}

static void expect_result(const char **p, const char *path, const char *want)
{
	const char *r = next_result(p, path);

	if (strncmp(r, want, strlen(want)))
		fail_text("expected result \"", want, r);
}

/* One _OSC call: its arguments and the buffer it must return (DWORDs 1-3, as
 * far as len goes). */
struct osc_case {
	const char *uuid;
	int rev, count;
	size_t len; /* bytes of Arg3 */
	uint32_t in1, in2, in3, out1, out2, out3;
};

/* DWORDs 1-3 as the bytes of a capabilities buffer. */
static void osc_bytes(uint8_t b[12], uint32_t d1, uint32_t d2, uint32_t d3)
{
	put32(b, d1);
	put32(b + 4, d2);
	put32(b + 8, d3);
}

static const struct osc_case osc_cases[] = {
	/* Debian's Linux 6.1 queries: SHPC masked, the rest granted. */
	{PCI_HOST_UUID, 1, 3, 12, OSC_QUERY, OSC_SUPPORT_LINUX, OSC_CTRL_GRANTED | OSC_CTRL_SHPC,
	 OSC_QUERY | OSC_MASKED, OSC_SUPPORT_LINUX, OSC_CTRL_GRANTED},
	/* With CONFIG_PCIE_EDR: SHPC and DPC masked. */
	{PCI_HOST_UUID, 1, 3, 12, OSC_QUERY, OSC_SUPPORT_LINUX, OSC_CTRL_LINUX,
	 OSC_QUERY | OSC_MASKED, OSC_SUPPORT_LINUX, OSC_CTRL_GRANTED},
	/* ...then its commit of what was granted: no error at all. */
	{PCI_HOST_UUID, 1, 3, 12, 0, OSC_SUPPORT_LINUX, OSC_CTRL_GRANTED, 0, OSC_SUPPORT_LINUX,
	 OSC_CTRL_GRANTED},
	/* A subset is granted as asked, in a query or not. */
	{PCI_HOST_UUID, 1, 3, 12, 0, 0, OSC_CTRL_PCIE_CAP | OSC_CTRL_AER, 0, 0,
	 OSC_CTRL_PCIE_CAP | OSC_CTRL_AER},
	{PCI_HOST_UUID, 1, 3, 12, OSC_QUERY, 0x1F, OSC_CTRL_HOTPLUG, OSC_QUERY, 0x1F,
	 OSC_CTRL_HOTPLUG},
	/* Asking for nothing masks nothing. */
	{PCI_HOST_UUID, 1, 3, 12, 0, OSC_SUPPORT_LINUX, 0, 0, OSC_SUPPORT_LINUX, 0},
	/* Every bit, reserved ones too: a commit that gets masked. */
	{PCI_HOST_UUID, 1, 3, 12, 0, 0xFFFFFFFF, 0xFFFFFFFF, OSC_MASKED, 0xFFFFFFFF,
	 OSC_CTRL_GRANTED},
	{PCI_HOST_UUID, 1, 3, 12, OSC_QUERY, 0, OSC_CTRL_SHPC, OSC_QUERY | OSC_MASKED, 0, 0},
	/* Error bits (and reserved ones) passed in are not echoed back. */
	{PCI_HOST_UUID, 1, 3, 12, 0xFFFFFFFF, 0, OSC_CTRL_PME, OSC_QUERY, 0, OSC_CTRL_PME},
	/* A UUID that is not the PCI host bridge's: nothing else is touched. */
	{PLATFORM_OSC_UUID, 1, 3, 12, OSC_QUERY, 0x1F, OSC_CTRL_LINUX, OSC_QUERY | OSC_BAD_UUID,
	 0x1F, OSC_CTRL_LINUX},
	{PCI_DSM_UUID, 1, 3, 12, 0, 0x1F, 0xFF, OSC_BAD_UUID, 0x1F, 0xFF},
	/* Revision 1 is the only one. */
	{PCI_HOST_UUID, 2, 3, 12, OSC_QUERY, 0x1F, OSC_CTRL_LINUX, OSC_QUERY | OSC_BAD_REVISION,
	 0x1F, OSC_CTRL_LINUX},
	{PCI_HOST_UUID, 0, 3, 12, 0, 0x1F, OSC_CTRL_LINUX, OSC_BAD_REVISION, 0x1F, OSC_CTRL_LINUX},
	/* Too few DWORDs, by count or by buffer: _OSC failure. */
	{PCI_HOST_UUID, 1, 2, 8, OSC_QUERY, 0x1F, 0, OSC_QUERY | OSC_FAILURE, 0x1F, 0},
	{PCI_HOST_UUID, 1, 3, 8, 0, 0x1F, 0, OSC_FAILURE, 0x1F, 0},
	{PCI_HOST_UUID, 1, 2, 12, 0, 0x1F, OSC_CTRL_LINUX, OSC_FAILURE, 0x1F, OSC_CTRL_LINUX},
	/* No room even for DWORD 1: returned as it came. */
	{PCI_HOST_UUID, 1, 1, 2, 0xCDAB, 0, 0, 0xCDAB, 0, 0},
};

/* acpiexec refuses a -b command line over 1023 characters. */
#define ACPIEXEC_LINE_MAX 1023

static void test_acpiexec_pci_osc(void **state)
{
	size_t n = sizeof(osc_cases) / sizeof(osc_cases[0]), done = 0;
	char cmds[ACPIEXEC_LINE_MAX + 1], one[256], arg[128], want[128];
	struct tables t;
	struct tmpdir d;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	/* As many calls per acpiexec run as its command line holds. */
	while (done < n) {
		size_t first = done, used = 0;
		const char *p;
		char *out;

		for (; done < n; done++) {
			const struct osc_case *c = &osc_cases[done];
			uint8_t b[12];
			int len;

			osc_bytes(b, c->in1, c->in2, c->in3);
			buffer_arg(arg, sizeof(arg), b, c->len);
			len = snprintf(one, sizeof(one), "%sevaluate %s %s %d %d %s",
				       used ? "; " : "", OSC_PATH, c->uuid, c->rev, c->count, arg);
			if (used + len > ACPIEXEC_LINE_MAX)
				break;
			memcpy(cmds + used, one, len + 1);
			used += len;
		}
		assert_true(done > first);
		out = acpiexec(&d, "0", cmds);
		p = out;
		for (size_t i = first; i < done; i++) {
			const struct osc_case *c = &osc_cases[i];
			uint8_t b[12];

			osc_bytes(b, c->out1, c->out2, c->out3);
			buffer_result(want, sizeof(want), b, c->len);
			expect_result(&p, OSC_PATH, want);
		}
		free(out);
	}
	tmpdir_remove(&d);
}

/* Function 0 lists 0 and 5; function 5 returns Integer 0 (keep the BARs). */
static void test_acpiexec_pci_dsm(void **state)
{
	static const char *const cmds = "evaluate " DSM_PATH " " PCI_DSM_UUID " 1 0 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 1 5 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 2 0 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 3 5 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 0 0 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 0 5 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 1 7 [ ]; "
					"evaluate " DSM_PATH " " PCI_DSM_UUID " 1 8 [ ]; "
					"evaluate " DSM_PATH " " PCI_HOST_UUID " 1 0 [ ]; "
					"evaluate " DSM_PATH " " PCI_HOST_UUID " 1 5 [ ]";
	static const char *const want[] = {
		"[Buffer] Length 01 =     0000: 21", "[Integer] = 0000000000000000",
		"[Buffer] Length 01 =     0000: 21", "[Integer] = 0000000000000000",
		"[Buffer] Length 01 =     0000: 00", "[Buffer] Length 01 =     0000: 00",
		"[Buffer] Length 01 =     0000: 00", "[Buffer] Length 01 =     0000: 00",
		"[Buffer] Length 01 =     0000: 00", "[Buffer] Length 01 =     0000: 00",
	};
	const char *p;
	struct tables t;
	struct tmpdir d;
	char *out;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = acpiexec(&d, "0", cmds);
	p = out;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_result(&p, DSM_PATH, want[i]);
	free(out);
	tmpdir_remove(&d);
}

/* acpiexec's "resources" runs _PRT and _CRS through ACPICA's own routing
 * table and resource code, the one Linux uses. It then tries _SRS, which we
 * do not have: that line is expected and blanked before the output is judged. */
static char *acpiexec_resources(const struct tmpdir *d, const char *dev)
{
	static const char srs[] = "AcpiSetCurrentResources failed: AE_NOT_FOUND";
	char cmd[256], *out, *s;
	int st;

	snprintf(cmd, sizeof(cmd), "acpiexec -b 'resources %s' facp.dat dsdt.dat apic.dat", dev);
	out = run(d, cmd, &st);
	assert_int_equal(st, 0);
	while ((s = strstr(out, srs)))
		memset(s, ' ', sizeof(srs) - 1);
	assert_clean(out);
	return out;
}

/* The text from @from up to @to (or the end), as a new string. */
static char *section(const char *hay, const char *from, const char *to)
{
	const char *a = strstr(hay, from), *b;
	char *s;

	if (!a)
		fail_text("expected \"", from, hay);
	b = to ? strstr(a, to) : NULL;
	if (!b)
		b = a + strlen(a);
	s = strndup(a, (size_t)(b - a));
	assert_non_null(s);
	return s;
}

static void check_address_space(const char *sec, const char *type)
{
	assert_contains(sec, type);
	assert_contains(sec, "Consumer/Producer : ResourceProducer");
	assert_contains(sec, "Address Decode : PosDecode");
	assert_contains(sec, "Min Relocatability : MinFixed");
	assert_contains(sec, "Max Relocatability : MaxFixed");
}

/* _CRS: bus numbers 0..VIRT_PCI_BUS_MAX, the two windows, nothing else. */
static void check_pci_crs(const char *out)
{
	char line[128], *crs = section(out, "Evaluating _CRS", "Resource Conversion Comparison");
	char *sec;

	sec = section(crs, "[00] 16-Bit WORD Address Space Resource", "[01]");
	check_address_space(sec, "Resource Type : Bus Number Range");
	assert_contains(sec, "Address Minimum : 0000");
	snprintf(line, sizeof(line), "Address Maximum : %04X", VIRT_PCI_BUS_MAX);
	assert_contains(sec, line);
	snprintf(line, sizeof(line), "Address Length : %04X", VIRT_PCI_BUS_MAX + 1);
	assert_contains(sec, line);
	assert_contains(sec, "Translation Offset : 0000");
	free(sec);

	sec = section(crs, "[01] 32-Bit DWORD Address Space Resource", "[02]");
	check_address_space(sec, "Resource Type : Memory Range");
	assert_contains(sec, "Caching : NonCacheable");
	assert_contains(sec, "Write Protect : ReadWrite");
	snprintf(line, sizeof(line), "Address Minimum : %08X", VIRT_PCI_MMIO32_BASE);
	assert_contains(sec, line);
	snprintf(line, sizeof(line), "Address Maximum : %08X",
		 VIRT_PCI_MMIO32_BASE + VIRT_PCI_MMIO32_SIZE - 1);
	assert_contains(sec, line);
	snprintf(line, sizeof(line), "Address Length : %08X", VIRT_PCI_MMIO32_SIZE);
	assert_contains(sec, line);
	assert_contains(sec, "Translation Offset : 00000000");
	free(sec);

	sec = section(crs, "[02] 64-Bit QWORD Address Space Resource", "[03]");
	check_address_space(sec, "Resource Type : Memory Range");
	assert_contains(sec, "Caching : NonCacheable");
	assert_contains(sec, "Write Protect : ReadWrite");
	snprintf(line, sizeof(line), "Address Minimum : %016llX",
		 (unsigned long long)VIRT_PCI_MMIO64_BASE);
	assert_contains(sec, line);
	snprintf(line, sizeof(line), "Address Maximum : %016llX",
		 (unsigned long long)(VIRT_PCI_MMIO64_BASE + VIRT_PCI_MMIO64_SIZE - 1));
	assert_contains(sec, line);
	snprintf(line, sizeof(line), "Address Length : %016llX",
		 (unsigned long long)VIRT_PCI_MMIO64_SIZE);
	assert_contains(sec, line);
	assert_contains(sec, "Translation Offset : 0000000000000000");
	free(sec);

	/* No I/O window, nothing after the end tag. (Debug lines above the
	 * decoded list say "[04]" too, hence the newline.) */
	assert_contains(crs, "\n[03] EndTag Resource");
	assert_lacks(crs, "I/O");
	assert_lacks(crs, "\n[04]");
	free(crs);
}

/* _PRT: every slot and pin of bus 0, in order, straight to GSI 16 + (s + p) % 4. */
static void check_pci_prt(const char *out)
{
	const char *p = strstr(out, "Evaluating _PRT");
	char head[64];

	assert_non_null(p);
	for (unsigned int i = 0; i < 128; i++) {
		unsigned int slot = i / 4, pin = i % 4, got_pin, gsi;
		unsigned long long addr;

		snprintf(head, sizeof(head), "[%02X] PCI IRQ Routing Table Package", i);
		p = strstr(p, head);
		if (!p)
			fail_text("expected \"", head, out);
		assert_int_equal(
			sscanf(p + strlen(head), " Address : %llx Pin : %x", &addr, &got_pin), 2);
		assert_int_equal(addr, (unsigned long long)slot << 16 | 0xFFFF);
		assert_int_equal(got_pin, pin);
		p = strstr(p, "Source : ");
		assert_non_null(p);
		assert_int_equal(strncmp(p, "Source : [NULL NAMESTRING]", 26), 0);
		p = strstr(p, "Source Index : ");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "Source Index : %x", &gsi), 1);
		assert_int_equal(gsi, VIRT_GSI_PCI_INTA + (slot + pin) % 4);
	}
	assert_lacks(out, "[80] PCI IRQ Routing Table Package");
}

static void test_acpiexec_pci_resources(void **state)
{
	struct tables t;
	struct tmpdir d;
	char *out;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = acpiexec_resources(&d, "\\_SB.PCI0");
	check_pci_crs(out);
	check_pci_prt(out);
	free(out);
	tmpdir_remove(&d);
}

/* What Linux's acpi_pci_root_add() reads, the raw _PRT and the ECAM reservation. */
static void test_acpiexec_pci_objects(void **state)
{
	uint8_t res0[14] = {0x86, 0x09, 0x00, 0x01, [12] = 0x79, 0x00};
	char line[128], *out;
	const char *p;
	struct tables t;
	struct tmpdir d;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = acpiexec(&d, "0",
		       "evaluate \\_SB.PCI0._HID; evaluate \\_SB.PCI0._CID; "
		       "evaluate \\_SB.PCI0._SEG; evaluate \\_SB.PCI0._BBN; "
		       "evaluate \\_SB.PCI0._UID; evaluate \\_SB.PCI0._PRT; "
		       "evaluate \\_SB.RES0._HID; evaluate \\_SB.RES0._CRS");
	p = out;
	expect_result(&p, "\\_SB.PCI0._HID", "[Integer] = 00000000080AD041"); /* PNP0A08 */
	expect_result(&p, "\\_SB.PCI0._CID", "[Integer] = 00000000030AD041"); /* PNP0A03 */
	expect_result(&p, "\\_SB.PCI0._SEG", "[Integer] = 0000000000000000");
	expect_result(&p, "\\_SB.PCI0._BBN", "[Integer] = 0000000000000000");
	expect_result(&p, "\\_SB.PCI0._UID", "[Integer] = 0000000000000000");
	expect_result(&p, "\\_SB.PCI0._PRT", "[Package] Contains 128 Elements:");
	assert_int_equal(count(out, "[Package] Contains 4 Elements:"), 128);
	expect_result(&p, "\\_SB.RES0._HID", "[Integer] = 00000000020CD041"); /* PNP0C02 */
	/* Memory32Fixed, read/write, the ECAM; then the end tag. */
	put32(res0 + 4, VIRT_PCI_ECAM_BASE);
	put32(res0 + 8, VIRT_PCI_ECAM_SIZE);
	buffer_result(line, sizeof(line), res0, sizeof(res0));
	expect_result(&p, "\\_SB.RES0._CRS", line);
	free(out);
	tmpdir_remove(&d);
}

/* Disassembling our DSDT and compiling the result gives back the same bytes,
 * with no error, warning or remark on either side. */
static void test_iasl_round_trip(void **state)
{
	struct tables t;
	struct tmpdir d;
	char *out, *aml;
	FILE *f;
	char path[PATH_MAX + 64];
	int st;

	(void)state;
	build(&t, 1, 1);
	tmpdir_make(&d);
	write_tables(&d, &t);
	out = run(&d, "iasl -d dsdt.dat", &st);
	assert_int_equal(st, 0);
	assert_clean(out);
	free(out);
	out = run(&d, "iasl -p rt dsdt.dsl", &st);
	assert_int_equal(st, 0);
	assert_contains(out, "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks");
	free(out);
	snprintf(path, sizeof(path), "%s/rt.aml", d.path);
	f = fopen(path, "rb");
	assert_non_null(f);
	aml = slurp(f);
	fclose(f);
	assert_memory_equal(aml, t.dsdt, rd32(t.dsdt, 4));
	free(aml);
	tmpdir_remove(&d);
}

static struct combo combos[] = {
	{1, 1},	    {2, 2},	{1, 4},
	{4, 16},    {254, 254}, {255, 255},
	{256, 256}, {100, 300}, {288, MAX_TEST_CPUS},
};

/* One test per (cpus, max_cpus) pair, named after it. */
#define COMBO_TEST(fn, i, label)                                                                   \
	{                                                                                          \
		.name = #fn " " label, .test_func = fn, .initial_state = &combos[i]                \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		COMBO_TEST(test_layout, 0, "1/1"),
		COMBO_TEST(test_layout, 1, "2/2"),
		COMBO_TEST(test_layout, 2, "1/4"),
		COMBO_TEST(test_layout, 3, "4/16"),
		COMBO_TEST(test_layout, 4, "254/254"),
		COMBO_TEST(test_layout, 5, "255/255"),
		COMBO_TEST(test_layout, 6, "256/256"),
		COMBO_TEST(test_layout, 7, "100/300"),
		COMBO_TEST(test_layout, 8, "288/4096"),
		cmocka_unit_test(test_gpa_is_honoured),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_madt_sparse_apic_ids),
		cmocka_unit_test(test_exact_size),
		COMBO_TEST(test_iasl_disassembles, 0, "1/1"),
		COMBO_TEST(test_iasl_disassembles, 2, "1/4"),
		COMBO_TEST(test_iasl_disassembles, 7, "100/300"),
		cmocka_unit_test(test_acpiexec_methods),
		cmocka_unit_test(test_acpiexec_ged_event),
		cmocka_unit_test(test_acpiexec_sleep_s5),
		cmocka_unit_test(test_acpiexec_pci_objects),
		cmocka_unit_test(test_acpiexec_pci_resources),
		cmocka_unit_test(test_acpiexec_pci_osc),
		cmocka_unit_test(test_acpiexec_pci_dsm),
		cmocka_unit_test(test_iasl_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
