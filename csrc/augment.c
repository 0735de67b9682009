/* Augment family: per-sample affine resampling (flips, transposes, shifts, crops, rotations, zooms)
 * and colour jitter over (N, C, H, W) batches, OpenMP over the batch. The random per-sample
 * parameters come from the caller (drawn from a seeded generator), so results do not depend on the
 * thread count. */
#include "common.h"

static inline double fnn_clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

#define FNN_TEMPLATE "augment.inc"
#include "instantiate.h"

int fnn_affine_sample(int dtype, const void *x, void *y, size_t N, size_t C, size_t H, size_t W,
                      size_t OH, size_t OW, const double *A, int nearest, int edge, double fill, int nt) {
  return FNN_DISPATCH(dtype, affine, (x, y, N, C, H, W, OH, OW, A, nearest, edge, fill, nt));
}
int fnn_color_jitter(int dtype, const void *x, void *y, size_t N, size_t C, size_t HW,
                     const double *factors, const int *order, int nt) {
  return FNN_DISPATCH(dtype, jitter, (x, y, N, C, HW, factors, order, nt));
}
