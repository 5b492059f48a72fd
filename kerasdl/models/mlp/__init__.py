"""The first networks: the perceptron (a model and a scikit-learn classifier), the
multi-layer perceptron, and the activation functions with their derivatives.
"""

from kerasdl.models.mlp.activations import (
    activation_derivative,
    activation_function,
    plot_activations,
)
from kerasdl.models.mlp.mlp import ACTIVATIONS, MLP
from kerasdl.models.mlp.perceptron import (
    Perceptron,
    PerceptronClassifier,
)

__all__ = [
    "ACTIVATIONS",
    "activation_derivative",
    "activation_function",
    "plot_activations",
    "MLP",
    "Perceptron",
    "PerceptronClassifier",
]
