/*
 * Shared by Bypass's C baselines (bench_udp.c, bench_xsk.c, bench_dpdk.c): argument
 * parsing (key=value), clocks, CPU pinning, the UDP frame template and the result line.
 * The Java workers (io.bypass.bench.net.JavaWorker) implement exactly the same scenarios:
 *   rx    count frames for duration_ms after the first one and warmup_ms
 *   tx    send as fast as the ring/socket takes them; count during duration_ms after warmup_ms
 *   echo  send every frame back (addresses swapped) until killed or duration_ms elapses
 *   ping  one frame in flight: send seq+timestamp, wait for the echo, record the round trip
 *   sink  bind and never read (the TX scenario's receiver)
 *   feed  (zeroloss) receive a MoldUDP64 feed on a multicast group and check its sequence
 *         numbers; print "TRIAL {json}" at the sender's end of session (or after idle_gap_ms idle)
 *   feedtx (zeroloss, bench_xsk only) send count MoldUDP64 packets at rate pps, seq 1..count
 * Output: "READY" once open, then one line "RESULT {json}" ("TRIAL {json}" lines before it in feed mode).
 */
#ifndef BYPASS_BENCH_COMMON_H
#define BYPASS_BENCH_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 32
#define ETH_HLEN_ 14
#define IP_HLEN_ 20
#define UDP_HLEN_ 8
#define HDR_LEN (ETH_HLEN_ + IP_HLEN_ + UDP_HLEN_)
#define PING_TIMEOUT_NS 50000000LL

static const char *arg_keys[MAX_ARGS];
static const char *arg_vals[MAX_ARGS];
static int arg_count;
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { (void) sig; stop_flag = 1; }

static void parse_args(int argc, char **argv) {
    for (int i = 1; i < argc && arg_count < MAX_ARGS; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "argument '%s' is not key=value\n", argv[i]);
            exit(2);
        }
        *eq = 0;
        arg_keys[arg_count] = argv[i];
        arg_vals[arg_count] = eq + 1;
        arg_count++;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
}

static const char *arg_str(const char *key, const char *def) {
    for (int i = 0; i < arg_count; i++) {
        if (strcmp(arg_keys[i], key) == 0) {
            return arg_vals[i];
        }
    }
    if (def == NULL) {
        fprintf(stderr, "missing argument %s=...\n", key);
        exit(2);
    }
    return def;
}

static long long arg_long(const char *key, long long def) {
    const char *v = arg_str(key, "");
    return *v ? atoll(v) : def;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static inline void pin_cpu(void) {
    long cpu = arg_long("cpu", -1);
    if (cpu < 0) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int) cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "sched_setaffinity(cpu %ld): %s\n", cpu, strerror(errno));
        exit(1);
    }
}

static inline void parse_mac(const char *text, uint8_t mac[6]) {
    unsigned v[6];
    if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
        fprintf(stderr, "bad MAC %s\n", text);
        exit(2);
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t) v[i];
    }
}

