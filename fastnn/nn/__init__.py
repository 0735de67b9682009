"""fastnn.nn: layers, activations, batch norm, dropout, losses and initializers, with PyTorch's names,
defaults and numerics, on an explicit forward/backward design and one parameter arena per model."""
from . import init, utils
from .activation import ELU, GELU, PReLU, ReLU, RReLU, SELU, LeakyReLU, Sigmoid, SiLU, Softplus, Tanh
from .dropout import Dropout
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Flatten, Identity, Module, Sequential
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import Arena, ArenaRange, Parameter, pack

__all__ = ["Module", "Sequential", "Identity", "Flatten", "Linear", "Parameter", "Arena", "ArenaRange",
           "pack", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "RReLU", "PReLU", "ELU", "SELU", "GELU", "SiLU",
           "Softplus", "BatchNorm1d", "BatchNorm2d", "Dropout", "CrossEntropyLoss", "MSELoss",
           "BCEWithLogitsLoss", "L1Loss", "NLLLoss", "init", "utils"]
