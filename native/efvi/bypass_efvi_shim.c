/*
 * bypass_efvi_shim.c - flat batch calls over ef_vi's macro data path for Bypass's Java
 * backend (see bypass_efvi_shim.h). Loads libciul itself with dlopen/dlsym, so it needs
 * no link-time libciul and drives either Onload's libciul.so.1 (when compiled with
 * -DBYPASS_EFVI_REAL_HEADERS against Onload headers under etherfabric/) or Bypass's software stand-in
 * (when compiled against native/efvi/include/bypass_efvi_api.h). The same source
 * compiles both ways; a build never mixes the two at run time (bypass_efvi_load checks).
 */
#define _GNU_SOURCE
#include "bypass_efvi_shim.h"
#include "bypass_efvi_warmup.h"

#ifdef BYPASS_EFVI_REAL_HEADERS
#include <etherfabric/base.h>
#include <etherfabric/ef_vi.h>
#include <etherfabric/pd.h>
#include <etherfabric/memreg.h>
#include <etherfabric/vi.h>
#else
#include "bypass_efvi_api.h"
#endif

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Function pointers typed from the header's own prototypes, so a signature change in
 * either header is a compile error here rather than a crash. */
#define BYPASS_EFVI_FUNCS(X) \
  X(ef_driver_open) X(ef_driver_close) X(ef_pd_alloc) X(ef_pd_free) \
  X(ef_memreg_alloc) X(ef_memreg_free) X(ef_vi_alloc_from_pd) X(ef_vi_free) \
  X(ef_vi_transmit_init) X(ef_vi_transmit_unbundle) X(ef_vi_version_str) \
  X(ef_filter_spec_init) X(ef_filter_spec_set_ip4_local) X(ef_filter_spec_set_ip4_full) \
  X(ef_vi_filter_add) X(ef_vi_filter_del) BYPASS_EFVI_TS_FUNCS(X)

/* RX timestamps: ef_vi_receive_get_precise_timestamp (a macro over the ops table) where
 * the headers have it; older Onload only exports ef_vi_receive_get_timestamp_with_sync_flags,
 * which newer Onload marks deprecated. */
#ifdef ef_vi_receive_get_precise_timestamp
#define BYPASS_EFVI_TS_FUNCS(X)
#else
#define BYPASS_EFVI_TS_FUNCS(X) X(ef_vi_receive_get_timestamp_with_sync_flags)
#endif

/* bypass_efvi_poll hands over the ids of one TX event in one run of tx_ids (and the warm-up VI counts its events so) */
_Static_assert(BYPASS_EFVI_TX_IDS_PER_EVENT == EF_VI_TRANSMIT_BATCH, "BYPASS_EFVI_TX_IDS_PER_EVENT must be EF_VI_TRANSMIT_BATCH");

#define DECLARE(f) static __typeof__(f)* p_##f;
BYPASS_EFVI_FUNCS(DECLARE)

static void* lib_handle;
static int lib_kind = BYPASS_EFVI_LIB_NONE;

enum { HAVE_DRIVER = 1, HAVE_PD = 2, HAVE_MEMREG = 4, HAVE_VI = 8 };

struct bypass_efvi {
  unsigned have;
  ef_driver_handle dh;
  ef_pd pd;
  ef_memreg mr;
  ef_vi vi;
  char* mem;          /* registered packet buffers: buffer i at mem + i * buf_size */
  int buf_size;
  int n_bufs;
  int rx_ts;          /* the VI was allocated with EF_VI_RX_TIMESTAMPS */
  int arp_fd;         /* /proc/thread-self/net/arp of the namespace the port was opened in */
  int probe_fd;       /* UDP socket whose sends make the kernel resolve a neighbour */
  char ifname[64];
  char* arp_buf;
  ef_event evs[64];
  ef_request_id ids[EF_VI_TRANSMIT_BATCH];
  struct bypass_efvi_warm* warm;  /* a warm-up VI (bypass_efvi_warmup_init), else NULL */
};

