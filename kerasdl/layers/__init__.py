"""Hand-written building blocks (see each module for the layer it teaches)."""

from kerasdl.layers.noise import ClippedGaussianNoise, MaskingNoise
from kerasdl.layers.perceptron import Perceptron
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.layers.sampling import Sampling

__all__ = [
    "ClippedGaussianNoise",
    "GRUCell",
    "LSTMCell",
    "MaskingNoise",
    "Perceptron",
    "Sampling",
    "SimpleRNNCell",
]
