/*
 * bypass_ciul_standin.c - a SOFTWARE stand-in for Onload's libciul, written for Bypass's
 * tests. It implements the ef_vi calls Bypass's shim uses (native/efvi/include/
 * bypass_efvi_api.h) over an AF_PACKET socket bound to one interface (a veth end in the
 * tests), so the Java ef_vi backend and its shim run end to end without a Solarflare NIC.
 *
 * What it models, like a NIC would:
 *  - memory registration hands out IO virtual addresses (not the virtual addresses), and
 *    every descriptor's address is translated back and bounds-checked;
 *  - RX descriptors posted with receive_init become usable only after receive_push;
 *  - only frames matching an ip4_local UDP filter (destination address and port, unicast
 *    or multicast group) reach the VI; the rest are counted and left to the kernel;
 *  - frames longer than a buffer give RX_DISCARD / TRUNC (the stand-in never scatters);
 *  - checksums, as an EF10 NIC with ef_vi's default discard mask (ef10_vi.c: TCPUDP_CKSUM_ERR
 *    and IPCKSUM_ERR discard): a frame for the VI whose IPv4 header sum, or whose UDP sum (not
 *    0, over a UDP length that fits the IPv4 total length and the frame), is wrong is written to
 *    its buffer and reported as RX_DISCARD / CSUM_BAD, which does not say which sum; every other
 *    frame comes as a plain RX event, which says nothing of checksums: ef_vi has no "checked and
 *    right" verdict. A frame the sending kernel left CHECKSUM_PARTIAL (a kernel peer over the
 *    veth: only the pseudo-header sum, TP_STATUS_CSUMNOTREADY in the packet socket's auxdata)
 *    never crosses a wire, where its sum would have been finished before any NIC saw it; the
 *    model does not check it and delivers it as it is, unflagged, so the receiver's software
 *    checksum policy handles it as on every backend that reads the veth (afxdp, dpdk);
 *  - a frame that arrives with no RX descriptor posted is dropped, as a NIC drops it, and
 *    counted where a NIC counts it: in a port statistic (ethtool's rx_nodesc_drop_cnt), not
 *    in an ef_vi event (bypass_ciul_standin_nodesc_drops reads it). The socket is drained
 *    lazily, at each poll, in arrival order: the frames that arrived since the last poll take
 *    the posted descriptors, the rest are those drops. So a stalled poller keeps what the RX
 *    ring holds, like on a NIC, not what the AF_PACKET socket's buffer would hold;
 *  - TX completes in ring order, reported as TX events that ef_vi_transmit_unbundle turns
 *    into the posted dma_ids; bad addresses or oversize frames give TX_ERROR;
 *  - a 16-byte RX prefix carries the timestamp: the KERNEL'S SOFTWARE receive time
 *    (SO_TIMESTAMPNS), never a hardware one, and its sync flags say so (0).
 *  - a frame's 802.1Q tag, which the kernel moves into the packet socket's auxdata, is put
 *    back where it was on the wire, so the VI sees tagged frames as a NIC does; an ip4_local
 *    filter matches untagged frames only.
 * What it does not: steal frames from the kernel (AF_PACKET sees a copy; the kernel still
 * gets its own), VLAN filters, scatter/gather, event merging, CTPIO/PIO, interrupts.
 * It is a TEST artifact and never ships in the bypass-efvi jar.
 */
#define _GNU_SOURCE
#include "bypass_efvi_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define STANDIN_PREFIX_LEN  16
#define STANDIN_BUF_LEN     2048
#define STANDIN_TS_MAGIC    0x53545342u  /* 'BSTS' */
#define STANDIN_IOVA_TAG    0x5b00000000000000ull
#define STANDIN_MAX_REGIONS 256
#define STANDIN_MAX_FILTERS 256
#define STANDIN_BATCH       64
#define FILTER_IP4_LOCAL    1

int bypass_ciul_standin_abi(void) { return 1; }

/* ---- test hooks: fault injection and a count of live objects, so tests can prove that a
 * failed open frees everything it had allocated ---- */
static char fail_call[64];
static int fail_err;
static int fail_times;
static int live_objects;  /* driver handles + PDs + memory registrations + VIs */
/* Process-wide: frames no filter matched (left to the kernel), frames a NIC would not see
 * (sent by this host or for another MAC), RX truncations, TX errors. */
