/*
 * bypass_efvi_warmup.c - the shim's warm-up VI (bypass_efvi_warmup_init in bypass_efvi_shim.h):
 * no NIC and no ef_vi call; it plays the NIC's part over the caller's memory, so the Java
 * backend's own poll, refill and transmit code is compiled before the market opens without a
 * frame on the wire.
 */
#include "bypass_efvi_warmup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bypass_efvi_warm {
  char* mem;            /* buffer i at mem + i * buf_size */
  int buf_size;
  int n_bufs;
  int prefix;
  int rx_ts;
  unsigned turn;
  unsigned delivered;
  int32_t* rx;          /* posted RX buffer ids, a ring of mask + 1 (a power of two >= n_bufs) */
  int32_t* tx;          /* transmitted buffer ids awaiting completion, the same size */
  unsigned mask, rx_head, rx_tail, tx_head, tx_tail;
  const unsigned char* frame;  /* the caller's copy, rewritten between turns */
  int frame_len;
};

struct bypass_efvi_warm* bypass_efvi_warm_new(char* mem, int buf_size, int n_bufs, int prefix,
                                             const unsigned char* frame, int frame_len, int rx_ts) {
  unsigned size = 1;
  while (size < (unsigned) n_bufs) size <<= 1;
  struct bypass_efvi_warm* w = calloc(1, sizeof(*w));
  if (w == NULL) return NULL;
  w->rx = calloc(size, sizeof(int32_t));
  w->tx = calloc(size, sizeof(int32_t));
  if (w->rx == NULL || w->tx == NULL) {
    bypass_efvi_warm_free(w);
    return NULL;
  }
  w->mem = mem;
  w->buf_size = buf_size;
  w->n_bufs = n_bufs;
  w->prefix = prefix;
  w->rx_ts = rx_ts;
  w->mask = size - 1;
  w->frame = frame;
  w->frame_len = frame_len;
  return w;
}

void bypass_efvi_warm_free(struct bypass_efvi_warm* w) {
  if (w != NULL) {
    free(w->rx);
    free(w->tx);
    free(w);
  }
}

int bypass_efvi_warm_refill(struct bypass_efvi_warm* w, const int32_t* ids, int n) {
  int i;
  for (i = 0; i < n && w->rx_tail - w->rx_head <= w->mask; i++) {
    if (ids[i] < 0 || ids[i] >= w->n_bufs) break;
    w->rx[w->rx_tail++ & w->mask] = ids[i];
  }
  return i;
}

int bypass_efvi_warm_transmit(struct bypass_efvi_warm* w, const int32_t* ids, int n) {
  int i;
  for (i = 0; i < n && w->tx_tail - w->tx_head <= w->mask; i++) {
    w->tx[w->tx_tail++ & w->mask] = ids[i];
  }
  return i;
}

int bypass_efvi_warm_poll(struct bypass_efvi_warm* w, int32_t* rx, int64_t* rx_ts, int evs_len,
                          int32_t* tx_ids, int max_tx_ids, int32_t* counts) {
  /* Turns in fours: nothing, one frame, nothing, as many as fit: the loops are compiled for empty
   * polls, single frames (a ping-pong) and bursts (a feed) alike. */
  const unsigned turn = w->turn++ & 3;
  if ((turn & 1) == 0) {
    return 0;
  }
  const int rx_limit = turn == 1 ? 1 : evs_len;
  int n = 0, nrx = 0, ntx = 0;
  while (ntx < max_tx_ids && w->tx_head != w->tx_tail) {
    tx_ids[ntx++] = w->tx[w->tx_head++ & w->mask];
  }
  n += (ntx + BYPASS_EFVI_TX_IDS_PER_EVENT - 1) / BYPASS_EFVI_TX_IDS_PER_EVENT;  /* TX events */
  const int flags = (w->frame[0] & 1) ? BYPASS_EFVI_RXF_MULTICAST : 0;
  while (n < evs_len && nrx < rx_limit && w->rx_head != w->rx_tail) {
    const int id = w->rx[w->rx_head++ & w->mask];
    memcpy(w->mem + (size_t) id * w->buf_size + w->prefix, w->frame, (size_t) w->frame_len);
    rx_ts[nrx] = INT64_MIN;
    int f = flags;
    if (w->rx_ts) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      rx_ts[nrx] = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
      f |= BYPASS_EFVI_RXF_TIMESTAMP | BYPASS_EFVI_RXF_TS_SYNCED;
    }
    /* every 64th as a NIC that flagged a bad checksum reports it, so that path is compiled too */
    bypass_efvi_put_rx(rx + nrx * BYPASS_EFVI_RX_RECORD, id, w->frame_len, BYPASS_EFVI_ST_OK, f,
                       (++w->delivered & 63) == 0 ? BYPASS_EFVI_CSUM_BAD : BYPASS_EFVI_CSUM_NONE);
    nrx++;
    n++;
  }
  counts[BYPASS_EFVI_C_RX] = nrx;
  counts[BYPASS_EFVI_C_TX_DONE] = ntx;
  return n;
}
