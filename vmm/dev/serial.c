/* 16550A UART on COM1: the guest console. Register accesses come from vCPU
 * threads (guest-controlled), input from the event loop; one lock covers both. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chardev.h"
#include "devices.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_IDLE 0xb0 /* DCD, DSR, CTS */
#define RX_SIZE 1024

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_pending; /* THR-empty interrupt condition */
	int level;	  /* current interrupt line */
	uint8_t rx[RX_SIZE];
	unsigned int rx_head, rx_count;
	struct chardev chr;
	serial_irq_fn irq;
	void (*quit)(void *opaque);
	void *opaque;
};

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct serial *s)
{
	int level = !(iir(s) & IIR_NONE) && (s->mcr & 0x08); /* OUT2 gates the line */

	if (level != s->level) {
		s->level = level;
		s->irq(s->opaque, level);
	}
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == RX_SIZE)
		return; /* overrun: drop, as a full FIFO does */
	s->rx[(s->rx_head + s->rx_count++) % RX_SIZE] = c;
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP)
		rx_push(s, c);
	else /* a full socket drops the byte; a blocking terminal or file waits */
		chardev_write(&s->chr, &(struct iovec){&c, 1}, 1);
	s->thr_pending = true;
}

static uint8_t msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_IDLE;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
}

static uint8_t reg_read(struct serial *s, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_SIZE;
		s->rx_count--;
		return v;
	case IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case IIR_FCR:
		v = iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thr_pending = false; /* reading IIR acknowledges THRE */
		return v;
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case MSR:
		return msr(s);
	default:
		return s->scr;
	}
}

static void reg_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thr_pending = true; /* enabling THRE with THR empty interrupts */
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

void serial_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	/* Wider accesses touch only the addressed register, as on the ISA bus. */
	if (is_write) {
		reg_write(s, offset & 7, data[0]);
	} else {
		memset(data, 0, len);
		data[0] = reg_read(s, offset & 7);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_reset(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = s->dlm = 0;
	s->dll = 0x0c; /* 9600 baud */
	s->thr_pending = false;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* Input from the host (event loop, lock held by the backend). */
static void chr_input(void *opaque, const uint8_t *buf, size_t n)
{
	struct serial *s = opaque;

	for (size_t i = 0; i < n; i++)
		rx_push(s, buf[i]);
	update_irq(s);
}

static void chr_quit(void *opaque)
{
	struct serial *s = opaque;

	s->quit(s->opaque);
}

static const struct chardev_ops serial_chardev = {.input = chr_input, .quit = chr_quit};
static const struct chardev_ops serial_chardev_noquit = {.input = chr_input};

struct serial *serial_create(enum serial_kind kind, const char *path, struct evloop *loop,
			     serial_irq_fn irq, void (*quit)(void *opaque), void *opaque, char *err,
			     size_t errlen)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	*s = (struct serial){.irq = irq, .quit = quit, .opaque = opaque, .dll = 0x0c};
	pthread_mutex_init(&s->lock, NULL);
	ret = chardev_open(&s->chr, kind, path,
			   kind == SERIAL_FILE	 ? "-serial file:"
			   : kind == SERIAL_UNIX ? "-serial unix:"
						 : "-serial stdio",
			   loop, &s->lock, quit ? &serial_chardev : &serial_chardev_noquit, s, 0,
			   err, errlen);
	if (ret) {
		serial_free(s);
		return NULL;
	}
	return s;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	chardev_close(&s->chr);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