int bypass_efvi_abi(void) {
#ifdef BYPASS_EFVI_REAL_HEADERS
  return BYPASS_EFVI_ABI_ONLOAD;
#else
  return BYPASS_EFVI_ABI_OWN_HEADER;
#endif
}

int bypass_efvi_load(const char* path, char* err, int err_len) {
  if (lib_handle != NULL) {
    return 0;
  }
  const char* name = path != NULL && path[0] != 0 ? path : "libciul.so.1";
  void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(err, err_len, "dlopen(%s) failed: %s", name, dlerror());
    return -ENOENT;
  }
  int kind = dlsym(h, "bypass_ciul_standin_abi") != NULL ? BYPASS_EFVI_LIB_STANDIN : BYPASS_EFVI_LIB_ONLOAD;
  int want = bypass_efvi_abi() == BYPASS_EFVI_ABI_ONLOAD ? BYPASS_EFVI_LIB_ONLOAD : BYPASS_EFVI_LIB_STANDIN;
  if (kind != want) {
    snprintf(err, err_len, kind == BYPASS_EFVI_LIB_ONLOAD
             ? "%s is Onload's libciul but this libbypass_efvi.so was compiled without Onload's headers "
               "(struct ef_vi differs between releases); rebuild bypass-efvi on this host with Onload's "
               "headers installed (/usr/include/etherfabric/ef_vi.h) so the shim matches your libciul"
             : "%s is Bypass's software stand-in but this libbypass_efvi.so was compiled against Onload's "
               "headers; point -Dbypass.efvi.shim at the shim built against Bypass's own header "
               "(target/efvi-standin/libbypass_efvi_ownhdr.so)", name);
    dlclose(h);
    return -EPROTO;
  }
#define RESOLVE(f) \
  p_##f = (__typeof__(f)*) dlsym(h, #f); \
  if (p_##f == NULL) { \
    snprintf(err, err_len, "%s has no symbol %s: Onload too old or not libciul", name, #f); \
    dlclose(h); \
    return -ENOSYS; \
  }
  BYPASS_EFVI_FUNCS(RESOLVE)
  lib_kind = kind;
  lib_handle = h;
  return 0;
}

int bypass_efvi_lib_kind(void) { return lib_kind; }

const char* bypass_efvi_lib_version(void) {
  return p_ef_vi_version_str != NULL ? p_ef_vi_version_str() : "";
}

bypass_efvi* bypass_efvi_create(void) {
  bypass_efvi* h = calloc(1, sizeof(*h));
  if (h != NULL) {
    h->arp_fd = -1;
    h->probe_fd = -1;
  }
  return h;
}

int bypass_efvi_driver_open(bypass_efvi* h) {
  int rc = p_ef_driver_open(&h->dh);
  if (rc >= 0) {
    h->have |= HAVE_DRIVER;
  }
  return rc < 0 ? rc : 0;
}

int bypass_efvi_pd_alloc(bypass_efvi* h, int ifindex) {
  int rc = p_ef_pd_alloc(&h->pd, h->dh, ifindex, EF_PD_DEFAULT);
  if (rc >= 0) {
    h->have |= HAVE_PD;
  }
  return rc < 0 ? rc : 0;
}

int bypass_efvi_memreg_alloc(bypass_efvi* h, void* mem, size_t len, int buf_size,
                             uint64_t* dma_addrs_out, int n_bufs) {
  if (buf_size <= 0 || (size_t) buf_size * n_bufs > len) {
    return -EINVAL;
  }
  int rc = p_ef_memreg_alloc(&h->mr, h->dh, &h->pd, h->dh, mem, len);
  if (rc < 0) {
    return rc;
  }
  h->have |= HAVE_MEMREG;
  h->mem = mem;
  h->buf_size = buf_size;
  h->n_bufs = n_bufs;
  for (int i = 0; i < n_bufs; i++) {
    dma_addrs_out[i] = ef_memreg_dma_addr(&h->mr, (size_t) i * buf_size);
  }
  return 0;
}

