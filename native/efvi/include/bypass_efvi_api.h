/*
 * bypass_efvi_api.h - the subset of the PUBLIC ef_vi API (Onload's libciul) that
 * Bypass's shim uses, declared by the Bypass project from the documented API:
 * the same type, function and macro NAMES as <etherfabric/ef_vi.h>, <etherfabric/pd.h>,
 * <etherfabric/memreg.h> and <etherfabric/vi.h>, so bypass_efvi_shim.c compiles
 * unchanged against either this file or Onload's headers (-DBYPASS_EFVI_REAL_HEADERS).
 *
 * This is NOT Onload's header and not ABI-compatible with libciul.so.1: struct layouts
 * here belong to Bypass's software stand-in (native/efvi/standin), the only library
 * built against this file. A shim built against this header refuses to drive any
 * library other than the stand-in (see bypass_efvi_load in the shim).
 */
#ifndef BYPASS_EFVI_API_H
#define BYPASS_EFVI_API_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- primitive types (same names and meanings as ef_vi) ---- */
typedef int      ef_driver_handle;   /* a file descriptor */
typedef uint64_t ef_addr;            /* DMA (IO virtual) address */
typedef int      ef_request_id;      /* caller's token for a descriptor */

#define EF_VI_EVENT_POLL_MIN_EVS 2
#define EF_VI_TRANSMIT_BATCH     64
#define EF_VI_RECEIVE_BATCH      15
#define EF_VI_NIC_PAGE_SHIFT     12
#define EF_VI_NIC_PAGE_SIZE      (1 << EF_VI_NIC_PAGE_SHIFT)
#define EF_VI_DMA_ALIGN          64

#define EF_VI_SYNC_FLAG_CLOCK_SET     1
#define EF_VI_SYNC_FLAG_CLOCK_IN_SYNC 2

/* ---- events: 16 bytes, read only through the EF_EVENT_* macros ---- */
typedef union {
  struct { unsigned type : 16; } generic;
  struct { unsigned type : 16; unsigned q_id : 8; unsigned __reserved : 8;
           unsigned rq_id : 32; unsigned len : 16; unsigned flags : 16;
           unsigned ofs : 16; } rx;
  struct { unsigned type : 16; unsigned q_id : 8; unsigned __reserved : 8;
           unsigned rq_id : 32; unsigned len : 16; unsigned flags : 16;
           unsigned subtype : 16; } rx_discard;
  struct { unsigned type : 16; unsigned q_id : 8; unsigned flags : 8;
           unsigned desc_id : 16; } tx;
  struct { unsigned type : 16; unsigned q_id : 8; unsigned flags : 8;
           unsigned desc_id : 16; unsigned subtype : 16; } tx_error;
  struct { unsigned type : 16; unsigned q_id : 8; } rx_no_desc_trunc;
  struct { unsigned type : 16; unsigned data; } sw;
  uint32_t raw[4];
} ef_event;

#define EF_EVENT_TYPE(e)              ((e).generic.type)
#define EF_EVENT_RX_BYTES(e)          ((e).rx.len)
#define EF_EVENT_RX_Q_ID(e)           ((e).rx.q_id)
#define EF_EVENT_RX_RQ_ID(e)          ((e).rx.rq_id)
#define EF_EVENT_RX_CONT(e)           ((e).rx.flags & EF_EVENT_FLAG_CONT)
#define EF_EVENT_RX_SOP(e)            ((e).rx.flags & EF_EVENT_FLAG_SOP)
#define EF_EVENT_TX_Q_ID(e)           ((e).tx.q_id)
#define EF_EVENT_RX_DISCARD_Q_ID(e)   ((e).rx_discard.q_id)
#define EF_EVENT_RX_DISCARD_RQ_ID(e)  ((e).rx_discard.rq_id)
#define EF_EVENT_RX_DISCARD_CONT(e)   ((e).rx_discard.flags & EF_EVENT_FLAG_CONT)
#define EF_EVENT_RX_DISCARD_SOP(e)    ((e).rx_discard.flags & EF_EVENT_FLAG_SOP)
#define EF_EVENT_RX_DISCARD_TYPE(e)   ((e).rx_discard.subtype)
#define EF_EVENT_RX_DISCARD_BYTES(e)  ((e).rx_discard.len)
#define EF_EVENT_TX_ERROR_Q_ID(e)     ((e).tx_error.q_id)
#define EF_EVENT_TX_ERROR_TYPE(e)     ((e).tx_error.subtype)

#define EF_EVENT_FLAG_SOP        0x1
#define EF_EVENT_FLAG_CONT       0x2
#define EF_EVENT_FLAG_ISCSI_OK   0x4
#define EF_EVENT_FLAG_MULTICAST  0x8

