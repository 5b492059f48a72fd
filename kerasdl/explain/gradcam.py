"""Grad-CAM: where in the image a convolutional classifier looks for a class.

Grad-CAM (Selvaraju et al., 2017, https://arxiv.org/abs/1610.02391) weighs the
feature maps `A_k` of a convolutional layer by how much the class score `y_c`
depends on them on average,

    alpha_k = mean over (i, j) of d y_c / d A_k[i, j],
    heatmap = ReLU(sum_k alpha_k A_k),

and scales the result to [0, 1]. The gradient with respect to an *inner*
activation is taken backend-neutrally (see `kerasdl.explain._graph`): the graph is
re-run with a probe `delta` added to the layer's output, and the seam's
`compile_input_gradient` differentiates the score with respect to `delta` at 0
(jit-compiled on JAX, a `tf.function` on TensorFlow; once per model and layer,
then reused for every image and class).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl.explain import _graph
from kerasdl.explain._checks import (
    check_class_index,
    check_image_model,
    check_predictions,
    normalize_map,
    prepare_image,
    resize_map,
)
from kerasdl.explain.image_input import image_input_model

__all__ = [
    "LayerGradients",
    "activations_and_gradients",
    "conv_layer_names",
    "default_target_layer",
    "grad_cam",
]


class LayerGradients(NamedTuple):
    """A layer's activation for one image and the class score's gradient there.

    Attributes:
        activations: `(h, w, k)` feature maps of the layer.
        gradients: `(h, w, k)` gradient of the class score with respect to them.
        class_index: The class whose score was differentiated.
        layer_name: The layer.
        predictions: `(num_classes,)` model outputs for the image (probabilities
            for a softmax head, whatever `use_logits`).
    """

    activations: np.ndarray
    gradients: np.ndarray
    class_index: int
    layer_name: str
    predictions: np.ndarray


def _check_graph_model(model, what="Grad-CAM"):
    """The model's `(input_shape, num_classes)`; ValueError unless it is a built
    functional or Sequential image classifier."""
    if _graph.graph_kind(model) is None:
        raise ValueError(
            f"{what} needs a functional or Sequential model (a graph of layers, "
            "such as kerasdl.models.SmallCNN) to reach an inner layer; received "
            f"{type(model).__name__!r}. kerasdl.explain.saliency needs only the "
            "input gradient and explains any model."
        )
    input_shape, num_classes = check_image_model(model, what)
    if input_shape is None:
        raise ValueError(
            f"{what} needs a built model with known inputs and outputs; model "
            f"{model.name!r} has none yet (start it with keras.Input(shape))."
        )
    return input_shape, num_classes


def _spatial_layers(model) -> list:
    """`(layer, output_shape)` for each layer with a 4-D output, in graph order."""
    found = []
    for layer in _graph.walk_layers(model):
        shape = _graph.output_shape(layer)
        if shape is not None and len(shape) == 4:
            found.append((layer, shape))
    return found


def conv_layer_names(model) -> list[str]:
    """Names of the convolutional layers of `model` with a 4-D output, in order.

    Convolutional means a Keras `Conv2D`, `Conv2DTranspose`, `DepthwiseConv2D` or
    `SeparableConv2D`, or a custom block layer containing one; layers of nested
    functional or Sequential sub-models are included.

    Args:
        model: A built functional or Sequential image classifier.

    Returns:
        The layer names, in graph order (the candidates for `layer_name`).
    """
    model = image_input_model(model)
    _check_graph_model(model, "conv_layer_names")
    return [
        layer.name
        for layer, _ in _spatial_layers(model)
        if _graph.is_convolutional(layer)
    ]


def _is_wide(shape) -> bool:
    """Whether a `(batch, height, width, channels)` map has more than one position
    (unknown sizes count as wide)."""
    height, width = shape[1:3]
    return height is None or width is None or height * width > 1


def _default_target(model):
    spatial = _spatial_layers(model)
    convs = [
        i for i, (layer, _) in enumerate(spatial) if _graph.is_convolutional(layer)
    ]
    if not convs:
        raise ValueError(
            f"Model {model.name!r} has no convolutional layer with a 4-D output "
            "(Conv2D, DepthwiseConv2D, SeparableConv2D or a conv block) to take "
            "Grad-CAM at; pass layer_name= naming a layer with a 4-D output."
        )
    # A 1x1 map (a small image after all its downsampling: ResNet-18 on 8x8
    # digits) cannot say where; take the last convolution with a larger map.
    wide = [i for i in convs if _is_wide(spatial[i][1])]
    last = wide[-1] if wide else convs[-1]
    size = spatial[last][1][1:3]
    chosen = last
    for i in range(last + 1, len(spatial)):
        if spatial[i][1][1:3] == size:
            chosen = i
    return spatial[chosen][0]


def default_target_layer(model) -> str:
    """The layer `grad_cam` uses when `layer_name` is None.

    It is the last layer with a 4-D output at the resolution of the last
    convolution, among that convolution and the layers after it: so the map is taken
    after the convolution's batch normalization and non-linearity (as Grad-CAM
    uses rectified conv features), and after the `Add` and activation that end a
    residual block, but before any pooling that would coarsen it. When the last
    convolution's map is 1x1 (ResNet-18 on 8x8 digits ends at 1x1), which cannot
    say where anything is, the last convolution with a larger map is used.

    Args:
        model: A built functional or Sequential image classifier.

    Returns:
        The layer's name (`"block2_conv2_relu"` for `SmallCNN` with two blocks).
    """
    model = image_input_model(model)
    _check_graph_model(model, "default_target_layer")
    return _default_target(model).name


def _find_layer(model, layer_name):
    if layer_name is None:
        return _default_target(model)
    if not isinstance(layer_name, str):
        raise ValueError(
            f"`layer_name` must be a layer name (str) or None; received "
            f"layer_name={layer_name!r}."
        )
    matches = [layer for layer in _graph.walk_layers(model) if layer.name == layer_name]
    convs = [
        layer.name
        for layer, _ in _spatial_layers(model)
        if _graph.is_convolutional(layer)
    ]
    if not matches:
        raise ValueError(
            f"Model {model.name!r} has no layer named {layer_name!r}; its "
            f"convolutional layers are {convs}."
        )
    if len(matches) > 1:
        raise ValueError(
            f"Model {model.name!r} has {len(matches)} layers named {layer_name!r} "
            "(in nested sub-models); rename them to choose one."
        )
    layer = matches[0]
    shape = _graph.output_shape(layer)
    if shape is None or len(shape) != 4:
        raise ValueError(
            f"Layer {layer_name!r} has output shape {shape}; Grad-CAM needs a layer "
            "with a 4-D output (batch, height, width, channels), such as one of "
            f"{convs}."
        )
    return layer


def _gradient_function(model, layer, use_logits):
    """`f(delta, x, target) -> (score, (activations, predictions), d score/d delta)`
    where score = target . logits(model with `delta` added to `layer`'s output);
    compiled once per model, layer and `use_logits` (see
    `kerasdl.backend.compile_input_gradient`), and kept on the model."""
    cache = getattr(model, "_kerasdl_gradcam_functions", None)
    if cache is None:
        cache = {}
        # A plain attribute: Keras would otherwise track the dict as model state.
        object.__setattr__(model, "_kerasdl_gradcam_functions", cache)
    key = (id(layer), use_logits)
    if key not in cache:
        logits_of = _graph.squashing_layer(model) if use_logits else None

        def score(delta, x, target):
            captured, squashed = [], []
            outputs = _graph.run_with_probe(
                model,
                x,
                layer,
                delta=delta,
                captured=captured,
                logits_of=logits_of,
                squashed=squashed,
            )
            predictions = squashed[0] if squashed else outputs
            value = ops.sum(ops.multiply(ops.cast(outputs, "float32")[0], target))
            return value, (captured[0], predictions)

        cache[key] = backend.compile_input_gradient(score, model.variables)
    return cache[key]


def activations_and_gradients(
    model,
    image,
    layer_name: str | None = None,
    class_index: int | None = None,
    use_logits: bool = True,
) -> LayerGradients:
    """A layer's feature maps for `image` and the gradient of a class score there.

    The gradient is exact (automatic differentiation), also when the layer's output
    feeds several layers (a residual block's shortcut). The model runs in inference
    mode (dropout off, batch normalization on its moving statistics).

    Args:
        model: A functional or Sequential image classifier (one input
            `(batch, h, w, c)`, one output `(batch, num_classes)`).
        image: One image `(h, w, c)`, or a batch of one `(1, h, w, c)`; `(h, w)`
            when the model takes one channel.
        layer_name: The layer; None for `default_target_layer(model)`.
        class_index: The class whose score is differentiated; None for the
            predicted class.
        use_logits: If True (default) and the model's last layer ends in a
            softmax or sigmoid, the score is the value before it (the logit);
            otherwise the model's output. See `grad_cam`.

    Returns:
        A `LayerGradients`.
    """
    if not isinstance(use_logits, bool):
        raise ValueError(
            f"`use_logits` must be True or False; received {use_logits!r}."
        )
    model = image_input_model(model)
    input_shape, num_classes = _check_graph_model(model)
    x = prepare_image(image, input_shape)
    layer = _find_layer(model, layer_name)
    calls = _graph.count_calls(model, layer)
    if calls != 1:
        raise ValueError(
            f"Layer {layer.name!r} runs {calls} times in model {model.name!r}; "
            "Grad-CAM needs a layer that runs once per call."
        )

    probe_shape = _graph.output_shape(layer)
    if probe_shape is None or None in probe_shape[1:]:  # sizes known only when run
        captured = []
        _graph.run_with_probe(model, x, layer, captured=captured)
        probe_shape = tuple(ops.shape(captured[0]))
    probe = np.zeros((1, *probe_shape[1:]), dtype="float32")
    gradient_fn = _gradient_function(model, layer, use_logits)

    if class_index is None:  # a zero target: just the predictions, for the class
        _, (_, predictions), _ = gradient_fn(probe, x, np.zeros(num_classes, "f4"))
        predictions = check_predictions(predictions, "Grad-CAM")
        class_index = int(np.argmax(predictions))
    class_index = check_class_index(class_index, num_classes, None)
    target = np.eye(num_classes, dtype="float32")[class_index]
    _, (activations, predictions), gradients = gradient_fn(probe, x, target)
    predictions = check_predictions(predictions, "Grad-CAM")
    return LayerGradients(
        activations=np.asarray(ops.convert_to_numpy(activations), "float32")[0],
        gradients=np.asarray(ops.convert_to_numpy(gradients), "float32")[0],
        class_index=class_index,
        layer_name=layer.name,
        predictions=predictions,
    )


def grad_cam(
    model,
    image,
    class_index: int | None = None,
    layer_name: str | None = None,
    upsample: bool = True,
    use_logits: bool = True,
) -> np.ndarray:
    """The Grad-CAM heatmap of `model` for one image and one class.

    Args:
        model: A functional or Sequential image classifier (one input
            `(batch, h, w, c)`, one output `(batch, num_classes)`), e.g.
            `kerasdl.models.SmallCNN`; nested functional sub-models and residual
            (skip) connections are supported, and so are flat-input models
            `(batch, h * w * c) -> Reshape -> ...` as `kerasdl train` saves them
            (see `kerasdl.explain.image_input`).
        image: One image `(h, w, c)` (or `(1, h, w, c)`, or `(h, w)` for a
            one-channel model), preprocessed as the model expects.
        class_index: The class to explain; None explains the predicted class.
        layer_name: The layer whose feature maps are weighed; None takes
            `default_target_layer(model)` (the last convolution's rectified
            output). Must have a 4-D output.
        upsample: If True (default) the heatmap is resized (bilinear) to the
            image's height and width, and scaled again to a maximum of 1; if False
            it has the layer's spatial size.
        use_logits: If True (default) and the model's last layer ends in a
            softmax or sigmoid (a `Dense(..., activation="softmax")`, a
            `Softmax` or an `Activation` layer), the class score is the value
            before it, the logit, as in the Grad-CAM paper: a confident model's
            probability saturates (1.0 in float32) and its gradient, hence the
            heatmap, vanishes. If False, the model's output itself.

    Returns:
        A float32 NumPy array `(height, width)` with values in [0, 1] (1 at the
        most important location; all zeros if no location raises the score).

    Grad-CAM weighs each channel by its gradient *averaged over positions*, which
    is exact for a global-average-pooling head. A head that flattens the map and
    decides by *where* a feature is (the same feature counting for one class here
    and another there) loses that in the average: explain such models with
    `saliency`. The first call for a model and layer compiles the gradient
    (fractions of a second for a small CNN); later calls reuse it.

    Example:

    ```python
    heatmap = grad_cam(model, x_test[0])          # (8, 8) for 8x8 digits
    rgb = overlay_heatmap(x_test[0], heatmap)
    ```
    """
    if not isinstance(upsample, bool):
        raise ValueError(f"`upsample` must be True or False; received {upsample!r}.")
    model = image_input_model(model)
    result = activations_and_gradients(
        model, image, layer_name, class_index, use_logits=use_logits
    )
    weights = result.gradients.mean(axis=(0, 1))
    cam = np.maximum(np.tensordot(result.activations, weights, axes=([2], [0])), 0.0)
    heatmap = normalize_map(cam)
    if upsample:
        size = prepare_image(image, _check_graph_model(model)[0]).shape[1:3]
        # Bilinear interpolation between the layer's cells rarely lands on the peak:
        # scale again so that 1 still marks the most important location.
        heatmap = normalize_map(np.maximum(resize_map(heatmap, size), 0.0))
    return heatmap.astype("float32")
