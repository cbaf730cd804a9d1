/* Character backends for guest consoles (the 16550, virtio-console): stdio with the
 * terminal in raw mode, an output-only file, or a Unix socket server with one client
 * at a time. Input and accepts run on the event loop; the owner's lock covers the
 * backend and is held around every call into it and every callback out of it. */
#ifndef WISP_CHARDEV_H
#define WISP_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>

#include "config.h"

struct evloop;

/* What the owner does with the backend; called on the loop with the lock held. */
struct chardev_ops {
	/* Host bytes for the guest, at most what room() allowed. */
	void (*input)(void *opaque, const uint8_t *buf, size_t len);
	/* Bytes the owner can take now. 0 stops reading (input stays in the host
	 * fd) until chardev_poll(). NULL: the owner takes everything. */
	size_t (*room)(void *opaque);
	/* Output refused with -EAGAIN may go on now (or the client went away). */
	void (*writable)(void *opaque);
	/* Ctrl-A x was typed on a stdio backend. NULL: no escape character. */
	void (*quit)(void *opaque);
};

/* CHARDEV_LOOP_WRITER: every chardev_write() happens on the event loop. Output is
 * then non-blocking (stdout reopened as its own file description where it is a
 * terminal or a pipe) and -EAGAIN is followed by ops->writable(). Without it writes
 * may come from any thread and block on stdio and files, as a UART's would. */
#define CHARDEV_LOOP_WRITER 1

struct chardev {
	enum serial_kind kind;
	int in_fd;     /* stdin, the socket client, or -1 */
	int out_fd;    /* stdout (or its non-blocking reopening), the file, the client, -1 */
	int listen_fd; /* SERIAL_UNIX */
	int flags;
	bool out_owned;	  /* out_fd is ours to close */
	bool out_sock;	  /* out_fd is a socket: sendmsg(MSG_NOSIGNAL) */
	bool in_watched;  /* in_fd is registered with the loop */
	bool out_watched; /* a separate out_fd is registered (EPOLLOUT) */
	bool paused;	  /* room() said 0: not reading */
	bool want_out;	  /* the owner waits for ops->writable() */
	bool escape;	  /* saw Ctrl-A on stdio */
	bool tty_saved;
	struct termios tty;
	char *path; /* the socket to remove at close */
	char what[80];
	struct evloop *loop;
	pthread_mutex_t *lock;
	const struct chardev_ops *ops;
	void *opaque;
};

/**
 * chardev_open() - open backend @kind (SERIAL_NONE: nothing) at @path and watch its
 * input on @loop. @what names the option in messages: the words before the path
 * ("-serial unix:"), or the whole option for stdio ("-serial stdio"). @lock is the
 * owner's, taken by the loop callbacks. @flags: CHARDEV_LOOP_WRITER or 0.
 * Start-up only. Return: 0, or -errno with @err filled ("wisp: ...").
 */
int chardev_open(struct chardev *c, enum serial_kind kind, const char *path, const char *what,
		 struct evloop *loop, pthread_mutex_t *lock, const struct chardev_ops *ops,
		 void *opaque, int flags, char *err, size_t errlen);

/**
 * chardev_write() - as much of @iov[0..@n) as the backend takes now (lock held).
 * Return: bytes taken (possibly fewer than offered), -ENOTCONN when there is no
 * output (no socket client, no backend, or it failed), -EAGAIN when it is full
 * (with CHARDEV_LOOP_WRITER, ops->writable() follows), or another -errno.
 */
ssize_t chardev_write(struct chardev *c, const struct iovec *iov, int n);

/** chardev_connected() - output has somewhere to go now (lock held). */
bool chardev_connected(const struct chardev *c);

/** chardev_poll() - the owner has room again: resume reading. Loop thread, lock held. */
void chardev_poll(struct chardev *c);

/** chardev_close() - restore the terminal, unwatch and close fds, remove the socket. */
void chardev_close(struct chardev *c);

#endif
