"""Gradient saliency maps, plain and SmoothGrad.

The saliency of a pixel is how strongly the class score reacts to it:
`|d y_c / d x|`, the largest over the colour channels (Simonyan et al., 2014,
https://arxiv.org/abs/1312.6034). SmoothGrad (Smilkov et al., 2017,
https://arxiv.org/abs/1706.03825) averages the gradient over noisy copies of the
image, which cancels much of its pixel-to-pixel noise while the consistent part stays.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_float, check_int
from kerasdl.explain import _graph
from kerasdl.explain._checks import (
    check_class_index,
    check_image_model,
    check_predictions,
    normalize_map,
    prepare_image,
)
from kerasdl.explain.image_input import image_input_model

__all__ = ["saliency"]


def _gradient_function(model, use_logits):
    """`f(x, target) -> (score, predictions, d score / d x)` where the score sums
    target . logits over the batch (each image's gradient is its own score's);
    compiled once per model and `use_logits`, and kept on the model."""
    cache = getattr(model, "_kerasdl_saliency_functions", None)
    if cache is None:
        cache = {}
        # A plain attribute: Keras would otherwise track the dict as model state.
        object.__setattr__(model, "_kerasdl_saliency_functions", cache)
    if use_logits not in cache:
        logits_of = None
        if use_logits and _graph.graph_kind(model) is not None:
            logits_of = _graph.squashing_layer(model)

        def score(x, target):
            squashed = []
            if logits_of is None:
                outputs = model(x, training=False)
            else:
                outputs = _graph.run_with_probe(
                    model, x, None, logits_of=logits_of, squashed=squashed
                )
            predictions = squashed[0] if squashed else outputs
            return ops.sum(
                ops.multiply(ops.cast(outputs, "float32"), target)
            ), predictions

        cache[use_logits] = backend.compile_input_gradient(score, model.variables)
    return cache[use_logits]


def saliency(
    model,
    image,
    class_index: int | None = None,
    smooth_samples: int = 0,
    noise: float = 0.1,
    seed: int | None = None,
    use_logits: bool = True,
) -> np.ndarray:
    """The gradient saliency map of `model` for one image and one class.

    Works with any Keras image classifier (functional, Sequential or subclassed):
    only the gradient with respect to the input is needed, taken by
    `kerasdl.backend.input_gradient`. The model runs in inference mode.

    Args:
        model: An image classifier (one input `(batch, h, w, c)`, one output
            `(batch, num_classes)`), or a flat-input one whose input feeds only a
            Reshape to `(h, w, c)` (see `kerasdl.explain.image_input`).
        image: One image `(h, w, c)` (or `(1, h, w, c)`, or `(h, w)` for a
            one-channel model), preprocessed as the model expects.
        class_index: The class to explain; None explains the predicted class.
        smooth_samples: 0 for the plain gradient; otherwise SmoothGrad's number of
            noisy copies, whose gradients are averaged (signed, as in the paper:
            the noise cancels) before the absolute value is taken.
        noise: SmoothGrad's noise standard deviation, as a fraction of the image's
            value range (`max - min`; 1 if the image is constant).
        seed: Seed of the SmoothGrad noise (NumPy).
        use_logits: If True (default) and the model is a functional or Sequential
            graph whose last layer ends in a softmax or sigmoid, the score is the
            value before it (the logit), whose gradient does not vanish when the
            model is confident; otherwise the model's output.

    Returns:
        A float32 NumPy array `(height, width)` in [0, 1]: the absolute (averaged)
        gradient, the largest over channels, divided by its maximum (all zeros if
        the score does not depend on the image).

    Example:

    ```python
    heatmap = saliency(model, x_test[0], smooth_samples=16, seed=0)
    ```
    """
    model = image_input_model(model)
    input_shape, num_classes = check_image_model(model, "saliency")
    x = prepare_image(image, input_shape)
    smooth_samples = check_int("smooth_samples", smooth_samples, minimum=0)
    noise = check_float("noise", noise, low=0.0)
    seed = check_int("seed", seed, minimum=0, allow_none=True)
    if not isinstance(use_logits, bool):
        raise ValueError(
            f"`use_logits` must be True or False; received {use_logits!r}."
        )
    if num_classes is None:  # a subclassed model: its output is known once called
        num_classes = len(check_predictions(model(x, training=False), "saliency"))
    gradient_fn = _gradient_function(model, use_logits)
    if class_index is None:  # a zero target: just the predictions, for the class
        _, predictions, _ = gradient_fn(x, np.zeros(num_classes, "float32"))
        class_index = int(np.argmax(check_predictions(predictions, "saliency")))
    class_index = check_class_index(class_index, num_classes, None)

    if smooth_samples:
        value_range = float(x.max() - x.min()) or 1.0
        rng = np.random.default_rng(seed)
        batch = x + rng.normal(
            0.0, noise * value_range, size=(smooth_samples, *x.shape[1:])
        ).astype("float32")
    else:
        batch = x
    target = np.eye(num_classes, dtype="float32")[class_index]
    _, _, gradients = gradient_fn(batch, target)
    gradients = np.asarray(ops.convert_to_numpy(gradients), "float32").mean(axis=0)
    return normalize_map(np.abs(gradients).max(axis=-1)).astype("float32")
