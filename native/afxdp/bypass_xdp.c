// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * Bypass flow-steering XDP program for the AF_XDP backend (ffm-afxdp).
 *
 * Redirects to the AF_XDP socket of the receiving queue only the UDP/IPv4 flows the
 * application asked for (Port.addFlow / joinMulticast), keyed by (destination address,
 * destination port) with (0, port) as a wildcard. Everything else - ARP, SSH, ICMP,
 * IPv6, other UDP ports, fragments of other flows - goes to the kernel with XDP_PASS, so
 * the NIC keeps working for the rest of the host.
 *
 * Malformed frames for our flows whose UDP port cannot be read where the fast path reads
 * it (IPv4 header cut short, bad version or IHL, UDP header cut short, fragments) are
 * counted here by reason in bypass_malformed; see "Malformed frames" below.
 *
 * TCP: the segments of a Bypass TCP connection (its 4-tuple) and every segment to a Bypass
 * listener's local address and port are redirected too, so the kernel, which keeps the
 * interface's address, never sees them and never answers them with a RST; every other TCP
 * segment (SSH, the host's own connections) goes to the kernel. See bypass_xdp_tcp.h.
 *
 * VLANs: two programs, one per kind of port (URI key vlan; the loader attaches one):
 *  - bypass_xdp, a port for untagged frames (the default): an untagged frame, or one with a
 *    priority tag (VLAN id 0, which 802.1Q counts as untagged), is steered as above;
 *  - bypass_xdp_vlan, a port for one VLAN: only frames with an 802.1Q tag carrying the VLAN
 *    id in bypass_vlan_id are.
 * A frame of another VLAN is not ours: it goes to the kernel (XDP_PASS), which owns the
 * other VLANs (eth1.7 and the like); if it is addressed to one of our flows it is counted
 * (BYPASS_R_WRONG_VLAN), so a feed that arrives on the wrong VLAN shows in the counters.
 * The good path of bypass_xdp costs what it did before VLANs were told apart.
 *
 * Built by the Maven build with: clang -O2 -g -target bpf -c bypass_xdp.c
 * Loaded from the jar with libbpf's bpf_object__open_mem and attached with a bpf_link,
 * so it is detached when the port closes or the process dies.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
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

/*
 * Malformed frames: counted here, not redirected.
 *
 * A frame for one of our flows that is broken in a way the Java FrameClassifier sees
 * (bad total length, bad IP or UDP checksum, bad UDP length) has a readable UDP port, so
 * the fast path redirects it and the classifier counts it. The frames below are the ones
 * the fast path cannot match on (daddr, dport); this slow path, reached only from the
 * branches that used to return XDP_PASS at once, decides whether they are ours and, if
 * so, counts them by reason and drops them (XDP_DROP), with one exception (below):
 *  - never double counted: a frame is either redirected (the classifier counts it) or
 *    counted here, never both;
 *  - the good path is unchanged: no extra map lookup, the same tests in the same order;
 *  - counted and dropped here rather than redirected, because (1) a frame without a
 *    readable port can only be attributed by address, and redirecting it would take it
 *    from kernel sockets on other ports of that address, (2) the Port (raw frame) API
 *    would otherwise hand garbage to applications, and (3) it is counted even on a queue
 *    without a socket, where bpf_redirect_map falls back to XDP_PASS.
 *
 * Which frames are ours, from what can be read:
 *  - UDP port readable (UDP header cut short after the ports; a first fragment): ours
 *    when (daddr, dport) is one of our flows, exactly as on the fast path. A first
 *    fragment of ours is remembered in bypass_frags by (saddr, daddr, id).
 *  - A non-first fragment: ours when its first fragment was ours (bypass_frags); then
 *    dropped (Bypass does not reassemble; the kernel would reassemble the datagram only to
 *    find no socket). Without it, when daddr is a group we steer it is counted but passed:
 *    the datagram may belong to a kernel socket on another port of that group. A unicast
 *    address is the host's, shared with every kernel socket, so a non-first fragment to
 *    it without a first fragment of ours is not ours.
 *  - IPv4 header readable but not its layout (version not 4, IHL below 5 or beyond the
 *    frame, total length below IHL*4 or beyond the frame, UDP header cut short before the
 *    ports): ours when the protocol byte says UDP and daddr is an address of our flows
 *    (bypass_dests). The kernel discards such frames anyway, so dropping takes nothing
 *    from it.
 *  - IPv4 header shorter than 20 bytes (no daddr): ours only when the destination MAC is
 *    that of a group we steer; a unicast MAC is the host's and proves nothing.
 * Flows with a wildcard address (0, port) add no address: frames without a readable port
 * are attributed to specific addresses only.
 *
 * Reasons, indexes of bypass_malformed, mean what the FrameClassifier's counters mean;
 * XdpProgram.java adds them into those io.bypass.Counter values.
 */
#define BYPASS_R_TRUNCATED     0  /* DROP_TRUNCATED: IPv4 header < 20 bytes; UDP header cut short */
#define BYPASS_R_BAD_IP_HEADER 1  /* DROP_BAD_IP_HEADER: version not 4, IHL < 5 or beyond the frame */
#define BYPASS_R_BAD_IP_LENGTH 2  /* DROP_BAD_IP_LENGTH: total length < IHL*4 or beyond the frame */
#define BYPASS_R_IP_FRAGMENT   3  /* DROP_IP_FRAGMENT: MF set or a fragment offset */
#define BYPASS_R_WRONG_VLAN    4  /* DROP_WRONG_VLAN: another VLAN's frame to one of our flows (passed, see VLANs) */
#define BYPASS_R_BAD_TCP_HEADER 5 /* DROP_BAD_TCP_HEADER: a TCP segment of ours whose data offset is below 5 or beyond it */
#define BYPASS_R_TCP_NO_SOCKET 6  /* DROP_NO_QUEUE_SOCKET: a TCP segment of ours on a NIC queue the port has no socket on */
#define BYPASS_R_COUNT         7

/* Per-CPU, so counting needs no atomic; the loader sums the CPUs when it reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BYPASS_R_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} bypass_malformed SEC(".maps");

#define BYPASS_DEST_ADDR      1  /* value: IPv4 address of a flow, network byte order */
#define BYPASS_DEST_GROUP_MAC 2  /* value: low 23 bits of a steered group's MAC, host order */

struct bypass_dest_key {
	__u32 kind;
	__u32 value;
};

/* Destinations of our flows with a specific address; value = how many flows (loader's bookkeeping). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct bypass_dest_key);
	__type(value, __u32);
} bypass_dests SEC(".maps");

struct bypass_frag_key {
	__u32 saddr;  /* network byte order, as on the wire */
	__u32 daddr;
	__u16 id;
	__u16 pad;    /* always 0 */
};

