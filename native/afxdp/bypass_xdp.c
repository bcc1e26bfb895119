// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * Bypass flow-steering XDP program for the AF_XDP backend (ffm-afxdp).
 *
 * Redirects to the AF_XDP socket of the receiving queue only the UDP/IPv4 flows the
 * application asked for (Port.addFlow / joinMulticast), keyed by (destination address,
 * destination port) with (0, port) as a wildcard. Everything else - ARP, SSH, ICMP,
 * IPv6, fragments, other UDP ports - goes to the kernel with XDP_PASS, so the NIC keeps
 * working for the rest of the host.
 *
 * Built by the Maven build with: clang -O2 -g -target bpf -c bypass_xdp.c
 * Loaded from the jar with libbpf's bpf_object__open_mem and attached with a bpf_link,
 * so it is detached when the port closes or the process dies.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Key of the flow map. Both fields in network byte order, as on the wire. */
struct bypass_flow_key {
	__u32 daddr;  /* IPv4 destination, 0 = any */
	__u16 dport;  /* UDP destination port */
	__u16 pad;    /* always 0, so the key has no uninitialised bytes */
};

/*
 * Flows the application asked for; value = the RX queue the flow was added for. The
 * program does not use the value: AF_XDP can only redirect a frame to the socket bound
 * to the queue it arrived on, so which queue a flow lands on is the NIC's RSS/ntuple
 * steering's business, and the value is bookkeeping for tools that dump the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct bypass_flow_key);
	__type(value, __u32);
} bypass_flows SEC(".maps");

/*
 * The fast path, indexed by UDP destination port (host order): what the flows on that
 * port need, so the common cases - no flow on the port, a wildcard flow, or exactly one
 * address (one multicast group or our unicast address) - cost an array lookup, which the
 * verifier inlines, instead of hashing. Only a port with several addresses reads
 * bypass_flows. The loader (XdpProgram.java) writes it from the same flows as
 * bypass_flows: after adding to bypass_flows, before removing from it.
 */
#define BYPASS_PORT_NONE 0  /* no flow on this port: XDP_PASS */
#define BYPASS_PORT_ANY  1  /* a (0, port) flow: every address */
#define BYPASS_PORT_ONE  2  /* exactly one address, in daddr */
#define BYPASS_PORT_MANY 3  /* several addresses: look up bypass_flows */

struct bypass_port_entry {
	__u32 daddr;  /* network byte order; for BYPASS_PORT_ONE */
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct bypass_port_entry);
} bypass_ports SEC(".maps");

/* One AF_XDP socket per RX queue, indexed by queue id. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} bypass_xsks SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

SEC("xdp")
int bypass_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *cursor;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
	cursor = eth + 1;
	/* One VLAN tag (802.1Q or 802.1ad); deeper nesting goes to the kernel. */
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vlan = cursor;

		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *ip = cursor;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	/* Fragments (MF set or offset non-zero) are the kernel's to reassemble. */
	if (ip->frag_off & bpf_htons(0x3fff))
		return XDP_PASS;

	struct udphdr *udp = (void *)ip + ip->ihl * 4;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;

	__u32 port = bpf_ntohs(udp->dest);
	struct bypass_port_entry *entry = bpf_map_lookup_elem(&bypass_ports, &port);

	if (!entry || entry->kind == BYPASS_PORT_NONE)
		return XDP_PASS;
	if (entry->kind == BYPASS_PORT_ONE) {
		if (entry->daddr != ip->daddr)
			return XDP_PASS;
	} else if (entry->kind != BYPASS_PORT_ANY) {
		struct bypass_flow_key key = {
			.daddr = ip->daddr,
			.dport = udp->dest,
			.pad = 0,
		};

		if (!bpf_map_lookup_elem(&bypass_flows, &key)) {
			key.daddr = 0;
			if (!bpf_map_lookup_elem(&bypass_flows, &key))
				return XDP_PASS;
		}
	}
	/* No socket on this queue: XDP_PASS instead of dropping (flags = default action). */
	return bpf_redirect_map(&bypass_xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
