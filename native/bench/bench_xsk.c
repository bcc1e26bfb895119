/*
 * AF_XDP baseline on libxdp's xsk.h (xsk_umem__create, xsk_socket__create, the inline
 * ring helpers): modes rx, tx, echo, ping on raw UDP frames (see bench_common.h), one
 * socket on queue 0 of iface, copy mode, XDP in driver mode (xdp=drv) or skb mode
 * (xdp=skb), need_wakeup on. libxdp loads its default program, which redirects every
 * frame on the queue to the socket; the harness sets static neighbours so no ARP is needed.
 *   bench_xsk mode=rx iface=IF [cpu=N warmup_ms= duration_ms= xdp=drv]
 *   bench_xsk mode=tx|ping iface=IF src_mac= dst_mac= src_ip= dst_ip= sport= dport= [payload=32]
 *   bench_xsk mode=echo iface=IF
 *   bench_xsk mode=sockperf iface=IF port=P [duration_ms=]   (answers sockperf ping-pong: the C reflector
 *       that bypass pingpong server is measured against; the reply's UDP checksum is summed in software;
 *       prints its loop's stalls over 1 ms at exit, as the Java server's poll_gaps_over_1ms; copy=1 sends
 *       each reply from a TX frame off a LIFO stack, copied from the request, as the Java server does,
 *       instead of bouncing the RX frame: to tell the zero-copy bounce's share of a gap)
 *   bench_xsk mode=feed iface=IF group=G port=P [idle_gap_ms=300]    (MoldUDP64 sequence check, zeroloss)
 *   bench_xsk mode=feedtx iface=IF src_mac= dst_mac= src_ip= dst_ip=G sport= dport= pps=R count=N session=S [msg_len=32]
 *       (zeroloss sender: N MoldUDP64 packets of one message, seq 1..N, paced at R packets/s, then
 *       three end-of-session packets 20 ms apart, 50 ms after the last one)
 */
#include "bench_common.h"
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#define NUM_FRAMES 4096
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define RING_SIZE 2048
#define BATCH 64

static struct xsk_ring_prod fq, tx;
static struct xsk_ring_cons cq, rx;
static struct xsk_socket *xsk;
static uint8_t *umem_area;
/* TX frames: a stack of free UMEM addresses (the upper half of the UMEM). */
static uint64_t tx_free[NUM_FRAMES];
static uint32_t tx_free_count;

static void kick_tx(void) {
    if (xsk_ring_prod__needs_wakeup(&tx)) {
        sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
    }
}

static void kick_fill(void) {
    if (xsk_ring_prod__needs_wakeup(&fq)) {
        recvfrom(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
    }
}

/* Completed TX frames go back to the TX stack, or to the fill ring when they came from RX (echo). */
static void reclaim(int to_fill) {
    uint32_t idx;
    uint32_t n = xsk_ring_cons__peek(&cq, RING_SIZE, &idx);
    if (n == 0) return;
    if (to_fill) {
        uint32_t fidx;
        while (xsk_ring_prod__reserve(&fq, n, &fidx) != n) kick_fill();
        for (uint32_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fq, fidx + i) = *xsk_ring_cons__comp_addr(&cq, idx + i);
        xsk_ring_prod__submit(&fq, n);
    } else {
        for (uint32_t i = 0; i < n; i++) tx_free[tx_free_count++] = *xsk_ring_cons__comp_addr(&cq, idx + i);
    }
    xsk_ring_cons__release(&cq, n);
}

/* RX frames go straight back to the fill ring. */
static uint32_t rx_drain(uint32_t max, int (*visit)(const uint8_t *, uint32_t, void *), void *ctx) {
    uint32_t idx, fidx;
    uint32_t n = xsk_ring_cons__peek(&rx, max, &idx);
    if (n == 0) {
        kick_fill();
        return 0;
    }
    while (xsk_ring_prod__reserve(&fq, n, &fidx) != n) kick_fill();
    for (uint32_t i = 0; i < n; i++) {
        const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx + i);
        if (visit) visit(xsk_umem__get_data(umem_area, d->addr), d->len, ctx);
        *xsk_ring_prod__fill_addr(&fq, fidx + i) = xsk_umem__extract_addr(d->addr);
    }
    xsk_ring_prod__submit(&fq, n);
    xsk_ring_cons__release(&rx, n);
    return n;
}