static uint64_t stats[4];
/* Process-wide: frames dropped because no RX descriptor was posted (a NIC's rx_nodesc_drop_cnt). */
static uint64_t nodesc_drops;
/* Test hook: the next this many frames for a VI are reported CSUM_BAD whatever their sums. */
static int csum_bad_next;
/* Process-wide: RX_DISCARD / CSUM_BAD events made. */
static uint64_t csum_discards;

/* The next `times` frames that reach a VI are reported RX_DISCARD / CSUM_BAD whatever their sums:
 * a NIC that is wrong, so tests can tell the NIC's verdict from the receiver's own sums. */
int bypass_ciul_standin_csum_bad_next(int times) {
  __atomic_store_n(&csum_bad_next, times, __ATOMIC_SEQ_CST);
  return 0;
}

static int take_csum_bad_next(void) {
  int n = __atomic_load_n(&csum_bad_next, __ATOMIC_SEQ_CST);
  while (n > 0) {
    if (__atomic_compare_exchange_n(&csum_bad_next, &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return 1;
  }
  return 0;
}

/* The next `times` calls named `call` (e.g. "ef_memreg_alloc") fail with `err` (negative errno). */
int bypass_ciul_standin_fail_next(const char* call, int err, int times) {
  snprintf(fail_call, sizeof(fail_call), "%s", call != NULL ? call : "");
  fail_err = err;
  fail_times = times;
  return 0;
}

int bypass_ciul_standin_live_objects(void) { return __atomic_load_n(&live_objects, __ATOMIC_SEQ_CST); }

static int injected(const char* call) {
  if (fail_times > 0 && strcmp(fail_call, call) == 0) {
    fail_times--;
    return fail_err;
  }
  return 0;
}

static void live(int delta) { __atomic_add_fetch(&live_objects, delta, __ATOMIC_SEQ_CST); }
const char* ef_vi_version_str(void) { return "bypass-ciul-standin 1 (software, AF_PACKET)"; }

/* ---- driver handle and protection domain ---- */

int ef_driver_open(ef_driver_handle* dh_out) {
  int inj = injected("ef_driver_open");
  if (inj) return inj;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  *dh_out = fd;
  live(1);
  return 0;
}

int ef_driver_close(ef_driver_handle dh) {
  live(-1);
  return close(dh) == 0 ? 0 : -errno;
}

int ef_pd_alloc(ef_pd* pd, ef_driver_handle dh, int ifindex, enum ef_pd_flags flags) {
  (void) dh;
  int inj = injected("ef_pd_alloc");
  if (inj) return inj;
  char name[IF_NAMESIZE];
  if (if_indextoname((unsigned) ifindex, name) == NULL) return -ENODEV;
  memset(pd, 0, sizeof(*pd));
  pd->pd_flags = flags;
  pd->pd_resource_id = (unsigned) ifindex;
  pd->pd_intf_name = strdup(name);
  pd->pd_cluster_sock = -1;
  pd->pd_cluster_dh = -1;
  if (pd->pd_intf_name == NULL) return -ENOMEM;
  live(1);
  return 0;
}

int ef_pd_free(ef_pd* pd, ef_driver_handle dh) {
  (void) dh;
  if (pd->pd_intf_name == NULL) return -EINVAL;
  free(pd->pd_intf_name);
  pd->pd_intf_name = NULL;
  live(-1);
  return 0;
}

/* ---- memory registration: IO virtual addresses, translated back per descriptor ---- */

static struct { char* base; size_t len; int used; } regions[STANDIN_MAX_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;

int ef_memreg_alloc(ef_memreg* mr, ef_driver_handle dh, struct ef_pd* pd, ef_driver_handle pd_dh,
                    void* p_mem, size_t len) {
  (void) dh; (void) pd; (void) pd_dh;
  int inj = injected("ef_memreg_alloc");
  if (inj) return inj;
  if (((uintptr_t) p_mem & (EF_VI_NIC_PAGE_SIZE - 1)) != 0 || len == 0 || len % STANDIN_BUF_LEN != 0
      || len > 0xffffffffull) {
    return -EINVAL;
  }
  size_t pages = (len + EF_VI_NIC_PAGE_SIZE - 1) / EF_VI_NIC_PAGE_SIZE;
  ef_addr* dma = malloc(pages * sizeof(ef_addr));
  if (dma == NULL) return -ENOMEM;
  pthread_mutex_lock(&regions_lock);
  int r = -1;
  for (int i = 0; i < STANDIN_MAX_REGIONS; i++) {
    if (!regions[i].used) { r = i; break; }
  }
  if (r >= 0) {
    regions[r].base = p_mem;
    regions[r].len = len;
    regions[r].used = 1;
  }
  pthread_mutex_unlock(&regions_lock);
  if (r < 0) { free(dma); return -ENOSPC; }
  for (size_t p = 0; p < pages; p++) {
    dma[p] = STANDIN_IOVA_TAG | ((ef_addr) (r + 1) << 32) | (p << EF_VI_NIC_PAGE_SHIFT);
  }
  mr->mr_dma_addrs = dma;
  mr->mr_dma_addrs_base = dma;
  live(1);
  return 0;
}

int ef_memreg_free(ef_memreg* mr, ef_driver_handle dh) {
  (void) dh;
  if (mr->mr_dma_addrs_base == NULL) return -EINVAL;
  int r = (int) ((mr->mr_dma_addrs_base[0] >> 32) & 0xffff) - 1;
  pthread_mutex_lock(&regions_lock);
  if (r >= 0 && r < STANDIN_MAX_REGIONS) regions[r].used = 0;
  pthread_mutex_unlock(&regions_lock);
  free(mr->mr_dma_addrs_base);
  mr->mr_dma_addrs = mr->mr_dma_addrs_base = NULL;
  live(-1);
  return 0;
}

/* The buffer behind [dma, dma + len), or NULL if it is not registered memory. */
static char* translate(ef_addr dma, size_t len) {
  if ((dma & 0xff00000000000000ull) != STANDIN_IOVA_TAG) return NULL;
  int r = (int) ((dma >> 32) & 0xffff) - 1;
  size_t off = (size_t) (dma & 0xffffffffull);
  if (r < 0 || r >= STANDIN_MAX_REGIONS || !regions[r].used || off + len > regions[r].len) return NULL;
  return regions[r].base + off;
}

/* ---- the VI ---- */

struct rx_desc { ef_addr addr; ef_request_id id; };
struct tx_desc { ef_addr addr; int len; ef_request_id id; int error; };
struct filter { int used; int id; uint32_t addr_be; uint16_t port_be; };

struct standin_vi {
  int fd;
  unsigned rx_mask, tx_mask;
  struct rx_desc* rxd;
  unsigned rx_added, rx_pushed, rx_removed;
  /* RX events of frames already "DMA'd" into descriptors, not yet handed to eventq_poll (at most one per descriptor) */
  ef_event* ready;
  unsigned ready_head, ready_tail;
  struct tx_desc* txd;
  unsigned tx_added, tx_done, tx_reported, tx_unbundled;
  struct filter filters[STANDIN_MAX_FILTERS];
  int next_filter_id;
  char scratch[STANDIN_BATCH][STANDIN_BUF_LEN];
  struct mmsghdr msgs[STANDIN_BATCH];
  struct iovec iovs[STANDIN_BATCH];
  struct sockaddr_ll from[STANDIN_BATCH];
  char cmsg[STANDIN_BATCH][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct tpacket_auxdata))];
};

static struct standin_vi* S(ef_vi* vi) { return (struct standin_vi*) vi->standin; }

static unsigned ring_size(int requested) {
  unsigned want = requested < 0 ? 512u : (unsigned) requested, size = 64;
  while (size < want && size < 32768) size <<= 1;
  return size;
}


static int sv_receive_init(ef_vi* vi, ef_addr addr, ef_request_id id) {
  struct standin_vi* s = S(vi);
  if (s->rx_added - s->rx_removed >= s->rx_mask) return -EAGAIN;
  if (translate(addr, STANDIN_BUF_LEN) == NULL) return -EINVAL;
  s->rxd[s->rx_added & s->rx_mask] = (struct rx_desc) { addr, id };
  s->rx_added++;
  return 0;
}

static void sv_receive_push(ef_vi* vi) {
  S(vi)->rx_pushed = S(vi)->rx_added;
}

static void sv_transmit_push(ef_vi* vi) {
  struct standin_vi* s = S(vi);
  struct mmsghdr msgs[STANDIN_BATCH];
  struct iovec iov[STANDIN_BATCH];
  while (s->tx_done != s->tx_added) {
    int n = 0;
    while (n < STANDIN_BATCH && s->tx_done + (unsigned) n != s->tx_added) {
      unsigned i = (s->tx_done + (unsigned) n) & s->tx_mask;
      struct tx_desc* d = &s->txd[i];
      char* p = translate(d->addr, (size_t) d->len);
      if (p == NULL || d->len <= 0) {
        d->error = EF_EVENT_TX_ERROR_BUS + 1;
        break;
      }
      iov[n] = (struct iovec) { p, (size_t) d->len };
      memset(&msgs[n], 0, sizeof(msgs[n]));
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      n++;
    }
    int sent = n > 0 ? sendmmsg(s->fd, msgs, (unsigned) n, MSG_DONTWAIT) : 0;
    if (sent < 0) sent = 0;
    s->tx_done += (unsigned) sent;
    if (sent < n || n == 0) {
      /* the descriptor at tx_done failed (bad address, too big, or the kernel refused): complete it with an error */
      struct tx_desc* d = &s->txd[s->tx_done & s->tx_mask];
      if (d->error == 0) d->error = (errno == EMSGSIZE ? EF_EVENT_TX_ERROR_2BIG : EF_EVENT_TX_ERROR_BUS) + 1;
      __atomic_add_fetch(&stats[3], 1, __ATOMIC_RELAXED);
      s->tx_done++;
    }
  }
}

int ef_vi_transmit_init(ef_vi* vi, ef_addr addr, int bytes, ef_request_id dma_id) {
  struct standin_vi* s = S(vi);
  if (s->tx_added - s->tx_unbundled >= s->tx_mask) return -EAGAIN;
  s->txd[s->tx_added & s->tx_mask] = (struct tx_desc) { addr, bytes, dma_id, 0 };
  s->tx_added++;
  return 0;
}

static int sv_transmitv_init(ef_vi* vi, const ef_iovec* iov, int iov_len, ef_request_id id) {
  if (iov_len != 1) return -EINVAL;  /* the stand-in does not gather */
  return ef_vi_transmit_init(vi, iov[0].iov_base, (int) iov[0].iov_len, id);
}

static int sv_transmit(ef_vi* vi, ef_addr base, int len, ef_request_id id) {
  int rc = ef_vi_transmit_init(vi, base, len, id);
  if (rc == 0) sv_transmit_push(vi);
  return rc;
}

static int sv_transmitv(ef_vi* vi, const ef_iovec* iov, int iov_len, ef_request_id id) {
  int rc = sv_transmitv_init(vi, iov, iov_len, id);
  if (rc == 0) sv_transmit_push(vi);
  return rc;
}

int ef_vi_transmit_unbundle(ef_vi* vi, const ef_event* ev, ef_request_id* ids) {
  struct standin_vi* s = S(vi);
  unsigned end = ev->tx.desc_id, n = (end - s->tx_unbundled) & 0xffff;
  if (n > EF_VI_TRANSMIT_BATCH) n = EF_VI_TRANSMIT_BATCH;
  for (unsigned j = 0; j < n; j++) {
    ids[j] = s->txd[(s->tx_unbundled + j) & s->tx_mask].id;
  }
  s->tx_unbundled += n;
  return (int) n;
}

/* The stand-in's model of an ip4_local filter match: an untagged IPv4 UDP frame with a sound
 * header (version 4, IHL 5..15 within the frame), not a fragment, whose destination port can
 * be read. Fragments, first ones included, go to the kernel: Onload's user guide (UG1586, "IP
 * Fragmentation") says fragmented IP traffic is received via the kernel stack, not the VI.
 * What a real NIC's parser does with an unsound header or a port cut short is not verified. */
static int matches(struct standin_vi* s, const unsigned char* f, size_t len, int* multicast) {
  if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) return 0;
  const unsigned char* ip = f + 14;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || len < 14 + ihl + 4) return 0;
  if (((ip[6] & 0x3f) | ip[7]) != 0) return 0;  /* MF or a fragment offset: the kernel's */
  uint32_t dst;
  uint16_t dport;
  memcpy(&dst, ip + 16, 4);
  memcpy(&dport, ip + ihl + 2, 2);
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    if (s->filters[i].used && s->filters[i].addr_be == dst && s->filters[i].port_be == dport) {
      *multicast = (ntohl(dst) >> 28) == 0xe;
      return 1;
    }
  }
  return 0;
}

