// SPDX-License-Identifier: Apache-2.0
/*
 * C baseline for the AF_XDP benchmarks (issue 7/9): the same scenarios as the Java
 * backend (ffm-afxdp), written against libxdp's xsk.h, with the SAME XDP program
 * (bypass_xdp.o, flow-steered by UDP destination) and the same ring/batch sizes, so the
 * Java/C ratio measures the Java ring driving, not a different setup.
 *
 *   xsk_bench rx   IFACE PORT            [opts]  count steered frames, print packets/s
 *   xsk_bench tx   IFACE PORT DSTMAC DSTIP [opts]  send 60-byte UDP frames as fast as possible
 *   xsk_bench pong IFACE PORT            [opts]  echo each steered frame back (MACs, IPs, ports swapped)
 *   xsk_bench ping IFACE PORT DSTMAC DSTIP [opts]  one frame at a time, RTT percentiles
 *
 * opts: -q QUEUE (0)  -m copy|zerocopy (copy)  -x drv|skb (drv)  -d SECONDS (5)
 *       -n ROUND_TRIPS for ping (100000)  -b BATCH (64)  -o PATH to bypass_xdp.o
 *
 * Output: one line "RESULT mode=... pps=..." (rx/tx/pong) or
 *         "RESULT mode=ping n=... p50_ns=... p99_ns=... p999_ns=... mean_ns=..." for the harness to parse.
 * Build: make (needs libxdp-dev libbpf-dev). Run as root, inside the namespace of IFACE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#define NUM_FRAMES 4096
#define FRAME_SIZE 4096
#define RING_SIZE 2048
#define FRAME_LEN 60

struct flow_key {
	__u32 daddr;
	__u16 dport;
	__u16 pad;
};

static struct xsk_ring_prod fq, tx;
static struct xsk_ring_cons cq, rx;
static struct xsk_umem *umem;
static struct xsk_socket *xsk;
static void *area;
static int batch = 64;
static volatile int stop;

/* TX frames: the upper half of the UMEM, a simple stack like the Java backend's. */
static __u64 tx_free[NUM_FRAMES / 2];
static int tx_free_n;

static void die(const char *what, int err)
{
	fprintf(stderr, "xsk_bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

static void parse_mac(const char *s, unsigned char *mac)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
		die("bad MAC", EINVAL);
}

static void iface_addrs(const char *ifname, unsigned char *mac, __u32 *ip)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR", errno);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFADDR, &ifr) < 0)
		die("SIOCGIFADDR", errno);
	*ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	close(fd);
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Ethernet + IPv4 + UDP with an 18-byte payload, checksums filled. */
static void build_frame(unsigned char *f, const unsigned char *smac, const unsigned char *dmac,
			__u32 sip, __u32 dip, __u16 sport, __u16 dport)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	__u32 sum = 0;
	__u16 *w;
	int i;

	memset(f, 0, FRAME_LEN);
	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = sip;
	ip->daddr = dip;
	w = (__u16 *)ip;
	for (i = 0; i < 10; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	udp->check = 0; /* optional for IPv4 */
}

static void setup(const char *ifname, int queue, int zerocopy, int skb, const char *obj_path,
		  __u32 steer_ip, __u16 steer_port)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE, .frame_size = FRAME_SIZE,
		.frame_headroom = 0, .flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = (zerocopy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP,
	};
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	struct flow_key key = { .daddr = steer_ip, .dport = htons(steer_port) };
	struct bpf_object *obj;
	__u32 idx, q = queue, one = queue;
	int err, fd, i, ifindex = if_nametoindex(ifname);

	if (!ifindex)
		die(ifname, errno);
	area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED)
		die("mmap", errno);
	err = xsk_umem__create(&umem, area, (__u64)NUM_FRAMES * FRAME_SIZE, &fq, &cq, &ucfg);
	if (err)
		die("xsk_umem__create", err);
	err = xsk_socket__create(&xsk, ifname, queue, umem, &rx, &tx, &scfg);
	if (err)
		die("xsk_socket__create", err);

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		die(obj_path, errno);
	err = bpf_object__load(obj);
	if (err)
		die("bpf_object__load", err);
	fd = xsk_socket__fd(xsk);
	err = bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "bypass_xsks")), &q, &fd, 0);
	if (err)
		die("xskmap update", err);
	err = bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "bypass_flows")), &key, &one, 0);
	if (err)
		die("flow map update", err);
	err = bpf_link_create(bpf_program__fd(bpf_object__find_program_by_name(obj, "bypass_xdp")), ifindex,
			      BPF_XDP, &lopts);
	if (err < 0)
		die("bpf_link_create", err);
	/* The link fd stays open until exit: the program detaches when the process dies. */

	/* Lower half of the UMEM to the fill ring, upper half for TX: like the Java backend. */
	if (xsk_ring_prod__reserve(&fq, RING_SIZE, &idx) != RING_SIZE)
		die("fill reserve", ENOSPC);
	for (i = 0; i < RING_SIZE; i++)
		*xsk_ring_prod__fill_addr(&fq, idx + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&fq, RING_SIZE);
	for (i = 0; i < NUM_FRAMES / 2; i++)
		tx_free[tx_free_n++] = (__u64)(NUM_FRAMES / 2 + i) * FRAME_SIZE;
}

