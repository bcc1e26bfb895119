/*
 * C baseline for the DPDK backend's per-packet cost: the same loops as io.bypass.dpdk.DpdkNullBench,
 * written against DPDK directly, on DPDK's net_null PMD (it makes RX frames from nothing and frees
 * what it sends, so no kernel and no NIC limit the rate: what is measured is the application side).
 *
 *   rx: rte_eth_rx_burst(64), read each frame's length (the Java handler's work), rte_pktmbuf_free_bulk
 *   tx: rte_pktmbuf_alloc_bulk(64), write 60 bytes (7 longs and an int) and data_len/pkt_len into each,
 *       rte_eth_tx_burst
 *
 * Usage: dpdk_null_bench SECONDS CPU   (EAL: --no-huge, one lcore pinned to CPU, private prefix)
 * Prints: "c rx MPPS", "c tx MPPS" and "c empty-burst NS" (an rte_eth_tx_burst of nothing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SECONDS CPU\n", argv[0]);
        return 2;
    }
    const double seconds = atof(argv[1]);
    char lcores[64], prefix[64];
    snprintf(lcores, sizeof(lcores), "--lcores=0@%s", argv[2]);
    snprintf(prefix, sizeof(prefix), "--file-prefix=bypass-cbench-%d", (int) getpid());
    char *eal[] = {"dpdk_null_bench", lcores, prefix, "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
                   "--no-telemetry", "--vdev=net_null0,size=60", "--log-level=lib.eal:warning"};
    if (rte_eal_init((int) (sizeof(eal) / sizeof(eal[0])), eal) < 0) {
        fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    /* With --no-shconf the EAL never uses its runtime directory after init: remove it, as the Java side does. */
    char rundir[128];
    snprintf(rundir, sizeof(rundir), "/var/run/dpdk/bypass-cbench-%d", (int) getpid());
    (void) rmdir(rundir);
    uint16_t port;
    if (rte_eth_dev_get_port_by_name("net_null0", &port) != 0) {
        fprintf(stderr, "no net_null0\n");
        return 1;
    }
    struct rte_mempool *mp = rte_pktmbuf_pool_create("cbench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof(conf));
    if (mp == NULL || rte_eth_dev_configure(port, 1, 1, &conf) != 0
        || rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL, mp) != 0
        || rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL) != 0 || rte_eth_dev_start(port) != 0) {
        fprintf(stderr, "port setup failed\n");
        return 1;
    }
    struct rte_mbuf *m[BURST];

    /* RX */
    uint64_t frames = 0, bytes = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (int k = 0; k < 1024; k++) {
            const uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);
            for (uint16_t i = 0; i < n; i++) {
                bytes += rte_pktmbuf_data_len(m[i]);
                (void) rte_pktmbuf_mtod(m[i], void *);
            }
            rte_pktmbuf_free_bulk(m, n);
            frames += n;
        }
    }
    printf("c rx %.2f Mpps (%lu frames, %lu bytes)\n", frames / (now() - start) / 1e6, frames, bytes);

    /* TX */
    frames = 0;
    start = now();
    end = start + seconds;
    while (now() < end) {
        for (int k = 0; k < 1024; k++) {
            if (rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
                continue;
            }
            for (int i = 0; i < BURST; i++) {
                /* The frame is written as an encoder would, in 8-byte stores, as the Java side does. */
                uint64_t *d = rte_pktmbuf_mtod(m[i], uint64_t *);
                for (int w = 0; w < 7; w++) {
                    d[w] = frames + w;
                }
                *(uint32_t *) (d + 7) = (uint32_t) i;
                m[i]->data_len = 60;
                m[i]->pkt_len = 60;
            }
            const uint16_t sent = rte_eth_tx_burst(port, 0, m, BURST);
            if (sent < BURST) {
                rte_pktmbuf_free_bulk(m + sent, BURST - sent);
            }
            frames += sent;
        }
    }
    printf("c tx %.2f Mpps (%lu frames)\n", frames / (now() - start) / 1e6, frames);

    /* The fixed price of a burst: rte_eth_tx_burst with no packets (net_null returns at once). */
    const long calls = 20000000;
    start = now();
    for (long k = 0; k < calls; k++) {
        (void) rte_eth_tx_burst(port, 0, m, 0);
    }
    printf("c empty-burst %.2f ns\n", (now() - start) * 1e9 / calls);
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    return 0;
}
