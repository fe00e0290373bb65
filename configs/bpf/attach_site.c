// SPDX-License-Identifier: MIT
/* Example object for configs/attach-site.yaml, libbpf style: programs that
 * the manifest attaches to an interface as pinned BPF links.  xdp_count
 * counts the packets it sees in a map pinned by name and passes them on;
 * tc_ingress, for a tcx link, passes every packet. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} packets SEC(".maps");

/* Counts packets in packets[0]. */
SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&packets, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

/* TC_ACT_OK is 0, which tcx names TCX_PASS: the packet goes on. */
SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
