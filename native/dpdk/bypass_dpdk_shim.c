/*
 * Bypass DPDK shim, see bypass_dpdk_shim.h. Flat and tiny on purpose: no state, no
 * allocation, no logic beyond what the inline DPDK functions need to be callable.
 */
#include "bypass_dpdk_shim.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

uint16_t bypass_dpdk_rx_burst(uint16_t port_id, uint16_t queue_id, void **rx_pkts, uint16_t nb_pkts,
                              uint64_t *data_addrs, uint32_t *data_lens)
{
    struct rte_mbuf **pkts = (struct rte_mbuf **) rx_pkts;
    const uint16_t n = rte_eth_rx_burst(port_id, queue_id, pkts, nb_pkts);
    for (uint16_t i = 0; i < n; i++) {
        data_addrs[i] = (uint64_t) (uintptr_t) rte_pktmbuf_mtod(pkts[i], void *);
        data_lens[i] = pkts[i]->data_len;
    }
    return n;
}

uint16_t bypass_dpdk_tx_burst(uint16_t port_id, uint16_t queue_id, void **tx_pkts, uint16_t nb_pkts)
{
    return rte_eth_tx_burst(port_id, queue_id, (struct rte_mbuf **) tx_pkts, nb_pkts);
}

int32_t bypass_dpdk_alloc_bulk(void *mp, void **mbufs, uint64_t *data_addrs, uint32_t count)
{
    struct rte_mbuf **m = (struct rte_mbuf **) mbufs;
    const int rc = rte_pktmbuf_alloc_bulk((struct rte_mempool *) mp, m, count);
    if (rc != 0) {
        return rc;
    }
    for (uint32_t i = 0; i < count; i++) {
        data_addrs[i] = (uint64_t) (uintptr_t) rte_pktmbuf_mtod(m[i], void *);
    }
    return 0;
}

void bypass_dpdk_free_bulk(void **mbufs, uint32_t count)
{
    rte_pktmbuf_free_bulk((struct rte_mbuf **) mbufs, count);
}

int32_t bypass_dpdk_errno(void)
{
    return rte_errno;
}

uint32_t bypass_dpdk_lcore_id(void)
{
    return rte_lcore_id();
}
