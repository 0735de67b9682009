/* Optim family: fused in-place optimizer updates with torch.optim's formulas. */
#include "common.h"

#define FNN_TEMPLATE "optim.inc"
#include "instantiate.h"

int fnn_sgd_step(int dtype, void *p, const void *g, void *buf, size_t n, long step, double lr,
                 double momentum, double dampening, double wd, int nesterov, double l1, int nt) {
  return FNN_DISPATCH(dtype, sgd, (p, g, buf, n, step, lr, momentum, dampening, wd, nesterov, l1, nt));
}
int fnn_adagrad_step(int dtype, void *p, const void *g, void *sum, size_t n, long step, double lr,
                     double lr_decay, double wd, double eps, double l1, int nt) {
  return FNN_DISPATCH(dtype, adagrad, (p, g, sum, n, step, lr, lr_decay, wd, eps, l1, nt));
}
int fnn_rmsprop_step(int dtype, void *p, const void *g, void *sq, void *mbuf, void *gavg, size_t n,
                     double lr, double alpha, double eps, double wd, double momentum, double l1,
                     int nt) {
  return FNN_DISPATCH(dtype, rmsprop, (p, g, sq, mbuf, gavg, n, lr, alpha, eps, wd, momentum, l1, nt));
}
int fnn_adam_step(int dtype, void *p, const void *g, void *m, void *v, void *vmax, size_t n,
                  long step, double lr, double beta1, double beta2, double eps, double wd,
                  int decoupled, double l1, double l2, int nt) {
  return FNN_DISPATCH(dtype, adam,
                      (p, g, m, v, vmax, n, step, lr, beta1, beta2, eps, wd, decoupled, l1, l2, nt));
}
int fnn_adamax_step(int dtype, void *p, const void *g, void *m, void *u, size_t n, long step, double lr,
                    double beta1, double beta2, double eps, double wd, double l1, int nt) {
  return FNN_DISPATCH(dtype, adamax, (p, g, m, u, n, step, lr, beta1, beta2, eps, wd, l1, nt));
}
int fnn_nadam_step(int dtype, void *p, const void *g, void *m, void *v, size_t n, double beta1,
                   double beta2, double bc2, double cg, double cm, double eps, double wd,
                   int decoupled, double lr, double l1, double l2, int nt) {
  return FNN_DISPATCH(dtype, nadam,
                      (p, g, m, v, n, beta1, beta2, bc2, cg, cm, eps, wd, decoupled, lr, l1, l2, nt));
}