struct ping_ctx { uint64_t seq; int matched; };

struct feed_ctx { feed_state *st; uint8_t group[4]; uint16_t port; };

static int feed_visit(const uint8_t *f, uint32_t len, void *vctx) {
    struct feed_ctx *c = vctx;
    feed_frame(c->st, f, len, c->group, c->port);
    return 0;
}

/*
 * Turns a sockperf ping-pong request (client flag and pong request set, not warm-up) to UDP
 * port `port` into its reply in place, as `bypass pingpong server` does: addresses and ports
 * swapped, the client flag cleared, the UDP checksum summed in software over the reply (a
 * kernel peer on veth sends only a partial sum, and the reply must carry a complete one).
 * Returns 1 for a reply to send, 0 for a frame to give back to the fill ring.
 */
static int sockperf_reply(uint8_t *f, uint32_t len, uint16_t port) {
    if (len < HDR_LEN + 14 || f[12] != 0x08 || f[13] != 0x00 || f[ETH_HLEN_] != 0x45 || f[ETH_HLEN_ + 9] != 17) return 0;
    uint8_t *ip = f + ETH_HLEN_;
    uint8_t *udp = ip + IP_HLEN_;
    uint32_t ulen = (uint32_t) (udp[4] << 8 | udp[5]);
    if (((udp[2] << 8) | udp[3]) != port || ulen < UDP_HLEN_ + 14 || ETH_HLEN_ + IP_HLEN_ + ulen > len) return 0;
    uint8_t *sp = udp + UDP_HLEN_;
    uint16_t flags = (uint16_t) (sp[8] << 8 | sp[9]);
    if (!(flags & 1) || !(flags & 2) || (flags & 4)) return 0;
    flags &= (uint16_t) ~1u;
    sp[8] = (uint8_t) (flags >> 8);
    sp[9] = (uint8_t) flags;
    swap_frame(f);
    udp[6] = udp[7] = 0;
    uint32_t sum = 17 + ulen;
    for (int i = 12; i < 20; i += 2) sum += (uint32_t) (ip[i] << 8 | ip[i + 1]);
    for (uint32_t i = 0; i + 1 < ulen; i += 2) sum += (uint32_t) (udp[i] << 8 | udp[i + 1]);
    if (ulen & 1) sum += (uint32_t) udp[ulen - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t) ~sum;
    if (c == 0) c = 0xffff;
    udp[6] = (uint8_t) (c >> 8);
    udp[7] = (uint8_t) c;
    return 1;
}

/* Frames handed to the kernel and not yet completed. */
static uint32_t tx_outstanding(void) {
    return NUM_FRAMES / 2 - tx_free_count;
}

/*
 * The zeroloss sender: count packets at pps, paced against the clock from the first one (a late
 * loop catches up in batches of at most BATCH, so a preempted sender sends short bursts). The
 * achieved rate is measured from the first submission to the last completion: (count - 1) / that.
 */
