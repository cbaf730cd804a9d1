/* Events and timers. There are no interrupts: timers are checked against the TSC
 * whenever an image waits or checks (WaitForEvent, CheckEvent, SignalEvent, Stall is
 * separate), and their notify functions run then. Boot services time, one CPU. */
#include "fw.h"

#define EVENT_MAGIC 0x746e7665u /* "evnt" */
#define MAX_EVENTS 64

struct event {
	uint32_t magic, type;
	EFI_TPL tpl;
	EFI_EVENT_NOTIFY fn;
	void *ctx;
	bool signaled, has_group;
	EFI_GUID group;
	EFI_TIMER_DELAY timer;
	uint64_t due_ns, period_ns;
};

static struct event events[MAX_EVENTS] BOOT_BSS;
static const EFI_GUID group_exit_bs = {
	0x27abf055, 0xb1b8, 0x4c26, {0x80, 0x48, 0x74, 0x8f, 0x37, 0xba, 0xa2, 0xdf}};
static const EFI_GUID group_va_change = {
	0x13fa7698, 0xc831, 0x49c7, {0x87, 0xea, 0x8f, 0x43, 0xfc, 0xc2, 0x51, 0x96}};

static struct event *lookup(EFI_EVENT ev)
{
	struct event *e = ev;

	if (e < events || e >= events + MAX_EVENTS ||
	    ((uintptr_t)e - (uintptr_t)events) % sizeof(*e) || e->magic != EVENT_MAGIC)
		return NULL;
	return e;
}

static void notify(struct event *e)
{
	if (e->fn)
		e->fn(e, e->ctx);
}

static void signal_one(struct event *e)
{
	if (e->signaled)
		return;
	e->signaled = true;
	if (e->type & EVT_NOTIFY_SIGNAL) {
		notify(e);
		e->signaled = false; /* notify-signal events are not waited on */
	}
}

/* Fire due timers. */
static void poll_timers(void)
{
	uint64_t now = time_now_ns();

	for (unsigned int i = 0; i < MAX_EVENTS; i++) {
		struct event *e = &events[i];

		if (e->magic != EVENT_MAGIC || e->timer == TimerCancel || now < e->due_ns)
			continue;
		if (e->timer == TimerPeriodic && e->period_ns)
			e->due_ns += ((now - e->due_ns) / e->period_ns + 1) * e->period_ns;
		else
			e->timer = TimerCancel;
		signal_one(e);
	}
}

EFI_STATUS EFIAPI efi_create_event(UINT32 type, EFI_TPL tpl, EFI_EVENT_NOTIFY fn, VOID *ctx,
				   EFI_EVENT *ev)
{
	const UINT32 known = EVT_TIMER | EVT_RUNTIME | EVT_NOTIFY_WAIT | EVT_NOTIFY_SIGNAL |
			     EVT_SIGNAL_EXIT_BOOT_SERVICES | EVT_SIGNAL_VIRTUAL_ADDRESS_CHANGE;

	if (!ev || (type & ~known) || ((type & EVT_NOTIFY_WAIT) && (type & EVT_NOTIFY_SIGNAL)))
		return EFI_INVALID_PARAMETER;
	if ((type & (EVT_NOTIFY_WAIT | EVT_NOTIFY_SIGNAL)) &&
	    (!fn || tpl <= TPL_APPLICATION || tpl > TPL_HIGH_LEVEL))
		return EFI_INVALID_PARAMETER;
	for (unsigned int i = 0; i < MAX_EVENTS; i++) {
		if (events[i].magic == EVENT_MAGIC)
			continue;
		events[i] = (struct event){
			.magic = EVENT_MAGIC,
			.type = type,
			.tpl = tpl,
			.fn = (type & (EVT_NOTIFY_WAIT | EVT_NOTIFY_SIGNAL)) ? fn : NULL,
			.ctx = ctx,
			.timer = TimerCancel};
		*ev = &events[i];
		return EFI_SUCCESS;
	}
	return EFI_OUT_OF_RESOURCES;
}

