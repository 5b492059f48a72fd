"""Image augmentation that stays fast on every backend, and a pipeline builder.

The layers (training only: the identity when `training` is falsy; each with its
own `keras.random.SeedGenerator` and per-image random parameters):

- geometric (`geometric`, `affine`, `shift`): `RandomFlip`, `RandomRotation`,
  `RandomTranslation`, `RandomZoom`, `RandomAffine` (the last three in one
  interpolation), `RandomShift`;
- photometric (`photometric`): `RandomBrightness`, `RandomContrast`, `Cutout`;
- label-mixing, as an input-pipeline step (`mix`): `mix_batch`, `MixUpDataset`
  (MixUp and CutMix).

`make_augmentation(["rotation", "translation", ...])` (`pipeline`) stacks the
layers in a `keras.Sequential` to put in front of a model. `base` holds what the
layers share (input check, training gate, range parsing) and `resampling` the
interpolation. Unlike Keras's own geometric preprocessing layers, none of these
turns off XLA compilation of the model (see `geometric` for why that matters).
"""

from kerasdl.layers.augmentation.affine import RandomAffine
from kerasdl.layers.augmentation.geometric import (
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from kerasdl.layers.augmentation.mix import MixedBatch, MixUpDataset, mix_batch
from kerasdl.layers.augmentation.photometric import (
    Cutout,
    RandomBrightness,
    RandomContrast,
)
from kerasdl.layers.augmentation.pipeline import AUGMENTATIONS, make_augmentation
from kerasdl.layers.augmentation.shift import RandomShift

__all__ = [
    "AUGMENTATIONS",
    "Cutout",
    "MixUpDataset",
    "MixedBatch",
    "RandomAffine",
    "RandomBrightness",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomShift",
    "RandomTranslation",
    "RandomZoom",
    "make_augmentation",
    "mix_batch",
]
