/* The 16550 UART at 0x3f8 as the firmware's console. CPL0; every access is a port exit,
 * so output does not poll the line status (wisp's and QEMU's UARTs never back-pressure). */
#include "fw.h"

#define COM1 0x3f8
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR 0x01

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80); /* divisor latch: 115200 baud */
	outb(COM1 + UART_RBR, 1);
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07);
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no interrupts */
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			outb(COM1, '\r');
		outb(COM1, s[i]);
	}
}

int serial_getc(void)
{
	uint8_t lsr = inb(COM1 + UART_LSR);

	if (lsr == 0xff || !(lsr & LSR_DR)) /* 0xff: no UART there */
		return -1;
	return inb(COM1 + UART_RBR);
}
