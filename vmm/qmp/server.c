/* QMP servers: Unix-socket listeners, per-client framing of JSON messages,
 * negotiation, dispatch through the registry, replies and events.
 * Event-loop thread only; every byte a client sends is untrusted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "qmp.h"
#include "unixsock.h"
#include "vm.h"

#define MAX_MSG (1 << 20) /* bytes of one request kept; longer ones are refused */
#define MAX_DEPTH 1024	  /* nesting of one request */
#define MAX_OUT (4 << 20) /* unread replies and events before a client is dropped */
#define MAX_CLIENTS 64

struct qmp_client {
	struct qmp *q;
	int fd;
	bool negotiated;
	/* Framing of the request being read. */
	char *in;
	size_t in_len;
	int depth;
	bool in_str, esc, scalar, too_long, too_deep;
	/* Output the client has not read yet. */
	char *out;
	size_t out_len, out_cap;
	bool dead; /* closed; freed at the next safe point */
	struct qmp_client *next;
};

struct listener {
	struct qmp *q;
	int fd;
	char *path;
};

struct qmp {
	struct vm *vm;
	struct listener ls[CONFIG_MAX_MONITORS];
	unsigned int nr_listen;
	struct qmp_client *clients;
	struct qmp_client *dead; /* closed while a callback may still hold them */
	unsigned int nr_clients;
};

struct vm *qmp_vm(struct qmp *q)
{
	return q->vm;
}

/* Close @c now; free it later, since a caller up the stack may still hold it. */
static void client_close(struct qmp_client *c)
{
	struct qmp *q = c->q;

	if (c->dead)
		return;
	c->dead = true;
	for (struct qmp_client **p = &q->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	q->nr_clients--;
	if (q->vm && c->fd >= 0)
		evloop_del(&q->vm->loop, c->fd);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->next = q->dead;
	q->dead = c;
}

/* Safe points: no callback is running for any client. */
static void free_dead(struct qmp *q)
{
	while (q->dead) {
		struct qmp_client *c = q->dead;

		q->dead = c->next;
		free(c->in);
		free(c->out);
		free(c);
	}
}

/* Send what is buffered; wait for EPOLLOUT while some is left.
 * Return: 0, or -1 when the client is gone. */
static int client_flush(struct qmp_client *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
	}
	if (c->q->vm)
		evloop_mod(&c->q->vm->loop, c->fd, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
	return 0;
}

/* Queue @j (stolen) as one line. Return: 0, or -1 when the client must go. */
static int client_send(struct qmp_client *c, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	size_t n = s ? strlen(s) + 2 : 0, cap = c->out_cap ? c->out_cap : 4096;
	int ret = -1;

	json_decref(j);
	/* A client that does not read its replies is dropped past MAX_OUT. */
	if (!s || c->dead || c->out_len + n > MAX_OUT)
		goto out;
	while (cap < c->out_len + n)
		cap *= 2;
	if (cap != c->out_cap) {
		char *p = realloc(c->out, cap);

		if (!p)
			goto out;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n - 2);
	memcpy(c->out + c->out_len + n - 2, "\r\n", 2);
	c->out_len += n;
	ret = c->fd >= 0 ? client_flush(c) : 0;
out:
	free(s);
	return ret;
}

static const char *const class_names[] = {
	[QMP_GENERIC_ERROR] = "GenericError",
	[QMP_COMMAND_NOT_FOUND] = "CommandNotFound",
	[QMP_DEVICE_NOT_FOUND] = "DeviceNotFound",
};

static json_t *error_reply(const struct qmp_error *e, json_t *id)
{
	json_t *r =
		json_pack("{s:{s:s,s:s}}", "error", "class", class_names[e->cls], "desc", e->desc);

	if (r && id)
		json_object_set(r, "id", id);
	return r;
}

__attribute__((format(printf, 3, 4))) static void
set_error(struct qmp_error *e, enum qmp_error_class cls, const char *fmt, ...)
{
	va_list ap;

	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	default:
		return "boolean";
	}
}