/* First fragments of ours, so later fragments of the same datagram are known as ours. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct bypass_frag_key);
	__type(value, __u32);
} bypass_frags SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

#define BYPASS_VID_MASK 0x0fff

/*
 * The VLAN id of a port for one VLAN (1..4094), network byte order; read by bypass_xdp_vlan
 * only. In .bss: the loader writes it after load, before attaching.
 */
volatile __be16 bypass_vlan_id = 0;

/*
 * Whether (daddr, dport) is one of our flows: the array first, the hash only for ports with
 * several addresses. bool, not int: inlined into the fast path it then compiles to the same
 * branches as before the slow path existed (an int result costs a zero-extension and a test).
 */
static __always_inline bool bypass_flow_is_ours(__be32 daddr, __be16 dport)
{
	__u32 port = bpf_ntohs(dport);
	struct bypass_port_entry *entry = bpf_map_lookup_elem(&bypass_ports, &port);

	if (!entry || entry->kind == BYPASS_PORT_NONE)
		return 0;
	if (entry->kind == BYPASS_PORT_ONE)
		return entry->daddr == daddr;
	if (entry->kind == BYPASS_PORT_ANY)
		return 1;

	struct bypass_flow_key key = {
		.daddr = daddr,
		.dport = dport,
		.pad = 0,
	};

	if (bpf_map_lookup_elem(&bypass_flows, &key))
		return 1;
	key.daddr = 0;
	return bpf_map_lookup_elem(&bypass_flows, &key) != 0;
}

