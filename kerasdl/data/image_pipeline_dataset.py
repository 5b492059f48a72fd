"""`ImagePipelineDataset`: images read and preprocessed with OpenCV batch by batch,
fed to `model.fit` on every backend (a `keras.utils.PyDataset`, no `tf.data`)."""

from __future__ import annotations

import math
import os

import keras
import numpy as np

from kerasdl._checks import check_int
from kerasdl.data.opencv import OpenCVPipeline, read_image
from kerasdl.data.opencv.pipeline import _stack

__all__ = ["ImagePipelineDataset"]


class ImagePipelineDataset(keras.utils.PyDataset):
    """Batches of images (files or arrays) run through OpenCV steps on the fly.

    Each batch is read (for file paths), passed image by image through
    `OpenCVPipeline(steps)`, stacked and cast to `dtype`; a single-channel result
    `(h, w)` gets a channel axis `(h, w, 1)`. Nothing is cached, so a large folder
    of photos never has to fit in memory, and Keras may prepare batches in
    parallel (`workers=...`). It is a `keras.utils.PyDataset`: `model.fit`,
    `evaluate` and `predict` take it on TensorFlow, JAX and PyTorch alike.

    Args:
        images: A list of image file paths, a list of arrays (sizes may differ
            when the steps resize them), or an array `(n, h, w[, c])`.
        labels: Targets, one per image (array-like), or None to yield images only
            (for `predict`).
        steps: The preprocessing steps (see `kerasdl.data.opencv.OpenCVPipeline`),
            or a pipeline. Files are read as uint8 RGB: end with `"to_float"` to
            give the network values in [0, 1] (no rescaling happens otherwise).
        batch_size: Images per batch; the last batch may be smaller.
        shuffle: Whether to visit the images in a new random order every epoch.
        seed: Seed of the shuffling (NumPy).
        dtype: dtype of the image batches.
        grayscale: Read files as one-channel `(h, w)` luma instead of RGB.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` for
            `keras.utils.PyDataset`.

    Example:

    ```python
    train = ImagePipelineDataset(
        paths, labels,
        steps=[("resize", {"size": (64, 64)}), ("gaussian_blur", {"ksize": 3}),
               "to_float"],
        batch_size=32, shuffle=True, seed=0,
    )
    model.fit(train, epochs=5)
    ```
    """

    def __init__(
        self,
        images,
        labels=None,
        steps=(),
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        dtype: str = "float32",
        grayscale: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(images, np.ndarray):
            if images.ndim not in (3, 4):
                raise ValueError(
                    "Expected `images` of shape (n, height, width[, channels]), or a "
                    f"list of paths or images; received shape {images.shape}."
                )
        elif isinstance(images, (list, tuple)):
            images = list(images)
        else:
            raise ValueError(
                "`images` must be a list of paths or images, or an array; received "
                f"{type(images).__name__}."
            )
        if len(images) == 0:
            raise ValueError("`images` is empty.")
        self._paths = not isinstance(images, np.ndarray) and all(
            isinstance(item, (str, os.PathLike)) for item in images
        )
        if not isinstance(images, np.ndarray) and not self._paths:
            if any(isinstance(item, (str, os.PathLike)) for item in images):
                raise ValueError("`images` mixes file paths and arrays; pass one kind.")
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != len(images):
                raise ValueError(
                    f"`labels` must have one entry per image: received {len(labels)} "
                    f"labels for {len(images)} images."
                )
        if not isinstance(shuffle, bool):
            raise ValueError(f"`shuffle` must be True or False; received {shuffle!r}.")
        if not isinstance(grayscale, bool):
            raise ValueError(
                f"`grayscale` must be True or False; received {grayscale!r}."
            )
        try:
            self.dtype = np.dtype(dtype)
        except TypeError as exc:
            raise ValueError(
                f"`dtype` must be a NumPy dtype; received {dtype!r}."
            ) from exc
        self.images = images
        self.labels = labels
        self.pipeline = OpenCVPipeline(steps)
        self.batch_size = check_int("batch_size", batch_size)
        self.shuffle = shuffle
        self.grayscale = grayscale
        self._rng = np.random.default_rng(check_int("seed", seed, 0, allow_none=True))
        self._order = np.arange(len(images))
        if shuffle:
            self._rng.shuffle(self._order)

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def _load(self, index):
        item = self.images[index]
        if self._paths:
            return read_image(item, grayscale=self.grayscale)
        return np.asarray(item)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(
                f"Batch index {index} out of range for {len(self)} batches."
            )
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = _stack([self.pipeline(self._load(i)) for i in chosen], self.pipeline)
        if batch.ndim == 3:  # single-channel (h, w) images
            batch = batch[..., None]
        batch = batch.astype(self.dtype)
        if self.labels is None:
            return batch
        return batch, self.labels[chosen]

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)
