// SPDX-License-Identifier: MIT
/* Links: found pinned, told apart by their type.  No manifest declares one
 * yet, so the tool only shows, compares and unpins them. */
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
	return libbpf_bpf_link_type_str((enum bpf_link_type)type);
}

static int query(int fd, struct observed_entry *e)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	e->id = info.id;
	e->type = info.type;
	return 0;
}

static int differences(const struct desired_pin *w, const struct observed_entry *h, char **r)
{
	if (h->type != w->spec.type)
		return kind_reason(r, "type %s -> %s", kind_type_str(KIND_LINK, h->type),
				   kind_type_str(KIND_LINK, w->spec.type));
	return 0;
}

static void describe(const struct desired_pin *w, char *buf, size_t len)
{
	snprintf(buf, len, "%s", kind_type_str(KIND_LINK, w->spec.type));
}

const struct kind_ops kind_link = {
	.name = "link",
	/* A link's first fd says "bpf_link"; one from BPF_OBJ_GET "bpf-link". */
	.anon_inodes = (const char *const[]){ "anon_inode:bpf-link", "anon_inode:bpf_link", NULL },
	.type_str = type_str,
	.query = query,
	.differences = differences,
	.describe = describe,
};