int bypass_efvi_vi_alloc(bypass_efvi* h, int evq_capacity, int rxq_capacity, int txq_capacity,
                         int rx_timestamps, int rx_buffer_len) {
  int rc = -EINVAL;
  if (rx_timestamps) {
    rc = p_ef_vi_alloc_from_pd(&h->vi, h->dh, &h->pd, h->dh, evq_capacity, rxq_capacity,
                               txq_capacity, NULL, -1, EF_VI_RX_TIMESTAMPS);
    h->rx_ts = rc >= 0;
  }
  if (rc < 0) {  /* NICs without PTP refuse RX timestamps: retry without */
    rc = p_ef_vi_alloc_from_pd(&h->vi, h->dh, &h->pd, h->dh, evq_capacity, rxq_capacity,
                               txq_capacity, NULL, -1, EF_VI_FLAGS_DEFAULT);
  }
  if (rc >= 0) {
    h->have |= HAVE_VI;
    /* The NIC must never DMA past our packet buffers; set before registering memory (AF_XDP needs that order). */
    ef_vi_receive_set_buffer_len(&h->vi, (unsigned) rx_buffer_len);
#ifdef BYPASS_EFVI_REAL_HEADERS
    /* X3 (EFCT) VIs receive by reference (RX_REF events), not into posted buffers. */
    if (h->vi.nic_type.arch == EF_VI_ARCH_EFCT) {
      p_ef_vi_free(&h->vi, h->dh);
      h->have &= ~HAVE_VI;
      return -EPROTONOSUPPORT;
    }
#endif
  }
  return rc;
}

int bypass_efvi_rx_prefix_len(bypass_efvi* h) { return ef_vi_receive_prefix_len(&h->vi); }
int bypass_efvi_rx_capacity(bypass_efvi* h) { return ef_vi_receive_capacity(&h->vi); }
int bypass_efvi_tx_capacity(bypass_efvi* h) { return ef_vi_transmit_capacity(&h->vi); }
int bypass_efvi_has_rx_timestamps(bypass_efvi* h) { return h->rx_ts; }

/* Frees in the documented order: VI, memory registration, PD, driver handle. Safe
 * after a partial setup; returns the first error but frees everything regardless. */
int bypass_efvi_destroy(bypass_efvi* h) {
  if (h == NULL) {
    return 0;
  }
  int first = 0, rc;
  if (h->have & HAVE_VI) {
    rc = p_ef_vi_free(&h->vi, h->dh);
    if (rc < 0 && first == 0) first = rc;
  }
  if (h->have & HAVE_MEMREG) {
    rc = p_ef_memreg_free(&h->mr, h->dh);
    if (rc < 0 && first == 0) first = rc;
  }
  if (h->have & HAVE_PD) {
    rc = p_ef_pd_free(&h->pd, h->dh);
    if (rc < 0 && first == 0) first = rc;
  }
  if (h->have & HAVE_DRIVER) {
    rc = p_ef_driver_close(h->dh);
    if (rc < 0 && first == 0) first = rc;
  }
  if (h->arp_fd >= 0) close(h->arp_fd);
  if (h->probe_fd >= 0) close(h->probe_fd);
  free(h->arp_buf);
  bypass_efvi_warm_free(h->warm);
  free(h);
  return first;
}

int bypass_efvi_warmup_init(bypass_efvi* h, void* mem, int buf_size, int n_bufs, int prefix,
                            const void* frame, int frame_len, int rx_ts) {
  if (h->have != 0 || h->warm != NULL || mem == NULL || frame == NULL || n_bufs < 1 || buf_size < 1 || prefix < 0
      || frame_len < 14 || prefix + frame_len > buf_size) {
    return -EINVAL;
  }
  h->warm = bypass_efvi_warm_new(mem, buf_size, n_bufs, prefix, frame, frame_len, rx_ts);
  return h->warm == NULL ? -ENOMEM : 0;
}

int bypass_efvi_refill(bypass_efvi* h, const int32_t* ids, const uint64_t* addrs, int n) {
  if (h->warm != NULL) return bypass_efvi_warm_refill(h->warm, ids, n);
  int i;
  for (i = 0; i < n; i++) {
    int rc = ef_vi_receive_init(&h->vi, addrs[i], ids[i]);
    if (rc < 0) {
      break;
    }
  }
  if (i > 0) {
    ef_vi_receive_push(&h->vi);
  }
  return i;
}

