/* Activation family: element-wise activations and their gradients, PReLU, RReLU, dropout. */
#include "common.h"

#define FNN_UNARY_PARMIN(code, name, parmin) parmin,
static const size_t fnn_unary_parmin[FNN_N_UNARY] = {FNN_UNARY_OPS(FNN_UNARY_PARMIN)};
#undef FNN_UNARY_PARMIN
#define FNN_UNARY_NAME(code, name, parmin) #name,
static const char *const fnn_unary_names[FNN_N_UNARY] = {FNN_UNARY_OPS(FNN_UNARY_NAME)};
#undef FNN_UNARY_NAME

const char *fnn_unary_name(int op) { return op >= 0 && op < FNN_N_UNARY ? fnn_unary_names[op] : NULL; }

/* One range function per op and direction; a, b are the op's parameters. */
#define FNN_UNARY(name, EXPR)                                                                    \
  FNN_CLONES static void FN(name##_fwd)(const T *x, T *y, size_t lo, size_t hi, T a, T b) {      \
    (void)a; (void)b;                                                                            \
    for (size_t i = lo; i < hi; i++) { T v = x[i]; y[i] = (EXPR); }                               \
  }
#define FNN_GRAD(name, EXPR)                                                                     \
  FNN_CLONES static void FN(name##_bwd)(const T *g, const T *xy, T *dx, size_t lo, size_t hi, T a, \
                                        T b) {                                                   \
    (void)a; (void)b;                                                                            \
    for (size_t i = lo; i < hi; i++) { T v = xy[i], gv = g[i]; dx[i] = (EXPR); }                  \
  }

#define FNN_TEMPLATE "activation.inc"
#include "instantiate.h"

int fnn_unary(int op, int dtype, const void *x, void *y, size_t n, double a, double b, int nt) {
  if (op < 0 || op >= FNN_N_UNARY) return FNN_EVALUE;
  return FNN_DISPATCH(dtype, unary, (op, x, y, n, a, b, nt));
}
int fnn_unary_backward(int op, int dtype, const void *g, const void *xy, void *dx, size_t n,
                       double a, double b, int nt) {
  if (op < 0 || op >= FNN_N_UNARY) return FNN_EVALUE;
  return FNN_DISPATCH(dtype, unary_backward, (op, g, xy, dx, n, a, b, nt));
}
int fnn_prelu(int dtype, const void *x, const void *w, void *y, size_t N, size_t C, size_t S,
              size_t wc, int nt) {
  if (dtype == FNN_F32) prelu_apply_f32(NULL, x, w, y, N, C, S, wc, nt);
  else prelu_apply_f64(NULL, x, w, y, N, C, S, wc, nt);
  return FNN_OK;
}
int fnn_prelu_backward(int dtype, const void *g, const void *x, const void *w, void *dx, void *dw,
                       size_t N, size_t C, size_t S, size_t wc, int accumulate, int nt) {
  return FNN_DISPATCH(dtype, prelu_backward, (g, x, w, dx, dw, N, C, S, wc, accumulate, nt));
}
int fnn_rrelu(int dtype, const void *x, void *y, size_t n, double lower, double upper, int training,
              uint64_t seed, int nt) {
  return FNN_DISPATCH(dtype, rrelu, (NULL, x, y, n, lower, upper, training, seed, nt));
}
int fnn_rrelu_backward(int dtype, const void *g, const void *x, void *dx, size_t n, double lower,
                       double upper, int training, uint64_t seed, int nt) {
  return FNN_DISPATCH(dtype, rrelu, (g, x, dx, n, lower, upper, training, seed, nt));
}
int fnn_dropout(int dtype, const void *x, void *y, size_t n, double p, uint64_t seed, int nt) {
  return FNN_DISPATCH(dtype, dropout, (x, y, n, p, seed, nt));
}
