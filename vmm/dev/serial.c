/* 16550A UART on COM1: the guest console. Register accesses come from vCPU
 * threads (guest-controlled), input from the event loop; one lock covers both. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "devices.h"
#include "evloop.h"
#include "unixsock.h"

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
#define CTRL_A 0x01

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_pending; /* THR-empty interrupt condition */
	int level;	  /* current interrupt line */
	uint8_t rx[RX_SIZE];
	unsigned int rx_head, rx_count;
	int out_fd, in_fd, listen_fd;
	bool escape; /* saw Ctrl-A on a stdio console */
	bool tty_saved;
	char *path; /* unix socket to remove at exit */
	struct termios tty;
	struct evloop *loop;
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
	else if (s->out_fd >= 0 && write(s->out_fd, &c, 1) < 0 && errno != EAGAIN &&
		 s->listen_fd >= 0) {
		close(s->out_fd); /* socket client went away */
		s->out_fd = s->in_fd = -1;
	}
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

/* Input from the host; Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A. */
static void input(struct serial *s, const uint8_t *buf, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++) {
		if (s->quit && s->listen_fd < 0 && s->escape) {
			s->escape = false;
			if (buf[i] == 'x') {
				s->quit(s->opaque);
				continue;
			}
			if (buf[i] != CTRL_A)
				continue;
		} else if (s->quit && s->listen_fd < 0 && buf[i] == CTRL_A) {
			s->escape = true;
			continue;
		}
		rx_push(s, buf[i]);
	}
}

static void on_input(void *opaque, uint32_t events)
{
	struct serial *s = opaque;
	uint8_t buf[256];
	ssize_t n = read(s->in_fd, buf, sizeof(buf));

	pthread_mutex_lock(&s->lock);
	if (n > 0) {
		input(s, buf, n);
		update_irq(s);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		evloop_del(s->loop, s->in_fd); /* EOF: the console stays output-only */
		if (s->listen_fd >= 0) {
			close(s->in_fd);
			s->out_fd = -1;
		}
		s->in_fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
}

static void on_accept(void *opaque, uint32_t events)
{
	struct serial *s = opaque;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->in_fd >= 0) {
		close(fd); /* one client at a time */
	} else {
		s->in_fd = s->out_fd = fd;
		if (evloop_add(s->loop, fd, EPOLLIN, on_input, s) < 0) {
			close(fd);
			s->in_fd = s->out_fd = -1;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static int open_unix(struct serial *s, const char *path, char *err, size_t errlen)
{
	s->listen_fd = unixsock_listen(path, "-serial unix:", err, errlen);
	if (s->listen_fd < 0)
		return s->listen_fd;
	s->path = strdup(path);
	if (evloop_add(s->loop, s->listen_fd, EPOLLIN, on_accept, s) < 0) {
		snprintf(err, errlen, "wisp: -serial unix:%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_stdio(struct serial *s)
{
	s->out_fd = STDOUT_FILENO;
	s->in_fd = STDIN_FILENO;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->tty) == 0) {
		struct termios raw = s->tty;

		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep host-side output readable */
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		s->tty_saved = true;
	}
	if (evloop_add(s->loop, STDIN_FILENO, EPOLLIN, on_input, s) < 0)
		s->in_fd = -1; /* stdin is a regular file or /dev/null: output only */
	return 0;
}

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
	*s = (struct serial){.out_fd = -1,
			     .in_fd = -1,
			     .listen_fd = -1,
			     .loop = loop,
			     .irq = irq,
			     .quit = quit,
			     .opaque = opaque,
			     .dll = 0x0c};
	pthread_mutex_init(&s->lock, NULL);
	if (kind == SERIAL_STDIO) {
		ret = open_stdio(s);
	} else if (kind == SERIAL_FILE) {
		s->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (s->out_fd < 0) {
			snprintf(err, errlen, "wisp: -serial file:%s: %s", path, strerror(errno));
			ret = -errno;
		}
	} else if (kind == SERIAL_UNIX) {
		ret = open_unix(s, path, err, errlen);
	}
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
	if (s->tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &s->tty);
	if (s->out_fd > STDERR_FILENO)
		close(s->out_fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->path)
		unlink(s->path);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
