"""Hand-written building blocks (see each module for the layer it teaches)."""

from kerasdl.layers.noise import ClippedGaussianNoise, MaskingNoise
from kerasdl.layers.perceptron import Perceptron
from kerasdl.layers.sampling import Sampling

__all__ = ["ClippedGaussianNoise", "MaskingNoise", "Perceptron", "Sampling"]
