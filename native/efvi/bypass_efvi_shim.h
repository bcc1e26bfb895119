/*
 * bypass_efvi_shim.h - the flat C API Bypass's Java ef_vi backend binds with jextract.
 *
 * ef_vi's data path (ef_eventq_poll, ef_vi_receive_init/push, ef_vi_transmit_push, the
 * EF_EVENT_* accessors) is macros over function pointers inside struct ef_vi, which FFM
 * cannot call; this shim wraps them in batch calls so Java makes one downcall per batch.
 * The shim owns every ef_vi object (their sizes change between Onload releases).
 * Every int-returning call gives 0 (or a count) on success and a negative errno on failure.
 */
#ifndef BYPASS_EFVI_SHIM_H
#define BYPASS_EFVI_SHIM_H

#include <stdint.h>
#include <stddef.h>

/* bypass_efvi_abi(): which headers the shim was compiled against. */
#define BYPASS_EFVI_ABI_OWN_HEADER   1  /* native/efvi/include: drives only the stand-in */
#define BYPASS_EFVI_ABI_ONLOAD       2  /* Onload's <etherfabric/ef_vi.h>: drives libciul.so.1 */

/* bypass_efvi_lib_kind(): what bypass_efvi_load found. */
#define BYPASS_EFVI_LIB_NONE         0
#define BYPASS_EFVI_LIB_STANDIN      1  /* Bypass's software stand-in (software timestamps) */
#define BYPASS_EFVI_LIB_ONLOAD       2  /* Onload's libciul */

/* One RX record written by bypass_efvi_poll: BYPASS_EFVI_RX_RECORD int32 values. */
#define BYPASS_EFVI_RX_RECORD        5
#define BYPASS_EFVI_RX_ID            0  /* dma_id given to bypass_efvi_refill (buffer index) */
#define BYPASS_EFVI_RX_LEN           1  /* frame bytes after the RX prefix */
#define BYPASS_EFVI_RX_STATUS        2  /* BYPASS_EFVI_ST_* */
#define BYPASS_EFVI_RX_FLAGS         3  /* BYPASS_EFVI_RXF_* */
#define BYPASS_EFVI_RX_CSUM          4  /* BYPASS_EFVI_CSUM_*: the NIC's checksum verdict on a frame to deliver */

/* The NIC's checksum verdict as ef_vi reports it: only ever "bad". An RX event says nothing of
 * checksums; an RX_DISCARD of subtype EF_EVENT_RX_DISCARD_CSUM_BAD ("IP header or TCP/UDP
 * checksum error", not which) still carries the whole frame, and the shim hands it on as a
 * frame to deliver (status OK) with BYPASS_EFVI_CSUM_BAD, so the protocol layer applies its
 * checksum policy to it (as DPDK's mbuf offload flags are handled). */
#define BYPASS_EFVI_CSUM_NONE        0  /* the NIC flagged nothing (ef_vi never says a sum was checked and right) */
#define BYPASS_EFVI_CSUM_BAD         1  /* RX_DISCARD / EF_EVENT_RX_DISCARD_CSUM_BAD */

#define BYPASS_EFVI_ST_OK            0  /* a whole frame: deliver it */
#define BYPASS_EFVI_ST_CSUM_BAD      1  /* RX_DISCARD reasons, then refill the buffer (CSUM_BAD: only of a frame spread over buffers) */
#define BYPASS_EFVI_ST_MCAST_MISMATCH 2
#define BYPASS_EFVI_ST_CRC_BAD       3
#define BYPASS_EFVI_ST_TRUNC         4
#define BYPASS_EFVI_ST_RIGHTS        5
#define BYPASS_EFVI_ST_EV_ERROR      6
#define BYPASS_EFVI_ST_OTHER         7
#define BYPASS_EFVI_ST_NO_DESC_TRUNC 8
#define BYPASS_EFVI_ST_JUMBO_HEAD    9  /* first buffer of a frame scattered over several: dropped */
#define BYPASS_EFVI_ST_JUMBO_TAIL    10 /* a later buffer of such a frame: refill only */

#define BYPASS_EFVI_RXF_MULTICAST    1
#define BYPASS_EFVI_RXF_TIMESTAMP    2  /* rx_ts holds epoch nanoseconds */
#define BYPASS_EFVI_RXF_TS_SYNCED    4  /* the NIC clock was set in sync with the system */

