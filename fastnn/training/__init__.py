"""fastnn.training: fit / evaluate / predict, History and callbacks."""
from .callbacks import (Callback, CSVLogger, Diagnostics, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                        ProgressBar, TerminateOnNaN)
from .history import History
from .loop import evaluate, fit, predict
from .lr_finder import LRFinderResult, lr_find

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "TerminateOnNaN", "CSVLogger", "LearningRateScheduler", "ProgressBar", "Diagnostics", "lr_find",
           "LRFinderResult"]
