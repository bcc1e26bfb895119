/*
 * Input of regenerate.sh: the DPDK 22.11 headers (Debian libdpdk-dev) the DPDK backend binds
 * with jextract. Only the symbols listed in includes.txt are generated from them.
 * rte_config.h first, as `pkg-config libdpdk --cflags` does with -include.
 */
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