static __always_inline bool bypass_dest_known(__u32 kind, __u32 value)
{
	struct bypass_dest_key key = {
		.kind = kind,
		.value = value,
	};

	return bpf_map_lookup_elem(&bypass_dests, &key) != 0;
}

/* Counts a malformed frame of ours; per-CPU, so a plain increment. */
static __always_inline void bypass_count(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&bypass_malformed, &reason);

	if (count)
		*count += 1;
}

/* Remembers the first fragment of a datagram of ours, so its later fragments are known as ours. */
static __always_inline void bypass_frag_remember(struct iphdr *ip)
{
	struct bypass_frag_key fkey = {
		.saddr = ip->saddr,
		.daddr = ip->daddr,
		.id = ip->id,
		.pad = 0,
	};
	__u32 one = 1;

	bpf_map_update_elem(&bypass_frags, &fkey, &one, BPF_ANY);
}

/* Whether a later fragment (no ports) belongs to a datagram whose first fragment was ours. */
static __always_inline bool bypass_frag_known(struct iphdr *ip)
{
	struct bypass_frag_key fkey = {
		.saddr = ip->saddr,
		.daddr = ip->daddr,
		.id = ip->id,
		.pad = 0,
	};

	return bpf_map_lookup_elem(&bypass_frags, &fkey) != 0;
}

#include "bypass_xdp_tcp.h"

/*
 * A frame of another VLAN (see VLANs above): never ours, always passed to the kernel;
 * counted when it is a sound UDP/IPv4 datagram to one of our flows. cursor and proto are
 * what follows the Ethernet header or the frame's one tag.
 */
