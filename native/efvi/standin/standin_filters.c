/*
 * standin_filters.c - the stand-in's filters (ef_filter_spec, ef_vi_filter_add / _del), the match
 * a NIC's filter table makes on a received frame, and the NIC's checksum check of a matched frame
 * (see bypass_ciul_standin.c for what the stand-in models).
 */
#include "standin.h"


/* The stand-in's model of a filter match: an untagged IPv4 UDP or TCP frame with a sound header
 * (version 4, IHL 5..15 within the frame), not a fragment, whose ports can be read, matching an
 * ip4_local filter (destination address and port) or, for TCP, an ip4_full one (the 4-tuple).
 * Fragments, first ones included, go to the kernel: Onload's user guide (UG1586, "IP
 * Fragmentation") says fragmented IP traffic is received via the kernel stack, not the VI.
 * What a real NIC's parser does with an unsound header or a port cut short is not verified. */
int standin_matches(struct standin_vi* s, const unsigned char* f, size_t len, int* multicast) {
  if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) return 0;
  const unsigned char* ip = f + 14;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  int proto = ip[9];
  if ((ip[0] >> 4) != 4 || ihl < 20 || (proto != 17 && proto != 6) || len < 14 + ihl + 4) return 0;
  if (((ip[6] & 0x3f) | ip[7]) != 0) return 0;  /* MF or a fragment offset: the kernel's */
  uint32_t dst, src;
  uint16_t dport, sport;
  memcpy(&src, ip + 12, 4);
  memcpy(&dst, ip + 16, 4);
  memcpy(&sport, ip + ihl, 2);
  memcpy(&dport, ip + ihl + 2, 2);
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    const struct filter* x = &s->filters[i];
    if (x->used && x->proto == proto && x->addr_be == dst && x->port_be == dport
        && (x->type == FILTER_IP4_LOCAL || (x->raddr_be == src && x->rport_be == sport))) {
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
 * IPv4 UDP or TCP header, see matches): 1 if the IPv4 header sum is wrong, or the UDP sum is non-zero
 * and wrong, or the TCP sum is wrong. A sum over lengths that do not fit (UDP length beyond the IPv4
 * payload, total length beyond the frame) is not checked: what a NIC's parser makes of those is not
 * verified, and the receiver's length checks drop such frames before any sum matters. */
int standin_nic_csum_bad(const unsigned char* f, size_t len) {
  const unsigned char* ip = f + 14;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  if (!folds_to_ones(sum16(ip, ihl, 0))) return 1;
  size_t total = ((size_t) ip[2] << 8) | ip[3];
  if (ip[9] == 6) {
    if (total < ihl + 20 || 14 + total > len) return 0;
    size_t tlen = total - ihl;
    uint32_t sum = sum16(ip + 12, 8, 6 + (uint32_t) tlen);  /* pseudo-header: addresses, protocol, TCP length */
    return !folds_to_ones(sum16(ip + ihl, tlen, sum));
  }
  if (total < ihl + 8 || 14 + total > len) return 0;
  const unsigned char* udp = ip + ihl;
  size_t ulen = ((size_t) udp[4] << 8) | udp[5];
  if (ulen < 8 || ulen > total - ihl || (udp[6] == 0 && udp[7] == 0)) return 0;  /* 0: no checksum (RFC 768) */
  uint32_t sum = sum16(ip + 12, 8, 17 + (uint32_t) ulen);  /* pseudo-header: addresses, protocol, UDP length */
  return !folds_to_ones(sum16(udp, ulen, sum));
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

int ef_filter_spec_set_ip4_full(ef_filter_spec* fs, int protocol, unsigned host_be32, int port_be16,
                                unsigned rhost_be32, int rport_be16) {
  if (fs->type != 0) return -EPROTONOSUPPORT;
  fs->type = FILTER_IP4_FULL;
  fs->data[0] = (unsigned) protocol;
  fs->data[1] = host_be32;
  fs->data[2] = (unsigned) port_be16 & 0xffff;
  fs->data[3] = rhost_be32;
  fs->data[4] = (unsigned) rport_be16 & 0xffff;
  return 0;
}

int ef_filter_spec_set_vlan(ef_filter_spec* fs, int vlan_id) {
  (void) fs; (void) vlan_id;
  return -EOPNOTSUPP;  /* the stand-in matches untagged frames only */
}

/* UDP ip4_local, TCP ip4_local (a listener) and TCP ip4_full (a connection). A TCP filter's flow is
 * also kept from the kernel (standin_steal.c), as a NIC delivers it to the VI only. */
int ef_vi_filter_add(ef_vi* vi, ef_driver_handle dh, const ef_filter_spec* fs, ef_filter_cookie* cookie_out) {
  (void) dh;
  struct standin_vi* s = S(vi);
  int inj = standin_injected("ef_vi_filter_add");
  if (inj) return inj;
  int proto = (int) fs->data[0];
  if (!((fs->type == FILTER_IP4_LOCAL && (proto == 17 || proto == 6)) || (fs->type == FILTER_IP4_FULL && proto == 6))) {
    return -EPROTONOSUPPORT;
  }
  struct filter want = { 1, 0, (int) fs->type, proto, fs->data[1], (uint16_t) fs->data[2],
                         fs->type == FILTER_IP4_FULL ? fs->data[3] : 0, fs->type == FILTER_IP4_FULL ? (uint16_t) fs->data[4] : 0 };
  int free_slot = -1;
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    const struct filter* x = &s->filters[i];
    if (x->used) {
      if (x->type == want.type && x->proto == want.proto && x->addr_be == want.addr_be && x->port_be == want.port_be
          && x->raddr_be == want.raddr_be && x->rport_be == want.rport_be) {
        return -EEXIST;
      }
    } else if (free_slot < 0) {
      free_slot = i;
    }
  }
  if (free_slot < 0) return -ENOSPC;
  if (proto == 6) {
    int rc = standin_steal_add(s, &want);
    if (rc < 0) return rc;
  }
  want.id = ++s->next_filter_id;
  s->filters[free_slot] = want;
  if (cookie_out != NULL) {
    cookie_out->filter_id = want.id;
    cookie_out->filter_type = want.type;
  }
  return 0;
}

int ef_vi_filter_del(ef_vi* vi, ef_driver_handle dh, ef_filter_cookie* cookie) {
  (void) dh;
  int inj = standin_injected("ef_vi_filter_del");
  if (inj) return inj;
  struct standin_vi* s = S(vi);
  for (int i = 0; i < STANDIN_MAX_FILTERS; i++) {
    if (s->filters[i].used && s->filters[i].id == cookie->filter_id) {
      s->filters[i].used = 0;
      return s->filters[i].proto == 6 ? standin_steal_del(s, &s->filters[i]) : 0;
    }
  }
  return -ENOENT;
}
