/* SPDX-License-Identifier: MIT */
/* Kernel ABI values newer than the build's linux/bpf.h (Debian 12 has
 * Linux 6.1's): the kernel is asked for them by number.  Each is the uapi's
 * own value, which never changes once released. */
#ifndef BPFPROV_COMPAT_H
#define BPFPROV_COMPAT_H

#include <linux/bpf.h>

/* Linux 6.6: tcx. */
#define COMPAT_BPF_TCX_INGRESS 46
#define COMPAT_BPF_TCX_EGRESS 47
#define COMPAT_BPF_LINK_TYPE_TCX 11
/* Linux 6.7: netkit. */
#define COMPAT_BPF_LINK_TYPE_NETKIT 13

#endif
