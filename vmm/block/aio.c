/* Asynchronous file I/O: io_uring, or worker threads doing plain system calls.
 * Submission and done() on the event loop thread; workers touch only their slot. */
#include "block/aio.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "evloop.h"
#include "sandbox.h"

#define AIO_MAX_DEPTH 4096
#define AIO_WORKERS 4
#define ZERO_CHUNK 65536 /* one zero buffer, written ZERO_IOV times per writev */
#define ZERO_IOV 16

/* Written by nobody: the source of WRITE_ZEROES writes (aligned for O_DIRECT). */
static uint8_t zero_buf[ZERO_CHUNK] __attribute__((aligned(4096)));

/* What a slot asks the kernel for next. */
enum step {
	STEP_RW,	 /* preadv/pwritev of iov at offset + done_bytes */
	STEP_FSYNC,	 /* fdatasync */
	STEP_PUNCH,	 /* fallocate(PUNCH_HOLE | KEEP_SIZE) */
	STEP_ZERO_RANGE, /* fallocate(ZERO_RANGE) */
	STEP_ZERO_WRITE, /* pwritev of zero_buf at offset + done_bytes */
	STEP_NOP,	 /* nothing to do (zero-length DISCARD/WRITE_ZEROES) */
};

/* One request in flight: owned by the loop, or by a worker while it runs it. */
struct slot {
	struct aio_req *r;
	enum step step;
	uint64_t total;		 /* bytes the request covers */
	const struct iovec *iov; /* what STEP_RW transfers: r->iov or tail */
	int iovcnt;
	struct iovec *tail; /* r->iov past done_bytes, after a short transfer */
	int tailcap;
	struct iovec zv[ZERO_IOV];
	int64_t res;	   /* the result once the request is finished */
	struct slot *next; /* free list, worker queue or completed list */
};

struct aio {
	struct evloop *loop;
	int fd;
	int efd; /* completions: io_uring's eventfd, or the workers' */
	bool uring;
	unsigned int depth;
	struct slot *slots;
	struct slot *free;
	struct aio_req *wait_head, *wait_tail; /* accepted, no slot yet */
	unsigned int pending;		       /* accepted, done() not called yet */
	unsigned int plugged;
	atomic_bool no_zero_range; /* the file refused ZERO_RANGE once */
	struct io_uring ring;
	/* Threads: todo and completed lists under lock. */
	pthread_t workers[AIO_WORKERS];
	int nworkers;
	pthread_mutex_t lock;
	pthread_cond_t todo_cond, done_cond;
	struct slot *todo_head, *todo_tail, *done_list;
	bool threads; /* lock and conditions initialised */
	bool quit;
};

static uint64_t iov_bytes(const struct iovec *iov, int iovcnt, bool *overflow)
{
	uint64_t n = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > INT64_MAX - n)
			*overflow = true;
		else
			n += iov[i].iov_len;
	}
	return n;
}

/* r->iov without its first @skip bytes, into s->tail. Return: false without memory. */
static bool set_tail(struct slot *s, uint64_t skip)
{
	const struct iovec *iov = s->r->iov;
	int i = 0, n = 0;

	if (s->tailcap < s->r->iovcnt) {
		struct iovec *t = realloc(s->tail, s->r->iovcnt * sizeof(*t));

		if (!t)
			return false;
		s->tail = t;
		s->tailcap = s->r->iovcnt;
	}
	for (; i < s->r->iovcnt && skip >= iov[i].iov_len; i++)
		skip -= iov[i].iov_len;
	for (; i < s->r->iovcnt; i++, skip = 0)
		s->tail[n++] =
			(struct iovec){(char *)iov[i].iov_base + skip, iov[i].iov_len - skip};
	s->iov = s->tail;
	s->iovcnt = n;
	return true;
}

/* Zero r->iov from byte @skip on: the part of a read beyond the end of file. */
static void zero_from(const struct aio_req *r, uint64_t skip)
{
	for (int i = 0; i < r->iovcnt; i++) {
		size_t len = r->iov[i].iov_len;

		if (skip < len)
			memset((char *)r->iov[i].iov_base + skip, 0, len - skip);
		skip = skip < len ? 0 : skip - len;
	}
}

