/* Restricted Boltzmann machines: contrastive-divergence training of whole epochs in C (rbm.inc). */
#include "common.h"

/* Scratch elements rbm_batch needs for batches of up to `batch` rows (plus batch x V for gathered rows). */
static size_t fnn_rbm_work(const fnn_rbm_t *c, size_t batch) {
  size_t np = c->persistent ? (c->P > batch ? c->P : batch) : batch, m = np > batch ? np : batch;
  size_t draws = m * (c->H > 2 * c->V ? c->H : 2 * c->V); /* the largest sampling call */
  return batch * c->H + np * c->H + np * c->V + np * c->H + c->H * c->V + c->H + 2 * c->V + draws;
}

size_t fnn_rbm_work_size(const fnn_rbm_t *c, size_t batch) { return fnn_rbm_work(c, batch) + batch * c->V; }

#define FNN_TEMPLATE "rbm.inc"
#include "instantiate.h"

int fnn_rbm_train(int dtype, void *gemm, const fnn_rbm_t *c, const void *X, size_t n, size_t batch,
                  const int64_t *order, void *W, void *bh, void *bv, void *chain, void *Winc, void *bhinc,
                  void *bvinc, void *q, uint64_t *calls, const void *inj, void *work, int nt, int ftz) {
  if (dtype == FNN_F32)
    return rbm_train_f32(gemm, c, (const float *)X, n, batch, order, (float *)W, (float *)bh, (float *)bv,
                         (float *)chain, (float *)Winc, (float *)bhinc, (float *)bvinc, (float *)q, calls,
                         (const float *)inj, (float *)work, nt, ftz);
  return rbm_train_f64(gemm, c, (const double *)X, n, batch, order, (double *)W, (double *)bh, (double *)bv,
                       (double *)chain, (double *)Winc, (double *)bhinc, (double *)bvinc, (double *)q, calls,
                       (const double *)inj, (double *)work, nt, ftz);
}
