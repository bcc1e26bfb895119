/*
 * standin_filters.c - the stand-in's filters (ef_filter_spec, ef_vi_filter_add / _del), the match
 * a NIC's filter table makes on a received frame, and the NIC's checksum check of a matched frame
 * (see bypass_ciul_standin.c for what the stand-in models).
 */
#include "standin.h"


/* The stand-in's model of an ip4_local filter match: an untagged IPv4 UDP frame with a sound
 * header (version 4, IHL 5..15 within the frame), not a fragment, whose destination port can
 * be read. Fragments, first ones included, go to the kernel: Onload's user guide (UG1586, "IP
 * Fragmentation") says fragmented IP traffic is received via the kernel stack, not the VI.
 * What a real NIC's parser does with an unsound header or a port cut short is not verified. */
int standin_matches(struct standin_vi* s, const unsigned char* f, size_t len, int* multicast) {
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
int standin_nic_csum_bad(const unsigned char* f, size_t len) {
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
  int inj = standin_injected("ef_vi_filter_add");
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
  int inj = standin_injected("ef_vi_filter_del");
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