/* The next STEP_ZERO_WRITE: up to ZERO_IOV * ZERO_CHUNK bytes. Return: iovec count. */
static int zero_iov(struct slot *s)
{
	uint64_t left = s->total - s->r->done_bytes;
	int n = 0;

	for (; n < ZERO_IOV && left; n++) {
		size_t len = left < ZERO_CHUNK ? left : ZERO_CHUNK;

		s->zv[n] = (struct iovec){zero_buf, len};
		left -= len;
	}
	return n;
}

static bool finish(struct slot *s, int64_t res)
{
	s->res = res;
	return false;
}

/*
 * Account for the result @res of the slot's current step and choose the next one.
 * Return: true when there is another step to issue, false when s->res is final.
 */
static bool advance(struct aio *a, struct slot *s, int64_t res)
{
	struct aio_req *r = s->r;

	if (res == -EINTR || res == -EAGAIN)
		return true;
	switch (s->step) {
	case STEP_RW:
		if (res < 0)
			return finish(s, res);
		if (res == 0 && r->done_bytes < s->total) {
			if (r->op == AIO_WRITE)
				return finish(s, -EIO);
			zero_from(r, r->done_bytes); /* end of file */
			res = s->total - r->done_bytes;
		}
		r->done_bytes += (uint64_t)res < s->total - r->done_bytes
					 ? (uint64_t)res
					 : s->total - r->done_bytes;
		if (r->done_bytes == s->total)
			return finish(s, s->total);
		return set_tail(s, r->done_bytes) || finish(s, -ENOMEM);
	case STEP_ZERO_RANGE:
		if (res != -EOPNOTSUPP)
			return finish(s, res < 0 ? res : 0);
		atomic_store(&a->no_zero_range, true);
		s->step = STEP_ZERO_WRITE;
		return true;
	case STEP_ZERO_WRITE:
		if (res <= 0)
			return finish(s, res < 0 ? res : -EIO);
		r->done_bytes += (uint64_t)res;
		return r->done_bytes < s->total || finish(s, 0);
	default:
		return finish(s, res < 0 ? res : 0);
	}
}

/* Fill a free slot with @r, ready for its first step. */
static void slot_start(struct aio *a, struct slot *s, struct aio_req *r)
{
	bool overflow = false;

	s->r = r;
	r->done_bytes = 0;
	s->iov = r->iov;
	s->iovcnt = r->iovcnt;
	s->total = r->len;
	switch (r->op) {
	case AIO_READ:
	case AIO_WRITE:
		s->step = STEP_RW;
		s->total = iov_bytes(r->iov, r->iovcnt, &overflow);
		break;
	case AIO_FLUSH:
		s->step = STEP_FSYNC;
		break;
	case AIO_DISCARD:
		s->step = r->len ? STEP_PUNCH : STEP_NOP;
		break;
	default:
		s->step = !r->len			   ? STEP_NOP
			  : atomic_load(&a->no_zero_range) ? STEP_ZERO_WRITE
							   : STEP_ZERO_RANGE;
		break;
	}
}

/* ---- io_uring ---- */

static void uring_flush(struct aio *a)
{
	if (io_uring_sq_ready(&a->ring))
		io_uring_submit(&a->ring); /* on failure they stay queued for the next call */
}

