/* Norm family: batch-norm statistics, forward, backward; per-channel sums (bias gradients). */
#include "common.h"

#define FNN_TEMPLATE "norm.inc"
#include "instantiate.h"

int fnn_bn_stats(int dtype, const void *x, size_t N, size_t C, size_t S, double *mean, double *var,
                 int nt) {
  return FNN_DISPATCH(dtype, bn_stats, (x, N, C, S, mean, var, nt));
}
int fnn_bn_forward(int dtype, const void *x, const void *gamma, const void *beta, void *rmean,
                   void *rvar, void *y, void *save_mean, void *save_invstd, size_t N, size_t C,
                   size_t S, int training, double momentum, double eps, int nt) {
  return FNN_DISPATCH(dtype, bn_forward, (x, gamma, beta, rmean, rvar, y, save_mean, save_invstd, N,
                                          C, S, training, momentum, eps, nt));
}
int fnn_bn_backward(int dtype, const void *g, const void *x, const void *gamma, const void *mean,
                    const void *invstd, void *dx, void *dgamma, void *dbeta, size_t N, size_t C,
                    size_t S, int training, int accumulate, int nt) {
  return FNN_DISPATCH(dtype, bn_backward, (g, x, gamma, mean, invstd, dx, dgamma, dbeta, N, C, S,
                                           training, accumulate, nt));
}
int fnn_channel_sum(int dtype, const void *x, void *out, size_t N, size_t C, size_t S,
                    int accumulate, int nt) {
  return FNN_DISPATCH(dtype, channel_sum, (x, out, N, C, S, accumulate, nt));
}
