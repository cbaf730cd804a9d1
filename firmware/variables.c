/* UEFI variables, volatile: kept in runtime memory for as long as the machine runs and
 * lost on reset (there is no flash). The non-volatile attribute is accepted and kept,
 * but nothing survives a reset. Runtime services: names and sizes come from the caller
 * and are bounded before use. */
#include "fw.h"

#define MAX_VARS 64
#define NAME_MAX 128 /* CHAR16s including the terminator */
#define DATA_MAX 2048
#define ATTR_KNOWN                                                                                 \
	(EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |                             \
	 EFI_VARIABLE_RUNTIME_ACCESS | EFI_VARIABLE_HARDWARE_ERROR_RECORD |                        \
	 EFI_VARIABLE_APPEND_WRITE)
#define ATTR_AUTH                                                                                  \
	(EFI_VARIABLE_AUTHENTICATED_WRITE_ACCESS |                                                 \
	 EFI_VARIABLE_TIME_BASED_AUTHENTICATED_WRITE_ACCESS)

struct var {
	bool used;
	EFI_GUID guid;
	UINT32 attr;
	UINTN size;
	CHAR16 name[NAME_MAX];
	uint8_t data[DATA_MAX];
};

static struct var vars[MAX_VARS];

static bool at_runtime(void)
{
	return !fw_st->BootServices;
}

/* Length in CHAR16s of @name without its terminator, or -1 if none within NAME_MAX. */
static int name_len(const CHAR16 *name)
{
	for (int i = 0; i < NAME_MAX; i++)
		if (!name[i])
			return i;
	return -1;
}

static bool visible(const struct var *v)
{
	return v->used && (!at_runtime() || (v->attr & EFI_VARIABLE_RUNTIME_ACCESS));
}

static struct var *lookup(const CHAR16 *name, const EFI_GUID *guid)
{
	for (unsigned int i = 0; i < MAX_VARS; i++)
		if (visible(&vars[i]) && guid_eq(&vars[i].guid, guid) &&
		    !strcmp16(vars[i].name, name))
			return &vars[i];
	return NULL;
}

static EFI_STATUS EFIAPI get_variable(CHAR16 *name, EFI_GUID *guid, UINT32 *attr, UINTN *size,
				      VOID *data)
{
	struct var *v;

	if (!name || !guid || !size || name_len(name) < 0)
		return EFI_INVALID_PARAMETER;
	if (!name[0] || !(v = lookup(name, guid)))
		return EFI_NOT_FOUND;
	if (attr)
		*attr = v->attr;
	if (*size < v->size) {
		*size = v->size;
		return EFI_BUFFER_TOO_SMALL;
	}
	if (!data && v->size)
		return EFI_INVALID_PARAMETER;
	memcpy(data, v->data, v->size);
	*size = v->size;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI get_next_variable_name(UINTN *size, CHAR16 *name, EFI_GUID *guid)
{
	unsigned int i = 0;
	UINTN need;
	int len;

	if (!size || !name || !guid)
		return EFI_INVALID_PARAMETER;
	/* The name must be terminated within the buffer the caller says it has. */
	for (len = 0; (UINTN)len < *size / sizeof(CHAR16) && name[len]; len++)
		;
	if ((UINTN)len >= *size / sizeof(CHAR16) || len >= NAME_MAX)
		return EFI_INVALID_PARAMETER;
	if (len) {
		struct var *cur = lookup(name, guid);

		if (!cur)
			return EFI_INVALID_PARAMETER;
		i = (unsigned int)(cur - vars) + 1;
	}
	for (; i < MAX_VARS && !visible(&vars[i]); i++)
		;
	if (i >= MAX_VARS)
		return EFI_NOT_FOUND;
	need = (strlen16(vars[i].name) + 1) * sizeof(CHAR16);
	if (*size < need) {
		*size = need;
		return EFI_BUFFER_TOO_SMALL;
	}
	memcpy(name, vars[i].name, need);
	*guid = vars[i].guid;
	*size = need;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI set_variable(CHAR16 *name, EFI_GUID *guid, UINT32 attr, UINTN size,
				      VOID *data)
{
	bool append = attr & EFI_VARIABLE_APPEND_WRITE;
	struct var *v;
	int len;

	if (!name || !guid || !name[0] || (len = name_len(name)) < 0 || (size && !data))
		return EFI_INVALID_PARAMETER;
	if (attr & ATTR_AUTH)
		return EFI_UNSUPPORTED;
	if (attr & ~ATTR_KNOWN)
		return EFI_INVALID_PARAMETER;
	if ((attr & EFI_VARIABLE_RUNTIME_ACCESS) && !(attr & EFI_VARIABLE_BOOTSERVICE_ACCESS))
		return EFI_INVALID_PARAMETER;
	if (at_runtime() && attr && !(attr & EFI_VARIABLE_RUNTIME_ACCESS))
		return EFI_INVALID_PARAMETER;
	v = lookup(name, guid);
	/* Delete: no access attributes, or no data without append. */
	if (!(attr & (EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)) ||
	    (!size && !append)) {
		if (!v)
			return EFI_NOT_FOUND;
		v->used = false;
		return EFI_SUCCESS;
	}
	if (v && (v->attr & ~EFI_VARIABLE_APPEND_WRITE) != (attr & ~EFI_VARIABLE_APPEND_WRITE))
		return EFI_INVALID_PARAMETER;
	if (append && v) {
		if (size > DATA_MAX - v->size)
			return EFI_OUT_OF_RESOURCES;
		memcpy(v->data + v->size, data, size);
		v->size += size;
		return EFI_SUCCESS;
	}
	if (size > DATA_MAX)
		return EFI_OUT_OF_RESOURCES;
	for (unsigned int i = 0; !v && i < MAX_VARS; i++)
		if (!vars[i].used)
			v = &vars[i];
	if (!v)
		return EFI_OUT_OF_RESOURCES;
	v->used = true;
	v->guid = *guid;
	v->attr = attr & ~EFI_VARIABLE_APPEND_WRITE;
	memcpy(v->name, name, (len + 1) * sizeof(CHAR16));
	memcpy(v->data, data, size);
	v->size = size;
	return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI query_variable_info(UINT32 attr, UINT64 *max, UINT64 *remaining,
					     UINT64 *max_one)
{
	UINT64 free = 0;

	if (!max || !remaining || !max_one || !(attr & ~EFI_VARIABLE_APPEND_WRITE))
		return EFI_INVALID_PARAMETER;
	if (attr & ATTR_AUTH)
		return EFI_UNSUPPORTED;
	for (unsigned int i = 0; i < MAX_VARS; i++)
		if (!vars[i].used)
			free += DATA_MAX;
	*max = (UINT64)MAX_VARS * DATA_MAX;
	*remaining = free;
	*max_one = DATA_MAX;
	return EFI_SUCCESS;
}

void variables_fill(EFI_RUNTIME_SERVICES *rt)
{
	rt->GetVariable = get_variable;
	rt->GetNextVariableName = get_next_variable_name;
	rt->SetVariable = set_variable;
	rt->QueryVariableInfo = query_variable_info;
}