static uint32_t sum16(const unsigned char* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += ((uint32_t) p[i] << 8) | p[i + 1];
  if (len & 1) sum += (uint32_t) p[len - 1] << 8;
  return sum;
}

static int folds_to_ones(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

/* The NIC's checksum check of a frame that matched a filter (so an untagged, sound, unfragmented
 * IPv4/UDP header, see matches): 1 if the IPv4 header sum is wrong, or the UDP sum is non-zero and
 * wrong. A UDP sum over lengths that do not fit (UDP length beyond the IPv4 payload, total length
 * beyond the frame) is not checked: what a NIC's parser makes of those is not verified, and the
 * receiver's length checks drop such frames before any sum matters. */
static int nic_csum_bad(const unsigned char* f, size_t len) {
  const unsigned char* ip = f + 14;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  if (!folds_to_ones(sum16(ip, ihl, 0))) return 1;
  size_t total = ((size_t) ip[2] << 8) | ip[3];
  if (total < ihl + 8 || 14 + total > len) return 0;
  const unsigned char* udp = ip + ihl;
  size_t ulen = ((size_t) udp[4] << 8) | udp[5];
  if (ulen < 8 || ulen > total - ihl || (udp[6] == 0 && udp[7] == 0)) return 0;  /* 0: no checksum (RFC 768) */
  uint32_t sum = sum16(ip + 12, 8, 17 + (uint32_t) ulen);  /* pseudo-header: addresses, protocol, UDP length */
  return !folds_to_ones(sum16(udp, ulen, sum));
}

static void make_event_rx(ef_event* e, int discard, ef_request_id id, unsigned len, unsigned flags, unsigned subtype) {
  memset(e, 0, sizeof(*e));
  e->rx.type = discard ? EF_EVENT_TYPE_RX_DISCARD : EF_EVENT_TYPE_RX;
  e->rx.rq_id = (unsigned) id;
  e->rx.len = len > 0xffff ? 0xffff : len;
  e->rx.flags = flags;
  if (discard) e->rx_discard.subtype = subtype;
}

/* One received frame (index i of the last recvmmsg) as the NIC sees it: 0 if it is not for this VI
 * or no descriptor was posted (dropped), else 1 with its RX or RX_DISCARD event in *ev. */
static int rx_frame(ef_vi* vi, struct standin_vi* s, int i, ef_event* ev) {
  size_t real_len = s->msgs[i].msg_len;  /* with MSG_TRUNC: the frame's real length */
  unsigned char pkttype = s->from[i].sll_pkttype;
  if (pkttype == PACKET_OUTGOING || pkttype == PACKET_OTHERHOST) {
    __atomic_add_fetch(&stats[1], 1, __ATOMIC_RELAXED);   /* a NIC would not see these: sent by this host, or for another MAC */
    return 0;
  }
  size_t have = real_len < STANDIN_BUF_LEN ? real_len : STANDIN_BUF_LEN;
  struct timespec ts = { 0, 0 };
  int partial = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&s->msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&s->msgs[i].msg_hdr, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) memcpy(&ts, CMSG_DATA(c), sizeof(ts));
    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      struct tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof(aux));
      partial = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
      /* The kernel took the 802.1Q tag off into the auxdata; a NIC sees it on the wire: put it back. */
      if ((aux.tp_status & TP_STATUS_VLAN_VALID) && have >= 12 && have + 4 <= STANDIN_BUF_LEN) {
        unsigned char* f = (unsigned char*) s->scratch[i];
        uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
        memmove(f + 16, f + 12, have - 12);
        f[12] = (unsigned char) (tpid >> 8);
        f[13] = (unsigned char) tpid;
        f[14] = (unsigned char) (aux.tp_vlan_tci >> 8);
        f[15] = (unsigned char) aux.tp_vlan_tci;
        have += 4;
        real_len += 4;
      }
    }
  }
  int mcast = 0;
  if (!matches(s, (unsigned char*) s->scratch[i], have, &mcast)) {
    __atomic_add_fetch(&stats[0], 1, __ATOMIC_RELAXED);   /* no filter: the NIC would give it to the kernel, not this VI */
    return 0;
  }
  if (s->rx_pushed == s->rx_removed) {
    __atomic_add_fetch(&nodesc_drops, 1, __ATOMIC_RELAXED);  /* no descriptor posted: the NIC drops it */
    return 0;
  }
  struct rx_desc d = s->rxd[s->rx_removed & s->rx_mask];
  s->rx_removed++;
  char* buf = translate(d.addr, STANDIN_BUF_LEN);
  if (buf == NULL) {
    make_event_rx(ev, 1, d.id, 0, EF_EVENT_FLAG_SOP, EF_EVENT_RX_DISCARD_RIGHTS);
    return 1;
  }
  if (real_len > (size_t) vi->rx_buffer_len - STANDIN_PREFIX_LEN) {
    __atomic_add_fetch(&stats[2], 1, __ATOMIC_RELAXED);
    make_event_rx(ev, 1, d.id, (unsigned) (STANDIN_PREFIX_LEN + real_len), EF_EVENT_FLAG_SOP,
                  EF_EVENT_RX_DISCARD_TRUNC);
    return 1;
  }
  if (ts.tv_sec == 0) clock_gettime(CLOCK_REALTIME, &ts);
  uint32_t magic = STANDIN_TS_MAGIC, nsec = (uint32_t) ts.tv_nsec;
  int64_t sec = ts.tv_sec;
  memcpy(buf, &magic, 4);
  memcpy(buf + 4, &nsec, 4);
  memcpy(buf + 8, &sec, 8);
  memcpy(buf + STANDIN_PREFIX_LEN, s->scratch[i], real_len);
  /* As ef10_event.c: a discard keeps the RX event's length and flags, only its type and subtype change. */
  int csum_bad = take_csum_bad_next() || (!partial && nic_csum_bad((unsigned char*) s->scratch[i], real_len));
  if (csum_bad) __atomic_add_fetch(&csum_discards, 1, __ATOMIC_RELAXED);
  make_event_rx(ev, csum_bad, d.id, (unsigned) (STANDIN_PREFIX_LEN + real_len),
                EF_EVENT_FLAG_SOP | (mcast ? EF_EVENT_FLAG_MULTICAST : 0), EF_EVENT_RX_DISCARD_CSUM_BAD);
  return 1;
}

