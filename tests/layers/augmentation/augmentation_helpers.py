"""Shared by the augmentation tests: test images, Keras's affine transform as the
reference, and one seeded instance of each augmentation layer."""

import keras
import numpy as np

from kerasdl.layers.augmentation import (
    Cutout,
    RandomAffine,
    RandomBrightness,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


# Few distinct shapes: eager JAX compiles each op once per shape.
N = 16
SHAPE = (6, 7, 2)  # not square, so a swapped height and width shows
SQUARE = (6, 6, 2)


def _images(n=N, shape=SHAPE, seed=0, low=0.2, high=0.8):
    """Values in [low, high]: no zeros, so fill and erased pixels stand out."""
    rng = np.random.default_rng(seed)
    return (low + (high - low) * rng.random((n, *shape))).astype("float32")


def _shifted(image, dy, dx, fill=0.0):
    """`image` (h, w, c) moved down by dy and right by dx, `fill` shifted in."""
    h, w, _ = image.shape
    out = np.full_like(image, fill)
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _affine(images, transform, fill_value=0.0):
    """Keras's built-in projective transform, the same transform for every image."""
    batch = np.tile(np.asarray(transform, "float32"), (len(images), 1))
    return _np(
        keras.ops.image.affine_transform(
            images, batch, interpolation="bilinear", fill_value=fill_value
        )
    )


def _layers():
    return [
        RandomFlip("horizontal_and_vertical", seed=1),
        RandomRotation(20, seed=1),
        RandomTranslation(0.2, 0.1, seed=1),
        RandomZoom(0.2, (-0.1, 0.3), seed=1),
        RandomAffine(rotation=20, translation=0.1, zoom=(-0.2, 0.1), seed=1),
        RandomBrightness(0.2, seed=1),
        RandomContrast((0.5, 0.2), seed=1),
        Cutout(2, seed=1),
    ]
