/* QMP, QEMU's JSON monitor protocol: servers on Unix sockets, the command
 * registry and events. Everything runs on the event-loop thread. */
#ifndef WISP_QMP_H
#define WISP_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;
struct qmp;

/* QMP error classes, spelled as QEMU spells them on the wire. */
enum qmp_error_class {
	QMP_GENERIC_ERROR,
	QMP_COMMAND_NOT_FOUND,
	QMP_DEVICE_NOT_FOUND,
};

struct qmp_error {
	enum qmp_error_class cls;
	char desc[256];
};

/* One argument a command accepts. */
struct qmp_arg {
	const char *name;
	json_type type; /* JSON_TRUE stands for any boolean */
	bool required;
};

/**
 * A command: @fn returns its "return" value (a new reference; NULL with @err
 * filled on failure). Arguments are checked against @args before @fn runs.
 */
struct qmp_command {
	const char *name;
	json_t *(*fn)(struct qmp *q, json_t *args, struct qmp_error *err);
	const struct qmp_arg *args; /* NULL-name terminated; NULL for none */
};

/* The registry (commands.c): later features add their entries there. */
extern const struct qmp_command qmp_commands[];
extern const size_t qmp_nr_commands;

/**
 * qmp_create() - the QMP service of @vm, listening on @nr_paths Unix sockets
 * (mode 0600; a stale socket is replaced, any other file refused).
 * Return: the service (also when @nr_paths is 0), or NULL with @err filled.
 */
struct qmp *qmp_create(struct vm *vm, const char *const *paths, unsigned int nr_paths, char *err,
		       size_t errlen);

/** qmp_vm() - the machine a command acts on. */
struct vm *qmp_vm(struct qmp *q);

/**
 * qmp_event() - send event @name with @data (stolen; NULL for none) to every
 * client that has negotiated capabilities. Safe with a NULL @q.
 */
void qmp_event(struct qmp *q, const char *name, json_t *data);

/** qmp_flush() - try for a short while to send what clients have not read yet. */
void qmp_flush(struct qmp *q);

/** qmp_free() - close every socket and remove the socket files. NULL is fine. */
void qmp_free(struct qmp *q);

/* Clients without a socket, for host-tests: feed bytes, take what it was sent. */
struct qmp_client;
/** qmp_client_new() - a client on @fd (-1: none); its greeting is queued. */
struct qmp_client *qmp_client_new(struct qmp *q, int fd);
/** qmp_client_input() - bytes from the client. Return: 0, or -1 to drop it. */
int qmp_client_input(struct qmp_client *c, const char *buf, size_t len);
/** qmp_client_take_output() - what was queued for the client (free() it). */
char *qmp_client_take_output(struct qmp_client *c);
/** qmp_client_free() - drop the client. */
void qmp_client_free(struct qmp_client *c);

#endif