static EFI_STATUS EFIAPI create_event_ex(UINT32 type, EFI_TPL tpl, EFI_EVENT_NOTIFY fn,
					 const VOID *ctx, const EFI_GUID *group, EFI_EVENT *ev)
{
	EFI_STATUS st;

	if (group && guid_eq(group, &group_exit_bs))
		type |= EVT_SIGNAL_EXIT_BOOT_SERVICES;
	if (group && guid_eq(group, &group_va_change))
		type |= EVT_SIGNAL_VIRTUAL_ADDRESS_CHANGE;
	st = efi_create_event(type, tpl, fn, (VOID *)ctx, ev);
	if (!st && group) {
		struct event *e = *ev;

		e->has_group = true;
		e->group = *group;
	}
	return st;
}

EFI_STATUS EFIAPI efi_signal_event(EFI_EVENT ev)
{
	struct event *e = lookup(ev);

	if (!e)
		return EFI_INVALID_PARAMETER;
	if (!e->has_group) {
		signal_one(e);
		return EFI_SUCCESS;
	}
	for (unsigned int i = 0; i < MAX_EVENTS; i++)
		if (events[i].magic == EVENT_MAGIC && events[i].has_group &&
		    guid_eq(&events[i].group, &e->group))
			signal_one(&events[i]);
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI close_event(EFI_EVENT ev)
{
	struct event *e = lookup(ev);

	if (!e)
		return EFI_INVALID_PARAMETER;
	e->magic = 0;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI set_timer(EFI_EVENT ev, EFI_TIMER_DELAY type, UINT64 delay)
{
	struct event *e = lookup(ev);
	uint64_t ns = delay * 100; /* delay is in 100 ns units */

	if (!e || !(e->type & EVT_TIMER) || type > TimerRelative)
		return EFI_INVALID_PARAMETER;
	e->timer = type;
	e->due_ns = time_now_ns() + ns;
	e->period_ns = type == TimerPeriodic ? ns : 0;
	/* A periodic timer of 0 fires on every check. */
	return EFI_SUCCESS;
}

static EFI_STATUS check(struct event *e)
{
	if (e->type & EVT_NOTIFY_SIGNAL)
		return EFI_INVALID_PARAMETER;
	poll_timers();
	if (!e->signaled && (e->type & EVT_NOTIFY_WAIT))
		notify(e);
	if (!e->signaled)
		return EFI_NOT_READY;
	e->signaled = false;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI check_event(EFI_EVENT ev)
{
	struct event *e = lookup(ev);

	return e ? check(e) : EFI_INVALID_PARAMETER;
}

static EFI_STATUS EFIAPI wait_for_event(UINTN n, EFI_EVENT *evs, UINTN *index)
{
	if (!n || !evs || !index)
		return EFI_INVALID_PARAMETER;
	for (;;) {
		for (UINTN i = 0; i < n; i++) {
			struct event *e = lookup(evs[i]);
			EFI_STATUS st = e ? check(e) : EFI_INVALID_PARAMETER;

			if (st != EFI_NOT_READY) {
				*index = i;
				return st;
			}
		}
		__asm__ volatile("pause");
	}
}

void event_poll(void)
{
	poll_timers();
}

/* The EVT_SIGNAL_* types include EVT_NOTIFY_SIGNAL: only events with all of their bits
 * are in that group. */
void event_signal_type(UINT32 type)
{
	for (unsigned int i = 0; i < MAX_EVENTS; i++)
		if (events[i].magic == EVENT_MAGIC && (events[i].type & type) == type)
			notify(&events[i]);
}

void event_fill(EFI_BOOT_SERVICES *bs)
{
	bs->CreateEvent = efi_create_event;
	bs->CreateEventEx = create_event_ex;
	bs->SetTimer = set_timer;
	bs->WaitForEvent = wait_for_event;
	bs->SignalEvent = efi_signal_event;
	bs->CloseEvent = close_event;
	bs->CheckEvent = check_event;
}
