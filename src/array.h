/* SPDX-License-Identifier: MIT */
/* Growing arrays without a capacity field: the capacity of an array of n
 * elements is n rounded up to a power of two, so it doubles exactly when n
 * reaches one.  Hostile input can make many elements; this keeps appends
 * amortized O(1). */
#ifndef BPFPROV_ARRAY_H
#define BPFPROV_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Makes room for element n (the count before the append) of *arrayp, whose
 * elements are size bytes.  Returns 0, or -ENOMEM with *arrayp untouched. */
static inline int array_reserve(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *a;

	if (n & (n - 1))
		return 0;
	a = realloc(*array, (n ? n * 2 : 1) * size);
	if (!a)
		return -ENOMEM;
	*array = a;
	return 0;
}

#endif