static bool type_ok(json_t *v, json_type t)
{
	if (t == JSON_TRUE)
		return json_is_boolean(v);
	if (t == JSON_REAL)
		return json_is_number(v);
	return json_typeof(v) == t;
}

/* Arguments against the command's declaration, in QEMU's words. */
static int check_args(const struct qmp_command *cmd, json_t *args, struct qmp_error *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v)
	{
		const struct qmp_arg *a = cmd->args;

		while (a && a->name && strcmp(a->name, key))
			a++;
		if (!a || !a->name) {
			set_error(err, QMP_GENERIC_ERROR, "Parameter '%.64s' is unexpected", key);
			return -1;
		}
		if (!type_ok(v, a->type)) {
			set_error(err, QMP_GENERIC_ERROR,
				  "Invalid parameter type for '%s', expected: %s", a->name,
				  type_name(a->type));
			return -1;
		}
	}
	for (const struct qmp_arg *a = cmd->args; a && a->name; a++) {
		if (a->required && !json_object_get(args, a->name)) {
			set_error(err, QMP_GENERIC_ERROR, "Parameter '%s' is missing", a->name);
			return -1;
		}
	}
	return 0;
}

static const struct qmp_command *find_command(const char *name)
{
	for (size_t i = 0; i < qmp_nr_commands; i++)
		if (!strcmp(qmp_commands[i].name, name))
			return &qmp_commands[i];
	return NULL;
}

/* The request's shape: an object with "execute", optional "arguments" and "id". */
static const char *check_request(json_t *req, json_t **args, struct qmp_error *err)
{
	const char *key, *name = NULL;
	json_t *v;

	if (!json_is_object(req)) {
		set_error(err, QMP_GENERIC_ERROR, "QMP input must be a JSON object");
		return NULL;
	}
	*args = NULL;
	json_object_foreach(req, key, v)
	{
		if (!strcmp(key, "execute")) {
			if (!json_is_string(v)) {
				set_error(err, QMP_GENERIC_ERROR,
					  "QMP input member 'execute' must be a string");
				return NULL;
			}
			name = json_string_value(v);
		} else if (!strcmp(key, "arguments")) {
			if (!json_is_object(v)) {
				set_error(err, QMP_GENERIC_ERROR,
					  "QMP input member 'arguments' must be an object");
				return NULL;
			}
			*args = v;
		} else if (strcmp(key, "id")) {
			set_error(err, QMP_GENERIC_ERROR, "QMP input member '%.64s' is unexpected",
				  key);
			return NULL;
		}
	}
	if (!name)
		set_error(err, QMP_GENERIC_ERROR, "QMP input lacks member 'execute'");
	return name;
}

static json_t *dispatch(struct qmp_client *c, json_t *req, struct qmp_error *err)
{
	json_t *args, *empty = NULL, *ret;
	const char *name = check_request(req, &args, err);
	const struct qmp_command *cmd;

	if (!name)
		return NULL;
	if (!c->negotiated && strcmp(name, "qmp_capabilities")) {
		set_error(err, QMP_COMMAND_NOT_FOUND,
			  "Expecting capabilities negotiation with 'qmp_capabilities'");
		return NULL;
	}
	if (c->negotiated && !strcmp(name, "qmp_capabilities")) {
		set_error(err, QMP_COMMAND_NOT_FOUND,
			  "Capabilities negotiation is already complete, command ignored");
		return NULL;
	}
	cmd = find_command(name);
	if (!cmd) {
		set_error(err, QMP_COMMAND_NOT_FOUND, "The command %.64s has not been found", name);
		return NULL;
	}
	if (!args)
		args = empty = json_object();
	ret = check_args(cmd, args, err) ? NULL : cmd->fn(c->q, args, err);
	if (ret && !strcmp(name, "qmp_capabilities"))
		c->negotiated = true;
	json_decref(empty);
	return ret;
}