static void feed_tx(void) {
    const double pps = (double) arg_long("pps", 100000);
    const uint64_t count = (uint64_t) arg_long("count", 100000);
    const int msg_len = (int) arg_long("msg_len", 32);
    const char *session = arg_str("session", "BYPASSZL01");
    uint8_t tmpl[2048];
    const int payload = MOLD_HEADER + 2 + msg_len;
    int len = build_frame(tmpl, payload);
    uint8_t *mold = tmpl + HDR_LEN;
    memset(mold, ' ', MOLD_SESSION);
    memcpy(mold, session, strlen(session) < MOLD_SESSION ? strlen(session) : MOLD_SESSION);
    mold[18] = 0; mold[19] = 1;                                   /* one message per packet */
    mold[20] = (uint8_t) (msg_len >> 8); mold[21] = (uint8_t) msg_len;
    mold[22] = 'X';                                              /* a message type the handler only counts */
    for (uint32_t i = NUM_FRAMES / 2; i < NUM_FRAMES; i++) memcpy(umem_area + (uint64_t) i * FRAME_SIZE, tmpl, (size_t) len);
    ready();
    uint64_t sent = 0, t0 = now_ns(), last_done = t0;
    uint32_t idx;
    while (!stop_flag && sent < count) {
        uint32_t before = tx_outstanding();
        reclaim(0);
        uint64_t now = now_ns();
        if (tx_outstanding() < before) last_done = now;
        uint64_t due = (uint64_t) ((double) (now - t0) * pps / 1e9) + 1;
        if (due > count) due = count;
        if (due <= sent) {
            if (tx_outstanding()) kick_tx();
            continue;
        }
        uint64_t want = due - sent;
        if (want > BATCH) want = BATCH;
        if (want > tx_free_count) want = tx_free_count;
        uint32_t n = want ? xsk_ring_prod__reserve(&tx, (uint32_t) want, &idx) : 0;
        for (uint32_t i = 0; i < n; i++) {
            struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx + i);
            d->addr = tx_free[--tx_free_count];
            d->len = (uint32_t) len;
            uint64_t seq = ++sent;
            uint8_t *sp = umem_area + d->addr + HDR_LEN + 10;
            for (int b = 7; b >= 0; b--, seq >>= 8) sp[b] = (uint8_t) seq;
        }
        if (n) xsk_ring_prod__submit(&tx, n);
        kick_tx();
    }
    /* Every frame completed: the kernel has handed it to the interface. */
    uint64_t deadline = now_ns() + 1000000000ull;
    while (tx_outstanding() && now_ns() < deadline) {
        kick_tx();
        uint32_t before = tx_outstanding();
        reclaim(0);
        if (tx_outstanding() < before) last_done = now_ns();
    }
    uint64_t elapsed = last_done - t0;
    /* End of session (count 0xFFFF, sequence = next), after the receiver has had time to drain. */
    int eos_len = build_frame(tmpl, MOLD_HEADER);
    memset(mold, ' ', MOLD_SESSION);
    memcpy(mold, session, strlen(session) < MOLD_SESSION ? strlen(session) : MOLD_SESSION);
    mold[18] = 0xFF; mold[19] = 0xFF;
    uint64_t next = sent + 1;
    for (int b = 7; b >= 0; b--, next >>= 8) mold[10 + b] = (uint8_t) next;
    for (int k = 0; k < 3 && !stop_flag; k++) {
        usleep(k == 0 ? 50000 : 20000);
        reclaim(0);
        if (tx_free_count == 0 || xsk_ring_prod__reserve(&tx, 1, &idx) != 1) continue;
        struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx);
        d->addr = tx_free[--tx_free_count];
        d->len = (uint32_t) eos_len;
        memcpy(umem_area + d->addr, tmpl, (size_t) eos_len);
        xsk_ring_prod__submit(&tx, 1);
        kick_tx();
    }
    for (int k = 0; k < 100 && tx_outstanding(); k++) {
        kick_tx();
        reclaim(0);
        usleep(1000);
    }
    double achieved = sent > 1 && elapsed > 0 ? (double) (sent - 1) * 1e9 / (double) elapsed : 0.0;
    printf("RESULT {\"mode\":\"feedtx\",\"packets\":%" PRIu64 ",\"seconds\":%.6f,\"pps\":%.1f,\"asked_pps\":%.1f,"
           "\"uncompleted\":%u}\n", sent, (double) elapsed / 1e9, achieved, pps, tx_outstanding());
    fflush(stdout);
}

