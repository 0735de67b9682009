"""fastnn.training: fit / evaluate / predict, History and callbacks."""
from .callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ProgressBar,
                        TerminateOnNaN)
from .history import History
from .loop import evaluate, fit, predict

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "TerminateOnNaN", "CSVLogger", "LearningRateScheduler", "ProgressBar"]
