/* The event loop: one epoll thread for device backends and the monitor.
 * Callbacks run on the loop thread only. */
#ifndef WISP_EVLOOP_H
#define WISP_EVLOOP_H

#include <stdint.h>

typedef void (*evloop_fn)(void *opaque, uint32_t events);

struct evloop_watch;

struct evloop {
	int epfd;
	int stop; /* set by a callback to make evloop_run() return */
	struct evloop_watch *watches;
	struct evloop_watch *dead; /* removed during a batch, freed after it */
};

/** evloop_init() - create the epoll instance. Return: 0 or -errno. */
int evloop_init(struct evloop *l);

/**
 * evloop_add() - call @fn(@opaque, events) when @fd has any of @events (EPOLLIN ...).
 * Return: 0 or -errno.
 */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);

/** evloop_mod() - watch @fd for @events instead. Return: 0 or -errno. */
int evloop_mod(struct evloop *l, int fd, uint32_t events);

/**
 * evloop_del() - stop watching @fd. Safe from a callback, also for an fd whose
 * event is still pending in the same batch (it is not delivered).
 * Return: 0 or -errno.
 */
int evloop_del(struct evloop *l, int fd);

/**
 * evloop_run_once() - wait up to @timeout_ms (-1: forever) and dispatch one batch.
 * Return: events dispatched (0 on timeout), or -errno.
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

/** evloop_run() - dispatch until a callback sets l->stop. Return: 0 or -errno. */
int evloop_run(struct evloop *l);

/** evloop_free() - close the epoll instance and free registrations. */
void evloop_free(struct evloop *l);

#endif
