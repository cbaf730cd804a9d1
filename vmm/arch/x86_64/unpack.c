/* Host-side unpacking of a bzImage's compressed kernel, kept in a cache so that
 * later boots skip the guest's decompressor (pure CPL0 work, and on every boot).
 * Start-up only; the payload is untrusted: output is bounded, errors are values. */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "x86.h"

#define CACHE_FORMAT 1 /* bump when what is cached changes */

static int grow(uint8_t **out, size_t *cap, size_t used, size_t max)
{
	size_t n = *cap ? *cap * 2 : 64 << 20;
	uint8_t *p;

	if (used >= max)
		return -EINVAL; /* larger than any kernel this bzImage could hold */
	if (n > max)
		n = max;
	p = realloc(*out, n);
	if (!p)
		return -ENOMEM;
	*out = p;
	*cap = n;
	return 0;
}

static int unxz(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len,
		bool alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 0;
	lzma_ret r =
		alone ? lzma_alone_decoder(&s, UINT64_MAX) : lzma_stream_decoder(&s, UINT64_MAX, 0);
	int ret = 0;

	if (r != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	do {
		if (s.avail_out == 0) {
			if ((ret = grow(out, &cap, s.total_out, max)))
				break;
			s.next_out = *out + s.total_out;
			s.avail_out = cap - s.total_out;
		}
		r = lzma_code(&s, LZMA_FINISH);
	} while (r == LZMA_OK);
	if (!ret && r != LZMA_STREAM_END)
		ret = -EINVAL;
	*out_len = s.total_out;
	lzma_end(&s);
	return ret;
}

static int ungzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
	z_stream s = {0};
	size_t cap = 0;
	int r, ret = 0;

	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	s.next_in = (uint8_t *)in;
	s.avail_in = len > UINT32_MAX ? UINT32_MAX : len;
	do {
		if (s.avail_out == 0) {
			if ((ret = grow(out, &cap, s.total_out, max)))
				break;
			s.next_out = *out + s.total_out;
			s.avail_out =
				cap - s.total_out > UINT32_MAX ? UINT32_MAX : cap - s.total_out;
		}
		r = inflate(&s, Z_NO_FLUSH);
	} while (r == Z_OK);
	if (!ret && r != Z_STREAM_END)
		ret = -EINVAL;
	*out_len = s.total_out;
	inflateEnd(&s);
	return ret;
}

static int unzstd(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in, len, 0};
	ZSTD_outBuffer ob = {NULL, 0, 0};
	size_t r = 1, cap = 0;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	while (r != 0) {
		if (ob.pos == ob.size) {
			if ((ret = grow(out, &cap, ob.pos, max)))
				break;
			ob.dst = *out;
			ob.size = cap;
		}
		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r) || (r != 0 && ib.pos == ib.size && ob.pos < ob.size)) {
			ret = -EINVAL;
			break;
		}
	}
	*out_len = ob.pos;
	ZSTD_freeDStream(d);
	return ret;
}

/* Decompress by the payload's magic. Return: 0, -ENOTSUP, -EINVAL or -ENOMEM. */
static int unpack(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
	int ret = -ENOTSUP;

	*out = NULL;
	if (len >= 6 && !memcmp(in,
				"\xfd"
				"7zXZ\0",
				6))
		ret = unxz(in, len, max, out, out_len, false);
	else if (len >= 3 && !memcmp(in, "\x5d\0\0", 3))
		ret = unxz(in, len, max, out, out_len, true);
	else if (len >= 2 && !memcmp(in, "\x1f\x8b", 2))
		ret = ungzip(in, len, max, out, out_len);
	else if (len >= 4 && !memcmp(in, "\x28\xb5\x2f\xfd", 4))
		ret = unzstd(in, len, max, out, out_len);
	if (ret) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

/* $XDG_CACHE_HOME/wisp or ~/.cache/wisp, created on demand. */
static int cache_dir(char *dir, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(dir, size, "%s/wisp", xdg);
	else if (home && *home)
		n = snprintf(dir, size, "%s/.cache/wisp", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno == ENOENT) {
		char parent[4096];

		snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
		mkdir(parent, 0700);
		mkdir(dir, 0700);
	}
	return access(dir, W_OK) == 0 ? 0 : -errno;
}

static int store(const char *dir, const char *path, const uint8_t *p, size_t len)
{
	char tmp[4200];
	int fd;
	ssize_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s/.unpack-XXXXXX", dir);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while ((size_t)done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n <= 0)
			break;
		done += n;
	}
	if ((size_t)done != len || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

/* Map the cached kernel: its pages go straight from the page cache to guest RAM. */
static int map(const char *file, size_t max, uint8_t **out, size_t *out_len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (uint64_t)st.st_size > max) {
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	*out_len = st.st_size;
	return 0;
}

int unpack_vmlinux(const char *path, const uint8_t *payload, size_t len, size_t max, uint8_t **out,
		   size_t *out_len)
{
	char dir[4096], file[4200];
	struct stat st;
	uint8_t *buf;
	size_t n;
	int ret;

	/* The cache key names the exact file: a replaced kernel gets a new entry. */
	if (stat(path, &st) < 0 || cache_dir(dir, sizeof(dir)) < 0)
		return -ENOTSUP;
	snprintf(file, sizeof(file), "%s/vmlinux-%d-%llx-%llx-%llx-%llx.%lx", dir, CACHE_FORMAT,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
		 (long)st.st_mtim.tv_nsec);
	if (map(file, max, out, out_len) == 0)
		return 0;
	ret = unpack(payload, len, max, &buf, &n);
	if (ret)
		return ret;
	/* No cache, no gain: unpacking on every boot would only move the work here. */
	ret = store(dir, file, buf, n) < 0 ? -ENOTSUP : map(file, max, out, out_len);
	free(buf);
	return ret;
}