static void uring_issue(struct aio *a, struct slot *s)
{
	struct io_uring_sqe *sqe;
	const struct aio_req *r = s->r;
	off_t off = r->offset + r->done_bytes;

	while (!(sqe = io_uring_get_sqe(&a->ring)))
		io_uring_submit(&a->ring); /* not reached: the ring holds depth entries */
	switch (s->step) {
	case STEP_RW:
		if (r->op == AIO_READ)
			io_uring_prep_readv(sqe, a->fd, s->iov, s->iovcnt, off);
		else
			io_uring_prep_writev(sqe, a->fd, s->iov, s->iovcnt, off);
		break;
	case STEP_FSYNC:
		io_uring_prep_fsync(sqe, a->fd, IORING_FSYNC_DATASYNC);
		break;
	case STEP_PUNCH:
		io_uring_prep_fallocate(sqe, a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->offset, r->len);
		break;
	case STEP_ZERO_RANGE:
		io_uring_prep_fallocate(sqe, a->fd, FALLOC_FL_ZERO_RANGE, r->offset, r->len);
		break;
	case STEP_ZERO_WRITE:
		io_uring_prep_writev(sqe, a->fd, s->zv, zero_iov(s), off);
		break;
	case STEP_NOP:
		io_uring_prep_nop(sqe);
		break;
	}
	io_uring_sqe_set_data(sqe, s);
	if (!a->plugged)
		uring_flush(a);
}

/* ---- threads ---- */

static int64_t sync_issue(struct aio *a, struct slot *s)
{
	const struct aio_req *r = s->r;
	off_t off = r->offset + r->done_bytes;
	ssize_t n = 0;

	switch (s->step) {
	case STEP_RW:
		n = r->op == AIO_READ ? preadv(a->fd, s->iov, s->iovcnt, off)
				      : pwritev(a->fd, s->iov, s->iovcnt, off);
		break;
	case STEP_FSYNC:
		n = fdatasync(a->fd);
		break;
	case STEP_PUNCH:
		n = fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r->offset, r->len);
		break;
	case STEP_ZERO_RANGE:
		n = fallocate(a->fd, FALLOC_FL_ZERO_RANGE, r->offset, r->len);
		break;
	case STEP_ZERO_WRITE:
		n = pwritev(a->fd, s->zv, zero_iov(s), off);
		break;
	case STEP_NOP:
		break;
	}
	return n < 0 ? -errno : n;
}

static void *worker(void *opaque)
{
	struct aio *a = opaque;
	bool sandboxed = false;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct slot *s = a->todo_head;
		bool kick;

		if (!s && a->quit)
			break;
		if (!s) {
			pthread_cond_wait(&a->todo_cond, &a->lock);
			continue;
		}
		a->todo_head = s->next;
		pthread_mutex_unlock(&a->lock);
		/* Workers start before the sandbox exists; each enters it before its
		 * first request, which the guest can only make once wisp runs. */
		if (!sandboxed && sandbox_active()) {
			if (sandbox_enter(SANDBOX_AIO) < 0)
				abort();
			sandboxed = true;
		}

		while (advance(a, s, sync_issue(a, s)))
			;

		pthread_mutex_lock(&a->lock);
		kick = !a->done_list; /* else the loop has a wake-up coming already */
		s->next = a->done_list;
		a->done_list = s;
		pthread_cond_signal(&a->done_cond);
		if (kick) {
			uint64_t one = 1;

			pthread_mutex_unlock(&a->lock);
			if (write(a->efd, &one, sizeof(one)) < 0) {
				/* the counter is saturated: a wake-up is pending anyway */
			}
			pthread_mutex_lock(&a->lock);
		}
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void threads_issue(struct aio *a, struct slot *s)
{
	s->next = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->todo_head)
		a->todo_tail->next = s;
	else
		a->todo_head = s;
	a->todo_tail = s;
	pthread_cond_signal(&a->todo_cond);
	pthread_mutex_unlock(&a->lock);
}

/* ---- both ---- */

/* Give free slots to waiting requests, oldest first. */
static void start_waiting(struct aio *a)
{
	while (a->free && a->wait_head) {
		struct slot *s = a->free;
		struct aio_req *r = a->wait_head;

		a->free = s->next;
		a->wait_head = r->next;
		slot_start(a, s, r);
		if (a->uring)
			uring_issue(a, s);
		else
			threads_issue(a, s);
	}
}

/* Release @s and tell its owner. */
static void complete(struct aio *a, struct slot *s)
{
	struct aio_req *r = s->r;

	s->r = NULL;
	s->next = a->free;
	a->free = s;
	a->pending--;
	r->done(r, s->res);
}