int bypass_efvi_transmit_batch(bypass_efvi* h, const int32_t* ids, const uint64_t* addrs,
                               const int32_t* lens, int n) {
  if (h->warm != NULL) return bypass_efvi_warm_transmit(h->warm, ids, n);
  int i;
  for (i = 0; i < n; i++) {
    if (p_ef_vi_transmit_init(&h->vi, addrs[i], lens[i], ids[i]) < 0) {
      break;  /* -EAGAIN: ring full; the caller keeps the rest for the next flush */
    }
  }
  if (i > 0) {
    ef_vi_transmit_push(&h->vi);
  }
  return i;
}

static int discard_status(unsigned subtype) {
  switch (subtype) {
  case EF_EVENT_RX_DISCARD_CSUM_BAD: return BYPASS_EFVI_ST_CSUM_BAD;
  case EF_EVENT_RX_DISCARD_MCAST_MISMATCH: return BYPASS_EFVI_ST_MCAST_MISMATCH;
  case EF_EVENT_RX_DISCARD_CRC_BAD: return BYPASS_EFVI_ST_CRC_BAD;
  case EF_EVENT_RX_DISCARD_TRUNC: return BYPASS_EFVI_ST_TRUNC;
  case EF_EVENT_RX_DISCARD_RIGHTS: return BYPASS_EFVI_ST_RIGHTS;
  case EF_EVENT_RX_DISCARD_EV_ERROR: return BYPASS_EFVI_ST_EV_ERROR;
  default: return BYPASS_EFVI_ST_OTHER;
  }
}

/* Fills one RX record; for a frame to deliver, also its timestamp when the VI has them. */
static void rx_record(bypass_efvi* h, int32_t* r, int64_t* ts_out, int id, int len, int status, int flags, int csum) {
  *ts_out = INT64_MIN;
  if (status == BYPASS_EFVI_ST_OK && h->rx_ts && id >= 0 && id < h->n_bufs) {
    const void* pkt = h->mem + (size_t) id * h->buf_size;
    int64_t sec = 0, nsec = 0;
    unsigned sync = 0;
#ifdef ef_vi_receive_get_precise_timestamp
    ef_precisetime pt;
    int ok = ef_vi_receive_get_precise_timestamp(&h->vi, pkt, &pt) == 0;
    if (ok) { sec = pt.tv_sec; nsec = pt.tv_nsec; sync = pt.tv_flags; }
#else
    struct timespec ts;
    int ok = p_ef_vi_receive_get_timestamp_with_sync_flags(&h->vi, pkt, &ts, &sync) == 0;
    if (ok) { sec = ts.tv_sec; nsec = ts.tv_nsec; }
#endif
    if (ok) {
      *ts_out = sec * 1000000000LL + nsec;
      flags |= BYPASS_EFVI_RXF_TIMESTAMP;
      if (sync & EF_VI_SYNC_FLAG_CLOCK_SET) flags |= BYPASS_EFVI_RXF_TS_SYNCED;
    }
  }
  bypass_efvi_put_rx(r, id, len, status, flags, csum);
}

