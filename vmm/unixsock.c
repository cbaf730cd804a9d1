/* Listening Unix sockets: never replaces a file that is not a stale socket.
 * Start-up only; the path comes from the command line. */
#include "unixsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int unixsock_listen(const char *path, const char *what, char *err, size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "wisp: %s%s: path too long", what, path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "wisp: %s%s: exists and is not a socket", what, path);
			return -EEXIST;
		}
		unlink(path); /* a stale socket from an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		ret = -errno;
		snprintf(err, errlen, "wisp: %s%s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}
