// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0)
/*
 * The TCP part of bypass_xdp.c (included by it, one compilation unit): the maps of Bypass's TCP
 * connections and listeners, and the steering of their segments. Needs bypass_count, the
 * bypass_frag_* helpers and the BYPASS_R_* reasons, defined in bypass_xdp.c before it includes this.
 */
#ifndef BYPASS_XDP_TCP_H
#define BYPASS_XDP_TCP_H
/*
 * TCP.
 *
 * bypass_tcp_ports, indexed by local (destination) port in host order, says what Bypass has
 * on that port, so a segment to any other port (SSH, the kernel's own connections) costs one
 * array lookup and goes to the kernel: BYPASS_TCP_CONN, connections (look the 4-tuple up in
 * bypass_tcp_flows); BYPASS_TCP_LISTEN, a listener (look up (daddr, dport) with a zero remote
 * end). BYPASS_TCP_ONE: exactly one connection on the port, whose addresses and remote port
 * the entry holds, so the common cases (a client's connection on its own ephemeral port, a
 * server with one client) are told by comparing, without hashing the 4-tuple: bpf_stats
 * measured the TCP path at about 280 ns a segment against UDP's 145 on this host, most of the
 * difference the hash lookup. The loader changes one word of an entry per update (the tuple
 * while ONE is clear, then ONE), so a reader never compares against half a tuple. A connection's rule wins over its listener's: the listener's entry only takes the
 * segments no connection rule matches (SYNs, and an accepted connection's segments until the
 * TCP layer adds its rule). The loader (XdpTcpFlows.java) writes bypass_tcp_flows before the
 * port entry on add, and the port entry before bypass_tcp_flows on remove.
 *
 * Malformed segments of ours (4-tuple or listener matched on the ports, which are the first 4
 * bytes of the TCP header): counted here by reason and dropped, so the TCP layer sees only
 * segments whose header it can read: IPv4 total length below the header or beyond the frame
 * (BYPASS_R_BAD_IP_LENGTH), fewer than 20 TCP header bytes in the IPv4 payload
 * (BYPASS_R_TRUNCATED), data offset below 5 or beyond the payload (BYPASS_R_BAD_TCP_HEADER): the
 * reasons the Java FrameClassifier (TcpChecks) gives the same segments;
 * a fragment (TCP is sent with DF) as for UDP (BYPASS_R_IP_FRAGMENT, later fragments by
 * bypass_frags). A TCP segment whose ports cannot be read, or with a broken IPv4 header, cannot
 * be told ours (the address is the host's, shared with the kernel's sockets) and goes to the
 * kernel, which discards it. A segment of ours that arrives on a NIC queue without a socket of
 * the port is dropped and counted (BYPASS_R_TCP_NO_SOCKET), not passed: the kernel would reset
 * the connection. Checksums are the TCP layer's business.
 */
#define BYPASS_TCP_CONN   1
#define BYPASS_TCP_LISTEN 2
#define BYPASS_TCP_ONE    4

/* A local port's entry; the tuple (network byte order) is the one connection's when kind has BYPASS_TCP_ONE. */
struct bypass_tcp_port {
	__u32 kind;
	__u32 daddr;
	__u32 saddr;
	__u16 sport;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct bypass_tcp_port);
} bypass_tcp_ports SEC(".maps");

/* Both addresses and ports in network byte order, as on the wire; a listener's saddr and sport are 0. */
struct bypass_tcp_key {
	__u32 daddr;
	__u32 saddr;
	__u16 dport;
	__u16 sport;
};

