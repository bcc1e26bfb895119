/*
 * Bypass DPDK shim: the few DPDK 22.11 entry points that Java's FFM API cannot call,
 * because DPDK defines them as static inline functions, macros or thread-local variables.
 * Everything else (EAL, ethdev configuration, mempools, rte_pktmbuf_free_bulk) is bound
 * directly with jextract. Each function here is one call per burst, never per packet.
 *
 * The header deliberately uses only fixed-width C types and opaque pointers so that
 * jextract can bind it without the DPDK headers (see ffm-dpdk/gen/regenerate.sh).
 */
#ifndef BYPASS_DPDK_SHIM_H
#define BYPASS_DPDK_SHIM_H

#include <stdint.h>

/*
 * rte_eth_rx_burst, then for each received mbuf i writes its data address
 * (rte_pktmbuf_mtod) to data_addrs[i] and its data_len to data_lens[i], so the caller
 * needs no further call per packet. Returns the number of mbufs received (0..nb_pkts).
 */
uint16_t bypass_dpdk_rx_burst(uint16_t port_id, uint16_t queue_id, void **rx_pkts, uint16_t nb_pkts,
                              uint64_t *data_addrs, uint32_t *data_lens);

/* rte_eth_tx_burst: returns how many of tx_pkts the PMD took (it frees them once sent). */
uint16_t bypass_dpdk_tx_burst(uint16_t port_id, uint16_t queue_id, void **tx_pkts, uint16_t nb_pkts);

/*
 * rte_pktmbuf_alloc_bulk from mempool mp (all or nothing), then writes each mbuf's data
 * address (start of its data room after the headroom) to data_addrs[i].
 * Returns 0, or a negative errno (-ENOENT when the pool has fewer than count free mbufs).
 */
int32_t bypass_dpdk_alloc_bulk(void *mp, void **mbufs, uint64_t *data_addrs, uint32_t count);

/* rte_pktmbuf_free_bulk (exported by DPDK too; here so C benchmarks and Java share one path). */
void bypass_dpdk_free_bulk(void **mbufs, uint32_t count);

/* rte_errno of the calling thread (a per-lcore TLS variable in DPDK). */
int32_t bypass_dpdk_errno(void);

/* rte_lcore_id() of the calling thread; UINT32_MAX (LCORE_ID_ANY) for a non-EAL thread. */
uint32_t bypass_dpdk_lcore_id(void);

#endif
