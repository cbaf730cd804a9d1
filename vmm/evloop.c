/* The event loop: epoll over backend fds, one callback per fd.
 * Registration and dispatch both happen on the loop thread (or before it starts). */
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct evloop_watch {
	int fd;
	evloop_fn fn;
	void *opaque;
	struct evloop_watch *next;
};

int evloop_init(struct evloop *l)
{
	l->stop = 0;
	l->watches = l->dead = NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_watch *w = malloc(sizeof(*w));
	struct epoll_event ev = {.events = events};

	if (!w)
		return -ENOMEM;
	*w = (struct evloop_watch){fd, fn, opaque, l->watches};
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	l->watches = w;
	return 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	for (struct evloop_watch *w = l->watches; w; w = w->next) {
		if (w->fd == fd) {
			struct epoll_event ev = {.events = events, .data.ptr = w};

			return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
		}
	}
	return -ENOENT;
}

int evloop_del(struct evloop *l, int fd)
{
	for (struct evloop_watch **p = &l->watches; *p; p = &(*p)->next) {
		struct evloop_watch *w = *p;

		if (w->fd != fd)
			continue;
		*p = w->next;
		w->fn = NULL; /* an event already fetched for it is dropped */
		w->next = l->dead;
		l->dead = w;
		return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
	}
	return -ENOENT;
}

static void free_list(struct evloop_watch **list)
{
	while (*list) {
		struct evloop_watch *w = *list;

		*list = w->next;
		free(w);
	}
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->epfd, evs, 16, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !l->stop; i++) {
		struct evloop_watch *w = evs[i].data.ptr;

		if (w->fn)
			w->fn(w->opaque, evs[i].events);
	}
	free_list(&l->dead);
	return n;
}

int evloop_run(struct evloop *l)
{
	while (!l->stop) {
		int n = evloop_run_once(l, -1);

		if (n < 0)
			return n;
	}
	return 0;
}

void evloop_free(struct evloop *l)
{
	free_list(&l->watches);
	free_list(&l->dead);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}