/* counts[] written by bypass_efvi_poll. */
#define BYPASS_EFVI_COUNTS           4
#define BYPASS_EFVI_C_RX             0  /* RX records written */
#define BYPASS_EFVI_C_TX_DONE        1  /* TX dma_ids written (buffers free again) */
#define BYPASS_EFVI_C_TX_ERROR       2  /* TX_ERROR events */
#define BYPASS_EFVI_C_OTHER          3  /* overflow, reset and unknown events */

/* Largest number of TX ids one event can complete (EF_VI_TRANSMIT_BATCH). */
#define BYPASS_EFVI_TX_IDS_PER_EVENT 64

typedef struct bypass_efvi bypass_efvi;

int bypass_efvi_abi(void);
int bypass_efvi_load(const char* path, char* err, int err_len);
int bypass_efvi_lib_kind(void);
const char* bypass_efvi_lib_version(void);

bypass_efvi* bypass_efvi_create(void);
int bypass_efvi_driver_open(bypass_efvi* h);
int bypass_efvi_pd_alloc(bypass_efvi* h, int ifindex);
int bypass_efvi_memreg_alloc(bypass_efvi* h, void* mem, size_t len, int buf_size,
                             uint64_t* dma_addrs_out, int n_bufs);
/* rx_buffer_len: size of each packet buffer (ef_vi_receive_set_buffer_len), so the NIC never writes past one. */
int bypass_efvi_vi_alloc(bypass_efvi* h, int evq_capacity, int rxq_capacity, int txq_capacity,
                         int rx_timestamps, int rx_buffer_len);
int bypass_efvi_rx_prefix_len(bypass_efvi* h);
int bypass_efvi_rx_capacity(bypass_efvi* h);
int bypass_efvi_tx_capacity(bypass_efvi* h);
int bypass_efvi_has_rx_timestamps(bypass_efvi* h);
int bypass_efvi_destroy(bypass_efvi* h);

/* Makes a handle from bypass_efvi_create a warm-up VI: no NIC and no ef_vi call; the shim plays the
 * NIC's part over the caller's memory (n_bufs buffers of buf_size bytes at mem), so the backend's own
 * poll, refill and transmit code runs before the market opens without a frame on the wire. Every other
 * bypass_efvi_poll finds nothing (a live queue between bursts); the others complete what was
 * transmitted and deliver copies of `frame` (the caller's memory, which it may rewrite between polls;
 * written prefix bytes into the buffer), alternately into one posted RX buffer and into as many as one
 * poll takes, timestamped when rx_ts, every 64th flagged as a bad checksum (as a NIC's RX_DISCARD /
 * CSUM_BAD). Frames transmitted are discarded. Returns 0 or a negative errno. */
int bypass_efvi_warmup_init(bypass_efvi* h, void* mem, int buf_size, int n_bufs, int prefix,
                            const void* frame, int frame_len, int rx_ts);

int bypass_efvi_refill(bypass_efvi* h, const int32_t* ids, const uint64_t* addrs, int n);
int bypass_efvi_transmit_batch(bypass_efvi* h, const int32_t* ids, const uint64_t* addrs,
                               const int32_t* lens, int n);
int bypass_efvi_poll(bypass_efvi* h, int32_t* rx, int64_t* rx_ts, int max_rx,
                     int32_t* tx_ids, int max_tx_ids, int32_t* counts);

/* ipv4: the address as a number (10.0.0.1 = 0x0a000001); udp_port in host order. cookie_out: int32[2]. */
int bypass_efvi_filter_add_udp(bypass_efvi* h, uint32_t ipv4, int udp_port, int32_t* cookie_out);
/* A TCP filter: a connection's segments (remote_ipv4 and remote_port not 0: ef_filter_spec_set_ip4_full) or,
 * with remote 0 and 0, every segment to local_ipv4:local_port (a listener: ip4_local with IPPROTO_TCP).
 * Addresses as numbers and ports in host order, as above. cookie_out: int32[2]. */
int bypass_efvi_filter_add_tcp(bypass_efvi* h, uint32_t local_ipv4, int local_port, uint32_t remote_ipv4,
                               int remote_port, int32_t* cookie_out);
int bypass_efvi_filter_del(bypass_efvi* h, const int32_t* cookie);

int bypass_efvi_neigh_open(bypass_efvi* h, const char* ifname);
/* MAC in the low 48 bits, or -1 after asking the kernel to resolve ipv4 (a number, as above). */
int64_t bypass_efvi_neigh_resolve(bypass_efvi* h, uint32_t ipv4);

#endif