/* Run every completion that has arrived, then start what waits for a slot. */
static void reap(struct aio *a)
{
	a->plugged++; /* what done() submits goes out in one batch below */
	if (a->uring) {
		struct io_uring_cqe *cqe;

		while (io_uring_peek_cqe(&a->ring, &cqe) == 0) {
			struct slot *s = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&a->ring, cqe);
			if (advance(a, s, res))
				uring_issue(a, s);
			else
				complete(a, s);
		}
	} else {
		struct slot *stack, *list = NULL;

		pthread_mutex_lock(&a->lock);
		stack = a->done_list;
		a->done_list = NULL;
		pthread_mutex_unlock(&a->lock);
		while (stack) { /* newest first: turn into completion order */
			struct slot *s = stack;

			stack = s->next;
			s->next = list;
			list = s;
		}
		while (list) {
			struct slot *s = list;

			list = s->next;
			complete(a, s);
		}
	}
	start_waiting(a);
	aio_unplug(a);
}

static void on_event(void *opaque, uint32_t events)
{
	struct aio *a = opaque;
	uint64_t n;

	if (read(a->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already read; completions are checked anyway */
	}
	reap(a);
}

int aio_submit(struct aio *a, struct aio_req *r)
{
	bool overflow = false;
	uint64_t len = r->len;

	if (r->op == AIO_READ || r->op == AIO_WRITE) {
		if (r->iovcnt < 0 || r->iovcnt > IOV_MAX || (r->iovcnt && !r->iov))
			return -EINVAL;
		len = iov_bytes(r->iov, r->iovcnt, &overflow);
	} else if (r->op != AIO_FLUSH && r->op != AIO_DISCARD && r->op != AIO_WRITE_ZEROES) {
		return -EINVAL;
	}
	if (!r->done || overflow || r->offset > INT64_MAX || len > INT64_MAX - r->offset)
		return -EINVAL;
	r->next = NULL;
	if (a->wait_head)
		a->wait_tail->next = r;
	else
		a->wait_head = r;
	a->wait_tail = r;
	a->pending++;
	start_waiting(a);
	return 0;
}

void aio_plug(struct aio *a)
{
	a->plugged++;
}

void aio_unplug(struct aio *a)
{
	if (a->plugged && !--a->plugged && a->uring)
		uring_flush(a);
}

const char *aio_mode(const struct aio *a)
{
	return a->uring ? "io_uring" : "threads";
}

void aio_drain(struct aio *a)
{
	while (a->pending) {
		if (a->uring) {
			/* also pushes out SQEs a failed io_uring_submit left behind */
			io_uring_submit_and_wait(&a->ring, 1);
		} else {
			pthread_mutex_lock(&a->lock);
			while (!a->done_list)
				pthread_cond_wait(&a->done_cond, &a->lock);
			pthread_mutex_unlock(&a->lock);
		}
		reap(a);
	}
}

/* ---- set-up ---- */

/* io_uring_register(2) itself: Debian's liburing 2.3 does not export
 * io_uring_register_restrictions() and io_uring_enable_rings() from its .so. */
static int ring_register(struct aio *a, unsigned int opcode, const void *arg, unsigned int n)
{
	return syscall(__NR_io_uring_register, a->ring.ring_fd, opcode, arg, n) < 0 ? -errno : 0;
}

/*
 * The ring starts disabled and is enabled restricted to the operations aio
 * issues, with no SQE flags and no further io_uring_register() calls: what a
 * compromised loop thread can do through it stays what aio does.
 * Return: 0, or -errno when this kernel's io_uring cannot do what aio needs.
 */
static int uring_init(struct aio *a)
{
	static const uint8_t ops[] = {IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				      IORING_OP_FALLOCATE, IORING_OP_NOP};
	struct io_uring_restriction res[sizeof(ops) + 1] = {
		{.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0},
	};
	struct io_uring_probe *probe;
	int ret = io_uring_queue_init(a->depth, &a->ring, IORING_SETUP_R_DISABLED);

	if (ret < 0)
		return ret;
	probe = io_uring_get_probe_ring(&a->ring);
	for (size_t i = 0; i < sizeof(ops); i++) {
		if (!probe || !io_uring_opcode_supported(probe, ops[i]))
			ret = -EOPNOTSUPP;
		res[i + 1] = (struct io_uring_restriction){.opcode = IORING_RESTRICTION_SQE_OP,
							   .sqe_op = ops[i]};
	}
	if (probe)
		io_uring_free_probe(probe);
	if (ret == 0)
		ret = io_uring_register_eventfd(&a->ring, a->efd);
	if (ret == 0)
		ret = ring_register(a, IORING_REGISTER_RESTRICTIONS, res, sizeof(ops) + 1);
	if (ret == 0)
		ret = ring_register(a, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0)
		io_uring_queue_exit(&a->ring);
	else
		a->uring = true;
	return ret;
}

static int threads_init(struct aio *a)
{
	int ret;

	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->todo_cond, NULL);
	pthread_cond_init(&a->done_cond, NULL);
	a->threads = true;
	for (; a->nworkers < AIO_WORKERS && a->nworkers < (int)a->depth; a->nworkers++) {
		ret = pthread_create(&a->workers[a->nworkers], NULL, worker, a);
		if (ret)
			return -ret;
	}
	return 0;
}

