/* Host tests for asynchronous file I/O (vmm/block/aio.c), each one in both modes,
 * io_uring and threads, on a temporary file in /tmp. No /dev/kvm needed. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "block/aio.h"
#include "evloop.h"

static struct {
	struct evloop loop;
	int fd;
	char path[64];
	struct aio *a;
	enum config_aio mode;
} fx;

static int outstanding; /* submitted, done() not seen yet */
static int total_calls;

struct treq {
	struct aio_req r;
	int calls;
	int64_t res;
};

static void on_done(struct aio_req *r, int64_t res)
{
	struct treq *t = r->opaque;

	t->calls++;
	t->res = res;
	total_calls++;
	if (--outstanding == 0)
		fx.loop.stop = 1;
}

static void submit_fn(struct aio *a, struct treq *t, void (*done)(struct aio_req *, int64_t))
{
	t->r.done = done;
	t->r.opaque = t;
	t->calls = 0;
	t->res = INT64_MIN;
	outstanding++;
	assert_int_equal(aio_submit(a, &t->r), 0);
}

static void submit_to(struct aio *a, struct treq *t)
{
	submit_fn(a, t, on_done);
}

static void submit(struct treq *t)
{
	submit_to(fx.a, t);
}

/* Run the event loop until every submitted request has called done(). */
static void run(void)
{
	fx.loop.stop = 0;
	if (outstanding)
		assert_int_equal(evloop_run(&fx.loop), 0);
	assert_int_equal(outstanding, 0);
}

static void rw(struct treq *t, enum aio_op op, uint64_t off, struct iovec *iov, int n)
{
	memset(t, 0, sizeof(*t));
	t->r = (struct aio_req){.op = op, .offset = off, .iov = iov, .iovcnt = n};
}

static void ranged(struct treq *t, enum aio_op op, uint64_t off, uint64_t len)
{
	memset(t, 0, sizeof(*t));
	t->r = (struct aio_req){.op = op, .offset = off, .len = len};
}

static uint8_t pattern(uint64_t off, unsigned int seed)
{
	return (uint8_t)(((off + seed) * 2654435761u) >> 13) ^ (uint8_t)(off >> 12);
}

static void fill(uint8_t *p, uint64_t off, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(off + i, seed);
}

static void check_file(int fd, uint64_t off, size_t len, unsigned int seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, len, off), len);
	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern(off + i, seed))
			fail_msg("byte %zu at %llu: %#x", i, (unsigned long long)off, p[i]);
	free(p);
}

static void check_zero(int fd, uint64_t off, size_t len)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, len, off), len);
	for (size_t i = 0; i < len; i++)
		if (p[i])
			fail_msg("byte %llu is %#x, not 0", (unsigned long long)(off + i), p[i]);
	free(p);
}

static void write_file(int fd, uint64_t off, size_t len, unsigned int seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	fill(p, off, len, seed);
	assert_int_equal(pwrite(fd, p, len, off), len);
	free(p);
}

static struct aio *make(int fd, unsigned int depth)
{
	char err[160] = "";
	struct aio *a = aio_create(&fx.loop, fd, fx.mode, depth, err, sizeof(err));

	if (!a)
		fail_msg("%s", err);
	return a;
}

static int setup(void **state)
{
	char err[160] = "";

	fx.mode = *(enum config_aio *)*state;
	outstanding = total_calls = 0;
	if (evloop_init(&fx.loop) < 0)
		return -1;
	snprintf(fx.path, sizeof(fx.path), "/tmp/wisp-aio-XXXXXX");
	fx.fd = mkstemp(fx.path);
	if (fx.fd < 0)
		return -1;
	unlink(fx.path);
	fx.a = aio_create(&fx.loop, fx.fd, fx.mode, 32, err, sizeof(err));
	if (!fx.a)
		print_error("aio_create: %s\n", err);
	return 0;
}

static int teardown(void **state)
{
	aio_free(fx.a);
	fx.a = NULL;
	close(fx.fd);
	evloop_free(&fx.loop);
	return 0;
}

/* A host without io_uring runs the threads half only. */
static void need_aio(void)
{
	if (!fx.a && fx.mode == CONFIG_AIO_IO_URING)
		skip();
	assert_non_null(fx.a);
	assert_string_equal(aio_mode(fx.a), fx.mode == CONFIG_AIO_THREADS ? "threads" : "io_uring");
}

#define NBLK 256
#define BLK 4096

