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
 *  - only frames matching a filter reach the VI: ip4_local UDP (destination address and port,
 *    unicast or multicast group), ip4_local TCP (a listener) or ip4_full TCP (a connection's
 *    4-tuple); the rest are counted and left to the kernel;
 *  - frames longer than a buffer give RX_DISCARD / TRUNC (the stand-in never scatters);
 *  - checksums, as an EF10 NIC with ef_vi's default discard mask (ef10_vi.c: TCPUDP_CKSUM_ERR
 *    and IPCKSUM_ERR discard): a frame for the VI whose IPv4 header sum, or whose UDP sum (not
 *    0, over a UDP length that fits the IPv4 total length and the frame), is wrong is written to
 *    its buffer and reported as RX_DISCARD / CSUM_BAD, which does not say which sum; every other
 *    frame comes as a plain RX event, which says nothing of checksums: ef_vi has no "checked and
 *    right" verdict. A frame the sending kernel left CHECKSUM_PARTIAL (a kernel peer over the
 *    veth: only the pseudo-header sum, TP_STATUS_CSUMNOTREADY in the packet ring slot's status)
 *    never crosses a wire, where its sum would have been finished before any NIC saw it; the
 *    model does not check it and delivers it as it is, unflagged, so the receiver's software
 *    checksum policy handles it as on every backend that reads the veth (afxdp, dpdk);
 *  - a frame that arrives with no RX descriptor posted is dropped, as a NIC drops it, and
 *    counted where a NIC counts it: in a port statistic (ethtool's rx_nodesc_drop_cnt), not
 *    in an ef_vi event (bypass_ciul_standin_nodesc_drops reads it). The kernel copies each
 *    frame into the socket's packet ring (PACKET_RX_RING) as it arrives, in the sender's
 *    softirq, as a NIC's DMA costs the polling thread nothing; the ring is read lazily, at each
 *    poll, in arrival order: the frames that arrived since the last poll take the posted
 *    descriptors, the rest are those drops. So a stalled poller keeps what the RX ring holds,
 *    like on a NIC, not what the packet ring would hold (frames the packet ring itself had to
 *    drop came after more than any RX ring holds, and are counted as those drops too);
 *  - TX completes in ring order, reported as TX events that ef_vi_transmit_unbundle turns
 *    into the posted dma_ids; bad addresses or oversize frames give TX_ERROR;
 *  - a 16-byte RX prefix carries the timestamp: the KERNEL'S SOFTWARE receive time (the
 *    packet ring slot's), never a hardware one, and its sync flags say so (0).
 *  - a frame's 802.1Q tag, which the kernel moves into the packet ring slot's header, is put
 *    back where it was on the wire, so the VI sees tagged frames as a NIC does; an ip4_local
 *    filter matches untagged frames only.
 *  - a TCP filter's flow goes to the VI only, as a NIC delivers it: AF_PACKET sees a copy and the
 *    kernel would get its own (and answer it with RSTs), so while a TCP filter exists the stand-in
 *    drops its frames for the kernel at the interface's netdev ingress hook, after its packet socket
 *    has them (an nftables table per VI, standin_steal.c), deleted with the last TCP filter and at ef_vi_free.
 * What it does not: take UDP flows from the kernel (AF_PACKET sees a copy; the kernel still
 * gets its own), VLAN filters, scatter/gather, event merging, CTPIO/PIO, interrupts.
 * It is a TEST artifact and never ships in the bypass-efvi jar.
 *
 * Its jobs, one file each: this one, the test hooks and the resources (driver handles, protection
 * domains, memory registration); standin_vi.c, the VI (rings, TX, RX as a NIC sees it, events,
 * timestamps); standin_filters.c, the filters and the NIC's checksum model; standin_steal.c, a TCP filter's
 * flow kept from the kernel. standin.h is what they share.
 */
#include "standin.h"

int bypass_ciul_standin_abi(void) { return 1; }

/* ---- test hooks: fault injection and a count of live objects, so tests can prove that a
 * failed open frees everything it had allocated ---- */
static char fail_call[64];
static int fail_err;
static int fail_times;
static int live_objects;  /* driver handles + PDs + memory registrations + VIs */
/* Process-wide: frames no filter matched (left to the kernel), frames a NIC would not see
 * (sent by this host or for another MAC), RX truncations, TX errors. */
uint64_t standin_stats[4];
/* Process-wide: frames dropped because no RX descriptor was posted (a NIC's rx_nodesc_drop_cnt). */
uint64_t standin_nodesc_drops;
/* Test hook: the next this many frames for a VI are reported CSUM_BAD whatever their sums. */
static int csum_bad_next;
/* Process-wide: RX_DISCARD / CSUM_BAD events made. */
uint64_t standin_csum_discards;

/* The next `times` frames that reach a VI are reported RX_DISCARD / CSUM_BAD whatever their sums:
 * a NIC that is wrong, so tests can tell the NIC's verdict from the receiver's own sums. */
int bypass_ciul_standin_csum_bad_next(int times) {
  __atomic_store_n(&csum_bad_next, times, __ATOMIC_SEQ_CST);
  return 0;
}

int standin_take_csum_bad_next(void) {
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

int standin_injected(const char* call) {
  if (fail_times > 0 && strcmp(fail_call, call) == 0) {
    fail_times--;
    return fail_err;
  }
  return 0;
}

void standin_live(int delta) { __atomic_add_fetch(&live_objects, delta, __ATOMIC_SEQ_CST); }
const char* ef_vi_version_str(void) { return "bypass-ciul-standin 1 (software, AF_PACKET)"; }

/* ---- driver handle and protection domain ---- */

int ef_driver_open(ef_driver_handle* dh_out) {
  int inj = standin_injected("ef_driver_open");
  if (inj) return inj;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  *dh_out = fd;
  standin_live(1);
  return 0;
}

int ef_driver_close(ef_driver_handle dh) {
  standin_live(-1);
  return close(dh) == 0 ? 0 : -errno;
}

int ef_pd_alloc(ef_pd* pd, ef_driver_handle dh, int ifindex, enum ef_pd_flags flags) {
  (void) dh;
  int inj = standin_injected("ef_pd_alloc");
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
  standin_live(1);
  return 0;
}

int ef_pd_free(ef_pd* pd, ef_driver_handle dh) {
  (void) dh;
  if (pd->pd_intf_name == NULL) return -EINVAL;
  free(pd->pd_intf_name);
  pd->pd_intf_name = NULL;
  standin_live(-1);
  return 0;
}

/* ---- memory registration: IO virtual addresses, translated back per descriptor ---- */

static struct { char* base; size_t len; int used; } regions[STANDIN_MAX_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;

int ef_memreg_alloc(ef_memreg* mr, ef_driver_handle dh, struct ef_pd* pd, ef_driver_handle pd_dh,
                    void* p_mem, size_t len) {
  (void) dh; (void) pd; (void) pd_dh;
  int inj = standin_injected("ef_memreg_alloc");
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
  standin_live(1);
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
  standin_live(-1);
  return 0;
}

/* The buffer behind [dma, dma + len), or NULL if it is not registered memory. */
char* standin_translate(ef_addr dma, size_t len) {
  if ((dma & 0xff00000000000000ull) != STANDIN_IOVA_TAG) return NULL;
  int r = (int) ((dma >> 32) & 0xffff) - 1;
  size_t off = (size_t) (dma & 0xffffffffull);
  if (r < 0 || r >= STANDIN_MAX_REGIONS || !regions[r].used || off + len > regions[r].len) return NULL;
  return regions[r].base + off;
}

/* Test hook: frames dropped because no RX descriptor was posted (a NIC's rx_nodesc_drop_cnt). */
uint64_t bypass_ciul_standin_nodesc_drops(void) {
  standin_count_ring_drops_all();
  return __atomic_load_n(&standin_nodesc_drops, __ATOMIC_RELAXED);
}

/* Test hook: RX_DISCARD / CSUM_BAD events made (frames whose sums the NIC model found wrong, or forced). */
uint64_t bypass_ciul_standin_csum_discards(void) { return __atomic_load_n(&standin_csum_discards, __ATOMIC_RELAXED); }

/* Test hook: frames without a filter, frames not for this host, RX truncations, TX errors. */
int bypass_ciul_standin_stats(uint64_t* out4) {
  for (int i = 0; i < 4; i++) out4[i] = __atomic_load_n(&standin_stats[i], __ATOMIC_RELAXED);
  return 0;
}

