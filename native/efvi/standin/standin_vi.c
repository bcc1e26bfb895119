/*
 * standin_vi.c - the stand-in's VI (see bypass_ciul_standin.c for what the stand-in models): its
 * RX and TX rings over one AF_PACKET socket bound to the interface, TX completions in ring order,
 * each received frame as a NIC sees it (filters, posted descriptors, truncation, the checksum
 * model, the timestamp prefix), the event queue, and the VI's allocation and release.
 */
#include "standin.h"

static unsigned ring_size(int requested) {
  unsigned want = requested < 0 ? 512u : (unsigned) requested, size = 64;
  while (size < want && size < 32768) size <<= 1;
  return size;
}


static int sv_receive_init(ef_vi* vi, ef_addr addr, ef_request_id id) {
  struct standin_vi* s = S(vi);
  if (s->rx_added - s->rx_removed >= s->rx_mask) return -EAGAIN;
  if (standin_translate(addr, STANDIN_BUF_LEN) == NULL) return -EINVAL;
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
      char* p = standin_translate(d->addr, (size_t) d->len);
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
      __atomic_add_fetch(&standin_stats[3], 1, __ATOMIC_RELAXED);
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
static void make_event_rx(ef_event* e, int discard, ef_request_id id, unsigned len, unsigned flags, unsigned subtype) {
  memset(e, 0, sizeof(*e));
  e->rx.type = discard ? EF_EVENT_TYPE_RX_DISCARD : EF_EVENT_TYPE_RX;
  e->rx.rq_id = (unsigned) id;
  e->rx.len = len > 0xffff ? 0xffff : len;
  e->rx.flags = flags;
  if (discard) e->rx_discard.subtype = subtype;
}

/* The packet ring's slot i, as TPACKET_V2 lays it out: whole slots in each block, blocks back to back. */
static struct tpacket2_hdr* ring_slot(struct standin_vi* s, unsigned i) {
  return (struct tpacket2_hdr*) (s->ring + (size_t) (i / STANDIN_RING_PER_BLOCK) * STANDIN_RING_BLOCK
                                 + (size_t) (i % STANDIN_RING_PER_BLOCK) * STANDIN_RING_FRAME);
}

/* The kernel found the packet ring full and dropped frames. So many frames were waiting that a NIC's ring of
 * at most 4096 descriptors would have dropped these too (or, for frames no filter matched, left them to the
 * kernel, which still gets its own copy): they are counted where a NIC counts its drops. PACKET_STATISTICS
 * reads and resets the socket's drop count, so two threads calling this count each drop once. */
static void count_ring_drops(struct standin_vi* s) {
  struct tpacket_stats st;
  socklen_t len = sizeof(st);
  if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops > 0) {
    __atomic_add_fetch(&standin_nodesc_drops, st.tp_drops, __ATOMIC_RELAXED);
  }
}

/* Every live VI, so the NIC-statistics hook can collect ring drops that no later frame flagged: the kernel
 * marks a drop (TP_STATUS_LOSING) on the next frame it writes, and after a burst there may be none. */
static pthread_mutex_t vis_lock = PTHREAD_MUTEX_INITIALIZER;
static struct standin_vi* vis[STANDIN_MAX_VIS];

static void vis_add(struct standin_vi* s) {
  pthread_mutex_lock(&vis_lock);
  for (int i = 0; i < STANDIN_MAX_VIS; i++) {
    if (vis[i] == NULL) { vis[i] = s; break; }
  }
  pthread_mutex_unlock(&vis_lock);
}

static void vis_remove(struct standin_vi* s) {
  pthread_mutex_lock(&vis_lock);
  for (int i = 0; i < STANDIN_MAX_VIS; i++) {
    if (vis[i] == s) vis[i] = NULL;
  }
  pthread_mutex_unlock(&vis_lock);
}

void standin_count_ring_drops_all(void) {
  pthread_mutex_lock(&vis_lock);
  for (int i = 0; i < STANDIN_MAX_VIS; i++) {
    if (vis[i] != NULL) count_ring_drops(vis[i]);
  }
  pthread_mutex_unlock(&vis_lock);
}

/* One received frame (a slot of the packet ring) as the NIC sees it: 0 if it is not for this VI
 * or no descriptor was posted (dropped), else 1 with its RX or RX_DISCARD event in *ev. */
