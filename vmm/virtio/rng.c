/* virtio-rng: entropy from getrandom(), optionally limited to max-bytes per
 * period (QEMU's options). Event loop thread; a timerfd resumes a limited device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "vm.h"

struct rng {
	struct virtio_dev v;
	uint64_t max_bytes, period_ms; /* 0: no limit */
	uint64_t budget;	       /* bytes left in this period */
	uint64_t period_start;	       /* ms */
	int timer_fd;
	bool waiting; /* the timer is armed */
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* How much may go out now; arms the timer when nothing may. */
static uint64_t allowance(struct rng *r)
{
	uint64_t t = now_ms();

	if (!r->max_bytes)
		return UINT64_MAX;
	if (t - r->period_start >= r->period_ms) {
		r->period_start = t;
		r->budget = r->max_bytes;
	}
	if (!r->budget && !r->waiting) {
		uint64_t left = r->period_start + r->period_ms - t;
		struct itimerspec its = {
			.it_value = {.tv_sec = (time_t)(left / 1000),
				     .tv_nsec = (long)(left % 1000) * 1000000 + 1}};

		r->waiting = timerfd_settime(r->timer_fd, 0, &its, NULL) == 0;
	}
	return r->budget;
}

static void fill(struct virtio_dev *v, unsigned int qi)
{
	struct rng *r = (struct rng *)v;
	struct virtq *q = &v->queues[qi].vq;
	struct virtq_chain c;
	int got;

	do {
		while (allowance(r) && (got = virtq_pop(q, &c)) == 1) {
			uint64_t want = c.in_len < allowance(r) ? c.in_len : allowance(r), done = 0;

			for (unsigned int i = c.nr_out; i < c.nr_out + c.nr_in && done < want;
			     i++) {
				size_t n = c.iov[i].iov_len < want - done ? c.iov[i].iov_len
									  : want - done;
				ssize_t k = getrandom(c.iov[i].iov_base, n, 0);

				if (k <= 0)
					break;
				done += (uint64_t)k;
			}
			if (r->max_bytes)
				r->budget -= done;
			virtq_push(q, c.head, (uint32_t)done);
		}
		if (got < 0) {
			virtio_fail(v, "broken request queue");
			return;
		}
		virtio_notify(v, qi);
	} while (allowance(r) && virtq_enable_notify(q));
}

static void on_timer(void *opaque, uint32_t events)
{
	struct rng *r = opaque;
	uint64_t n;

	if (read(r->timer_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&r->v.pci.lock);
	r->waiting = false;
	if (virtio_ready(&r->v) && r->v.queues[0].enabled)
		fill(&r->v, 0);
	pthread_mutex_unlock(&r->v.pci.lock);
}

static void rng_free(struct virtio_dev *v)
{
	struct rng *r = (struct rng *)v;

	if (r->timer_fd >= 0) {
		evloop_del(&v->vm->loop, r->timer_fd);
		close(r->timer_fd);
	}
	virtio_free(v);
	free(r);
}

static const struct virtio_ops rng_ops = {
	.queue_notify = fill,
	.free = rng_free,
};

struct virtio_dev *virtio_rng_create(struct vm *vm, const struct config_pci_dev *d, char *err,
				     size_t errlen)
{
	struct rng *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	r->timer_fd = -1;
	if (virtio_init(&r->v, vm, "virtio-rng-pci", VIRTIO_ID_RNG, 0xff0000, &rng_ops, 1, 256, 0,
			0, err, errlen)) {
		rng_free(&r->v);
		return NULL;
	}
	r->max_bytes = d->rng_max_bytes;
	r->period_ms = d->rng_period_ms ? d->rng_period_ms : 1000;
	r->budget = r->max_bytes;
	r->period_start = now_ms();
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->timer_fd < 0 || evloop_add(&vm->loop, r->timer_fd, EPOLLIN, on_timer, r) < 0) {
		snprintf(err, errlen, "wisp: virtio-rng-pci: timerfd: %s", strerror(errno));
		rng_free(&r->v);
		return NULL;
	}
	return &r->v;
}