int bypass_efvi_poll(bypass_efvi* h, int32_t* rx, int64_t* rx_ts, int max_rx,
                     int32_t* tx_ids, int max_tx_ids, int32_t* counts) {
  int evs_len = max_rx;
  if (evs_len > (int) (sizeof(h->evs) / sizeof(h->evs[0]))) evs_len = sizeof(h->evs) / sizeof(h->evs[0]);
  if (evs_len > max_tx_ids / EF_VI_TRANSMIT_BATCH) evs_len = max_tx_ids / EF_VI_TRANSMIT_BATCH;
  if (evs_len < EF_VI_EVENT_POLL_MIN_EVS) {
    return -EINVAL;
  }
  counts[BYPASS_EFVI_C_RX] = counts[BYPASS_EFVI_C_TX_DONE] = 0;
  counts[BYPASS_EFVI_C_TX_ERROR] = counts[BYPASS_EFVI_C_OTHER] = 0;
  if (h->warm != NULL) return bypass_efvi_warm_poll(h->warm, rx, rx_ts, evs_len, tx_ids, max_tx_ids, counts);
  int n = ef_eventq_poll(&h->vi, h->evs, evs_len);
  int nrx = 0, ntx = 0;
  const int prefix = ef_vi_receive_prefix_len(&h->vi);
  for (int i = 0; i < n; i++) {
    const ef_event* e = &h->evs[i];
    int32_t* r = rx + nrx * BYPASS_EFVI_RX_RECORD;
    switch (EF_EVENT_TYPE(*e)) {
    case EF_EVENT_TYPE_RX: {
      int status = BYPASS_EFVI_ST_OK;
      if (!EF_EVENT_RX_SOP(*e)) {
        status = BYPASS_EFVI_ST_JUMBO_TAIL;
      } else if (EF_EVENT_RX_CONT(*e)) {
        status = BYPASS_EFVI_ST_JUMBO_HEAD;
      }
      rx_record(h, r, &rx_ts[nrx], EF_EVENT_RX_RQ_ID(*e), (int) EF_EVENT_RX_BYTES(*e) - prefix, status,
                ((*e).rx.flags & EF_EVENT_FLAG_MULTICAST) ? BYPASS_EFVI_RXF_MULTICAST : 0, BYPASS_EFVI_CSUM_NONE);
      nrx++;
      break;
    }
    case EF_EVENT_TYPE_RX_DISCARD: {
      /* A bad checksum's discard still carries the whole frame, its length and flags set as for an RX
       * event (ef10_event.c); it is delivered with the verdict, so the checksum policy decides. */
      int status, csum = BYPASS_EFVI_CSUM_NONE;
      if (!EF_EVENT_RX_DISCARD_SOP(*e)) {
        status = BYPASS_EFVI_ST_JUMBO_TAIL;
      } else if (EF_EVENT_RX_DISCARD_TYPE(*e) == EF_EVENT_RX_DISCARD_CSUM_BAD && !EF_EVENT_RX_DISCARD_CONT(*e)) {
        status = BYPASS_EFVI_ST_OK;
        csum = BYPASS_EFVI_CSUM_BAD;
      } else {
        status = discard_status(EF_EVENT_RX_DISCARD_TYPE(*e));
      }
      rx_record(h, r, &rx_ts[nrx], EF_EVENT_RX_DISCARD_RQ_ID(*e), (int) EF_EVENT_RX_DISCARD_BYTES(*e) - prefix, status,
                ((*e).rx_discard.flags & EF_EVENT_FLAG_MULTICAST) ? BYPASS_EFVI_RXF_MULTICAST : 0, csum);
      nrx++;
      break;
    }
    case EF_EVENT_TYPE_TX:
    case EF_EVENT_TYPE_TX_ERROR: {
      int k = p_ef_vi_transmit_unbundle(&h->vi, e, h->ids);
      for (int j = 0; j < k && ntx < max_tx_ids; j++) {
        tx_ids[ntx++] = h->ids[j];
      }
      if (EF_EVENT_TYPE(*e) == EF_EVENT_TYPE_TX_ERROR) counts[BYPASS_EFVI_C_TX_ERROR]++;
      break;
    }
    case EF_EVENT_TYPE_RX_NO_DESC_TRUNC:
      counts[BYPASS_EFVI_C_OTHER]++;
      break;
    default: /* overflow, reset, events of modes we never enable */
      counts[BYPASS_EFVI_C_OTHER]++;
      break;
    }
  }
  counts[BYPASS_EFVI_C_RX] = nrx;
  counts[BYPASS_EFVI_C_TX_DONE] = ntx;
  return n;
}

int bypass_efvi_filter_add_udp(bypass_efvi* h, uint32_t ipv4, int udp_port, int32_t* cookie_out) {
  ef_filter_spec fs;
  ef_filter_cookie cookie;
  p_ef_filter_spec_init(&fs, EF_FILTER_FLAG_NONE);
  int rc = p_ef_filter_spec_set_ip4_local(&fs, IPPROTO_UDP, htonl(ipv4), htons((uint16_t) udp_port));
  if (rc < 0) {
    return rc;
  }
  rc = p_ef_vi_filter_add(&h->vi, h->dh, &fs, &cookie);
  if (rc < 0) {
    return rc;
  }
  cookie_out[0] = cookie.filter_id;
  cookie_out[1] = cookie.filter_type;
  return 0;
}

