"""fastnn.nn: layers, activations, batch norm, dropout, losses and initializers with PyTorch's names,
defaults and numerics, on one parameter arena per model. Modules run on tensors (autograd, one graph
node per call) or on arrays (the explicit forward/backward chain); see fastnn.nn.module."""
from . import activation, functional, init, utils
from .activation import *  # noqa: F403  (every activation layer: activation.__all__)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout1d, Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, SyncBatchNorm
from .padding import (ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                      ReplicationPad2d, Upsample, ZeroPad1d, ZeroPad2d)
from .parameter import Arena, ArenaRange, Parameter, pack
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
                      MaxPool1d, MaxPool2d)

__all__ = activation.__all__ + [
    "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity", "Flatten",
    "Unflatten", "Linear", "Parameter", "Arena", "ArenaRange", "pack", "BatchNorm1d", "BatchNorm2d",
    "SyncBatchNorm", "LayerNorm", "Dropout", "Dropout1d", "Dropout2d", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "StateDictError",
    "functional", "init", "utils", "Embedding", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Upsample", "Conv1d", "Conv2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def __getattr__(name):  # PyTorch's layers fastnn lacks: a NotImplementedError naming them
    from .. import _missing

    return _missing.lookup(_missing.NN, "fastnn.nn", name)