static int rx_frame(ef_vi* vi, struct standin_vi* s, const struct tpacket2_hdr* h, ef_event* ev) {
  const struct sockaddr_ll* from = (const struct sockaddr_ll*) ((const char*) h + TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
  size_t real_len = h->tp_len;  /* the frame's real length; tp_snaplen is what the slot holds */
  unsigned char pkttype = from->sll_pkttype;
  if (pkttype == PACKET_OUTGOING || pkttype == PACKET_OTHERHOST) {
    __atomic_add_fetch(&standin_stats[1], 1, __ATOMIC_RELAXED);   /* a NIC would not see these: sent by this host, or for another MAC */
    return 0;
  }
  const unsigned char* f = (const unsigned char*) h + h->tp_mac;
  size_t have = h->tp_snaplen < STANDIN_BUF_LEN ? h->tp_snaplen : STANDIN_BUF_LEN;
  struct timespec ts = { (time_t) h->tp_sec, (long) h->tp_nsec };
  int partial = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
  /* The kernel took the 802.1Q tag off into the slot's header; a NIC sees it on the wire: put it back. */
  if ((h->tp_status & TP_STATUS_VLAN_VALID) && have >= 12 && have + 4 <= STANDIN_BUF_LEN) {
    unsigned char* t = s->vlan_frame;
    uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : ETH_P_8021Q;
    memcpy(t, f, 12);
    t[12] = (unsigned char) (tpid >> 8);
    t[13] = (unsigned char) tpid;
    t[14] = (unsigned char) (h->tp_vlan_tci >> 8);
    t[15] = (unsigned char) h->tp_vlan_tci;
    memcpy(t + 16, f + 12, have - 12);
    f = t;
    have += 4;
    real_len += 4;
  }
  int mcast = 0;
  if (!standin_matches(s, f, have, &mcast)) {
    __atomic_add_fetch(&standin_stats[0], 1, __ATOMIC_RELAXED);   /* no filter: the NIC would give it to the kernel, not this VI */
    return 0;
  }
  if (s->rx_pushed == s->rx_removed) {
    __atomic_add_fetch(&standin_nodesc_drops, 1, __ATOMIC_RELAXED);  /* no descriptor posted: the NIC drops it */
    return 0;
  }
  struct rx_desc d = s->rxd[s->rx_removed & s->rx_mask];
  s->rx_removed++;
  char* buf = standin_translate(d.addr, STANDIN_BUF_LEN);
  if (buf == NULL) {
    make_event_rx(ev, 1, d.id, 0, EF_EVENT_FLAG_SOP, EF_EVENT_RX_DISCARD_RIGHTS);
    return 1;
  }
  /* longer than a buffer, or than the packet ring's slot kept of it */
  if (real_len > (size_t) vi->rx_buffer_len - STANDIN_PREFIX_LEN || real_len > have) {
    __atomic_add_fetch(&standin_stats[2], 1, __ATOMIC_RELAXED);
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
  memcpy(buf + STANDIN_PREFIX_LEN, f, real_len);
  /* As ef10_event.c: a discard keeps the RX event's length and flags, only its type and subtype change. */
  int csum_bad = standin_take_csum_bad_next() || (!partial && standin_nic_csum_bad(f, real_len));
  if (csum_bad) __atomic_add_fetch(&standin_csum_discards, 1, __ATOMIC_RELAXED);
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
  /* Then every frame that arrived since, in arrival order, as the kernel left them in the packet ring.
   * Each matching frame takes the next posted descriptor, or is dropped as a NIC drops it. */
  for (unsigned k = 0; k < STANDIN_RING_FRAMES; k++) {
    struct tpacket2_hdr* h = ring_slot(s, s->ring_next);
    uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (!(status & TP_STATUS_USER)) break;
    if (status & TP_STATUS_LOSING) count_ring_drops(s);
    ef_event ev;
    if (rx_frame(vi, s, h, &ev)) {
      if (n < evs_len && s->ready_head == s->ready_tail) {
        evs[n++] = ev;
      } else {
        s->ready[s->ready_tail++ & s->rx_mask] = ev;
      }
    }
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    s->ring_next = s->ring_next + 1 == STANDIN_RING_FRAMES ? 0 : s->ring_next + 1;
  }
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
  int inj = standin_injected("ef_vi_alloc_from_pd");
  if (inj) return inj;
  if (evq_opt != NULL || rxq_capacity == 0 || txq_capacity == 0) return -EOPNOTSUPP;
  struct standin_vi* s = calloc(1, sizeof(*s));
  if (s == NULL) return -ENOMEM;
  s->ns_fd = -1;
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
    /* The packet ring holds the frames of a long stall until the next poll decides, in arrival order,
     * which the VI's RX ring would have taken (standin.h: about 49,600 frames). */
    int one = 1, version = TPACKET_V2;
    struct tpacket_req req = { STANDIN_RING_BLOCK, STANDIN_RING_BLOCKS, STANDIN_RING_FRAME, STANDIN_RING_FRAMES };
    (void) setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0
        || setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
      rc = -errno;
    } else {
      s->ring_len = (size_t) STANDIN_RING_BLOCK * STANDIN_RING_BLOCKS;
      s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
      if (s->ring == MAP_FAILED) {
        rc = -errno;
        s->ring = NULL;
      }
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int) pd->pd_resource_id;
    if (rc == 0 && bind(s->fd, (struct sockaddr*) &sll, sizeof(sll)) < 0) rc = -errno;
    if (rc == 0) rc = standin_steal_init(s, pd->pd_intf_name);
  }
  if (rc < 0) {
    if (s->ring != NULL) munmap(s->ring, s->ring_len);
    if (s->fd >= 0) close(s->fd);
    if (s->ns_fd >= 0) close(s->ns_fd);
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
  vis_add(s);
  standin_live(1);
  return 0;
}

int ef_vi_free(ef_vi* vi, ef_driver_handle nic) {
  (void) nic;
  struct standin_vi* s = S(vi);
  if (s == NULL) return -EINVAL;
  (void) standin_steal_fini(s, 1);  /* TCP flows left to the kernel again (a failure is on stderr) */
  vis_remove(s);
  count_ring_drops(s);
  munmap(s->ring, s->ring_len);
  close(s->fd);
  free(s->rxd);
  free(s->ready);
  free(s->txd);
  free(s);
  memset(vi, 0, sizeof(*vi));
  standin_live(-1);
  return 0;
}