static void threads_stop(struct aio *a)
{
	pthread_mutex_lock(&a->lock);
	a->quit = true;
	pthread_cond_broadcast(&a->todo_cond);
	pthread_mutex_unlock(&a->lock);
	for (int i = 0; i < a->nworkers; i++)
		pthread_join(a->workers[i], NULL);
	pthread_cond_destroy(&a->todo_cond);
	pthread_cond_destroy(&a->done_cond);
	pthread_mutex_destroy(&a->lock);
}

static void release(struct aio *a)
{
	if (a->uring)
		io_uring_queue_exit(&a->ring); /* drops the eventfd registration too */
	if (a->threads)
		threads_stop(a);
	for (unsigned int i = 0; a->slots && i < a->depth; i++)
		free(a->slots[i].tail);
	free(a->slots);
	close(a->efd);
	free(a);
}

struct aio *aio_create(struct evloop *loop, int fd, enum config_aio mode, unsigned int depth,
		       char *err, size_t errlen)
{
	struct aio *a;
	int ret = 0;

	if (depth < 1 || depth > AIO_MAX_DEPTH) {
		snprintf(err, errlen, "wisp: aio: queue depth %u is not in 1..%d", depth,
			 AIO_MAX_DEPTH);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || (a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "wisp: aio: %s", strerror(a ? errno : ENOMEM));
		free(a);
		return NULL;
	}
	a->loop = loop;
	a->fd = fd;
	a->depth = depth;
	a->slots = calloc(depth, sizeof(*a->slots));
	if (!a->slots) {
		snprintf(err, errlen, "wisp: aio: %s", strerror(ENOMEM));
		release(a);
		return NULL;
	}
	for (unsigned int i = 0; i < depth; i++) {
		a->slots[i].next = a->free;
		a->free = &a->slots[i];
	}
	if (mode != CONFIG_AIO_THREADS)
		ret = uring_init(a);
	if (ret < 0 && mode == CONFIG_AIO_IO_URING) {
		snprintf(err, errlen,
			 "wisp: aio=io_uring: io_uring is not available (%s); try aio=threads",
			 strerror(-ret));
		release(a);
		return NULL;
	}
	if (!a->uring && (ret = threads_init(a)) < 0) {
		snprintf(err, errlen, "wisp: aio: cannot start I/O threads: %s", strerror(-ret));
		release(a);
		return NULL;
	}
	if ((ret = evloop_add(loop, a->efd, EPOLLIN, on_event, a)) < 0) {
		snprintf(err, errlen, "wisp: aio: %s", strerror(-ret));
		release(a);
		return NULL;
	}
	return a;
}

void aio_free(struct aio *a)
{
	if (!a)
		return;
	aio_drain(a);
	evloop_del(a->loop, a->efd);
	release(a);
}
