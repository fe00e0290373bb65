// SPDX-License-Identifier: MIT
/* Names of the shared enums, as they are spelled in manifests and output. */
#include <errno.h>
#include <string.h>

#include "model.h"

static const char *const pin_mode_names[PIN_MODE_MAX] = {
	[PIN_MODE_NONE] = "none",
	[PIN_MODE_OBJECT] = "object",
	[PIN_MODE_GLOBAL] = "global",
	[PIN_MODE_CUSTOM] = "custom",
};

static const char *const on_incompatible_names[ON_INCOMPATIBLE_MAX] = {
	[ON_INCOMPATIBLE_FAIL] = "fail",
	[ON_INCOMPATIBLE_REPLACE] = "replace",
	[ON_INCOMPATIBLE_MIGRATE] = "migrate",
};

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *pin_mode_str(enum pin_mode m)
{
	return m >= 0 && m < PIN_MODE_MAX ? pin_mode_names[m] : NULL;
}

const char *on_incompatible_str(enum on_incompatible p)
{
	return p >= 0 && p < ON_INCOMPATIBLE_MAX ? on_incompatible_names[p] : NULL;
}

int pin_mode_from_str(const char *s)
{
	return lookup(pin_mode_names, PIN_MODE_MAX, s);
}

int on_incompatible_from_str(const char *s)
{
	return lookup(on_incompatible_names, ON_INCOMPATIBLE_MAX, s);
}
