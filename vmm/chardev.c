/* Character backends: stdio (raw terminal, Ctrl-A x), file, Unix socket server.
 * Opened at start-up; input and accepts on the event loop, writes on the owner's
 * thread, all under the owner's lock. A backend that is slow or gone never blocks
 * the loop: a loop writer's output is non-blocking, and a departed client is closed. */
#include "chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evloop.h"
#include "unixsock.h"

#define CTRL_A 0x01
#define READ_MAX 4096 /* per wake-up, for an owner that says how much room it has */
#define READ_ANY 256  /* per wake-up, for one that takes everything (and may drop) */

/* Socket client: one fd for both directions. */
static bool is_client(const struct chardev *c)
{
	return c->kind == SERIAL_UNIX && c->in_fd >= 0;
}

static void disconnect(struct chardev *c)
{
	evloop_del(c->loop, c->in_fd);
	close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	c->in_watched = c->paused = false;
	if (c->want_out) {
		c->want_out = false;
		if (c->ops->writable)
			c->ops->writable(c->opaque); /* its next write sees -ENOTCONN */
	}
}

/* End of input: stdin leaves the console output-only, a client is closed. */
static void input_eof(struct chardev *c)
{
	if (is_client(c)) {
		disconnect(c);
		return;
	}
	if (c->in_watched)
		evloop_del(c->loop, c->in_fd);
	c->in_watched = false;
	c->in_fd = -1;
}

static void on_input(void *opaque, uint32_t events);
static void on_output(void *opaque, uint32_t events);

/* Make the loop's registrations match what the backend wants now (loop thread).
 * Return: false when output cannot be waited for. */
static bool sync_watches(struct chardev *c)
{
	if (is_client(c)) {
		uint32_t ev = (c->paused ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0);

		return evloop_mod(c->loop, c->in_fd, ev) == 0 || !c->want_out;
	}
	/* stdin is unwatched while paused, so that a hang-up waits too. */
	if (c->in_fd >= 0 && c->in_watched == c->paused) {
		if (c->paused) {
			evloop_del(c->loop, c->in_fd);
			c->in_watched = false;
		} else if (evloop_add(c->loop, c->in_fd, EPOLLIN, on_input, c) == 0) {
			c->in_watched = true;
		} else {
			c->in_fd = -1;
		}
	}
	if (c->out_fd >= 0 && c->out_watched != c->want_out) {
		if (!c->want_out)
			evloop_del(c->loop, c->out_fd);
		c->out_watched =
			c->want_out && evloop_add(c->loop, c->out_fd, EPOLLOUT, on_output, c) == 0;
	}
	return c->out_watched || !c->want_out;
}

/* After a loop callback: tell an owner whose output cannot be waited for. */
static void sync_or_release(struct chardev *c)
{
	if (!sync_watches(c) && c->want_out) {
		c->want_out = false;
		if (c->ops->writable)
			c->ops->writable(c->opaque); /* its write fails rather than waits */
		sync_watches(c);
	}
}

static void deliver(struct chardev *c, const uint8_t *buf, size_t n)
{
	size_t start = 0;

	if (c->kind != SERIAL_STDIO || !c->ops->quit) {
		c->ops->input(c->opaque, buf, n);
		return;
	}
	/* Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A and anything else is eaten. */
	for (size_t i = 0; i < n; i++) {
		if (!c->escape && buf[i] != CTRL_A)
			continue;
		if (i > start)
			c->ops->input(c->opaque, buf + start, i - start);
		start = i + 1;
		if (!c->escape) {
			c->escape = true;
			continue;
		}
		c->escape = false;
		if (buf[i] == 'x')
			c->ops->quit(c->opaque);
		else if (buf[i] == CTRL_A)
			c->ops->input(c->opaque, buf + i, 1);
	}
	if (n > start)
		c->ops->input(c->opaque, buf + start, n - start);
}