/* 256 writes of 4 KiB with depth 32 (so most wait inside aio), then read back. */
static void test_many_in_flight(void **state)
{
	static uint8_t wbuf[NBLK * BLK], rbuf[NBLK * BLK];
	static struct treq t[NBLK];
	static struct iovec iov[NBLK];

	need_aio();
	fill(wbuf, 0, sizeof(wbuf), 1);
	for (int i = 0; i < NBLK; i++) {
		int b = (i * 97) % NBLK; /* out of order */

		iov[i] = (struct iovec){wbuf + b * BLK, BLK};
		rw(&t[i], AIO_WRITE, (uint64_t)b * BLK, &iov[i], 1);
		submit(&t[i]);
	}
	run();
	for (int i = 0; i < NBLK; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, BLK);
	}
	check_file(fx.fd, 0, sizeof(wbuf), 1);

	memset(rbuf, 0x5a, sizeof(rbuf));
	for (int i = 0; i < NBLK; i++) {
		iov[i] = (struct iovec){rbuf + i * BLK, BLK};
		rw(&t[i], AIO_READ, (uint64_t)i * BLK, &iov[i], 1);
		submit(&t[i]);
	}
	run();
	for (int i = 0; i < NBLK; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, BLK);
	}
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	assert_int_equal(total_calls, 2 * NBLK);
}

/* Odd segment sizes, and a read split differently from the write. */
static void test_vectored(void **state)
{
	static uint8_t w[12000], r[12000];
	size_t wl[] = {1, 4095, 7000, 0, 904};
	size_t rl[] = {5000, 3, 0, 4093, 2904};
	struct iovec wiov[5], riov[5];
	struct treq t;
	size_t pos = 0;

	need_aio();
	fill(w, 13, sizeof(w), 2);
	for (int i = 0; i < 5; pos += wl[i++])
		wiov[i] = (struct iovec){w + pos, wl[i]};
	rw(&t, AIO_WRITE, 13, wiov, 5);
	submit(&t);
	run();
	assert_int_equal(t.res, 12000);
	check_file(fx.fd, 13, 12000, 2);

	pos = 0;
	for (int i = 0; i < 5; pos += rl[i++])
		riov[i] = (struct iovec){r + pos, rl[i]};
	rw(&t, AIO_READ, 13, riov, 5);
	submit(&t);
	run();
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, 12000);
	assert_memory_equal(r, w, sizeof(w));

	rw(&t, AIO_READ, 13, riov, 0); /* no segments: nothing to do */
	submit(&t);
	run();
	assert_int_equal(t.res, 0);
}

/* A read across the end of file gets the data, then zeroes, and succeeds. */
static void test_read_past_eof(void **state)
{
	static uint8_t buf[8192];
	struct iovec iov[2] = {{buf, 600}, {buf + 600, sizeof(buf) - 600}};
	struct treq t;

	need_aio();
	write_file(fx.fd, 0, 1000, 3);
	memset(buf, 0xaa, sizeof(buf));
	rw(&t, AIO_READ, 0, iov, 2);
	submit(&t);
	run();
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, sizeof(buf));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf[i], pattern(i, 3));
	for (size_t i = 1000; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);

	memset(buf, 0xaa, sizeof(buf));
	rw(&t, AIO_READ, 1 << 20, iov, 2); /* wholly beyond */
	submit(&t);
	run();
	assert_int_equal(t.res, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_flush(void **state)
{
	static uint8_t buf[BLK];
	struct iovec iov = {buf, sizeof(buf)};
	struct treq t[2];

	need_aio();
	fill(buf, 0, sizeof(buf), 4);
	rw(&t[0], AIO_WRITE, 0, &iov, 1);
	ranged(&t[1], AIO_FLUSH, 0, 0);
	submit(&t[0]);
	run();
	submit(&t[1]);
	run();
	assert_int_equal(t[0].res, BLK);
	assert_int_equal(t[1].calls, 1);
	assert_int_equal(t[1].res, 0);
	check_file(fx.fd, 0, BLK, 4);
}

static void test_discard(void **state)
{
	struct treq t;
	struct stat st;
	blkcnt_t blocks;

	need_aio();
	write_file(fx.fd, 0, 65536, 5);
	assert_int_equal(fsync(fx.fd), 0);
	assert_int_equal(fstat(fx.fd, &st), 0);
	blocks = st.st_blocks;
	ranged(&t, AIO_DISCARD, 16384, 16384);
	submit(&t);
	run();
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, 0);
	check_file(fx.fd, 0, 16384, 5);
	check_zero(fx.fd, 16384, 16384);
	check_file(fx.fd, 32768, 32768, 5);
	assert_int_equal(fstat(fx.fd, &st), 0);
	assert_int_equal(st.st_size, 65536);		   /* KEEP_SIZE */
	assert_true(st.st_blocks <= blocks - 16384 / 512); /* a hole, not written zeroes */

	ranged(&t, AIO_DISCARD, 100, 0); /* empty: nothing happens, success */
	submit(&t);
	run();
	assert_int_equal(t.res, 0);
	check_file(fx.fd, 0, 16384, 5);
}

