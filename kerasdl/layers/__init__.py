"""Hand-written building blocks (see each module for the layer it teaches)."""

from kerasdl.layers.perceptron import Perceptron

__all__ = ["Perceptron"]