static inline uint16_t ip_checksum(const uint8_t *p, int len) {
    uint32_t sum = 0;
    for (int i = 0; i < len; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

/* Ethernet + IPv4 + UDP frame with the payload zeroed, UDP checksum 0 (none), as the Java side builds it. */
static inline int build_frame(uint8_t *f, int payload) {
    uint8_t dmac[6], smac[6];
    parse_mac(arg_str("dst_mac", NULL), dmac);
    parse_mac(arg_str("src_mac", NULL), smac);
    struct in_addr sip, dip;
    inet_pton(AF_INET, arg_str("src_ip", NULL), &sip);
    inet_pton(AF_INET, arg_str("dst_ip", NULL), &dip);
    uint16_t sport = (uint16_t) arg_long("sport", 9000), dport = (uint16_t) arg_long("dport", 9000);
    int len = HDR_LEN + payload;
    memset(f, 0, (size_t) len);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + ETH_HLEN_;
    ip[0] = 0x45;
    ip[2] = (uint8_t) ((len - ETH_HLEN_) >> 8); ip[3] = (uint8_t) (len - ETH_HLEN_);
    ip[6] = 0x40; /* DF */
    ip[8] = 64; ip[9] = 17;
    memcpy(ip + 12, &sip, 4);
    memcpy(ip + 16, &dip, 4);
    uint16_t c = ip_checksum(ip, IP_HLEN_);
    ip[10] = (uint8_t) (c >> 8); ip[11] = (uint8_t) c;
    uint8_t *udp = ip + IP_HLEN_;
    udp[0] = (uint8_t) (sport >> 8); udp[1] = (uint8_t) sport;
    udp[2] = (uint8_t) (dport >> 8); udp[3] = (uint8_t) dport;
    udp[4] = (uint8_t) ((len - HDR_LEN + UDP_HLEN_) >> 8); udp[5] = (uint8_t) (len - HDR_LEN + UDP_HLEN_);
    return len;
}

/* Swaps MACs, IPs and ports in place: the echo's whole job. The IP checksum is unchanged. */
static inline void swap_frame(uint8_t *f) {
    uint8_t t[6];
    memcpy(t, f, 6); memcpy(f, f + 6, 6); memcpy(f + 6, t, 6);
    uint32_t a; memcpy(&a, f + 26, 4); memcpy(f + 26, f + 30, 4); memcpy(f + 30, &a, 4);
    uint16_t p; memcpy(&p, f + 34, 2); memcpy(f + 34, f + 36, 2); memcpy(f + 36, &p, 2);
}

/* Round trips, written raw (little-endian int64 ns) so Java puts C's and its own into the same HdrHistogram. */
static uint64_t *samples;
static long sample_count, sample_cap;

static inline void samples_init(void) {
    sample_cap = arg_long("count", 1000000);
    samples = calloc((size_t) sample_cap, sizeof(uint64_t));
    if (samples == NULL) {
        fprintf(stderr, "out of memory for %ld samples\n", sample_cap);
        exit(1);
    }
}

static inline void samples_write(void) {
    const char *path = arg_str("samples", "");
    if (!*path) {
        return;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(samples, sizeof(uint64_t), (size_t) sample_count, f) != (size_t) sample_count) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(f);
}

static inline void ready(void) {
    printf("READY\n");
    fflush(stdout);
}

static inline void result(const char *mode, uint64_t packets, uint64_t window_ns, uint64_t extra, const char *extra_name) {
    double secs = (double) window_ns / 1e9;
    printf("RESULT {\"mode\":\"%s\",\"packets\":%" PRIu64 ",\"seconds\":%.6f,\"pps\":%.1f,\"%s\":%" PRIu64 ",\"samples\":%ld}\n",
           mode, packets, secs, secs > 0 ? (double) packets / secs : 0.0, extra_name, extra, sample_count);
    fflush(stdout);
}

/* Shared timing of the rx scenario: the window opens warmup_ms after the first frame. */
typedef struct {
    uint64_t first, open, close, counted, total;
} rx_window;

static inline void rx_window_add(rx_window *w, uint64_t n, uint64_t now, uint64_t warmup, uint64_t duration) {
    if (w->first == 0) {
        w->first = now;
        w->open = now + warmup;
        w->close = w->open + duration;
    }
    w->total += n;
    if (now >= w->open && now < w->close) {
        w->counted += n;
    }
}

/*
 * zeroloss: the C counterpart of the Java feed handler (samples' FeedHandler + Arbitrator, one
 * line): validates the MoldUDP64 framing (header, every message block's length, no trailing
 * bytes) and checks sequence numbers. Frames arrive already checked for Ethernet/IPv4/UDP by
 * feed_frame (L2 baselines) or by the kernel (sockets). Each trial is one session: a packet of
 * another session starts a new trial; the sender ends a trial with end-of-session packets.
 */
#define MOLD_HEADER 20
#define MOLD_SESSION 10

typedef struct {
    uint8_t session[MOLD_SESSION];
    int have_session;
    int eos;       /* end of session seen */
    uint64_t next; /* next sequence number expected; MoldUDP64 starts at 1 */
    uint64_t packets, messages, gaps, lost, duplicates, malformed, foreign;
} feed_state;

static inline void feed_reset(feed_state *s) {
    memset(s, 0, sizeof(*s));
    s->next = 1;
}

static inline uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static inline void feed_packet(feed_state *s, const uint8_t *p, uint32_t len) {
    if (len < MOLD_HEADER) {
        s->malformed++;
        return;
    }
    uint32_t count = (uint32_t) (p[18] << 8 | p[19]);
    uint32_t at = MOLD_HEADER;
    if (count == 0 || count == 0xFFFF) { /* heartbeat / end of session: no message bytes allowed */
        if (len != MOLD_HEADER) {
            s->malformed++;
        } else if (count == 0xFFFF && s->have_session && memcmp(s->session, p, MOLD_SESSION) == 0) {
            s->eos = 1;
            uint64_t seq = be64(p + 10); /* the next sequence number: reveals loss at the tail */
            if (seq > s->next) {
                s->gaps++;
                s->lost += seq - s->next;
                s->next = seq;
            }
        }
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (at + 2 > len) {
            s->malformed++;
            return;
        }
        at += 2 + (uint32_t) (p[at] << 8 | p[at + 1]);
        if (at > len) {
            s->malformed++;
            return;
        }
    }
    if (at != len) {
        s->malformed++;
        return;
    }
    if (!s->have_session || memcmp(s->session, p, MOLD_SESSION) != 0) {
        feed_reset(s); /* a new trial */
        memcpy(s->session, p, MOLD_SESSION);
        s->have_session = 1;
    }
    uint64_t seq = be64(p + 10);
    s->packets++;
    if (seq == s->next) {
        s->next += count;
        s->messages += count;
    } else if (seq > s->next) {
        s->gaps++;
        s->lost += seq - s->next;
        s->next = seq + count;
        s->messages += count;
    } else if (seq + count > s->next) {
        s->messages += seq + count - s->next;
        s->next = seq + count;
    } else {
        s->duplicates++;
    }
}

/* Ethernet/IPv4/UDP checks of an L2 receiver (what the Java UdpEndpoint does on an L2 port):
   IPv4, header checksum, UDP, destination group and port, UDP length within the frame. */
static inline void feed_frame(feed_state *s, const uint8_t *f, uint32_t len, const uint8_t group[4], uint16_t port) {
    if (len < HDR_LEN || f[12] != 0x08 || f[13] != 0x00) {
        s->foreign++;
        return;
    }
    const uint8_t *ip = f + ETH_HLEN_;
    uint32_t ihl = (uint32_t) (ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || ihl < IP_HLEN_ || ETH_HLEN_ + ihl + UDP_HLEN_ > len || ip[9] != 17
        || memcmp(ip + 16, group, 4) != 0) {
        s->foreign++;
        return;
    }
    if (ip_checksum(ip, (int) ihl) != 0) {
        s->malformed++;
        return;
    }
    const uint8_t *udp = ip + ihl;
    if ((uint16_t) (udp[2] << 8 | udp[3]) != port) {
        s->foreign++;
        return;
    }
    uint32_t ulen = (uint32_t) (udp[4] << 8 | udp[5]);
    if (ulen < UDP_HLEN_ || ETH_HLEN_ + ihl + ulen > len) {
        s->malformed++;
        return;
    }
    feed_packet(s, udp + UDP_HLEN_, ulen - UDP_HLEN_);
}

static inline void feed_print(const feed_state *s) {
    char session[MOLD_SESSION + 1];
    for (int i = 0; i < MOLD_SESSION; i++) {
        session[i] = s->session[i] >= 0x21 && s->session[i] < 0x7f && s->session[i] != '"' && s->session[i] != '\\'
            ? (char) s->session[i] : '_';
    }
    session[MOLD_SESSION] = 0;
    printf("TRIAL {\"session\":\"%s\",\"eos\":%d,\"packets\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"highest\":%" PRIu64
           ",\"gaps\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"foreign\":%" PRIu64 "}\n",
           session, s->eos, s->packets, s->messages, s->next - 1, s->gaps, s->lost, s->duplicates, s->malformed, s->foreign);
    fflush(stdout);
}

/* When a trial's figures are printed: at its end of session, else after idle_gap_ms without a packet. */
typedef struct {
    feed_state st;
    uint64_t last;
    uint64_t trials;
    uint64_t idle_gap;
    int dirty;
    int eos_printed;
} feed_loop;

static inline void feed_loop_init(feed_loop *l) {
    feed_reset(&l->st);
    l->last = 0;
    l->trials = 0;
    l->dirty = 0;
    l->eos_printed = 0;
    l->idle_gap = (uint64_t) arg_long("idle_gap_ms", 300) * 1000000ull;
}

/* Call after each poll: n frames (of any kind) came in that poll. */
static inline void feed_loop_polled(feed_loop *l, uint64_t n, uint64_t now) {
    if (n && l->st.packets + l->st.malformed > 0) {
        l->last = now;
        l->dirty = 1;
        if (!l->st.eos) {
            l->eos_printed = 0;
        } else if (!l->eos_printed) {
            feed_print(&l->st);
            l->eos_printed = 1;
            l->dirty = 0;
            l->trials++;
        }
    } else if (l->dirty && now - l->last > l->idle_gap) {
        if (!l->eos_printed) feed_print(&l->st);
        l->dirty = 0;
    }
}

static inline void parse_ip4(const char *key, uint8_t out[4]) {
    if (inet_pton(AF_INET, arg_str(key, NULL), out) != 1) {
        fprintf(stderr, "bad address %s=%s\n", key, arg_str(key, NULL));
        exit(2);
    }
}

#endif
