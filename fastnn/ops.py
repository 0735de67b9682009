"""fastnn.ops: the functional kernel API. NumPy arrays in (float32 or float64), NumPy arrays out.

Every op releases the GIL while it computes, accepts ``out=`` where it returns an array, and has a
plain-NumPy twin of the same name and signature in :mod:`fastnn.reference`. Reductions are
deterministic: bitwise the same result for any thread count. Random ops (dropout, rrelu) draw from a
counter-based generator keyed by ``(seed, element index)``.
"""
from ._ext._activation import (dropout, dropout_backward, elu, elu_backward, gelu, gelu_backward,
                               leaky_relu, leaky_relu_backward, prelu, prelu_backward, relu,
                               relu_backward, rrelu, rrelu_backward, selu, selu_backward, sigmoid,
                               sigmoid_backward, silu, silu_backward, softplus, softplus_backward,
                               tanh, tanh_backward)
from ._ext._blas import linear, linear_backward, matmul
from ._ext._conv import conv2d, conv2d_backward
from ._ext._loss import (binary_cross_entropy_with_logits, cross_entropy, l1_loss, log_softmax,
                         log_softmax_backward, mse_loss, softmax, softmax_backward)
from ._ext._norm import batch_norm, batch_norm_backward, batch_norm_stats, channel_sum
from ._ext._optim import adagrad_step, adam_step, adamax_step, nadam_step, rmsprop_step, sgd_step
from ._ext._pool import pool2d, pool2d_backward
from ._ext._rbm import rbm_train
from ._ext._reduce import clamp_, global_norm, norm_pow, scale_, sum_squares

__all__ = [
    "matmul", "linear", "linear_backward", "conv2d", "conv2d_backward", "pool2d", "pool2d_backward", "rbm_train",
    "sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "relu", "relu_backward",
    "leaky_relu", "leaky_relu_backward", "elu", "elu_backward", "selu", "selu_backward",
    "gelu", "gelu_backward", "silu", "silu_backward", "softplus", "softplus_backward",
    "prelu", "prelu_backward", "rrelu", "rrelu_backward", "dropout", "dropout_backward",
    "batch_norm_stats", "batch_norm", "batch_norm_backward", "channel_sum",
    "softmax", "log_softmax", "softmax_backward", "log_softmax_backward",
    "cross_entropy", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "sgd_step", "adagrad_step", "rmsprop_step", "adam_step", "adamax_step", "nadam_step",
    "norm_pow", "sum_squares", "global_norm", "scale_", "clamp_",
]
