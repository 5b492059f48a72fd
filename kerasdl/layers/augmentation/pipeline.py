"""`make_augmentation`: a `keras.Sequential` of augmentation layers, named by steps.

Consecutive rotation / translation / zoom steps become one `RandomAffine` (one
interpolation instead of three).
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_int
from kerasdl.layers.augmentation.affine import RandomAffine
from kerasdl.layers.augmentation.geometric import (
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from kerasdl.layers.augmentation.photometric import (
    Cutout,
    RandomBrightness,
    RandomContrast,
)

__all__ = ["AUGMENTATIONS", "make_augmentation"]

AUGMENTATIONS = (
    "flip",
    "rotation",
    "translation",
    "zoom",
    "brightness",
    "contrast",
    "cutout",
)


GEOMETRIC = ("rotation", "translation", "zoom")


def _fuse_geometric(steps):
    """Groups: consecutive rotation/translation/zoom steps (each once) together."""
    groups = []
    for step in steps:
        last = groups[-1] if groups else None
        if (
            step in GEOMETRIC
            and last is not None
            and last[0] in GEOMETRIC
            and step not in last
        ):
            last.append(step)
        else:
            groups.append([step])
    return groups


def make_augmentation(
    steps,
    *,
    flip="horizontal",
    rotation=10.0,
    translation=0.1,
    zoom=0.1,
    brightness=0.1,
    contrast=0.2,
    cutout=0.25,
    value_range=(0.0, 1.0),
    fill_value=0.0,
    fuse_geometric=True,
    seed=None,
    name="augmentation",
):
    """A `keras.Sequential` of augmentation layers, named by `steps`.

    Args:
        steps: Names from `AUGMENTATIONS` (`"flip"`, `"rotation"`,
            `"translation"`, `"zoom"`, `"brightness"`, `"contrast"`,
            `"cutout"`), applied in the order given. (Do not flip digits or
            text: a mirrored "2" is not a "2".)
        flip: `RandomFlip` mode.
        rotation: Rotation range in degrees.
        translation: Translation range, fraction of height and width.
        zoom: Zoom range (`RandomZoom`'s convention; one factor for both axes).
        brightness: `RandomBrightness` factor.
        contrast: `RandomContrast` factor.
        cutout: `Cutout` size (pixels, or fraction of the shorter side).
        value_range: Valid pixel range for brightness and contrast.
        fill_value: Fill of the geometric layers and of the cutout.
        fuse_geometric: If True (default), consecutive rotation / translation /
            zoom steps become one `RandomAffine` (one interpolation: sharper
            and cheaper; it zooms, then rotates, then moves). If False, one
            layer per step (`RandomRotation`, `RandomTranslation`,
            `RandomZoom`).
        seed: Integer seed (>= 0); layer `k` of the Sequential gets
            `seed + k`. None: random.
        name: Name of the Sequential.

    Returns:
        A `keras.Sequential`; like its layers, the identity unless called with
        `training=True` (as `fit` does).

    Example:

    ```python
    augment = make_augmentation(["rotation", "translation", "zoom"], seed=0)
    model = keras.Sequential([keras.Input((8, 8, 1)), augment, classifier])
    ```
    """
    if isinstance(steps, str) or not isinstance(steps, (list, tuple)):
        raise ValueError(
            f"`steps` must be a list of names from {AUGMENTATIONS}; received "
            f"steps={steps!r}."
        )
    unknown = [s for s in steps if s not in AUGMENTATIONS]
    if unknown:
        raise ValueError(
            f"`steps` must be names from {AUGMENTATIONS}; received unknown "
            f"{unknown} in steps={steps!r}."
        )
    if not isinstance(fuse_geometric, bool):
        raise ValueError(
            "`fuse_geometric` must be True or False; received "
            f"fuse_geometric={fuse_geometric!r}."
        )
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    builders = {
        "flip": lambda s: RandomFlip(flip, seed=s),
        "rotation": lambda s: RandomRotation(rotation, fill_value=fill_value, seed=s),
        "translation": lambda s: RandomTranslation(
            translation, fill_value=fill_value, seed=s
        ),
        "zoom": lambda s: RandomZoom(zoom, fill_value=fill_value, seed=s),
        "brightness": lambda s: RandomBrightness(
            brightness, value_range=value_range, seed=s
        ),
        "contrast": lambda s: RandomContrast(contrast, value_range=value_range, seed=s),
        "cutout": lambda s: Cutout(cutout, fill_value=fill_value, seed=s),
    }
    groups = _fuse_geometric(steps) if fuse_geometric else [[s] for s in steps]
    layers = []
    for k, group in enumerate(groups):
        layer_seed = None if seed is None else seed + k
        if len(group) == 1:
            layers.append(builders[group[0]](layer_seed))
        else:
            layers.append(
                RandomAffine(
                    rotation=rotation if "rotation" in group else 0.0,
                    translation=translation if "translation" in group else 0.0,
                    zoom=zoom if "zoom" in group else 0.0,
                    fill_value=fill_value,
                    seed=layer_seed,
                )
            )
    return keras.Sequential(layers, name=name)
