/*
 * bypass_efvi_warmup.h - internal to the shim (bypass_efvi_shim.c): the warm-up VI of
 * bypass_efvi_warmup_init, in bypass_efvi_warmup.c, and the RX record both write. Nothing
 * here is exported from the library.
 */
#ifndef BYPASS_EFVI_WARMUP_H
#define BYPASS_EFVI_WARMUP_H

#include "bypass_efvi_shim.h"

#include <stdint.h>

#define BYPASS_EFVI_INTERNAL __attribute__((visibility("hidden")))

/* Writes one RX record of bypass_efvi_poll. */
static inline void bypass_efvi_put_rx(int32_t* r, int id, int len, int status, int flags, int csum) {
  r[BYPASS_EFVI_RX_ID] = id;
  r[BYPASS_EFVI_RX_LEN] = len < 0 ? 0 : len;
  r[BYPASS_EFVI_RX_STATUS] = status;
  r[BYPASS_EFVI_RX_FLAGS] = flags;
  r[BYPASS_EFVI_RX_CSUM] = csum;
}

struct bypass_efvi_warm;

/* A warm-up VI over the caller's memory (see bypass_efvi_warmup_init), or NULL if out of memory. */
BYPASS_EFVI_INTERNAL struct bypass_efvi_warm* bypass_efvi_warm_new(char* mem, int buf_size, int n_bufs, int prefix,
                                                                  const unsigned char* frame, int frame_len, int rx_ts);
BYPASS_EFVI_INTERNAL void bypass_efvi_warm_free(struct bypass_efvi_warm* w);
/* As bypass_efvi_refill, bypass_efvi_transmit_batch and bypass_efvi_poll, the NIC played here. */
BYPASS_EFVI_INTERNAL int bypass_efvi_warm_refill(struct bypass_efvi_warm* w, const int32_t* ids, int n);
BYPASS_EFVI_INTERNAL int bypass_efvi_warm_transmit(struct bypass_efvi_warm* w, const int32_t* ids, int n);
BYPASS_EFVI_INTERNAL int bypass_efvi_warm_poll(struct bypass_efvi_warm* w, int32_t* rx, int64_t* rx_ts, int evs_len,
                                              int32_t* tx_ids, int max_tx_ids, int32_t* counts);

#endif
