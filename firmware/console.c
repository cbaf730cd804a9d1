/* SimpleTextOutput and SimpleTextInput on the serial port, one console handle for
 * ConIn, ConOut and StdErr. Boot services time. Output is UCS-2 narrowed to ASCII
 * (anything else prints as '?'); input knows plain bytes and ESC [ A..D arrows. */
#include "fw.h"

static SIMPLE_TEXT_OUTPUT_MODE out_mode = {
	.MaxMode = 1, .Attribute = EFI_LIGHTGRAY, .CursorVisible = 1};
static SIMPLE_TEXT_OUTPUT_INTERFACE con_out;
static SIMPLE_INPUT_INTERFACE con_in;
static const EFI_GUID out_guid = EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL_GUID;
static const EFI_GUID in_guid = EFI_SIMPLE_TEXT_INPUT_PROTOCOL_GUID;

static void puts_ascii(const char *s)
{
	serial_write(s, strlen(s));
}

static EFI_STATUS EFIAPI out_reset(SIMPLE_TEXT_OUTPUT_INTERFACE *this, BOOLEAN ext)
{
	out_mode.CursorColumn = out_mode.CursorRow = 0;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_string(SIMPLE_TEXT_OUTPUT_INTERFACE *this, CHAR16 *s)
{
	char buf[128];
	size_t n = 0;

	if (!s)
		return EFI_INVALID_PARAMETER;
	for (; *s; s++) {
		char c = *s < 0x80 ? (char)*s : '?';

		if (c == '\n')
			out_mode.CursorRow++;
		else if (c == '\r')
			out_mode.CursorColumn = 0;
		else
			out_mode.CursorColumn++;
		buf[n++] = c;
		if (n == sizeof(buf)) {
			/* raw: the image sends its own \r\n */
			for (size_t i = 0; i < n; i++)
				outb(0x3f8, buf[i]);
			n = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		outb(0x3f8, buf[i]);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_test(SIMPLE_TEXT_OUTPUT_INTERFACE *this, CHAR16 *s)
{
	for (; s && *s; s++)
		if (*s >= 0x80)
			return EFI_UNSUPPORTED;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_query_mode(SIMPLE_TEXT_OUTPUT_INTERFACE *this, UINTN mode, UINTN *cols,
					UINTN *rows)
{
	if (mode != 0)
		return EFI_UNSUPPORTED;
	if (!cols || !rows)
		return EFI_INVALID_PARAMETER;
	*cols = 80;
	*rows = 25;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_set_mode(SIMPLE_TEXT_OUTPUT_INTERFACE *this, UINTN mode)
{
	return mode == 0 ? EFI_SUCCESS : EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI out_set_attribute(SIMPLE_TEXT_OUTPUT_INTERFACE *this, UINTN attr)
{
	if (attr > 0x7f)
		return EFI_UNSUPPORTED;
	out_mode.Attribute = (INT32)attr;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_clear(SIMPLE_TEXT_OUTPUT_INTERFACE *this)
{
	puts_ascii("\033[2J\033[H");
	out_mode.CursorColumn = out_mode.CursorRow = 0;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_set_cursor(SIMPLE_TEXT_OUTPUT_INTERFACE *this, UINTN col, UINTN row)
{
	char buf[32];

	if (col >= 80 || row >= 25)
		return EFI_UNSUPPORTED;
	snprintf(buf, sizeof(buf), "\033[%u;%uH", (unsigned int)row + 1, (unsigned int)col + 1);
	puts_ascii(buf);
	out_mode.CursorColumn = (INT32)col;
	out_mode.CursorRow = (INT32)row;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI out_enable_cursor(SIMPLE_TEXT_OUTPUT_INTERFACE *this, BOOLEAN on)
{
	out_mode.CursorVisible = on;
	return EFI_SUCCESS;
}

static int pending = -1; /* a byte read while checking for a key, not yet consumed */

static int next_byte(void)
{
	int c = pending;

	if (c >= 0) {
		pending = -1;
		return c;
	}
	return serial_getc();
}

static EFI_STATUS EFIAPI in_reset(SIMPLE_INPUT_INTERFACE *this, BOOLEAN ext)
{
	pending = -1;
	while (serial_getc() >= 0)
		;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI in_read_key(SIMPLE_INPUT_INTERFACE *this, EFI_INPUT_KEY *key)
{
	int c = next_byte();

	if (!key)
		return EFI_INVALID_PARAMETER;
	if (c < 0)
		return EFI_NOT_READY;
	*key = (EFI_INPUT_KEY){SCAN_NULL, (CHAR16)c};
	if (c == 0x7f)
		key->UnicodeChar = CHAR_BACKSPACE;
	if (c == 0x1b) {
		int b = serial_getc(), a = b == '[' ? serial_getc() : -1;

		*key = (EFI_INPUT_KEY){SCAN_ESC, 0};
		if (a >= 'A' && a <= 'D')
			key->ScanCode =
				(UINT16[]){SCAN_UP, SCAN_DOWN, SCAN_RIGHT, SCAN_LEFT}[a - 'A'];
	}
	return EFI_SUCCESS;
}

/* WaitForKey's wait notify: signal when a byte is there. */
static VOID EFIAPI key_check(EFI_EVENT ev, VOID *ctx)
{
	if (pending < 0)
		pending = serial_getc();
	if (pending >= 0)
		efi_signal_event(ev);
}

EFI_STATUS console_install(EFI_SYSTEM_TABLE *st)
{
	EFI_HANDLE h = NULL;
	EFI_STATUS s;

	con_out = (SIMPLE_TEXT_OUTPUT_INTERFACE){
		out_reset,	   out_string, out_test,       out_query_mode,	  out_set_mode,
		out_set_attribute, out_clear,  out_set_cursor, out_enable_cursor, &out_mode};
	con_in.Reset = in_reset;
	con_in.ReadKeyStroke = in_read_key;
	s = efi_create_event(EVT_NOTIFY_WAIT, TPL_NOTIFY, key_check, NULL, &con_in.WaitForKey);
	if (!s)
		s = proto_install(&h, &out_guid, &con_out);
	if (!s)
		s = proto_install(&h, &in_guid, &con_in);
	if (s)
		return s;
	st->ConsoleInHandle = st->ConsoleOutHandle = st->StandardErrorHandle = h;
	st->ConIn = &con_in;
	st->ConOut = st->StdErr = &con_out;
	table_crc(&st->Hdr);
	return EFI_SUCCESS;
}
