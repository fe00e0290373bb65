/* SPDX-License-Identifier: MIT */
/* kind: what each kind of BPF object a pin can hold - map, program, link -
 * means to the pipeline, as one table: its name, how the kernel describes
 * one (observed), why a pinned one cannot serve as the declared one (plan),
 * and how a declared one is shown (report).  Maps and programs are made by
 * loading their object (loader.c); pins of every kind are placed, replaced
 * and removed alike (apply.c).  A new kind is a row of the table in kind.c
 * and a file kind_NAME.c with its functions, as bpftool keeps one file per
 * object type. */
#ifndef BPFPROV_KIND_H
#define BPFPROV_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The stages' own types: a kind's functions (kind_NAME.c) know them, the
 * table does not. */
struct desired_pin;
struct observed_entry;

struct kind_ops {
	const char *name; /* "map" */
	/* What readlink of /proc/self/fd/N says for an fd of one ("anon_inode:bpf-map"). */
	const char *const *anon_inodes;
	/* libbpf's name of a type of this kind, or NULL. */
	const char *(*type_str)(uint32_t type);
	/* Fills e's id, type, name and the kind's own fields from the kernel's
	 * info on fd.  Returns 0 or a negative errno. */
	int (*query)(int fd, struct observed_entry *e);
	/* Appends to *reason, with kind_reason(), each way the pinned h differs
	 * from the declared w ("pinned -> declared").  Returns 0 or -ENOMEM. */
	int (*differences)(const struct desired_pin *w, const struct observed_entry *h,
			   char **reason);
	/* The declared object in a few words: "hash key 4 value 8 max 1024". */
	void (*describe)(const struct desired_pin *w, char *buf, size_t len);
};

/* The row of kind k (a value of enum kind). */
const struct kind_ops *kind_ops(enum kind k);

/* The kind whose fds readlink shows as target; -ENOENT for none. */
int kind_of_anon_inode(const char *target);

/* The tag of the program fd (its bpf_prog_info.tag) into tag.  Returns 0
 * or a negative errno. */
int kind_prog_tag(int fd, uint8_t tag[8]);

/* The name of type of kind k; "unknown" when libbpf has none. */
const char *kind_type_str(enum kind k, uint32_t type);

/* Links: whether a link of this type (enum bpf_link_type) can be pointed
 * at another program in place (BPF_LINK_UPDATE): xdp, tcx, cgroup, netns,
 * netkit.  Tracing and perf event links cannot. */
bool kind_link_updatable(uint32_t link_type);

/* Links: an observed link's hook in a few words, for status:
 * "xdp veth0 (ifindex 3)", "tcx_ingress veth0", "cgroup_inet_ingress
 * /test.slice", "tracepoint sched_switch", "defunct xdp (interface gone)". */
void kind_link_show(const struct observed_entry *e, char *buf, size_t len);

/* Appends "; " and a formatted part to a reason being built in *s (NULL
 * to start).  Returns 0 or -ENOMEM, with *s as it was. */
__attribute__((format(printf, 2, 3))) int kind_reason(char **s, const char *fmt, ...);

#endif
