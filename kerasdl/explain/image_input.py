"""Explaining image classifiers that take flat inputs, through an image-input view.

`kerasdl train`, `kerasdl compare` and the model registry train image models on
*flat* rows `(batch, height * width * channels)`, because scikit-learn passes 2-D
arrays: their models begin with `Reshape((height, width, channels))` (SmallCNN with
`flat_input=True`; `Input -> Reshape "to_image" -> the convnet as a nested model`
for the registry's convnets). Grad-CAM and saliency explain an *image*: they need
a model whose input is `(batch, height, width, channels)`.

`image_input_model(model)` gives that model: a functional model that takes the
image and runs every layer after the Reshape, the very same layer objects (so the
same weights, and later training of either shows in both). Its outputs equal
`model(image.reshape(1, -1))`. `grad_cam`, `saliency`, `conv_layer_names` and
`default_target_layer` call it themselves, so a flat-input model can be passed to
them directly, with an image `(height, width, channels)`.
"""

from __future__ import annotations

import keras

from kerasdl import backend as kb
from kerasdl.explain import _graph

__all__ = ["flat_image_reshape", "image_input_model"]

_VIEW_ATTRIBUTE = "_kerasdl_image_input_view"


def _image_shape(layer):
    """`(h, w, c)` if `layer` is a Reshape to a fully known image shape, else None."""
    if not isinstance(layer, keras.layers.Reshape):
        return None
    shape = _graph.output_shape(layer)
    if shape is None or len(shape) != 4 or any(d is None for d in shape[1:]):
        return None
    return tuple(int(d) for d in shape[1:])


def flat_image_reshape(model):
    """The Reshape layer that turns `model`'s flat input into an image, or None.

    It is found when `model` is a functional or Sequential model with one input of
    rank 2 `(batch, features)`, and that input feeds exactly one layer: a
    `keras.layers.Reshape` to `(height, width, channels)`. Anything else (an image
    input, a flat input also used by another layer, a Reshape to another rank)
    gives None.

    Args:
        model: A Keras model (or anything: None is returned for non-models).

    Returns:
        The `keras.layers.Reshape` layer, or None.
    """
    kind = _graph.graph_kind(model)
    if kind is None:
        return None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 2:
        return None
    if kind == "sequential":
        layers = model.layers
        first = layers[0] if layers else None
        return first if _image_shape(first) is not None else None
    source = inputs[0]
    consumers = [
        op
        for op, input_tensors in kb.graph_calls(model)
        if any(tensor is source for tensor in input_tensors)
    ]
    if len(consumers) != 1 or any(out is source for out in model.outputs):
        return None
    layer = consumers[0]
    return layer if _image_shape(layer) is not None else None


def image_input_model(model):
    """`model` with image inputs: itself, or a view past its flat-input Reshape.

    If `flat_image_reshape(model)` finds the Reshape that turns flat rows into
    images, returns a functional model `keras.Input((h, w, c)) -> the layers after
    that Reshape` sharing `model`'s layers and weights, built once and kept on
    `model` (so Grad-CAM's compiled gradients are reused). Any other model is
    returned as it is.

    Args:
        model: A Keras model, e.g. one loaded from the `model.keras` written by
            `kerasdl train cnn --model lenet5`.

    Returns:
        A Keras model taking `(batch, height, width, channels)`, or `model`.

    Example:

    ```python
    model = keras.saving.load_model("runs/train/lenet5/model.keras")
    view = image_input_model(model)          # input (None, 8, 8, 1)
    view(image[None]) == model(image.reshape(1, -1))
    ```
    """
    view = getattr(model, _VIEW_ATTRIBUTE, None) if model is not None else None
    if view is not None:
        return view
    reshape = flat_image_reshape(model)
    if reshape is None:
        return model
    image = keras.Input(shape=_image_shape(reshape), name=f"{model.name}_image")
    if _graph.graph_kind(model) == "sequential":
        x = image
        for layer in model.layers[1:]:
            x = layer(x)
        outputs = x
    else:

        def operation_fn(op):
            if op is reshape:  # the image is what the Reshape would have made
                return lambda *args, **kwargs: image
            return op

        outputs = kb.run_graph(model, [image], operation_fn)
    view = keras.Model(image, outputs, name=f"{model.name}_image_input")
    # A plain attribute: Keras would otherwise track the view as a sub-model.
    object.__setattr__(model, _VIEW_ATTRIBUTE, view)
    return view
