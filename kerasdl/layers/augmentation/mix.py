"""MixUp and CutMix: augmentations that mix two images *and their labels*.

A layer inside the model sees only the images, so label-mixing augmentations
are a step of the input pipeline instead: `mix_batch` mixes one NumPy batch
and `MixUpDataset` is a `keras.utils.PyDataset` that feeds `model.fit` with
mixed batches and soft labels (train with a categorical loss, e.g.
`"categorical_crossentropy"`).

- MixUp (Zhang et al., 2018): `x = lam * x_a + (1 - lam) * x_b` and
  `y = lam * y_a + (1 - lam) * y_b`, `lam ~ Beta(alpha, alpha)` per sample.
- CutMix (Yun et al., 2019): a box of about `(1 - lam)` of the image area is
  pasted from `x_b` into `x_a`; the label weight is the pasted area's share.

The partner `b` of each sample is a random permutation of the batch. The
random draws of batch `i` in epoch `e` depend only on `(seed, e, i)`, so
batches are reproducible whatever the order in which Keras asks for them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = ["MIX_MODES", "MixUpDataset", "MixedBatch", "mix_batch"]

MIX_MODES = ("mixup", "cutmix")


class MixedBatch(NamedTuple):
    """A mixed batch: `x`, soft labels `y`, and how they were made.

    `lam[i]` is the label weight of sample `i` itself and `partner[i]` the
    index (within the batch) of the sample mixed into it, so
    `y[i] == lam[i] * y_in[i] + (1 - lam[i]) * y_in[partner[i]]`.
    """

    x: np.ndarray
    y: np.ndarray
    lam: np.ndarray
    partner: np.ndarray


def _soft_labels(labels, num_classes):
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if num_classes is None:
            raise ValueError(
                "`num_classes` is needed for integer labels of shape "
                f"{labels.shape}; received num_classes=None."
            )
        if (
            labels.dtype.kind not in "iu"
            or labels.min() < 0
            or (labels.max() >= num_classes)
        ):
            raise ValueError(
                f"Expected integer labels in [0, {num_classes}); received labels "
                f"of dtype {labels.dtype} in [{labels.min()}, {labels.max()}]."
            )
        return np.eye(num_classes, dtype="float32")[labels]
    if labels.ndim == 2:
        if num_classes is not None and labels.shape[1] != num_classes:
            raise ValueError(
                f"Expected one-hot labels with {num_classes} columns "
                f"(num_classes); received shape {labels.shape}."
            )
        return labels.astype("float32")
    raise ValueError(
        "Expected `labels` of shape (batch,) (integers) or (batch, num_classes) "
        f"(one-hot or soft); received shape {labels.shape}."
    )


def mix_batch(images, labels, *, alpha=0.2, mode="mixup", num_classes=None, rng=None):
    """Mixes a batch of images and labels with MixUp or CutMix.

    Args:
        images: NumPy array `(batch, ...)`; for CutMix `(batch, height, width,
            channels)`.
        labels: Integer labels `(batch,)` (then `num_classes` is needed) or
            one-hot / soft labels `(batch, num_classes)`.
        alpha: Parameter (> 0) of the `Beta(alpha, alpha)` mixing weights;
            small values keep most samples close to one image.
        mode: `"mixup"` or `"cutmix"`.
        num_classes: Number of classes, for integer labels.
        rng: A `numpy.random.Generator` (or an int seed, or None).

    Returns:
        A `MixedBatch(x, y, lam, partner)`: float32 images and soft labels whose
        rows sum to 1, each sample's own label weight and its partner's index.

    Example:

    ```python
    batch = mix_batch(x[:64], y[:64], alpha=0.4, num_classes=10, rng=0)
    model.train_on_batch(batch.x, batch.y)  # with a categorical loss
    ```
    """
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    if mode not in MIX_MODES:
        raise ValueError(f"`mode` must be one of {MIX_MODES}; received mode={mode!r}.")
    rng = np.random.default_rng(rng)
    images = np.asarray(images, dtype="float32")
    soft = _soft_labels(labels, num_classes)
    n = len(images)
    if len(soft) != n:
        raise ValueError(
            f"`images` and `labels` must have the same length; received "
            f"{n} images and {len(soft)} labels."
        )
    partner = rng.permutation(n)
    lam = rng.beta(alpha, alpha, size=n).astype("float32")
    if mode == "mixup":
        weight = lam.reshape((n,) + (1,) * (images.ndim - 1))
        x = weight * images + (1.0 - weight) * images[partner]
    else:
        if images.ndim != 4:
            raise ValueError(
                "CutMix expects `images` of rank 4 (batch, height, width, "
                f"channels); received shape {images.shape}."
            )
        _, height, width, _ = images.shape
        cut = np.sqrt(1.0 - lam)
        cut_h = np.round(height * cut).astype(int)
        cut_w = np.round(width * cut).astype(int)
        cy = rng.integers(0, height, size=n)
        cx = rng.integers(0, width, size=n)
        top = np.clip(cy - cut_h // 2, 0, height)
        bottom = np.clip(cy - cut_h // 2 + cut_h, 0, height)
        left = np.clip(cx - cut_w // 2, 0, width)
        right = np.clip(cx - cut_w // 2 + cut_w, 0, width)
        rows = np.arange(height)[None, :]
        cols = np.arange(width)[None, :]
        box = ((rows >= top[:, None]) & (rows < bottom[:, None]))[:, :, None] & (
            (cols >= left[:, None]) & (cols < right[:, None])
        )[:, None, :]
        x = np.where(box[..., None], images[partner], images)
        # The label weight is the share of pixels that stayed (the box is clipped).
        lam = (1.0 - box.mean(axis=(1, 2))).astype("float32")
    y = lam[:, None] * soft + (1.0 - lam[:, None]) * soft[partner]
    return MixedBatch(x.astype("float32"), y.astype("float32"), lam, partner)


class MixUpDataset(keras.utils.PyDataset):
    """Batches of MixUp- or CutMix-ed images and soft labels for `model.fit`.

    Each epoch visits the samples in a new random order (`shuffle=True`); each
    batch is mixed with `mix_batch`. Compile the model with a categorical loss
    (the labels are soft, shape `(batch, num_classes)`).

    Args:
        x: Images, NumPy `(n, ...)` (rank 4 for CutMix).
        y: Integer labels `(n,)` or one-hot labels `(n, num_classes)`.
        batch_size: Samples per batch (the last batch may be smaller).
        alpha: Parameter (> 0) of the `Beta(alpha, alpha)` mixing weights.
        num_classes: Number of classes (needed for integer labels).
        mode: `"mixup"` (default) or `"cutmix"`.
        shuffle: Whether to visit the samples in a new order each epoch.
        seed: Integer seed (>= 0) of the order and the mixing, or None.
        **kwargs: Passed to `keras.utils.PyDataset` (`workers`, ...).

    Example:

    ```python
    train = MixUpDataset(x, y, 64, alpha=0.2, num_classes=10, seed=0)
    model.compile("adam", "categorical_crossentropy")
    model.fit(train, epochs=10)
    ```
    """

    def __init__(
        self,
        x,
        y,
        batch_size=32,
        alpha=0.2,
        num_classes=None,
        *,
        mode="mixup",
        shuffle=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.batch_size = check_int("batch_size", batch_size)
        self.alpha = check_float("alpha", alpha, low=0.0, low_open=True)
        if mode not in MIX_MODES:
            raise ValueError(
                f"`mode` must be one of {MIX_MODES}; received mode={mode!r}."
            )
        self.mode = mode
        self.num_classes = check_int("num_classes", num_classes, allow_none=True)
        self.x = np.asarray(x, dtype="float32")
        self.y = _soft_labels(y, self.num_classes)
        if len(self.x) != len(self.y) or len(self.x) == 0:
            raise ValueError(
                "`x` and `y` must be non-empty and of the same length; received "
                f"{len(self.x)} images and {len(self.y)} labels."
            )
        if mode == "cutmix" and self.x.ndim != 4:
            raise ValueError(
                "CutMix expects `x` of rank 4 (n, height, width, channels); "
                f"received shape {self.x.shape}."
            )
        self.shuffle = bool(shuffle)
        seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.seed = (
            int(np.random.SeedSequence().entropy % 2**32) if seed is None else seed
        )
        self.epoch = 0
        self._order = self._new_order()

    def _new_order(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch, 0]).permutation(
            len(self.x)
        )

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)}).")
        take = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index + 1])
        batch = mix_batch(
            self.x[take], self.y[take], alpha=self.alpha, mode=self.mode, rng=rng
        )
        return batch.x, batch.y

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._new_order()
