"""fastnn.optim: optimizers (torch.optim's names and formulas, fused kernels) and LR schedules."""
from . import lr_scheduler
from .optimizer import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "Adamax", "AdamW", "NAdam", "lr_scheduler"]
