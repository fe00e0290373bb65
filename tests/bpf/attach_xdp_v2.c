// SPDX-License-Identifier: MIT
/* attach_xdp.c's second version for tests/attach.sh: the same map, the same
 * program name, other code (it counts into slot 1). */
#define COUNT_SLOT 1
#include "attach_xdp.c"