/* An unaligned range larger than one zero-write chunk, on @fd. */
static void write_zeroes_on(struct aio *a, int fd)
{
	const uint64_t off = 1000, len = (3 << 20) + 5, size = 4 << 20;
	struct treq t;

	write_file(fd, 0, size, 6);
	ranged(&t, AIO_WRITE_ZEROES, off, len);
	submit_to(a, &t);
	run();
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, 0);
	check_file(fd, 0, off, 6);
	check_zero(fd, off, len);
	check_file(fd, off + len, size - off - len, 6);
}

static void test_write_zeroes(void **state)
{
	need_aio();
	write_zeroes_on(fx.a, fx.fd);
}

/* tmpfs (a memfd) has no FALLOC_FL_ZERO_RANGE: aio writes zeroes instead. */
static void test_write_zeroes_fallback(void **state)
{
	int fd = memfd_create("wisp-aio", MFD_CLOEXEC);
	struct aio *a;

	need_aio();
	assert_true(fd >= 0);
	assert_int_equal(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	a = make(fd, 4);
	write_zeroes_on(a, fd);
	write_zeroes_on(a, fd); /* the second goes straight to writing */
	aio_free(a);
	close(fd);
}

static void test_errors(void **state)
{
	static uint8_t buf[BLK];
	struct iovec iov = {buf, sizeof(buf)};
	struct treq t[3];
	struct aio *a;
	int wfd = open(fx.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	need_aio();
	assert_true(wfd >= 0);
	unlink(fx.path);

	a = make(wfd, 4);
	rw(&t[0], AIO_READ, 0, &iov, 1);
	submit_to(a, &t[0]);
	run();
	assert_int_equal(t[0].calls, 1);
	assert_int_equal(t[0].res, -EBADF);
	aio_free(a);
	close(wfd);

	a = make(-1, 4);
	rw(&t[0], AIO_READ, 0, &iov, 1);
	rw(&t[1], AIO_WRITE, 0, &iov, 1);
	ranged(&t[2], AIO_FLUSH, 0, 0);
	for (int i = 0; i < 3; i++)
		submit_to(a, &t[i]);
	run();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, -EBADF);
	}
	aio_free(a);

	/* Refused at submission: done() is never called. */
	rw(&t[0], AIO_READ, 0, &iov, -1);
	rw(&t[1], AIO_READ, 0, &iov, IOV_MAX + 1);
	rw(&t[2], AIO_WRITE, INT64_MAX - 100, &iov, 1);
	for (int i = 0; i < 3; i++) {
		t[i].r.done = on_done;
		assert_int_equal(aio_submit(fx.a, &t[i].r), -EINVAL);
	}
	ranged(&t[0], 99, 0, 0);
	ranged(&t[1], AIO_DISCARD, 0, 4096);
	ranged(&t[2], AIO_WRITE_ZEROES, (uint64_t)INT64_MAX + 1, 1);
	t[0].r.done = t[2].r.done = on_done; /* t[1] has none */
	for (int i = 0; i < 3; i++)
		assert_int_equal(aio_submit(fx.a, &t[i].r), -EINVAL);
	aio_drain(fx.a);
	assert_int_equal(total_calls, 1 + 3);
}

static void test_create_errors(void **state)
{
	char err[160] = "";

	assert_null(aio_create(&fx.loop, fx.fd, fx.mode, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "wisp: aio"));
	assert_null(aio_create(&fx.loop, fx.fd, fx.mode, 100000, err, sizeof(err)));
	aio_free(NULL);
}

