/* SPDX-License-Identifier: MIT */
/* Scope-bound cleanup, in the manner of systemd's alloc-util.h: a variable
 * declared with one of these attributes is released when it goes out of scope,
 * unless ownership was handed off with TAKE_PTR(). */
#ifndef BPFPROV_CLEANUP_H
#define BPFPROV_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Declares name##p(), a cleanup for a pointer to a struct with a free function. */
#define DEFINE_FREE_FUNC(type, func)                                                               \
	static inline void func##p(type **p)                                                       \
	{                                                                                          \
		func(*p);                                                                          \
	}

#endif
