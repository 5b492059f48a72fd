"""A preprocessing pipeline of OpenCV steps (read, resize, grayscale, blur, edges,
threshold, to float) described by names and settings, applied to a batch of images.
"""

from __future__ import annotations

import inspect

import numpy as np

from kerasdl.data.opencv.ops import STEPS


def _make_step(step, position: int):
    """A step given as a callable, a name, or `(name, kwargs)`, as `(label, fn)`."""
    if isinstance(step, str):
        name, kwargs = step, {}
    elif (
        isinstance(step, (tuple, list)) and len(step) == 2 and isinstance(step[0], str)
    ):
        name, kwargs = step
        if not isinstance(kwargs, dict):
            raise ValueError(
                f"steps[{position}]: the arguments of step {name!r} must be a dict; "
                f"received {kwargs!r}."
            )
    elif callable(step):
        return getattr(step, "__name__", repr(step)), step
    else:
        raise ValueError(
            f"steps[{position}] must be a step name, a (name, kwargs) pair or a "
            f"callable image -> image; received {step!r}."
        )
    if name not in STEPS:
        raise ValueError(
            f"steps[{position}]: unknown step {name!r}; choose one of "
            f"{sorted(STEPS)} or pass a callable."
        )
    function = STEPS[name]
    try:
        inspect.signature(function).bind(None, **kwargs)
    except TypeError as exc:
        parameters = list(inspect.signature(function).parameters)[1:]
        raise ValueError(
            f"steps[{position}]: step {name!r} takes {parameters}; received "
            f"arguments {sorted(kwargs)} ({exc})."
        ) from None
    if name == "threshold" and kwargs.get("return_value"):
        raise ValueError(
            f"steps[{position}]: a threshold step must return the image; "
            "received return_value=True."
        )

    def apply(image):
        return function(image, **kwargs)

    label = name if not kwargs else f"{name}({kwargs})"
    return label, apply


class OpenCVPipeline:
    """A sequence of image -> image steps, applied in order to each image.

    Args:
        steps: A list of steps, each a name from `STEPS` (`"to_grayscale"`), a
            pair `(name, kwargs)` (`("resize", {"size": (32, 32)})`), or any
            callable taking and returning one NumPy image.

    Example:

    ```python
    pipeline = OpenCVPipeline(
        [("resize", {"size": (32, 32)}), ("gaussian_blur", {"ksize": 3}), "to_float"]
    )
    one = pipeline(image)              # (32, 32, 3) float32
    batch = pipeline.transform(images) # (n, 32, 32, 3) float32
    ```
    """

    def __init__(self, steps=()):
        if isinstance(steps, OpenCVPipeline):
            steps = steps.steps
        if isinstance(steps, (str, dict)) or not isinstance(steps, (list, tuple)):
            raise ValueError(
                f"`steps` must be a list of steps; received steps={steps!r}."
            )
        self.steps = list(steps)
        self._functions = [_make_step(step, i) for i, step in enumerate(self.steps)]

    def __call__(self, image) -> np.ndarray:
        """Apply the steps to one image."""
        result = image
        for label, function in self._functions:
            result = function(result)
            if not isinstance(result, np.ndarray):
                raise ValueError(
                    f"Step {label!r} returned {type(result).__name__}; every step "
                    "must return a NumPy image."
                )
        return result

    def transform(self, images) -> np.ndarray:
        """Apply the steps to each image and stack the results.

        Args:
            images: An array `(n, h, w[, c])` or a list of images (which may differ
                in size when a step resizes them).

        Returns:
            An array `(n, ...)`.
        """
        if isinstance(images, np.ndarray):
            if images.ndim not in (3, 4):
                raise ValueError(
                    "Expected `images` of shape (n, height, width) or (n, height, "
                    f"width, channels), or a list of images; received shape "
                    f"{images.shape}."
                )
        elif not isinstance(images, (list, tuple)):
            raise ValueError(
                f"`images` must be an array or a list of images; received "
                f"{type(images).__name__}."
            )
        if len(images) == 0:
            raise ValueError("`images` is empty.")
        return _stack([self(image) for image in images], self)

    def __repr__(self):
        return f"OpenCVPipeline([{', '.join(label for label, _ in self._functions)}])"


def _stack(results, pipeline=None) -> np.ndarray:
    """Stack processed images, with a clear error when their shapes differ."""
    shapes = {np.shape(r) for r in results}
    if len(shapes) > 1:
        raise ValueError(
            f"The processed images have different shapes {sorted(shapes)[:4]}; "
            "add a resize step (e.g. ('resize', {'size': (32, 32)})) to "
            f"{pipeline!r}."
        )
    return np.stack(results)


def preprocess(images, steps) -> np.ndarray:
    """Apply `steps` (see `OpenCVPipeline`) to each image and stack the results.

    Example:

    ```python
    x = preprocess(photos, [("resize", {"size": (64, 64)}), "to_float"])
    ```
    """
    return OpenCVPipeline(steps).transform(images)
