/* Listening Unix sockets for the serial console and QMP: start-up only. */
#ifndef WISP_UNIXSOCK_H
#define WISP_UNIXSOCK_H

#include <stddef.h>

/**
 * unixsock_listen() - a non-blocking listening socket at @path, mode 0600.
 * A stale socket at @path is replaced; any other file there is refused.
 * @what names the option in messages ("-serial unix:", "-qmp unix:").
 * Return: the fd, or -errno with @err filled.
 */
int unixsock_listen(const char *path, const char *what, char *err, size_t errlen);

#endif
