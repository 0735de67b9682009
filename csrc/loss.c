/* Loss family: softmax, log-softmax, cross-entropy, element-wise losses (each fused with its gradient). */
#include "common.h"

#define FNN_TEMPLATE "loss.inc"
#include "instantiate.h"

int fnn_softmax(int dtype, const void *x, void *y, size_t N, size_t C, int log_, int nt) {
  return FNN_DISPATCH(dtype, softmax, (x, y, N, C, log_, nt));
}
int fnn_softmax_backward(int dtype, const void *g, const void *y, void *dx, size_t N, size_t C,
                         int log_, int nt) {
  return FNN_DISPATCH(dtype, softmax_backward, (g, y, dx, N, C, log_, nt));
}
int fnn_cross_entropy(int dtype, const void *logits, const int64_t *target, size_t N, size_t C,
                      int reduction, double label_smoothing, double *loss, void *loss_rows,
                      void *grad, int nt) {
  return FNN_DISPATCH(dtype, cross_entropy,
                      (logits, target, N, C, reduction, label_smoothing, loss, loss_rows, grad, nt));
}
int fnn_pair_loss(int op, int dtype, const void *pred, const void *target, size_t n, int reduction,
                  double *loss, void *loss_elems, void *grad, int nt) {
  if (op < 0 || op >= FNN_N_PAIRLOSS) return FNN_EVALUE;
  return FNN_DISPATCH(dtype, pair_loss, (op, pred, target, n, reduction, loss, loss_elems, grad, nt));
}