static void read_input(struct chardev *c, uint32_t events)
{
	uint8_t buf[READ_MAX];
	size_t room = c->ops->room ? c->ops->room(c->opaque) : READ_ANY;
	ssize_t n;

	if (!room) {
		c->paused = true;
		/* A hung-up client cannot be unwatched while it waits: drop it. */
		if (is_client(c) && (events & (EPOLLHUP | EPOLLERR)))
			disconnect(c);
		return;
	}
	n = read(c->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0)
		deliver(c, buf, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		input_eof(c);
}

static void on_output(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;

	pthread_mutex_lock(c->lock);
	if (c->want_out) {
		c->want_out = false;
		if (c->ops->writable)
			c->ops->writable(c->opaque);
	}
	sync_or_release(c);
	pthread_mutex_unlock(c->lock);
}

static void on_input(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;

	pthread_mutex_lock(c->lock);
	if (is_client(c) && (events & EPOLLOUT) && c->want_out) {
		c->want_out = false;
		if (c->ops->writable)
			c->ops->writable(c->opaque);
	}
	if (c->in_fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_input(c, events);
	sync_or_release(c);
	pthread_mutex_unlock(c->lock);
}

static void on_accept(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_mutex_lock(c->lock);
	if (c->in_fd >= 0 || evloop_add(c->loop, fd, EPOLLIN, on_input, c) < 0) {
		close(fd); /* one client at a time */
	} else {
		c->in_fd = c->out_fd = fd;
		c->in_watched = true;
		c->paused = c->want_out = false;
		c->out_sock = c->flags & CHARDEV_LOOP_WRITER;
		sync_or_release(c);
	}
	pthread_mutex_unlock(c->lock);
}

ssize_t chardev_write(struct chardev *c, const struct iovec *iov, int n)
{
	ssize_t r;

	if (c->out_fd < 0)
		return -ENOTCONN;
	do {
		if (c->out_sock)
			r = sendmsg(c->out_fd,
				    &(struct msghdr){.msg_iov = (struct iovec *)iov,
						     .msg_iovlen = (size_t)n},
				    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			r = writev(c->out_fd, iov, n);
	} while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN) {
		if (!(c->flags & CHARDEV_LOOP_WRITER) || c->want_out)
			return -EAGAIN;
		c->want_out = true;
		if (sync_watches(c))
			return -EAGAIN;
		c->want_out = false;
		sync_watches(c);
		return -EIO;
	}
	r = -errno;
	if (c->kind == SERIAL_UNIX && c->out_fd >= 0)
		c->out_fd = -1; /* the client went away; the loop closes it on its hang-up */
	return r;
}

bool chardev_connected(const struct chardev *c)
{
	return c->out_fd >= 0;
}

void chardev_poll(struct chardev *c)
{
	if (!c->paused)
		return;
	c->paused = false;
	sync_or_release(c);
}

static int open_stdio(struct chardev *c, char *err, size_t errlen)
{
	struct stat st;
	int r;

	c->out_fd = STDOUT_FILENO;
	if ((c->flags & CHARDEV_LOOP_WRITER) && fstat(STDOUT_FILENO, &st) == 0) {
		/* A terminal or pipe gets a description of its own, non-blocking without
		 * touching the one the shell and stderr share; a regular file never
		 * blocks and must keep its offset. */
		if (S_ISSOCK(st.st_mode)) {
			c->out_sock = true;
		} else if (!S_ISREG(st.st_mode)) {
			int fd = open("/proc/self/fd/1",
				      O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

			if (fd >= 0) {
				c->out_fd = fd;
				c->out_owned = true;
			}
		}
	}
	c->in_fd = STDIN_FILENO;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->tty) == 0) {
		struct termios raw = c->tty;

		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep host-side output readable */
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		c->tty_saved = true;
	}
	r = evloop_add(c->loop, STDIN_FILENO, EPOLLIN, on_input, c);
	if (r == -EEXIST) {
		snprintf(err, errlen, "wisp: %s: stdin is already used by another character device",
			 c->what);
		return r;
	}
	if (r < 0)
		c->in_fd = -1; /* stdin is a regular file or /dev/null: output only */
	c->in_watched = r == 0;
	return 0;
}

int chardev_open(struct chardev *c, enum serial_kind kind, const char *path, const char *what,
		 struct evloop *loop, pthread_mutex_t *lock, const struct chardev_ops *ops,
		 void *opaque, int flags, char *err, size_t errlen)
{
	*c = (struct chardev){.kind = kind,
			      .in_fd = -1,
			      .out_fd = -1,
			      .listen_fd = -1,
			      .flags = flags,
			      .loop = loop,
			      .lock = lock,
			      .ops = ops,
			      .opaque = opaque};
	snprintf(c->what, sizeof(c->what), "%s", what);
	switch (kind) {
	case SERIAL_STDIO:
		return open_stdio(c, err, errlen);
	case SERIAL_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			snprintf(err, errlen, "wisp: %s%s: %s", what, path, strerror(errno));
			return -errno;
		}
		c->out_owned = true;
		return 0;
	case SERIAL_UNIX:
		c->listen_fd = unixsock_listen(path, what, err, errlen);
		if (c->listen_fd < 0)
			return c->listen_fd;
		c->path = strdup(path);
		if (evloop_add(loop, c->listen_fd, EPOLLIN, on_accept, c) < 0) {
			snprintf(err, errlen, "wisp: %s%s: %s", what, path, strerror(errno));
			return -errno;
		}
		return 0;
	default:
		return 0;
	}
}

void chardev_close(struct chardev *c)
{
	if (c->tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->tty);
	c->tty_saved = false;
	if (c->in_watched)
		evloop_del(c->loop, c->in_fd);
	if (c->out_watched)
		evloop_del(c->loop, c->out_fd);
	if (is_client(c))
		close(c->in_fd);
	else if (c->out_owned)
		close(c->out_fd);
	if (c->listen_fd >= 0) {
		evloop_del(c->loop, c->listen_fd);
		close(c->listen_fd);
	}
	if (c->path)
		unlink(c->path);
	free(c->path);
	c->path = NULL;
	c->in_fd = c->out_fd = c->listen_fd = -1;
	c->in_watched = c->out_watched = false;
}
