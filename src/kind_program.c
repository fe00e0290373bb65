// SPDX-License-Identifier: MIT
/* Programs: the kernel's program info with the maps a program holds, and
 * its tag, which says whether a pinned program is the declared one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "escape.h"
#include "desired.h"
#include "kind.h"
#include "observed.h"

/* The kernel lets a program hold at most 64 maps (MAX_USED_MAPS). */
#define PROG_MAX_MAPS 64

static const char *type_str(uint32_t type)
{
	return libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
}

static int query(int fd, struct observed_entry *e)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[PROG_MAX_MAPS];

	memset(&info, 0, sizeof(info));
	/* The map ids come with the same call: which maps a program is wired
	 * to is part of its identity, since its tag ignores them. */
	info.nr_map_ids = PROG_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	e->id = info.id;
	e->type = info.type;
	memcpy(e->name, info.name, sizeof(e->name));
	e->name[sizeof(e->name) - 1] = '\0';
	memcpy(e->tag, info.tag, sizeof(e->tag));
	e->n_map_ids = info.nr_map_ids < PROG_MAX_MAPS ? info.nr_map_ids : PROG_MAX_MAPS;
	if (e->n_map_ids) {
		e->map_ids = malloc(e->n_map_ids * sizeof(*e->map_ids));
		if (!e->map_ids)
			return -ENOMEM;
		memcpy(e->map_ids, ids, e->n_map_ids * sizeof(*e->map_ids));
	}
	return 0;
}

int kind_prog_tag(int fd, uint8_t tag[8])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	memcpy(tag, info.tag, sizeof(info.tag));
	return 0;
}

static int differences(const struct desired_pin *w, const struct observed_entry *h, char **r)
{
	char have[17], want[17];

	if (h->type != w->spec.type)
		return kind_reason(r, "type %s -> %s", kind_type_str(KIND_PROGRAM, h->type),
				   kind_type_str(KIND_PROGRAM, w->spec.type));
	if (w->spec.tag_unknown)
		return kind_reason(r, "not recorded as built from this object (tag unknown offline)");
	if (w->spec.has_tag && memcmp(h->tag, w->spec.tag, sizeof(h->tag)) != 0) {
		escape_hex(h->tag, sizeof(h->tag), have);
		escape_hex(w->spec.tag, sizeof(w->spec.tag), want);
		return kind_reason(r, "instructions differ (tag %s -> %s)", have, want);
	}
	return 0;
}

static void describe(const struct desired_pin *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s", kind_type_str(KIND_PROGRAM, w->spec.type));
}

const struct kind_ops kind_program = {
	.name = "program",
	.anon_inodes = (const char *const[]){ "anon_inode:bpf-prog", NULL },
	.type_str = type_str,
	.query = query,
	.differences = differences,
	.describe = describe,
};