int bypass_efvi_filter_add_tcp(bypass_efvi* h, uint32_t local_ipv4, int local_port, uint32_t remote_ipv4,
                               int remote_port, int32_t* cookie_out) {
  ef_filter_spec fs;
  ef_filter_cookie cookie;
  p_ef_filter_spec_init(&fs, EF_FILTER_FLAG_NONE);
  int rc = remote_port == 0 && remote_ipv4 == 0
    ? p_ef_filter_spec_set_ip4_local(&fs, IPPROTO_TCP, htonl(local_ipv4), htons((uint16_t) local_port))
    : p_ef_filter_spec_set_ip4_full(&fs, IPPROTO_TCP, htonl(local_ipv4), htons((uint16_t) local_port),
                                    htonl(remote_ipv4), htons((uint16_t) remote_port));
  if (rc < 0) {
    return rc;
  }
  rc = p_ef_vi_filter_add(&h->vi, h->dh, &fs, &cookie);
  if (rc < 0) {
    return rc;
  }
  cookie_out[0] = cookie.filter_id;
  cookie_out[1] = cookie.filter_type;
  return 0;
}

int bypass_efvi_filter_del(bypass_efvi* h, const int32_t* cookie) {
  ef_filter_cookie c;
  c.filter_id = cookie[0];
  c.filter_type = cookie[1];
  return p_ef_vi_filter_del(&h->vi, h->dh, &c);
}

/* ---- the kernel's neighbour table: ef_vi leaves the IP (and ARP) to the kernel ---- */

#define ARP_BUF 65536

int bypass_efvi_neigh_open(bypass_efvi* h, const char* ifname) {
  snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
  /* Opened now, on the thread that opens the port, so both stay in its network namespace. */
  h->arp_fd = open("/proc/thread-self/net/arp", O_RDONLY | O_CLOEXEC);
  if (h->arp_fd < 0) {
    return -errno;
  }
  h->probe_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (h->probe_fd < 0) {
    return -errno;
  }
  (void) setsockopt(h->probe_fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname));
  h->arp_buf = malloc(ARP_BUF);
  return h->arp_buf == NULL ? -ENOMEM : 0;
}

/* Returns the MAC (low 48 bits) of ipv4 (host-order value) on the port's interface, or -1 after asking the
 * kernel to resolve it (an empty datagram to the discard port makes it send the ARP). */
int64_t bypass_efvi_neigh_resolve(bypass_efvi* h, uint32_t ipv4) {
  const uint32_t ip_be = htonl(ipv4);
  if (h->arp_fd < 0) {
    return -1;
  }
  ssize_t n = pread(h->arp_fd, h->arp_buf, ARP_BUF - 1, 0);
  if (n > 0) {
    h->arp_buf[n] = 0;
    char* save = NULL;
    for (char* line = strtok_r(h->arp_buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
      char ip[64], hw[64], dev[64], mask[64];
      unsigned type, flags;
      unsigned m[6];
      if (sscanf(line, "%63s 0x%x 0x%x %63s %63s %63s", ip, &type, &flags, hw, mask, dev) != 6) {
        continue;  /* the title line */
      }
      struct in_addr a;
      if (inet_pton(AF_INET, ip, &a) != 1 || a.s_addr != ip_be || strcmp(dev, h->ifname) != 0
          || (flags & 0x2) == 0 /* ATF_COM: complete */) {
        continue;
      }
      if (sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
        int64_t mac = 0;
        for (int i = 0; i < 6; i++) mac = (mac << 8) | (m[i] & 0xff);
        return mac;
      }
    }
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = ip_be;
  (void) sendto(h->probe_fd, "", 0, MSG_DONTWAIT, (struct sockaddr*) &to, sizeof(to));
  return -1;
}