static int sv_eventq_poll(ef_vi* vi, ef_event* evs, int evs_len) {
  struct standin_vi* s = S(vi);
  int n = 0;
  /* TX completions first, at most EF_VI_TRANSMIT_BATCH per event, in ring order */
  while (n < evs_len && s->tx_reported != s->tx_done) {
    unsigned k = s->tx_done - s->tx_reported, err = 0;
    if (k > EF_VI_TRANSMIT_BATCH) k = EF_VI_TRANSMIT_BATCH;
    for (unsigned j = 0; j < k; j++) {
      struct tx_desc* d = &s->txd[(s->tx_reported + j) & s->tx_mask];
      if (d->error) { err = (unsigned) d->error; d->error = 0; }
    }
    s->tx_reported += k;
    memset(&evs[n], 0, sizeof(evs[n]));
    evs[n].tx.type = err ? EF_EVENT_TYPE_TX_ERROR : EF_EVENT_TYPE_TX;
    evs[n].tx.desc_id = s->tx_reported & 0xffff;
    if (err) evs[n].tx_error.subtype = err - 1;
    n++;
  }
  /* RX events completed at an earlier poll first, in order */
  while (n < evs_len && s->ready_head != s->ready_tail) {
    evs[n++] = s->ready[s->ready_head++ & s->rx_mask];
  }
  /* Then every frame that arrived since: one recvmmsg when that is all, more after a stall. Each
   * matching frame takes the next posted descriptor, or is dropped as a NIC drops it. */
  int got;
  do {
    for (int i = 0; i < STANDIN_BATCH; i++) {
      s->iovs[i] = (struct iovec) { s->scratch[i], STANDIN_BUF_LEN };
      memset(&s->msgs[i], 0, sizeof(s->msgs[i]));
      s->msgs[i].msg_hdr.msg_iov = &s->iovs[i];
      s->msgs[i].msg_hdr.msg_iovlen = 1;
      s->msgs[i].msg_hdr.msg_name = &s->from[i];
      s->msgs[i].msg_hdr.msg_namelen = sizeof(s->from[i]);
      s->msgs[i].msg_hdr.msg_control = s->cmsg[i];
      s->msgs[i].msg_hdr.msg_controllen = sizeof(s->cmsg[i]);
    }
    got = recvmmsg(s->fd, s->msgs, STANDIN_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
    for (int i = 0; i < got; i++) {
      ef_event ev;
      if (!rx_frame(vi, s, i, &ev)) continue;
      if (n < evs_len && s->ready_head == s->ready_tail) {
        evs[n++] = ev;
      } else {
        s->ready[s->ready_tail++ & s->rx_mask] = ev;
      }
    }
  } while (got == STANDIN_BATCH);
  return n;
}

int ef_vi_receive_get_timestamp_with_sync_flags(ef_vi* vi, const void* pkt, struct timespec* ts_out,
                                                unsigned* flags_out) {
  uint32_t magic, nsec;
  int64_t sec;
  memcpy(&magic, pkt, 4);
  if (!(vi->vi_flags & EF_VI_RX_TIMESTAMPS) || magic != STANDIN_TS_MAGIC) {
    ts_out->tv_sec = 0;
    ts_out->tv_nsec = 0;
    return -ENODATA;
  }
  memcpy(&nsec, (const char*) pkt + 4, 4);
  memcpy(&sec, (const char*) pkt + 8, 8);
  ts_out->tv_sec = sec;
  ts_out->tv_nsec = nsec;
  *flags_out = 0;  /* software time: no adapter clock was set or synchronised */
  return 0;
}

static int sv_receive_get_timestamp(ef_vi* vi, const void* pkt, ef_precisetime* ts_out) {
  struct timespec ts;
  unsigned flags = 0;
  int rc = ef_vi_receive_get_timestamp_with_sync_flags(vi, pkt, &ts, &flags);
  memset(ts_out, 0, sizeof(*ts_out));
  if (rc == 0) {
    ts_out->tv_sec = ts.tv_sec;
    ts_out->tv_nsec = (uint32_t) ts.tv_nsec;
    ts_out->tv_flags = (uint16_t) flags;
  }
  return rc;
}

int ef_vi_alloc_from_pd(ef_vi* vi, ef_driver_handle vi_dh, struct ef_pd* pd, ef_driver_handle pd_dh,
                        int evq_capacity, int rxq_capacity, int txq_capacity, ef_vi* evq_opt,
                        ef_driver_handle evq_dh, enum ef_vi_flags flags) {
  (void) pd_dh; (void) evq_capacity; (void) evq_dh;
  int inj = injected("ef_vi_alloc_from_pd");
  if (inj) return inj;
  if (evq_opt != NULL || rxq_capacity == 0 || txq_capacity == 0) return -EOPNOTSUPP;
  struct standin_vi* s = calloc(1, sizeof(*s));
  if (s == NULL) return -ENOMEM;
  unsigned rxs = ring_size(rxq_capacity), txs = ring_size(txq_capacity);
  s->rxd = calloc(rxs, sizeof(*s->rxd));
  s->ready = calloc(rxs, sizeof(*s->ready));
  s->txd = calloc(txs, sizeof(*s->txd));
  s->rx_mask = rxs - 1;
  s->tx_mask = txs - 1;
  /* protocol 0 until bound, so nothing from another interface is queued in between */
  s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = 0;
  if (s->rxd == NULL || s->ready == NULL || s->txd == NULL) {
    rc = -ENOMEM;
  } else if (s->fd < 0) {
    rc = -errno;
  } else {
    /* 32 MiB: the frames of a long stall wait here until the next poll decides, in arrival order,
     * which the ring would have taken; about 80,000 small frames, past any test's burst */
    int one = 1, rcvbuf = 32 << 20;
    (void) setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    (void) setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    (void) setsockopt(s->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
    (void) setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int) pd->pd_resource_id;
    if (bind(s->fd, (struct sockaddr*) &sll, sizeof(sll)) < 0) rc = -errno;
  }
  if (rc < 0) {
    if (s->fd >= 0) close(s->fd);
    free(s->rxd);
    free(s->ready);
    free(s->txd);
    free(s);
    return rc;
  }
  memset(vi, 0, sizeof(*vi));
  vi->inited = 1;
  vi->dh = vi_dh;
  vi->rx_buffer_len = STANDIN_BUF_LEN;
  vi->rx_prefix_len = STANDIN_PREFIX_LEN;
  vi->vi_rxq.mask = s->rx_mask;
  vi->vi_txq.mask = s->tx_mask;
  vi->vi_flags = flags;
  vi->standin = s;
  vi->ops.transmit = sv_transmit;
  vi->ops.transmitv = sv_transmitv;
  vi->ops.transmitv_init = sv_transmitv_init;
  vi->ops.transmit_push = sv_transmit_push;
  vi->ops.receive_init = sv_receive_init;
  vi->ops.receive_push = sv_receive_push;
  vi->ops.eventq_poll = sv_eventq_poll;
  vi->ops.receive_get_timestamp = sv_receive_get_timestamp;
  live(1);
  return 0;
}

int ef_vi_free(ef_vi* vi, ef_driver_handle nic) {
  (void) nic;
  struct standin_vi* s = S(vi);
  if (s == NULL) return -EINVAL;
  close(s->fd);
  free(s->rxd);
  free(s->ready);
  free(s->txd);
  free(s);
  memset(vi, 0, sizeof(*vi));
  live(-1);
  return 0;
}

/* ---- filters ---- */

void ef_filter_spec_init(ef_filter_spec* fs, enum ef_filter_flags flags) {
  memset(fs, 0, sizeof(*fs));
  fs->flags = flags;
}

int ef_filter_spec_set_ip4_local(ef_filter_spec* fs, int protocol, unsigned host_be32, int port_be16) {
  if (fs->type != 0) return -EPROTONOSUPPORT;
  fs->type = FILTER_IP4_LOCAL;
  fs->data[0] = (unsigned) protocol;
  fs->data[1] = host_be32;
  fs->data[2] = (unsigned) port_be16 & 0xffff;
  return 0;
}

int ef_filter_spec_set_vlan(ef_filter_spec* fs, int vlan_id) {
  (void) fs; (void) vlan_id;
  return -EOPNOTSUPP;  /* the stand-in matches untagged frames only */
}

int ef_vi_filter_add(ef_vi* vi, ef_driver_handle dh, const ef_filter_spec* fs, ef_filter_cookie* cookie_out) {
  (void) dh;
  struct standin_vi* s = S(vi);
  int inj = injected("ef_vi_filter_add");
  if (inj) return inj;
  if (fs->type != FILTER_IP4_LOCAL || fs->data[0] != 17) return -EPROTONOSUPPORT;
  int free_slot = -1;
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    if (s->filters[i].used) {
      if (s->filters[i].addr_be == fs->data[1] && s->filters[i].port_be == (uint16_t) fs->data[2]) return -EEXIST;
    } else if (free_slot < 0) {
      free_slot = i;
    }
  }
  if (free_slot < 0) return -ENOSPC;
  s->filters[free_slot] = (struct filter) { 1, ++s->next_filter_id, fs->data[1], (uint16_t) fs->data[2] };
  if (cookie_out != NULL) {
    cookie_out->filter_id = s->next_filter_id;
    cookie_out->filter_type = FILTER_IP4_LOCAL;
  }
  return 0;
}

int ef_vi_filter_del(ef_vi* vi, ef_driver_handle dh, ef_filter_cookie* cookie) {
  (void) dh;
  int inj = injected("ef_vi_filter_del");
  if (inj) return inj;
  struct standin_vi* s = S(vi);
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    if (s->filters[i].used && s->filters[i].id == cookie->filter_id) {
      s->filters[i].used = 0;
      return 0;
    }
  }
  return -ENOENT;
}

/* Test hook: frames dropped because no RX descriptor was posted (a NIC's rx_nodesc_drop_cnt). */
uint64_t bypass_ciul_standin_nodesc_drops(void) { return __atomic_load_n(&nodesc_drops, __ATOMIC_RELAXED); }

/* Test hook: RX_DISCARD / CSUM_BAD events made (frames whose sums the NIC model found wrong, or forced). */
uint64_t bypass_ciul_standin_csum_discards(void) { return __atomic_load_n(&csum_discards, __ATOMIC_RELAXED); }

/* Test hook: frames without a filter, frames not for this host, RX truncations, TX errors. */
int bypass_ciul_standin_stats(uint64_t* out4) {
  for (int i = 0; i < 4; i++) out4[i] = __atomic_load_n(&stats[i], __ATOMIC_RELAXED);
  return 0;
}