/* aio_drain() without the loop running: every done() runs inside it. */
static void test_drain(void **state)
{
	static uint8_t buf[64][512];
	static struct iovec iov[64];
	static struct treq t[64];
	struct aio *a;

	need_aio();
	a = make(fx.fd, 4);
	for (int i = 0; i < 64; i++) {
		fill(buf[i], i * 512, 512, 7);
		iov[i] = (struct iovec){buf[i], 512};
		rw(&t[i], AIO_WRITE, i * 512, &iov[i], 1);
		submit_to(a, &t[i]);
	}
	aio_drain(a);
	assert_int_equal(outstanding, 0);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, 512);
	}
	check_file(fx.fd, 0, 64 * 512, 7);
	aio_drain(a); /* nothing in flight: returns at once */

	/* aio_free() drains too. */
	for (int i = 0; i < 64; i++) {
		rw(&t[i], AIO_READ, i * 512, &iov[i], 1);
		submit_to(a, &t[i]);
	}
	aio_free(a);
	for (int i = 0; i < 64; i++)
		assert_int_equal(t[i].calls, 1);
	assert_int_equal(total_calls, 128);
}

static struct treq chain[40];
static struct iovec chain_iov[40];
static uint8_t chain_buf[40][256];
static int chained;

/* Submits the next request from inside done(), as a device does. */
static void on_done_chain(struct aio_req *r, int64_t res)
{
	on_done(r, res);
	if (chained < 40) {
		struct treq *t = &chain[chained];

		rw(t, AIO_WRITE, chained * 256, &chain_iov[chained], 1);
		chained++;
		submit_fn(fx.a, t, on_done_chain);
		fx.loop.stop = 0;
	}
}

/* Every request's done() runs exactly once, whatever the mix and the queueing. */
static void test_done_once(void **state)
{
	static uint8_t buf[300][512];
	static struct iovec iov[300];
	static struct treq t[300];
	struct aio *a;

	need_aio();
	a = make(fx.fd, 8);
	aio_plug(a);
	for (int i = 0; i < 300; i++) {
		iov[i] = (struct iovec){buf[i], 512};
		if (i % 5 == 3)
			ranged(&t[i], i % 2 ? AIO_DISCARD : AIO_FLUSH, i * 512, 512);
		else if (i % 7 == 6)
			ranged(&t[i], AIO_WRITE_ZEROES, i * 512, 512);
		else
			rw(&t[i], i % 2 ? AIO_READ : AIO_WRITE, i * 512, &iov[i], 1);
		submit_to(a, &t[i]);
	}
	aio_unplug(a);
	run();
	for (int i = 0; i < 300; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_true(t[i].res >= 0);
	}
	assert_int_equal(total_calls, 300);

	/* done() submitting more: each still runs once, and nothing is left over. */
	for (int i = 0; i < 40; i++) {
		fill(chain_buf[i], i * 256, 256, 8);
		chain_iov[i] = (struct iovec){chain_buf[i], 256};
	}
	chained = 0;
	aio_free(fx.a);
	fx.a = a; /* for the callback */
	rw(&t[0], AIO_FLUSH, 0, NULL, 0);
	submit_fn(a, &t[0], on_done_chain);
	run();
	assert_int_equal(chained, 40);
	for (int i = 0; i < 40; i++)
		assert_int_equal(chain[i].calls, 1);
	assert_int_equal(t[0].calls, 1);
	assert_int_equal(total_calls, 300 + 41);
	check_file(fx.fd, 0, 40 * 256, 8);
}

/*
 * A read cut short, continued from the right place in the right segment: the
 * destination's second page is inaccessible when io_uring runs the read (so
 * it stops there) and accessible again when aio continues it. io_uring only:
 * a worker thread continues at once (the same code, in advance()).
 */
static void test_short_read_continues(void **state)
{
	uint8_t *p =
		mmap(NULL, 3 * BLK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec iov[2];
	struct epoll_event ev;
	struct treq t;

	need_aio();
	assert_true(p != MAP_FAILED);
	write_file(fx.fd, 0, 4 * BLK, 10);
	memset(p, 0xee, 3 * BLK);
	iov[0] = (struct iovec){p + 100, 3000};
	iov[1] = (struct iovec){p + 3500, 6000}; /* from page 0 into page 1 */
	assert_int_equal(mprotect(p + BLK, BLK, PROT_NONE), 0);
	rw(&t, AIO_READ, 7, iov, 2);
	submit(&t);
	/* wait for the short completion, then let the continuation in */
	assert_int_equal(epoll_wait(fx.loop.epfd, &ev, 1, 10000), 1);
	assert_int_equal(mprotect(p + BLK, BLK, PROT_READ | PROT_WRITE), 0);
	run();
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, 9000);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(p[100 + i], pattern(7 + i, 10));
	for (int i = 0; i < 6000; i++)
		assert_int_equal(p[3500 + i], pattern(3007 + i, 10));
	assert_int_equal(p[3499], 0xee);
	assert_int_equal(p[9500], 0xee);
	munmap(p, 3 * BLK);
}