static void kick_tx(void)
{
	if (xsk_ring_prod__needs_wakeup(&tx))
		sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static void reclaim(void)
{
	__u32 idx, n = xsk_ring_cons__peek(&cq, batch, &idx), i;

	for (i = 0; i < n; i++)
		tx_free[tx_free_n++] = *xsk_ring_cons__comp_addr(&cq, idx + i);
	xsk_ring_cons__release(&cq, n);
}

/* Polls up to `batch` frames; calls fn for each; recycles them to the fill ring. */
static unsigned poll_rx(void (*fn)(void *frame, __u32 len))
{
	__u32 idx, fidx = 0, n = xsk_ring_cons__peek(&rx, batch, &idx), i;

	if (!n) {
		if (xsk_ring_prod__needs_wakeup(&fq))
			recvfrom(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	xsk_ring_prod__reserve(&fq, n, &fidx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);

		if (fn)
			fn(xsk_umem__get_data(area, d->addr), d->len);
		*xsk_ring_prod__fill_addr(&fq, fidx + i) = d->addr & ~((__u64)FRAME_SIZE - 1);
	}
	xsk_ring_prod__submit(&fq, n);
	xsk_ring_cons__release(&rx, n);
	return n;
}

static int send_one(const void *frame, __u32 len)
{
	__u32 idx;
	__u64 addr;

	if (!tx_free_n)
		reclaim();
	if (!tx_free_n || xsk_ring_prod__reserve(&tx, 1, &idx) != 1)
		return 0;
	addr = tx_free[--tx_free_n];
	memcpy(xsk_umem__get_data(area, addr), frame, len);
	xsk_ring_prod__tx_desc(&tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&tx, idx)->len = len;
	return 1;
}

static void swap_and_echo(void *frame, __u32 len)
{
	unsigned char *f = frame, tmp[6];
	struct iphdr *ip = (struct iphdr *)(f + sizeof(struct ethhdr));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	__u32 a;
	__u16 p;

	memcpy(tmp, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, tmp, 6);
	a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	p = udp->source;
	udp->source = udp->dest;
	udp->dest = p;
	send_one(frame, len);
}

static volatile __u64 last_seq_seen;

static void note_seq(void *frame, __u32 len)
{
	if (len >= FRAME_LEN)
		last_seq_seen = *(__u64 *)((unsigned char *)frame + 42);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *obj_path = "bypass_xdp.o", *mode_s = "copy", *xdp_s = "drv";
	int queue = 0, seconds = 5, opt;
	long rounds = 100000;
	unsigned char smac[6], dmac[6], frame[FRAME_LEN];
	__u32 sip, dip = 0;
	const char *mode, *ifname;
	__u16 port;
	__u64 t0, count = 0;

	while ((opt = getopt(argc, argv, "q:m:x:d:n:b:o:")) != -1) {
		switch (opt) {
		case 'q': queue = atoi(optarg); break;
		case 'm': mode_s = optarg; break;
		case 'x': xdp_s = optarg; break;
		case 'd': seconds = atoi(optarg); break;
		case 'n': rounds = atol(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'o': obj_path = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind < 3)
		goto usage;
	mode = argv[optind];
	ifname = argv[optind + 1];
	port = (__u16)atoi(argv[optind + 2]);
	iface_addrs(ifname, smac, &sip);
	if (!strcmp(mode, "tx") || !strcmp(mode, "ping")) {
		if (argc - optind < 5)
			goto usage;
		parse_mac(argv[optind + 3], dmac);
		if (inet_pton(AF_INET, argv[optind + 4], &dip) != 1)
			die("bad IPv4", EINVAL);
		build_frame(frame, smac, dmac, sip, dip, port, port);
	}
	libbpf_set_print(NULL);
	/* rx/pong steer (our address, port); tx/ping steer the echoes coming back to us. */
	setup(ifname, queue, !strcmp(mode_s, "zerocopy"), !strcmp(xdp_s, "skb"), obj_path, sip, port);
	signal(SIGALRM, on_alarm);

	if (!strcmp(mode, "rx") || !strcmp(mode, "pong")) {
		int pong = !strcmp(mode, "pong");

		alarm(seconds + 1);
		/* Wait for the first frame, then measure `seconds` of traffic. */
		while (!stop && !(count = poll_rx(pong ? swap_and_echo : NULL)))
			;
		t0 = now_ns();
		stop = 0;
		alarm(seconds);
		while (!stop) {
			count += poll_rx(pong ? swap_and_echo : NULL);
			if (pong) {
				xsk_ring_prod__submit(&tx, tx.cached_prod - *tx.producer);
				kick_tx();
				reclaim();
			}
		}
		printf("RESULT mode=%s pps=%.0f packets=%llu\n", mode, count * 1e9 / (now_ns() - t0),
		       (unsigned long long)count);
	} else if (!strcmp(mode, "tx")) {
		alarm(seconds);
		t0 = now_ns();
		while (!stop) {
			__u32 idx, n, i;

			reclaim();
			n = tx_free_n < batch ? tx_free_n : batch;
			if (n && xsk_ring_prod__reserve(&tx, n, &idx) == n) {
				for (i = 0; i < n; i++) {
					__u64 addr = tx_free[--tx_free_n];

					memcpy(xsk_umem__get_data(area, addr), frame, FRAME_LEN);
					xsk_ring_prod__tx_desc(&tx, idx + i)->addr = addr;
					xsk_ring_prod__tx_desc(&tx, idx + i)->len = FRAME_LEN;
				}
				xsk_ring_prod__submit(&tx, n);
				count += n;
			}
			kick_tx();
		}
		printf("RESULT mode=tx pps=%.0f packets=%llu\n", count * 1e9 / (now_ns() - t0), (unsigned long long)count);
	} else if (!strcmp(mode, "ping")) {
		__u64 *rtt = calloc(rounds, sizeof(__u64)), sum = 0, seq, lost = 0;

		for (seq = 1; seq <= (__u64)rounds + 1000; seq++) {
			__u64 start, deadline;

			*(__u64 *)(frame + 42) = seq;
again:
			start = now_ns();
			while (!send_one(frame, FRAME_LEN))
				kick_tx();
			xsk_ring_prod__submit(&tx, tx.cached_prod - *tx.producer);
			kick_tx();
			deadline = start + 50000000ull;
			while (last_seq_seen != seq && now_ns() < deadline)
				poll_rx(note_seq);
			reclaim();
			if (last_seq_seen != seq) {
				/* Lost on the veth (copy-mode queues can drop): resend, count, never time a retry. */
				if (++lost > 1000)
					die("more than 1000 echoes lost", ETIMEDOUT);
				goto again;
			}
			if (seq > 1000) /* warm-up */
				rtt[seq - 1001] = now_ns() - start;
		}
		qsort(rtt, rounds, sizeof(__u64), cmp_u64);
		for (long i = 0; i < rounds; i++)
			sum += rtt[i];
		printf("RESULT mode=ping n=%ld lost=%llu p50_ns=%llu p99_ns=%llu p999_ns=%llu mean_ns=%.0f\n", rounds,
		       (unsigned long long)lost,
		       (unsigned long long)rtt[rounds / 2], (unsigned long long)rtt[rounds * 99 / 100],
		       (unsigned long long)rtt[rounds * 999 / 1000], (double)sum / rounds);
	} else {
		goto usage;
	}
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	return 0;
usage:
	fprintf(stderr, "usage: xsk_bench rx|pong IFACE PORT [opts] | tx|ping IFACE PORT DSTMAC DSTIP [opts]\n"
			"opts: -q QUEUE -m copy|zerocopy -x drv|skb -d SECONDS -n ROUNDS -b BATCH -o bypass_xdp.o\n");
	return 2;
}
