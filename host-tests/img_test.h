/* What the image tests (test_block.c, test_vpc.c) share: a scratch directory, shell
 * commands for qemu-img and qemu-io, opening images, one request run to completion
 * on the event loop, and reading a file whole. Included by one test each; cmocka,
 * blockdev.h and evloop.h come first. */
#ifndef WISP_IMG_TEST_H
#define WISP_IMG_TEST_H

static struct evloop loop;
static char dir[64];
static char last_err[512];

__attribute__((unused)) static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

__attribute__((format(printf, 1, 2), unused)) static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run a shell command in dir that must succeed. */
#define SH(...) assert_int_equal(sh("cd %s && ( " __VA_ARGS__ ") >/dev/null 2>&1", dir), 0)
#define SHF(fmt, ...)                                                                              \
	assert_int_equal(sh("cd %s && ( " fmt ") >/dev/null 2>&1", dir, __VA_ARGS__), 0)

static char *paths[64];
static int npaths;

__attribute__((unused)) static struct blockdev *open_img(const char *name, const char *fmt, bool ro)
{
	char p[256];
	struct blockdev_opts o = {
		.format = fmt, .readonly = ro, .aio = CONFIG_AIO_DEFAULT, .depth = 64};

	path_of(p, sizeof(p), name);
	if (npaths == 64) {
		for (int i = 0; i < npaths; i++)
			free(paths[i]);
		npaths = 0;
	}
	paths[npaths] = strdup(p);
	return blockdev_open(&loop, paths[npaths++], &o, last_err, sizeof(last_err));
}

struct sync_req {
	struct blockdev_req r;
	bool done;
	int64_t res;
};

static void on_done(struct blockdev_req *r, int64_t res)
{
	struct sync_req *s = r->opaque;

	s->done = true;
	s->res = res;
}

/* One request, run to completion, the buffer in three pieces for the vectored
 * paths. Return: its result. */
__attribute__((unused)) static int64_t io(struct blockdev *bd, enum blockdev_op op, uint64_t off,
					  void *buf, uint64_t len)
{
	struct iovec iov[3];
	struct sync_req s = {0};
	uint64_t a = len / 3 & ~511ULL, b = len / 3;
	int ret;

	iov[0] = (struct iovec){buf, a};
	iov[1] = (struct iovec){(uint8_t *)buf + a, b};
	iov[2] = (struct iovec){(uint8_t *)buf + a + b, len - a - b};
	s.r = (struct blockdev_req){.op = op,
				    .offset = off,
				    .iov = iov,
				    .iovcnt = buf ? 3 : 0,
				    .len = len,
				    .done = on_done,
				    .opaque = &s};
	if ((ret = blockdev_submit(bd, &s.r)))
		return ret;
	assert_false(s.done);
	while (!s.done)
		assert_true(evloop_run_once(&loop, 5000) >= 0);
	return s.res;
}

__attribute__((unused)) static uint8_t *slurp(const char *name, uint64_t *len)
{
	char p[256];
	struct stat st;
	uint8_t *buf;
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (uint64_t)st.st_size;
	return buf;
}

/* cmocka group set-up and tear-down: a scratch directory from @tmpl, the loop. */
__attribute__((unused)) static int img_setup(const char *tmpl)
{
	snprintf(dir, sizeof(dir), "%s", tmpl);
	if (!mkdtemp(dir) || evloop_init(&loop))
		return -1;
	return 0;
}

__attribute__((unused)) static int img_teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", dir);
	evloop_free(&loop);
	for (int i = 0; i < npaths; i++)
		free(paths[i]);
	return 0;
}

#endif