/* The ring takes no io_uring_register() calls once aio has set it up. */
static void test_uring_restricted(void **state)
{
	struct io_uring_probe probe[2];
	char link[64], name[64];
	int rings = 0;

	need_aio();
	for (int fd = 0; fd < 1024; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, name, sizeof(name) - 1);
		if (n < 0 || (name[n] = 0, !strstr(name, "io_uring")))
			continue;
		rings++;
		memset(probe, 0, sizeof(probe));
		assert_int_equal(
			syscall(__NR_io_uring_register, fd, IORING_REGISTER_PROBE, probe, 1), -1);
		assert_int_equal(errno, EACCES);
	}
	assert_int_equal(rings, 1);
}

/* Run @fn in a child process; it reports through its exit status. */
static void in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("child failed at check %d", WEXITSTATUS(status));
}

/* A write cut short by RLIMIT_FSIZE continues where it stopped and fails there. */
static int short_write_child(void)
{
	static uint8_t buf[8192];
	struct iovec iov[2] = {{buf, 3000}, {buf + 3000, 5192}};
	struct rlimit lim = {6000, 6000};
	struct stat st;
	char err[160];
	struct treq t;
	struct aio *a;

	signal(SIGXFSZ, SIG_IGN);
	if (evloop_init(&fx.loop) || ftruncate(fx.fd, 0) || setrlimit(RLIMIT_FSIZE, &lim))
		return 1;
	a = aio_create(&fx.loop, fx.fd, fx.mode, 4, err, sizeof(err));
	fill(buf, 0, sizeof(buf), 9);
	rw(&t, AIO_WRITE, 0, iov, 2);
	t.r.done = on_done;
	t.r.opaque = &t;
	outstanding = 1;
	if (!a || aio_submit(a, &t.r))
		return 2;
	aio_drain(a);
	if (t.calls != 1 || t.res != -EFBIG)
		return 3;
	if (fstat(fx.fd, &st) || st.st_size != 6000)
		return 4;
	return 0;
}

static void test_short_write(void **state)
{
	need_aio();
	aio_free(fx.a); /* no worker threads across fork() */
	fx.a = NULL;
	in_child(short_write_child);
	check_file(fx.fd, 0, 6000, 9);
}

/* Where io_uring_setup is refused (containers), aio=io_uring fails with a message
 * and the default falls back to threads. */
static int no_uring_child(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	char err[160] = "";
	struct aio *a;
	struct treq t;

	if (evloop_init(&fx.loop) || !f ||
	    seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_load(f))
		return 1;
	if (aio_create(&fx.loop, fx.fd, CONFIG_AIO_IO_URING, 8, err, sizeof(err)))
		return 2;
	if (!strstr(err, "wisp: ") || !strstr(err, "io_uring") || strchr(err, '\n'))
		return 3;
	a = aio_create(&fx.loop, fx.fd, CONFIG_AIO_DEFAULT, 8, err, sizeof(err));
	if (!a || strcmp(aio_mode(a), "threads"))
		return 4;
	ranged(&t, AIO_FLUSH, 0, 0);
	t.r.done = on_done;
	t.r.opaque = &t;
	outstanding = 1;
	if (aio_submit(a, &t.r))
		return 5;
	fx.loop.stop = 0;
	if (evloop_run(&fx.loop) || t.calls != 1 || t.res != 0)
		return 6;
	aio_free(a);
	return 0;
}

static void test_no_uring(void **state)
{
	in_child(no_uring_child);
}

static enum config_aio io_uring = CONFIG_AIO_IO_URING, threads = CONFIG_AIO_THREADS;

/* Each test once per mode, named after both. */
#define TEST_NAME(f, m) #f " (" #m ")"
#define IN_MODE(f, m)                                                                              \
	{                                                                                          \
		TEST_NAME(f, m), f, setup, teardown, &m                                            \
	}
#define BOTH(f) IN_MODE(f, io_uring), IN_MODE(f, threads)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_many_in_flight),
		BOTH(test_vectored),
		BOTH(test_read_past_eof),
		BOTH(test_flush),
		BOTH(test_discard),
		BOTH(test_write_zeroes),
		BOTH(test_write_zeroes_fallback),
		BOTH(test_errors),
		BOTH(test_create_errors),
		BOTH(test_drain),
		BOTH(test_done_once),
		BOTH(test_short_write),
		IN_MODE(test_short_read_continues, io_uring),
		IN_MODE(test_uring_restricted, io_uring),
		IN_MODE(test_no_uring, io_uring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