/* TCP connections and listeners; value = the RX queue (bookkeeping, as in bypass_flows). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct bypass_tcp_key);
	__type(value, __u32);
} bypass_tcp_flows SEC(".maps");

/* Whether a TCP segment to daddr:ports[1] from saddr:ports[0] is ours (see TCP above). */
static __always_inline bool bypass_tcp_is_ours(__be32 daddr, __be32 saddr, __be16 *ports)
{
	__u32 port = bpf_ntohs(ports[1]);
	struct bypass_tcp_port *e = bpf_map_lookup_elem(&bypass_tcp_ports, &port);

	if (!e || e->kind == 0)
		return 0;

	__u32 kind = e->kind;

	if (kind & BYPASS_TCP_ONE) {
		/* The port's only connection: it is this one, or none is. */
		if (e->daddr == daddr && e->saddr == saddr && e->sport == ports[0])
			return 1;
		kind &= ~BYPASS_TCP_CONN;
	}

	struct bypass_tcp_key key = {
		.daddr = daddr,
		.saddr = saddr,
		.dport = ports[1],
		.sport = ports[0],
	};

	if ((kind & BYPASS_TCP_CONN) && bpf_map_lookup_elem(&bypass_tcp_flows, &key))
		return 1;
	if (!(kind & BYPASS_TCP_LISTEN))
		return 0;
	key.saddr = 0;
	key.sport = 0;
	return bpf_map_lookup_elem(&bypass_tcp_flows, &key) != 0;
}

/*
 * Whether a TCP segment may be ours, on the main program's path: its destination port has a
 * TCP rule, or it is a later fragment (no ports; bypass_tcp looks it up). Inlined, so a TCP
 * segment to a port of the kernel's (SSH) costs an array lookup and no call.
 */
static __always_inline bool bypass_tcp_maybe_ours(struct iphdr *ip, void *data_end)
{
	if (ip->frag_off & bpf_htons(0x1fff))
		return 1;

	__be16 *ports = (void *)ip + ip->ihl * 4;

	if ((void *)(ports + 2) > data_end)
		return 0;

	__u32 port = bpf_ntohs(ports[1]);
	struct bypass_tcp_port *e = bpf_map_lookup_elem(&bypass_tcp_ports, &port);

	return e && e->kind;
}

/*
 * The TCP path (see TCP above): ip's 20 bytes are readable, its protocol is TCP, and
 * bypass_tcp_maybe_ours said yes. Not inlined into the UDP fast path: a call costs only the
 * segments that may be ours.
 */
static __noinline int bypass_tcp(struct xdp_md *ctx, struct iphdr *ip)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hlen = ip->ihl * 4;
	__u16 frag = bpf_ntohs(ip->frag_off) & 0x3fff;

	if (ip->version != 4 || hlen < 20)
		return XDP_PASS; /* cannot be told ours; the kernel discards it */
	if (frag & 0x1fff) {
		/* Non-first fragment: ours if its first fragment was. */
		if (bypass_frag_known(ip)) {
			bypass_count(BYPASS_R_IP_FRAGMENT);
			return XDP_DROP;
		}
		return XDP_PASS;
	}

	__be16 *ports = (void *)ip + hlen;

	if ((void *)(ports + 2) > data_end)
		return XDP_PASS;
	if (!bypass_tcp_is_ours(ip->daddr, ip->saddr, ports))
		return XDP_PASS;

	__u32 avail = (__u32)(data_end - (void *)ip);
	__u32 total = bpf_ntohs(ip->tot_len);

	if (frag) {
		bypass_frag_remember(ip);
		bypass_count(BYPASS_R_IP_FRAGMENT);
		return XDP_DROP;
	}
	if (total < hlen || total > avail) {
		bypass_count(BYPASS_R_BAD_IP_LENGTH);
		return XDP_DROP;
	}

	struct tcphdr *tcp = (void *)ports;

	if (total - hlen < sizeof(*tcp) || (void *)(tcp + 1) > data_end) {
		bypass_count(BYPASS_R_TRUNCATED);
		return XDP_DROP;
	}
	if (tcp->doff < 5 || tcp->doff * 4 > total - hlen) {
		bypass_count(BYPASS_R_BAD_TCP_HEADER);
		return XDP_DROP;
	}

	/* No socket on this queue: dropped and counted, since the kernel would answer it with a RST. */
	long action = bpf_redirect_map(&bypass_xsks, ctx->rx_queue_index, XDP_DROP);

	if (action == XDP_DROP)
		bypass_count(BYPASS_R_TCP_NO_SOCKET);
	return action;
}

#endif /* BYPASS_XDP_TCP_H */