enum {
  EF_EVENT_TYPE_RX,
  EF_EVENT_TYPE_TX,
  EF_EVENT_TYPE_RX_DISCARD,
  EF_EVENT_TYPE_TX_ERROR,
  EF_EVENT_TYPE_RX_NO_DESC_TRUNC,
  EF_EVENT_TYPE_SW,
  EF_EVENT_TYPE_OFLOW,
  EF_EVENT_TYPE_TX_WITH_TIMESTAMP,
  EF_EVENT_TYPE_RX_PACKED_STREAM,
  EF_EVENT_TYPE_RX_MULTI,
  EF_EVENT_TYPE_TX_ALT,
  EF_EVENT_TYPE_RX_MULTI_DISCARD,
  EF_EVENT_TYPE_RX_MULTI_PKTS,
  EF_EVENT_TYPE_MEMCPY,
  EF_EVENT_TYPE_RESET,
  EF_EVENT_TYPE_RX_REF,
  EF_EVENT_TYPE_RX_REF_DISCARD,
};

enum {
  EF_EVENT_RX_DISCARD_CSUM_BAD,
  EF_EVENT_RX_DISCARD_MCAST_MISMATCH,
  EF_EVENT_RX_DISCARD_CRC_BAD,
  EF_EVENT_RX_DISCARD_TRUNC,
  EF_EVENT_RX_DISCARD_RIGHTS,
  EF_EVENT_RX_DISCARD_EV_ERROR,
  EF_EVENT_RX_DISCARD_OTHER,
  EF_EVENT_RX_DISCARD_INNER_CSUM_BAD,
  EF_EVENT_RX_DISCARD_MAX,
};

enum {
  EF_EVENT_TX_ERROR_RIGHTS,
  EF_EVENT_TX_ERROR_OFLOW,
  EF_EVENT_TX_ERROR_2BIG,
  EF_EVENT_TX_ERROR_BUS,
};

/* ---- flags ---- */
enum ef_pd_flags {
  EF_PD_DEFAULT = 0x0,
  EF_PD_VF = 0x1,
  EF_PD_PHYS_MODE = 0x2,
  EF_PD_MCAST_LOOP = 0x10,
};

enum ef_vi_flags {
  EF_VI_FLAGS_DEFAULT = 0x0,
  EF_VI_TX_PUSH_DISABLE = 0x4000,
  EF_VI_RX_TIMESTAMPS = 0x10000,
  EF_VI_TX_TIMESTAMPS = 0x20000,
};

enum ef_filter_flags {
  EF_FILTER_FLAG_NONE = 0x0,
  EF_FILTER_FLAG_MCAST_LOOP_RECEIVE = 0x2,
};

/* ---- caller-allocated objects ---- */
typedef struct {
  ef_addr  iov_base __attribute__((aligned(8)));
  unsigned iov_len;
} ef_iovec;

typedef struct ef_pd {
  enum ef_pd_flags pd_flags;
  unsigned         pd_resource_id;
  char*            pd_intf_name;
  char*            pd_cluster_name;
  int              pd_cluster_sock;
  ef_driver_handle pd_cluster_dh;
  unsigned         pd_cluster_viset_resource_id;
  int              pd_cluster_viset_index;
} ef_pd;

typedef struct ef_memreg {
  ef_addr* mr_dma_addrs;
  ef_addr* mr_dma_addrs_base;
} ef_memreg;

typedef struct ef_filter_spec {
  unsigned type;
  unsigned flags;
  unsigned data[12];
} ef_filter_spec;

typedef struct ef_filter_cookie {
  int filter_id;
  int filter_type;
} ef_filter_cookie;

/* A received packet's time: UTC seconds, nanoseconds, 1/65536 ns, EF_VI_SYNC_FLAG_* flags. */
typedef struct {
  int64_t  tv_sec;
  uint32_t tv_nsec;
  uint16_t tv_nsec_frac;
  uint16_t tv_flags;
} ef_precisetime;

typedef struct { unsigned mask; } ef_vi_rxq;
typedef struct { unsigned mask; } ef_vi_txq;

struct ef_vi;

/* The VI. Only the macros and inline accessors below read it. */
typedef struct ef_vi {
  unsigned          inited;
  ef_driver_handle  dh;
  unsigned          rx_buffer_len;
  unsigned          rx_prefix_len;
  ef_vi_txq         vi_txq;
  ef_vi_rxq         vi_rxq;
  enum ef_vi_flags  vi_flags;
  void*             standin;   /* the stand-in's state; no meaning for the shim */
  struct ops {
    int  (*transmit)(struct ef_vi*, ef_addr base, int len, ef_request_id);
    int  (*transmitv)(struct ef_vi*, const ef_iovec*, int iov_len, ef_request_id);
    int  (*transmitv_init)(struct ef_vi*, const ef_iovec*, int iov_len, ef_request_id);
    void (*transmit_push)(struct ef_vi*);
    int  (*receive_init)(struct ef_vi*, ef_addr, ef_request_id);
    void (*receive_push)(struct ef_vi*);
    int  (*receive_get_timestamp)(struct ef_vi*, const void* pkt, ef_precisetime*);
    int  (*eventq_poll)(struct ef_vi*, ef_event*, int evs_len);
  } ops;
} ef_vi;

