"""fastnn.nn: layers, activations, batch norm, dropout, losses and initializers with PyTorch's names,
defaults and numerics, on one parameter arena per model. Modules run on tensors (autograd, one graph
node per call) or on arrays (the explicit forward/backward chain); see fastnn.nn.module."""
from . import functional, init, utils
from .activation import (CELU, ELU, GELU, GLU, CosineSimilarity, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
                         LogSigmoid, LogSoftmax, Mish, PairwiseDistance, PReLU, ReLU, ReLU6, RReLU, SELU, Sigmoid, SiLU,
                         Softmax, Softmin, Softplus, Softsign, Tanh, Threshold)
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout1d, Dropout2d
from .embedding import Embedding
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .flatten import Flatten, Unflatten
from .module import Module, StateDictError
from .padding import (ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                      ReplicationPad2d, Upsample, ZeroPad1d, ZeroPad2d)
from .parameter import Arena, ArenaRange, Parameter, pack
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
                      MaxPool1d, MaxPool2d)

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity",
           "Flatten", "Unflatten", "Linear", "Parameter", "Arena", "ArenaRange", "pack", "Sigmoid", "Tanh", "ReLU",
           "ReLU6", "LeakyReLU", "RReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Softplus",
           "Softsign", "Hardtanh", "LogSigmoid", "Softmax", "LogSoftmax", "Softmin", "BatchNorm1d", "BatchNorm2d",
           "SyncBatchNorm", "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "KLDivLoss", "StateDictError", "functional", "init", "utils", "LayerNorm",
           "Embedding", "GLU", "Hardsigmoid", "Hardswish", "Threshold", "CosineSimilarity", "PairwiseDistance",
           "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "Upsample", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d",
           "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "Dropout1d", "Dropout2d"]

from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, SyncBatchNorm  # noqa: E402


def __getattr__(name):  # PyTorch's layers fastnn lacks: a NotImplementedError naming them
    from .. import _missing

    return _missing.lookup(_missing.NN, "fastnn.nn", name)
