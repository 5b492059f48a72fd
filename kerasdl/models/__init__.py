"""Model families as functional Keras models in a class.

The registry (`kerasdl.models.registry`) maps names such as `"mlp"` and `"cnn"` to
builders and training settings; import it from its module.
"""

from kerasdl.models.cnn import SmallCNN
from kerasdl.models.mlp import MLP
from kerasdl.models.perceptron import Perceptron

__all__ = ["MLP", "Perceptron", "SmallCNN"]
