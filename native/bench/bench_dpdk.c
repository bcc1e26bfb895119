/*
 * DPDK baseline: modes rx and tx on raw UDP frames (see bench_common.h) through one
 * ethdev port made from a vdev (net_af_xdp or net_af_packet on the veth), EAL with
 * --no-huge, one lcore on the pinned CPU, burst 32 as in rte_ethdev.h examples.
 *   bench_dpdk mode=rx vdev=net_af_xdp0,iface=IF [cpu=N warmup_ms= duration_ms=]
 *   bench_dpdk mode=tx vdev=... src_mac= dst_mac= src_ip= dst_ip= sport= dport= [payload=32]
 *   bench_dpdk mode=echo vdev=...                 (frames sent back in place, addresses swapped)
 *   bench_dpdk mode=ping vdev=... src_mac= ... count=N samples=FILE
 *   bench_dpdk mode=feed vdev=... group=G port=P [idle_gap_ms=300]   (MoldUDP64 sequence check, zeroloss)
 */
#include "bench_common.h"
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define BURST 32

int main(int argc, char **argv) {
    parse_args(argc, argv);
    const char *mode = arg_str("mode", NULL);
    const int payload = (int) arg_long("payload", 32);
    const uint64_t warmup = (uint64_t) arg_long("warmup_ms", 1000) * 1000000ull;
    const uint64_t duration = (uint64_t) arg_long("duration_ms", 3000) * 1000000ull;
    const uint64_t idle = (uint64_t) arg_long("idle_ms", 10000) * 1000000ull;
    char lcores[32], vdev[256], prefix[64];
    snprintf(lcores, sizeof(lcores), "0@%lld", arg_long("cpu", 0));
    snprintf(vdev, sizeof(vdev), "%s", arg_str("vdev", NULL));
    snprintf(prefix, sizeof(prefix), "bypassbenchc%d", (int) getpid());
    char *eal[] = {"bench_dpdk", "--lcores", lcores, "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--proc-type=primary", "--no-telemetry",
                   "--file-prefix", prefix, "--log-level", "*:warning", "--vdev", vdev};
    int eal_argc = (int) (sizeof(eal) / sizeof(eal[0]));
    if (rte_eal_init(eal_argc, eal) < 0) {
        fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    if (rte_eth_dev_count_avail() < 1) {
        fprintf(stderr, "no ethdev port from --vdev %s\n", vdev);
        return 1;
    }
    uint16_t port = 0;
    struct rte_mempool *mp = rte_pktmbuf_pool_create("bench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int) rte_socket_id());
    if (mp == NULL) {
        fprintf(stderr, "rte_pktmbuf_pool_create: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    int rc = rte_eth_dev_configure(port, 1, 1, &conf);
    if (rc == 0) rc = rte_eth_rx_queue_setup(port, 0, 1024, (unsigned) rte_eth_dev_socket_id(port), NULL, mp);
    if (rc == 0) rc = rte_eth_tx_queue_setup(port, 0, 1024, (unsigned) rte_eth_dev_socket_id(port), NULL);
    if (rc == 0) rc = rte_eth_dev_start(port);
    if (rc != 0) {
        fprintf(stderr, "port setup: %s\n", rte_strerror(-rc));
        return 1;
    }
    struct rte_mbuf *bufs[BURST];
    if (strcmp(mode, "rx") == 0) {
        ready();
        rx_window w = {0};
        uint64_t start = now_ns();
        while (!stop_flag) {
            uint16_t n = rte_eth_rx_burst(port, 0, bufs, BURST);
            uint64_t now = now_ns();
            if (n) {
                rte_pktmbuf_free_bulk(bufs, n);
                rx_window_add(&w, n, now, warmup, duration);
            }
            if (w.first ? now >= w.close : now - start > idle) break;
        }
        result("rx", w.counted, w.first ? duration : 0, w.total, "total");
    } else if (strcmp(mode, "tx") == 0) {
        uint8_t tmpl[2048];
        int len = build_frame(tmpl, payload);
        ready();
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, counted = 0, total = 0, seq = 0;
        while (!stop_flag) {
            uint16_t n = 0;
            if (rte_pktmbuf_alloc_bulk(mp, bufs, BURST) == 0) {
                for (int i = 0; i < BURST; i++) {
                    uint8_t *d = rte_pktmbuf_mtod(bufs[i], uint8_t *);
                    memcpy(d, tmpl, (size_t) len);
                    seq++;
                    memcpy(d + HDR_LEN, &seq, 8);
                    bufs[i]->data_len = (uint16_t) len;
                    bufs[i]->pkt_len = (uint32_t) len;
                }
                n = rte_eth_tx_burst(port, 0, bufs, BURST);
                if (n < BURST) rte_pktmbuf_free_bulk(bufs + n, BURST - n);
            }
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
            uint16_t n = rte_eth_rx_burst(port, 0, bufs, BURST);
            if (n == 0) continue;
            for (uint16_t i = 0; i < n; i++) swap_frame(rte_pktmbuf_mtod(bufs[i], uint8_t *));
            uint16_t sent = 0;
            while (sent < n) {
                uint16_t s = rte_eth_tx_burst(port, 0, bufs + sent, (uint16_t) (n - sent));
                if (s == 0) break;
                sent = (uint16_t) (sent + s);
            }
            if (sent < n) rte_pktmbuf_free_bulk(bufs + sent, (unsigned) (n - sent));
            total += n;
        }
        result("echo", total, now_ns() - start, total, "total");
    } else if (strcmp(mode, "ping") == 0) {
        uint8_t tmpl[2048];
        int len = build_frame(tmpl, payload);
        samples_init();
        ready();
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, lost = 0, seq = 0;
        while (!stop_flag && sample_count < sample_cap) {
            uint64_t t0 = now_ns();
            if (t0 >= close) break;
            struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
            if (m == NULL) {
                fprintf(stderr, "mempool empty\n");
                return 1;
            }
            uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
            seq++;
            memcpy(d, tmpl, (size_t) len);
            memcpy(d + HDR_LEN, &seq, 8);
            memcpy(d + HDR_LEN + 8, &t0, 8);
            m->data_len = (uint16_t) len;
            m->pkt_len = (uint32_t) len;
            while (rte_eth_tx_burst(port, 0, &m, 1) == 0) {
            }
            int matched = 0;
            for (;;) {
                uint16_t n = rte_eth_rx_burst(port, 0, bufs, BURST);
                for (uint16_t i = 0; i < n; i++) {
                    const uint8_t *f = rte_pktmbuf_mtod(bufs[i], const uint8_t *);
                    if (bufs[i]->data_len >= HDR_LEN + 8 && memcmp(f + HDR_LEN, &seq, 8) == 0) matched = 1;
                }
                if (n) rte_pktmbuf_free_bulk(bufs, n);
                uint64_t t1 = now_ns();
                if (matched) {
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
        uint8_t group[4];
        parse_ip4("group", group);
        const uint16_t gport = (uint16_t) arg_long("port", 30001);
        feed_loop l;
        feed_loop_init(&l);
        ready();
        uint64_t start = now_ns();
        while (!stop_flag && now_ns() - start < duration) {
            uint16_t n = rte_eth_rx_burst(port, 0, bufs, BURST);
            for (uint16_t i = 0; i < n; i++) {
                feed_frame(&l.st, rte_pktmbuf_mtod(bufs[i], const uint8_t *), bufs[i]->data_len, group, gport);
            }
            if (n) rte_pktmbuf_free_bulk(bufs, n);
            feed_loop_polled(&l, n, now_ns());
        }
        result("feed", l.trials, now_ns() - start, l.trials, "trials");
    } else {
        fprintf(stderr, "unknown mode %s (rx, tx, echo, ping, feed)\n", mode);
        return 2;
    }
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_cleanup();
    return 0;
}
