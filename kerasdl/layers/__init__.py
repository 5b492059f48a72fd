"""Hand-written building blocks (see each module for the layer it teaches)."""

from kerasdl.layers.attention import MultiHeadAttention, scaled_dot_product_attention
from kerasdl.layers.augmentation import (
    AUGMENTATIONS,
    Cutout,
    MixedBatch,
    MixUpDataset,
    RandomAffine,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomShift,
    RandomTranslation,
    RandomZoom,
    make_augmentation,
    mix_batch,
)
from kerasdl.layers.conv_blocks import ConvBNAct
from kerasdl.layers.inception import InceptionModule
from kerasdl.layers.mbconv import MBConv, SqueezeExcitation
from kerasdl.layers.noise import ClippedGaussianNoise, MaskingNoise
from kerasdl.layers.patch_embedding import ClassToken, PatchEmbedding
from kerasdl.layers.perceptron import Perceptron
from kerasdl.layers.positional import (
    LearnedPositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from kerasdl.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from kerasdl.layers.residual import ResidualBlock
from kerasdl.layers.sampling import Sampling
from kerasdl.layers.tabular_embeddings import (
    CategoricalEmbedding,
    NumericalEmbedding,
    PeriodicEmbedding,
)
from kerasdl.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock

__all__ = [
    "CategoricalEmbedding",
    "NumericalEmbedding",
    "PeriodicEmbedding",
    "ConvBNAct",
    "InceptionModule",
    "MBConv",
    "SqueezeExcitation",
    "ResidualBlock",
    "AUGMENTATIONS",
    "Cutout",
    "MixedBatch",
    "MixUpDataset",
    "RandomAffine",
    "RandomBrightness",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "RandomShift",
    "make_augmentation",
    "mix_batch",
    "ClassToken",
    "ClippedGaussianNoise",
    "GRUCell",
    "LSTMCell",
    "LearnedPositionEmbedding",
    "MaskingNoise",
    "MultiHeadAttention",
    "PatchEmbedding",
    "Perceptron",
    "RotaryEmbedding",
    "Sampling",
    "SimpleRNNCell",
    "SinusoidalPositionalEncoding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "scaled_dot_product_attention",
]
