/* Helpers for the EFI test applications (see efitest.h). Runs at CPL0 inside the
 * firmware under test; general registers only. */
#include "efitest.h"

EFI_SYSTEM_TABLE *ST;
EFI_BOOT_SERVICES *BS;
EFI_RUNTIME_SERVICES *RT;
EFI_HANDLE IMAGE;
static const char *test_name;
static int failures;
static bool raw_console;

void *t_memset(void *d, int c, UINTN n)
{
	UINT8 *p = d;

	while (n--)
		*p++ = (UINT8)c;
	return d;
}

void *t_memcpy(void *d, const void *s, UINTN n)
{
	UINT8 *p = d;
	const UINT8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int t_memcmp(const void *a, const void *b, UINTN n)
{
	const UINT8 *x = a, *y = b;

	for (UINTN i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

/* The compiler may emit calls to these for structure copies. */
void *memset(void *d, int c, __SIZE_TYPE__ n);
void *memcpy(void *d, const void *s, __SIZE_TYPE__ n);
void *memset(void *d, int c, __SIZE_TYPE__ n)
{
	return t_memset(d, c, n);
}
void *memcpy(void *d, const void *s, __SIZE_TYPE__ n)
{
	return t_memcpy(d, s, n);
}

bool t_guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return !t_memcmp(a, b, sizeof(*a));
}

UINT8 t_sum(const void *p, UINTN n)
{
	UINT8 s = 0;

	for (UINTN i = 0; i < n; i++)
		s += ((const UINT8 *)p)[i];
	return s;
}

void *t_table(const EFI_GUID *guid)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (t_guid_eq(&ST->ConfigurationTable[i].VendorGuid, guid))
			return ST->ConfigurationTable[i].VendorTable;
	return NULL;
}

static void put_num(char *buf, UINTN *n, UINT64 v, unsigned int base)
{
	char tmp[24];
	int k = 0;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (k && *n < 250)
		buf[(*n)++] = tmp[--k];
}

static void emit(const char *buf, UINTN n)
{
	CHAR16 w[260];
	UINTN k = 0;

	if (raw_console) {
		for (UINTN i = 0; i < n; i++) {
			if (buf[i] == '\n')
				t_outb(0x3f8, '\r');
			t_outb(0x3f8, (UINT8)buf[i]);
		}
		return;
	}
	for (UINTN i = 0; i < n; i++) {
		if (buf[i] == '\n')
			w[k++] = '\r';
		w[k++] = (UINT8)buf[i];
	}
	w[k] = 0;
	ST->ConOut->OutputString(ST->ConOut, w);
}

void t_print(const char *fmt, ...)
{
	char buf[256];
	UINTN n = 0;
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt && n < 250; fmt++) {
		bool l = false;

		if (*fmt != '%') {
			buf[n++] = *fmt;
			continue;
		}
		if (*++fmt == 'l')
			l = true, fmt++;
		switch (*fmt) {
		case 's':
			for (const char *s = va_arg(ap, const char *); *s && n < 250; s++)
				buf[n++] = *s;
			break;
		case 'c':
			buf[n++] = (char)va_arg(ap, int);
			break;
		case 'd': {
			long v = l ? va_arg(ap, long) : va_arg(ap, int);

			if (v < 0)
				buf[n++] = '-', v = -v;
			put_num(buf, &n, (UINT64)v, 10);
			break;
		}
		case 'u':
			put_num(buf, &n, l ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				10);
			break;
		case 'x':
			put_num(buf, &n, l ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				16);
			break;
		case 'p':
			put_num(buf, &n, (UINT64)(UINTN)va_arg(ap, void *), 16);
			break;
		default:
			buf[n++] = '?';
		}
	}
	va_end(ap);
	emit(buf, n);
}

void t_no_console(void)
{
	raw_console = true;
}

void t_init(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, const char *name)
{
	IMAGE = image;
	ST = st;
	BS = st->BootServices;
	RT = st->RuntimeServices;
	test_name = name;
	t_print("WISP-EFI START %s\n", name);
}

bool t_check_at(bool ok, const char *what, int line)
{
	if (!ok) {
		failures++;
		t_print("  FAIL line %d: %s\n", line, what);
	}
	return ok;
}

bool t_status_at(EFI_STATUS got, EFI_STATUS want, const char *what, int line)
{
	if (got != want) {
		failures++;
		t_print("  FAIL line %d: %s: status %lx, want %lx\n", line, what,
			(unsigned long)got, (unsigned long)want);
	}
	return got == want;
}

void t_finish(void)
{
	t_print("WISP-EFI %s %s", failures ? "FAIL" : "PASS", test_name);
	if (failures)
		t_print(" (%d failures)", failures);
	t_print("\n");
	t_outb(0xf4, failures ? 0x11 : 0x10);
	RT->ResetSystem(EfiResetShutdown, failures ? EFI_ABORTED : EFI_SUCCESS, 0, NULL);
	for (;;)
		__asm__ volatile("hlt");
}
