"""Unsupervised pretraining (the course's answer when labels are scarce and no similar model exists):
restricted Boltzmann machines, deep belief nets (greedy stacks of RBMs) and stacked (denoising)
autoencoders. Each exports its encoder as an nn.Sequential (to_module) or initialises the matching Linear
layers of a model (init), ready to fine-tune with a new head."""
from ._base import EstimatorMixin
from .autoencoder import StackedAutoencoder
from .rbm import DBN, RBM

__all__ = ["RBM", "DBN", "StackedAutoencoder", "EstimatorMixin"]