static __always_inline int bypass_other_vlan(void *cursor, __be16 proto, void *data_end)
{
	struct iphdr *ip = cursor;

	if (proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (ip->protocol != IPPROTO_UDP || ip->version != 4 || ip->ihl < 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;

	struct udphdr *udp = (void *)ip + ip->ihl * 4;

	if ((void *)(udp + 1) <= data_end && bypass_flow_is_ours(ip->daddr, udp->dest))
		bypass_count(BYPASS_R_WRONG_VLAN);
	return XDP_PASS;
}

/* The steering of both programs; one_vlan is a constant, so each program keeps its own branch only. */
static __always_inline int bypass_steer(struct xdp_md *ctx, const bool one_vlan)
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
	if (one_vlan) {
		/* Ours only with an 802.1Q tag carrying our VLAN id. */
		struct vlan_hdr *vlan = cursor;

		if (proto != bpf_htons(ETH_P_8021Q))
			return bypass_other_vlan(cursor, proto, data_end);
		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		if ((vlan->tci & bpf_htons(BYPASS_VID_MASK)) != bypass_vlan_id)
			return bypass_other_vlan(vlan + 1, vlan->encapsulated_proto, data_end);
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	} else if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		/* One tag (802.1Q or 802.1ad); deeper nesting goes to the kernel. A VLAN id other
		 * than 0 (a priority tag) is another VLAN's: this port takes untagged frames. */
		struct vlan_hdr *vlan = cursor;

		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		if (vlan->tci & bpf_htons(BYPASS_VID_MASK))
			return bypass_other_vlan(vlan + 1, vlan->encapsulated_proto, data_end);
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	struct iphdr *ip = cursor;

	if ((void *)(ip + 1) > data_end)
		goto short_ip;
	if (ip->protocol != IPPROTO_UDP) {
		if (ip->protocol == IPPROTO_TCP && bypass_tcp_maybe_ours(ip, data_end))
			return bypass_tcp(ctx, ip);
		return XDP_PASS;
	}
	if (ip->version != 4 || ip->ihl < 5)
		goto malformed;
	/* Fragments: ours are counted and dropped; the kernel reassembles the others. */
	if (ip->frag_off & bpf_htons(0x3fff))
		goto malformed;

	struct udphdr *udp = (void *)ip + ip->ihl * 4;

	if ((void *)(udp + 1) > data_end)
		goto malformed;
	if (!bypass_flow_is_ours(ip->daddr, udp->dest))
		return XDP_PASS;
	/* No socket on this queue: XDP_PASS instead of dropping (flags = default action). */
	return bpf_redirect_map(&bypass_xsks, ctx->rx_queue_index, XDP_PASS);

short_ip:
	/* No daddr to read: only a steered group's MAC (01:00:5e + 23 bits) says it is ours. */
	if (eth->h_dest[0] == 0x01 && eth->h_dest[1] == 0x00 && eth->h_dest[2] == 0x5e
	    && bypass_dest_known(BYPASS_DEST_GROUP_MAC,
				 ((__u32)(eth->h_dest[3] & 0x7f) << 16) | ((__u32)eth->h_dest[4] << 8) | eth->h_dest[5])) {
		bypass_count(BYPASS_R_TRUNCATED);
		return XDP_DROP;
	}
	return XDP_PASS;

malformed:
	/* UDP per the protocol byte, 20 header bytes readable; in the FrameClassifier's order. */
	{
		__u32 avail = (__u32)(data_end - (void *)ip);
		__u32 hlen = ip->ihl * 4;
		__u32 total = bpf_ntohs(ip->tot_len);
		__u16 frag = bpf_ntohs(ip->frag_off) & 0x3fff;
		__u32 reason;

		if (ip->version != 4 || hlen < 20 || hlen > avail)
			reason = BYPASS_R_BAD_IP_HEADER;
		else if (total < hlen || total > avail)
			reason = BYPASS_R_BAD_IP_LENGTH;
		else if (frag)
			reason = BYPASS_R_IP_FRAGMENT;
		else
			reason = BYPASS_R_TRUNCATED; /* all that is left: fewer than 8 UDP bytes */

		if (reason == BYPASS_R_IP_FRAGMENT && (frag & 0x1fff)) {
			/* Non-first fragment: no UDP header; ours if its first fragment was. */
			if (bypass_frag_known(ip)) {
				bypass_count(reason);
				return XDP_DROP;
			}
			if ((bpf_ntohl(ip->daddr) >> 28) == 0xe && bypass_dest_known(BYPASS_DEST_ADDR, ip->daddr))
				bypass_count(reason); /* counted, but a kernel socket may own it */
			return XDP_PASS;
		}
		if (reason == BYPASS_R_IP_FRAGMENT || reason == BYPASS_R_TRUNCATED) {
			/* The header is sound: the ports are where the IHL says, if the frame holds them. */
			__be16 *ports = (void *)ip + hlen;

			if ((void *)(ports + 2) <= data_end) {
				if (!bypass_flow_is_ours(ip->daddr, ports[1]))
					return XDP_PASS;
				if (reason == BYPASS_R_IP_FRAGMENT)
					bypass_frag_remember(ip);
				bypass_count(reason);
				return XDP_DROP;
			}
		}
		/* No port to read: ours if sent to an address of our flows. */
		if (!bypass_dest_known(BYPASS_DEST_ADDR, ip->daddr))
			return XDP_PASS;
		bypass_count(reason);
		return XDP_DROP;
	}
}

/* A port for untagged frames (URI without vlan, or vlan=0). */
SEC("xdp")
int bypass_xdp(struct xdp_md *ctx)
{
	return bypass_steer(ctx, false);
}

/* A port for one VLAN (vlan=N): the VLAN id is in bypass_vlan_id. */
SEC("xdp")
int bypass_xdp_vlan(struct xdp_md *ctx)
{
	return bypass_steer(ctx, true);
}

char _license[] SEC("license") = "Dual BSD/GPL";
