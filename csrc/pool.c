/* Pooling family: max and average pooling over windows (fixed, strided, padded, dilated, adaptive). */
#include "common.h"

#define FNN_TEMPLATE "pool.inc"
#include "instantiate.h"

int fnn_pool2d(int op, int dtype, const void *x, void *y, int32_t *idx, size_t P, size_t H, size_t W,
               size_t OH, size_t OW, const int64_t *hs, const int64_t *hn, long dh, const int64_t *ws,
               const int64_t *wn, long dw, const double *div, int nt) {
  return FNN_DISPATCH(dtype, pool2d, (op, x, y, idx, P, H, W, OH, OW, hs, hn, dh, ws, wn, dw, div, nt));
}
int fnn_pool2d_backward(int op, int dtype, const void *gy, void *gx, const int32_t *idx, size_t P, size_t H,
                        size_t W, size_t OH, size_t OW, const int64_t *hs, const int64_t *hn, long dh,
                        const int64_t *ws, const int64_t *wn, long dw, const double *div, int nt) {
  return FNN_DISPATCH(dtype, pool2d_backward, (op, gy, gx, idx, P, H, W, OH, OW, hs, hn, dh, ws, wn, dw, div, nt));
}
