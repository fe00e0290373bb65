// SPDX-License-Identifier: MIT
/* Maps: the kernel's map info, and the layout that decides whether a pinned
 * map can serve as the declared one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "desired.h"
#include "kind.h"
#include "observed.h"

static const char *type_str(uint32_t type)
{
	return libbpf_bpf_map_type_str((enum bpf_map_type)type);
}

static int query(int fd, struct observed_entry *e)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	e->id = info.id;
	e->type = info.type;
	memcpy(e->name, info.name, sizeof(e->name));
	e->name[sizeof(e->name) - 1] = '\0';
	e->key_size = info.key_size;
	e->value_size = info.value_size;
	e->max_entries = info.max_entries;
	e->map_flags = info.map_flags;
	return 0;
}

/* Flags the kernel adds to a map of this type whatever it is asked for:
 * a device map's lookups point into the device, so programs may not write. */
static uint32_t forced_flags(uint32_t type)
{
	return type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ? BPF_F_RDONLY_PROG
										: 0;
}

static int differences(const struct desired_pin *w, const struct observed_entry *h, char **r)
{
	const struct desired_spec *s = &w->spec;
	uint32_t flags = s->map_flags | forced_flags(s->type);
	int e = 0;

	if (h->type != s->type)
		e = kind_reason(r, "type %s -> %s", kind_type_str(KIND_MAP, h->type),
				kind_type_str(KIND_MAP, s->type));
	if (!e && h->key_size != s->key_size)
		e = kind_reason(r, "key_size %u -> %u", h->key_size, s->key_size);
	if (!e && h->value_size != s->value_size)
		e = kind_reason(r, "value_size %u -> %u", h->value_size, s->value_size);
	/* The kernel sizes a perf event array with max_entries 0 to the CPU count. */
	if (!e && h->max_entries != s->max_entries &&
	    !(s->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && s->max_entries == 0))
		e = kind_reason(r, "max_entries %u -> %u", h->max_entries, s->max_entries);
	if (!e && h->map_flags != flags)
		e = kind_reason(r, "map_flags 0x%x -> 0x%x", h->map_flags, flags);
	return e;
}

static void describe(const struct desired_pin *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s key %u value %u max %u", kind_type_str(KIND_MAP, w->spec.type),
		 w->spec.key_size, w->spec.value_size, w->spec.max_entries);
}

const struct kind_ops kind_map = {
	.name = "map",
	.anon_inodes = (const char *const[]){ "anon_inode:bpf-map", NULL },
	.type_str = type_str,
	.query = query,
	.differences = differences,
	.describe = describe,
};
