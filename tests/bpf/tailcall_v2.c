// SPDX-License-Identifier: MIT
/* tailcall.c with chain_third counting by 2: the same object with one
 * program changed, whose program array slot is then written again. */
#define THIRD_STEP 2
#include "tailcall.c"