/* One complete request (or a framing error). Return: -1 to drop the client. */
static int handle_message(struct qmp_client *c)
{
	struct qmp_error err = {0};
	json_error_t jerr;
	json_t *req = NULL, *ret = NULL, *id = NULL;
	int r = 0;

	if (c->too_deep) /* answered when it happened */
		goto out;
	if (c->too_long)
		set_error(&err, QMP_GENERIC_ERROR, "JSON message longer than %d bytes", MAX_MSG);
	else if (!(req = json_loadb(c->in, c->in_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				    &jerr)))
		set_error(&err, QMP_GENERIC_ERROR, "JSON parse error, %.200s", jerr.text);
	else if ((ret = dispatch(c, req, &err)))
		id = json_object_get(req, "id");
	else
		id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	if (ret) {
		json_t *reply = json_pack("{s:o}", "return", ret);

		if (reply && id)
			json_object_set(reply, "id", id);
		r = client_send(c, reply);
	} else {
		r = client_send(c, error_reply(&err, id));
	}
	json_decref(req);
out:
	c->in_len = 0;
	c->depth = 0;
	c->in_str = c->esc = c->scalar = c->too_long = c->too_deep = false;
	return r;
}

static void keep(struct qmp_client *c, char ch)
{
	if (c->in_len == MAX_MSG) {
		c->too_long = true;
		return;
	}
	c->in[c->in_len++] = ch;
}

/* Nesting past the limit is answered at once; the rest of that value is dropped. */
static int too_deep(struct qmp_client *c)
{
	struct qmp_error err;

	c->too_deep = true;
	set_error(&err, QMP_GENERIC_ERROR, "JSON nesting deeper than %d", MAX_DEPTH);
	return client_send(c, error_reply(&err, NULL));
}

/* Split the byte stream into top-level JSON values, as QEMU's streamer does. */
int qmp_client_input(struct qmp_client *c, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		bool done = false;

		if (c->in_str) {
			keep(c, ch);
			if (c->esc)
				c->esc = false;
			else if (ch == '\\')
				c->esc = true;
			else if (ch == '"')
				c->in_str = false;
			done = c->depth == 0 && !c->in_str && !c->scalar;
		} else if (ch == '{' || ch == '[') {
			keep(c, ch);
			if (++c->depth > MAX_DEPTH && !c->too_deep && too_deep(c) < 0)
				return -1;
		} else if (ch == '}' || ch == ']') {
			keep(c, ch);
			done = --c->depth <= 0;
		} else if (ch == '"') {
			keep(c, ch);
			c->in_str = true;
		} else if (c->depth == 0 && (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')) {
			done = c->scalar && c->in_len;
		} else {
			keep(c, ch);
			c->scalar |= c->depth == 0;
		}
		if (done && handle_message(c) < 0)
			return -1;
		if (c->dead)
			return -1;
	}
	return 0;
}

static void on_client(void *opaque, uint32_t events)
{
	struct qmp_client *c = opaque;
	char buf[65536];
	ssize_t n;

	free_dead(c->q); /* c itself is alive: its watch would have been dropped */
	if (events & EPOLLOUT && client_flush(c) < 0) {
		client_close(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || qmp_client_input(c, buf, n) < 0)
		client_close(c);
}

static json_t *greeting(void)
{
	return json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[]}}", "QMP", "version", "qemu", "micro",
			 WISP_VERSION_MICRO, "minor", WISP_VERSION_MINOR, "major",
			 WISP_VERSION_MAJOR, "package", "wisp " WISP_VERSION, "capabilities");
}

struct qmp_client *qmp_client_new(struct qmp *q, int fd)
{
	struct qmp_client *c = calloc(1, sizeof(*c));

	if (!c || !(c->in = malloc(MAX_MSG))) {
		free(c);
		return NULL;
	}
	c->q = q;
	c->fd = fd;
	c->next = q->clients;
	q->clients = c;
	q->nr_clients++;
	if (client_send(c, greeting()) < 0) {
		client_close(c);
		return NULL;
	}
	return c;
}