/* ---- data path: macros over the ops table, as in ef_vi ---- */
#define ef_vi_receive_init(vi, addr, dma_id)   (vi)->ops.receive_init((vi), (addr), (dma_id))
#define ef_vi_receive_push(vi)                 (vi)->ops.receive_push((vi))
#define ef_vi_transmit(vi, base, len, dma_id)  (vi)->ops.transmit((vi), (base), (len), (dma_id))
#define ef_vi_transmitv(vi, iov, iov_len, dma_id) (vi)->ops.transmitv((vi), (iov), (iov_len), (dma_id))
#define ef_vi_transmitv_init(vi, iov, iov_len, dma_id) (vi)->ops.transmitv_init((vi), (iov), (iov_len), (dma_id))
#define ef_vi_transmit_push(vi)                (vi)->ops.transmit_push((vi))
#define ef_eventq_poll(evq, evs, evs_len)      (evq)->ops.eventq_poll((evq), (evs), (evs_len))
#define ef_vi_receive_get_precise_timestamp(vi, pkt, ts_out) (vi)->ops.receive_get_timestamp((vi), (pkt), (ts_out))

/* ---- inline accessors, as in ef_vi ---- */
static inline int ef_vi_receive_prefix_len(const ef_vi* vi) { return vi->rx_prefix_len; }
static inline int ef_vi_receive_buffer_len(const ef_vi* vi) { return vi->rx_buffer_len; }
static inline void ef_vi_receive_set_buffer_len(ef_vi* vi, unsigned buf_len) { vi->rx_buffer_len = buf_len; }
static inline int ef_vi_receive_capacity(const ef_vi* vi) { return vi->vi_rxq.mask; }
static inline int ef_vi_transmit_capacity(const ef_vi* vi) { return vi->vi_txq.mask; }
static inline ef_addr ef_memreg_dma_addr(ef_memreg* mr, size_t offset) {
  return mr->mr_dma_addrs[offset >> EF_VI_NIC_PAGE_SHIFT] | (offset & (EF_VI_NIC_PAGE_SIZE - 1));
}

/* ---- exported functions (the shim finds them with dlsym) ---- */
extern int ef_driver_open(ef_driver_handle* dh_out);
extern int ef_driver_close(ef_driver_handle);
extern int ef_pd_alloc(ef_pd*, ef_driver_handle, int ifindex, enum ef_pd_flags);
extern int ef_pd_free(ef_pd*, ef_driver_handle);
extern int ef_memreg_alloc(ef_memreg*, ef_driver_handle, struct ef_pd*, ef_driver_handle pd_dh,
                           void* p_mem, size_t len_bytes);
extern int ef_memreg_free(ef_memreg*, ef_driver_handle);
extern int ef_vi_alloc_from_pd(ef_vi* vi, ef_driver_handle vi_dh, struct ef_pd* pd,
                               ef_driver_handle pd_dh, int evq_capacity, int rxq_capacity,
                               int txq_capacity, ef_vi* evq_opt, ef_driver_handle evq_dh,
                               enum ef_vi_flags flags);
extern int ef_vi_free(ef_vi* vi, ef_driver_handle nic);
extern int ef_vi_transmit_init(ef_vi* vi, ef_addr addr, int bytes, ef_request_id dma_id);
extern int ef_vi_transmit_unbundle(ef_vi* ep, const ef_event*, ef_request_id* ids);
/* Older API (Onload deprecates it for ef_vi_receive_get_precise_timestamp). */
extern int ef_vi_receive_get_timestamp_with_sync_flags(ef_vi* vi, const void* pkt,
                                                       struct timespec* ts_out, unsigned* flags_out);
extern const char* ef_vi_version_str(void);

extern void ef_filter_spec_init(ef_filter_spec* fs, enum ef_filter_flags flags);
extern int ef_filter_spec_set_ip4_local(ef_filter_spec* fs, int protocol, unsigned host_be32, int port_be16);
extern int ef_filter_spec_set_ip4_full(ef_filter_spec* fs, int protocol, unsigned host_be32, int port_be16,
                                       unsigned rhost_be32, int rport_be16);
extern int ef_filter_spec_set_vlan(ef_filter_spec* fs, int vlan_id);
extern int ef_vi_filter_add(ef_vi*, ef_driver_handle, const ef_filter_spec*, ef_filter_cookie* filter_cookie_out);
extern int ef_vi_filter_del(ef_vi*, ef_driver_handle, ef_filter_cookie*);

#ifdef __cplusplus
}
#endif
#endif
