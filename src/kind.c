// SPDX-License-Identifier: MIT
/* The table of kinds, and what all kinds share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "kind.h"

extern const struct kind_ops kind_map, kind_program, kind_link;

static const struct kind_ops *const kinds[KIND_MAX] = {
	[KIND_MAP] = &kind_map,
	[KIND_PROGRAM] = &kind_program,
	[KIND_LINK] = &kind_link,
};

const struct kind_ops *kind_ops(enum kind k)
{
	return kinds[k];
}

int kind_of_anon_inode(const char *target)
{
	for (int k = 0; k < KIND_MAX; k++)
		for (const char *const *a = kinds[k]->anon_inodes; *a; a++)
			if (strcmp(target, *a) == 0)
				return k;
	return -ENOENT;
}

const char *kind_type_str(enum kind k, uint32_t type)
{
	const char *s = kinds[k]->type_str(type);

	return s ? s : "unknown";
}

int kind_reason(char **s, const char *fmt, ...)
{
	_cleanup_free_ char *part = NULL;
	char *joined;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&part, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&joined, "%s%s%s", *s ? *s : "", *s ? "; " : "", part) < 0)
		return -ENOMEM;
	free(*s);
	*s = joined;
	return 0;
}
