"""fastnn.optim: optimizers (torch.optim's names and formulas, fused kernels) and LR schedules."""
from . import lr_scheduler
from .optimizer import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, Optimizer, RMSprop

# the optimizers by name (fit(optimizer="adam"), the scikit-learn estimators)
BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad, "nadam": NAdam,
           "adamax": Adamax}

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "Adamax", "AdamW", "NAdam", "lr_scheduler"]