static int match_seq(const uint8_t *f, uint32_t len, void *vctx) {
    struct ping_ctx *c = vctx;
    if (len >= HDR_LEN + 8 && memcmp(f + HDR_LEN, &c->seq, 8) == 0) c->matched = 1;
    return 0;
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    pin_cpu();
    const char *mode = arg_str("mode", NULL);
    const char *iface = arg_str("iface", NULL);
    const int payload = (int) arg_long("payload", 32);
    const uint64_t warmup = (uint64_t) arg_long("warmup_ms", 1000) * 1000000ull;
    const uint64_t duration = (uint64_t) arg_long("duration_ms", 3000) * 1000000ull;
    const uint64_t idle = (uint64_t) arg_long("idle_ms", 10000) * 1000000ull;
    const int skb = strcmp(arg_str("xdp", "drv"), "skb") == 0;

    size_t size = (size_t) NUM_FRAMES * FRAME_SIZE;
    umem_area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (umem_area == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct xsk_umem *umem;
    struct xsk_umem_config ucfg = {
        .fill_size = RING_SIZE, .comp_size = RING_SIZE, .frame_size = FRAME_SIZE,
        .frame_headroom = 0, .flags = 0,
    };
    int err = xsk_umem__create(&umem, umem_area, size, &fq, &cq, &ucfg);
    if (err) {
        fprintf(stderr, "xsk_umem__create: %s\n", strerror(-err));
        return 1;
    }
    struct xsk_socket_config scfg = {
        .rx_size = RING_SIZE, .tx_size = RING_SIZE, .libxdp_flags = 0,
        .xdp_flags = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE,
        .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
    };
    /* The kernel frees a closed socket's queue binding and XDP program asynchronously: the previous
       run's socket on this veth may still hold it for a moment (EBUSY), so retry for up to 5 s. */
    for (int attempt = 0; attempt < 100; attempt++) {
        err = xsk_socket__create(&xsk, iface, 0, umem, &rx, &tx, &scfg);
        if (err != -EBUSY) break;
        usleep(50000);
    }
    if (err) {
        fprintf(stderr, "xsk_socket__create(%s, queue 0): %s\n", iface, strerror(-err));
        return 1;
    }
    /* Lower half: fill ring; upper half: TX. */
    uint32_t idx;
    if (xsk_ring_prod__reserve(&fq, NUM_FRAMES / 2, &idx) != NUM_FRAMES / 2) {
        fprintf(stderr, "cannot fill the fill ring\n");
        return 1;
    }
    for (uint32_t i = 0; i < NUM_FRAMES / 2; i++) *xsk_ring_prod__fill_addr(&fq, idx + i) = (uint64_t) i * FRAME_SIZE;
    xsk_ring_prod__submit(&fq, NUM_FRAMES / 2);
    for (uint32_t i = NUM_FRAMES / 2; i < NUM_FRAMES; i++) tx_free[tx_free_count++] = (uint64_t) i * FRAME_SIZE;

    if (strcmp(mode, "rx") == 0) {
        ready();
        rx_window w = {0};
        uint64_t start = now_ns();
        while (!stop_flag) {
            uint32_t n = rx_drain(BATCH, NULL, NULL);
            uint64_t now = now_ns();
            if (n) rx_window_add(&w, n, now, warmup, duration);
            if (w.first ? now >= w.close : now - start > idle) break;
        }
        result("rx", w.counted, w.first ? duration : 0, w.total, "total");
    } else if (strcmp(mode, "tx") == 0) {
        uint8_t tmpl[2048];
        int len = build_frame(tmpl, payload);
        for (uint32_t i = NUM_FRAMES / 2; i < NUM_FRAMES; i++) memcpy(umem_area + (uint64_t) i * FRAME_SIZE, tmpl, (size_t) len);
        ready();
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, counted = 0, total = 0, seq = 0;
        while (!stop_flag) {
            reclaim(0);
            uint32_t want = tx_free_count < BATCH ? tx_free_count : BATCH;
            uint32_t n = want ? xsk_ring_prod__reserve(&tx, want, &idx) : 0;
            for (uint32_t i = 0; i < n; i++) {
                struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx + i);
                d->addr = tx_free[--tx_free_count];
                d->len = (uint32_t) len;
                seq++;
                memcpy(umem_area + d->addr + HDR_LEN, &seq, 8);
            }
            if (n) xsk_ring_prod__submit(&tx, n);
            kick_tx();
            uint64_t now = now_ns();
            total += n;
            if (now >= open && now < close) counted += n;
            if (now >= close) break;
        }
        result("tx", counted, duration, total, "total");
    } else if (strcmp(mode, "echo") == 0) {
        ready();
        uint64_t start = now_ns(), total = 0;
        while (!stop_flag && now_ns() - start < warmup + duration + idle) {
            reclaim(1);
            uint32_t ridx, tidx;
            uint32_t n = xsk_ring_cons__peek(&rx, BATCH, &ridx);
            if (n == 0) {
                kick_fill();
                continue;
            }
            while (xsk_ring_prod__reserve(&tx, n, &tidx) != n) {
                kick_tx();
                reclaim(1);
            }
            /* Zero copy bounce: the RX frame itself goes out, and returns to the fill ring on completion. */
            for (uint32_t i = 0; i < n; i++) {
                const struct xdp_desc *r = xsk_ring_cons__rx_desc(&rx, ridx + i);
                struct xdp_desc *t = xsk_ring_prod__tx_desc(&tx, tidx + i);
                swap_frame(xsk_umem__get_data(umem_area, r->addr));
                t->addr = r->addr;
                t->len = r->len;
            }
            xsk_ring_prod__submit(&tx, n);
            xsk_ring_cons__release(&rx, n);
            kick_tx();
            total += n;
        }
        result("echo", total, now_ns() - start, total, "total");
    } else if (strcmp(mode, "sockperf") == 0) {
        const int copy_mode = (int) arg_long("copy", 0);
        const uint16_t port = (uint16_t) arg_long("port", 11111);
        ready();
        uint64_t start = now_ns(), replies = 0, ignored = 0;
        /* The loop's stalls over 1 ms, as the Java server's poll_gaps_over_1ms: time the host took from it. */
        uint64_t last_turn = start, stalls = 0, longest = 0;
        for (;;) {
            const uint64_t turn = now_ns();
            if (stop_flag || turn - start >= duration) break;
            if (turn - last_turn > longest) longest = turn - last_turn;
            stalls += turn - last_turn > 1000000;
            last_turn = turn;
            reclaim(!copy_mode);
            uint32_t ridx, tidx = 0, fidx = 0;
            uint32_t n = xsk_ring_cons__peek(&rx, BATCH, &ridx);
            if (n == 0) {
                kick_fill();
                continue;
            }
            uint8_t reply[BATCH];
            uint32_t k = 0;
            for (uint32_t i = 0; i < n; i++) {
                const struct xdp_desc *r = xsk_ring_cons__rx_desc(&rx, ridx + i);
                reply[i] = (uint8_t) sockperf_reply(xsk_umem__get_data(umem_area, r->addr), r->len, port);
                k += reply[i];
            }
            /* Frames going back to the fill ring: those not answered, and with copy=1 every RX frame. */
            const uint32_t refill = copy_mode ? n : n - k;
            if (k > 0) {
                while (xsk_ring_prod__reserve(&tx, k, &tidx) != k) {
                    kick_tx();
                    reclaim(!copy_mode);
                }
            }
            if (refill > 0) {
                while (xsk_ring_prod__reserve(&fq, refill, &fidx) != refill) kick_fill();
            }
            /* Zero copy bounce for replies (copy=1: the reply copied into a TX frame off the stack, as the
             * Java server sends); everything else straight back to the fill ring. */
            for (uint32_t i = 0; i < n; i++) {
                const struct xdp_desc *r = xsk_ring_cons__rx_desc(&rx, ridx + i);
                if (reply[i]) {
                    uint64_t addr = r->addr;
                    if (copy_mode) {
                        while (tx_free_count == 0) reclaim(0);
                        addr = tx_free[--tx_free_count];
                        memcpy(xsk_umem__get_data(umem_area, addr), xsk_umem__get_data(umem_area, r->addr), r->len);
                    }
                    struct xdp_desc *t = xsk_ring_prod__tx_desc(&tx, tidx++);
                    t->addr = addr;
                    t->len = r->len;
                }
                if (!reply[i] || copy_mode) *xsk_ring_prod__fill_addr(&fq, fidx++) = xsk_umem__extract_addr(r->addr);
            }
            if (refill > 0) xsk_ring_prod__submit(&fq, refill);
            if (k > 0) xsk_ring_prod__submit(&tx, k);
            xsk_ring_cons__release(&rx, n);
            if (k > 0) kick_tx();
            replies += k;
            ignored += n - k;
        }
        result("sockperf", replies, now_ns() - start, ignored, "ignored");
        printf("STALLS {\"over_1ms\":%" PRIu64 ",\"longest_us\":%.1f}\n", stalls, (double) longest / 1e3);
        fflush(stdout);
    } else if (strcmp(mode, "ping") == 0) {
        uint8_t tmpl[2048];
        int len = build_frame(tmpl, payload);
        samples_init();
        ready();
        struct ping_ctx ctx = {0};
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, lost = 0;
        while (!stop_flag && sample_count < sample_cap) {
            uint64_t t0 = now_ns();
            if (t0 >= close) break;
            reclaim(0);
            ctx.seq++;
            ctx.matched = 0;
            while (xsk_ring_prod__reserve(&tx, 1, &idx) != 1) reclaim(0);
            struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx);
            d->addr = tx_free[--tx_free_count];
            d->len = (uint32_t) len;
            uint8_t *f = umem_area + d->addr;
            memcpy(f, tmpl, (size_t) len);
            memcpy(f + HDR_LEN, &ctx.seq, 8);
            memcpy(f + HDR_LEN + 8, &t0, 8);
            xsk_ring_prod__submit(&tx, 1);
            kick_tx();
            for (;;) {
                rx_drain(BATCH, match_seq, &ctx);
                uint64_t t1 = now_ns();
                if (ctx.matched) {
                    if (t0 >= open) samples[sample_count++] = t1 - t0;
                    break;
                }
                if (t1 - t0 > PING_TIMEOUT_NS) {
                    lost++;
                    break;
                }
            }
        }
        samples_write();
        result("ping", (uint64_t) sample_count, now_ns() - open, lost, "lost");
    } else if (strcmp(mode, "feed") == 0) {
        feed_loop l;
        feed_loop_init(&l);
        struct feed_ctx ctx = {.st = &l.st, .port = (uint16_t) arg_long("port", 30001)};
        parse_ip4("group", ctx.group);
        ready();
        uint64_t start = now_ns();
        while (!stop_flag && now_ns() - start < duration) {
            uint32_t n = rx_drain(BATCH, feed_visit, &ctx);
            feed_loop_polled(&l, n, now_ns());
        }
        result("feed", l.trials, now_ns() - start, l.trials, "trials");
    } else if (strcmp(mode, "feedtx") == 0) {
        feed_tx();
    } else {
        fprintf(stderr, "unknown mode %s (rx, tx, echo, sockperf, ping, feed, feedtx)\n", mode);
        return 2;
    }
    xsk_socket__delete(xsk);
    xsk_umem__delete(umem);
    munmap(umem_area, size);
    return 0;
}
