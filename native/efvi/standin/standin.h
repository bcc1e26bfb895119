/*
 * standin.h - what the files of the software libciul stand-in share (see bypass_ciul_standin.c for
 * what it models and what it does not): its limits, the VI's state, the process-wide counters and
 * test hooks, and the helpers one file gives another. Internal: nothing here is exported from the
 * library (STANDIN_INTERNAL), only the ef_* calls and the bypass_ciul_standin_* test hooks are.
 */
#ifndef BYPASS_CIUL_STANDIN_H
#define BYPASS_CIUL_STANDIN_H

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
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define STANDIN_INTERNAL __attribute__((visibility("hidden")))

#define STANDIN_PREFIX_LEN  16
#define STANDIN_BUF_LEN     2048
#define STANDIN_TS_MAGIC    0x53545342u  /* 'BSTS' */
#define STANDIN_IOVA_TAG    0x5b00000000000000ull
#define STANDIN_MAX_REGIONS 256
#define STANDIN_MAX_FILTERS 256
#define STANDIN_MAX_VIS     1024
#define STANDIN_BATCH       64
/* The packet ring: 2112-byte slots hold the 66-byte TPACKET_V2 header and address, then 2046 bytes of
 * frame (more than the 2032 a buffer takes after its prefix); 62 slots a 128 KiB block. 49,600 slots
 * (about 100 MiB) keep a burst past the conformance suite's 40,000 in arrival order for the next poll. */
#define STANDIN_RING_FRAME  2112
#define STANDIN_RING_BLOCK  (128 * 1024)
#define STANDIN_RING_PER_BLOCK (STANDIN_RING_BLOCK / STANDIN_RING_FRAME)
#define STANDIN_RING_BLOCKS 800
#define STANDIN_RING_FRAMES (STANDIN_RING_PER_BLOCK * STANDIN_RING_BLOCKS)
#define FILTER_IP4_LOCAL    1
#define FILTER_IP4_FULL     2

struct rx_desc { ef_addr addr; ef_request_id id; };
struct tx_desc { ef_addr addr; int len; ef_request_id id; int error; };
/* A filter: protocol (17 UDP, 6 TCP), local address and port; a full (connection) filter also the remote end. */
struct filter { int used; int id; int type; int proto; uint32_t addr_be; uint16_t port_be; uint32_t raddr_be; uint16_t rport_be; };

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
  /* standin_steal.c: the nftables table keeping this VI's TCP flows from the kernel */
  int ns_fd;                /* the network namespace the VI was allocated in */
  char steal_if[IF_NAMESIZE];
  char steal_table[64];
  int steal_made;           /* the table exists */
  int steal_rules;          /* TCP filters in it */
  /* The packet socket's RX ring (PACKET_RX_RING, TPACKET_V2): the kernel copies each frame into it as
   * it arrives, as a NIC's DMA would, so a poll reads memory rather than calling into the socket. */
  char* ring;
  size_t ring_len;
  unsigned ring_next;       /* the next frame slot to look at, 0..STANDIN_RING_FRAMES-1 */
  unsigned char vlan_frame[STANDIN_BUF_LEN];  /* a tagged frame with its 802.1Q tag put back */
};

static inline struct standin_vi* S(ef_vi* vi) { return (struct standin_vi*) vi->standin; }

/* Process-wide counters (bypass_ciul_standin.c): frames no filter matched (left to the kernel),
 * frames a NIC would not see (sent by this host or for another MAC), RX truncations, TX errors;
 * frames dropped for want of a posted RX descriptor; RX_DISCARD / CSUM_BAD events made. */
extern uint64_t standin_stats[4] STANDIN_INTERNAL;
extern uint64_t standin_nodesc_drops STANDIN_INTERNAL;
extern uint64_t standin_csum_discards STANDIN_INTERNAL;

/* bypass_ciul_standin.c: fault injection (a negative errno, or 0), the live-object count, the forced
 * CSUM_BAD verdicts, and registered memory's IO virtual addresses translated back. */
STANDIN_INTERNAL int standin_injected(const char* call);
STANDIN_INTERNAL void standin_live(int delta);
STANDIN_INTERNAL int standin_take_csum_bad_next(void);
STANDIN_INTERNAL char* standin_translate(ef_addr dma, size_t len);

/* standin_vi.c: collects the packet-ring drops of every live VI into the NIC's nodesc count. */
STANDIN_INTERNAL void standin_count_ring_drops_all(void);

/* standin_filters.c: the filter match, and the NIC's checksum check of a frame that matched. */
STANDIN_INTERNAL int standin_matches(struct standin_vi* s, const unsigned char* f, size_t len, int* multicast);
STANDIN_INTERNAL int standin_nic_csum_bad(const unsigned char* f, size_t len);

/* standin_steal.c: a TCP filter's flow kept from the kernel (an nftables netdev ingress drop), as a NIC's
 * filter delivers it to the VI only. init at VI allocation; fini deletes what is left (and closes the
 * namespace fd when close_ns). Each returns 0 or a negative errno. */
STANDIN_INTERNAL int standin_steal_init(struct standin_vi* s, const char* ifname);
STANDIN_INTERNAL int standin_steal_add(struct standin_vi* s, const struct filter* f);
STANDIN_INTERNAL int standin_steal_del(struct standin_vi* s, const struct filter* f);
STANDIN_INTERNAL int standin_steal_fini(struct standin_vi* s, int close_ns);

#endif