static void on_accept(void *opaque, uint32_t events)
{
	struct listener *l = opaque;
	struct qmp *q = l->q;
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct qmp_client *c;

	free_dead(q);
	if (fd < 0)
		return;
	if (q->nr_clients >= MAX_CLIENTS) {
		close(fd);
		return;
	}
	c = qmp_client_new(q, -1);
	if (!c) {
		close(fd);
		return;
	}
	if (evloop_add(&q->vm->loop, fd, EPOLLIN, on_client, c) < 0) {
		close(fd);
		client_close(c);
		return;
	}
	c->fd = fd;
	if (client_flush(c) < 0) /* the greeting */
		client_close(c);
}

char *qmp_client_take_output(struct qmp_client *c)
{
	char *s = malloc(c->out_len + 1);

	if (s) {
		memcpy(s, c->out, c->out_len);
		s[c->out_len] = '\0';
	}
	c->out_len = 0;
	return s;
}

void qmp_client_free(struct qmp_client *c)
{
	struct qmp *q = c->q;

	client_close(c);
	free_dead(q);
}

void qmp_event(struct qmp *q, const char *name, json_t *data)
{
	struct timeval tv;
	struct qmp_client *c, *next;

	if (!q) {
		json_decref(data);
		return;
	}
	gettimeofday(&tv, NULL);
	for (c = q->clients; c; c = next) {
		json_t *ev = json_pack("{s:{s:I,s:I},s:s}", "timestamp", "seconds",
				       (json_int_t)tv.tv_sec, "microseconds",
				       (json_int_t)tv.tv_usec, "event", name);

		next = c->next;
		if (!c->negotiated) {
			json_decref(ev);
			continue;
		}
		if (ev && data)
			json_object_set(ev, "data", data);
		if (client_send(c, ev) < 0)
			client_close(c);
	}
	json_decref(data);
}

void qmp_flush(struct qmp *q)
{
	/* Before exit: give slow readers up to a tenth of a second in all. */
	for (int tries = 0; q && tries < 10; tries++) {
		bool left = false;

		for (struct qmp_client *c = q->clients; c; c = c->next) {
			if (c->fd >= 0 && c->out_len && client_flush(c) == 0)
				left |= c->out_len > 0;
		}
		if (!left)
			break;
		usleep(10000);
	}
}

struct qmp *qmp_create(struct vm *vm, const char *const *paths, unsigned int nr_paths, char *err,
		       size_t errlen)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q) {
		snprintf(err, errlen, "wisp: out of memory");
		return NULL;
	}
	q->vm = vm;
	json_object_seed(0); /* reads /dev/urandom now, before the sandbox forbids open */
	for (unsigned int i = 0; i < nr_paths && i < CONFIG_MAX_MONITORS; i++) {
		struct listener *l = &q->ls[q->nr_listen];

		l->q = q;
		l->fd = unixsock_listen(paths[i], "QMP socket ", err, errlen);
		if (l->fd < 0)
			goto fail;
		l->path = strdup(paths[i]);
		q->nr_listen++;
		if (evloop_add(&vm->loop, l->fd, EPOLLIN, on_accept, l) < 0) {
			snprintf(err, errlen, "wisp: QMP socket %s: %s", paths[i], strerror(errno));
			goto fail;
		}
	}
	return q;
fail:
	qmp_free(q);
	return NULL;
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	while (q->clients)
		client_close(q->clients);
	free_dead(q);
	for (unsigned int i = 0; i < q->nr_listen; i++) {
		if (q->vm)
			evloop_del(&q->vm->loop, q->ls[i].fd);
		close(q->ls[i].fd);
		if (q->ls[i].path)
			unlink(q->ls[i].path);
		free(q->ls[i].path);
	}
	free(q);
}
