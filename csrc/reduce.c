/* Reduce family: deterministic norms (gradient clipping), in-place scale/clamp, bias broadcast. */
#include "common.h"

#define FNN_TEMPLATE "reduce.inc"
#include "instantiate.h"

int fnn_norm_pow(int dtype, const void *x, size_t n, double p, double *out, int nt) {
  return FNN_DISPATCH(dtype, norm_pow, (x, n, p, out, nt));
}
int fnn_scale_(int dtype, void *x, size_t n, double s, int nt) {
  return FNN_DISPATCH(dtype, scale_, (x, n, s, nt));
}
int fnn_clamp_(int dtype, void *x, size_t n, double lo, double hi, int nt) {
  return FNN_DISPATCH(dtype, clamp_, (x, n, lo, hi, nt));
}
