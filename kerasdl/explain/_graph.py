"""Walking a model's layers and re-running its graph with a probe on one layer.

Grad-CAM needs d(class score) / d(activation of an inner layer). The activation is
not an input of the model, so `kerasdl.backend.input_gradient` cannot see it
directly. This module makes it one: `run_with_probe` re-runs the model's graph, node
by node, exactly as `keras.Model.__call__` would, but adds a tensor `delta` to the
chosen layer's output. The class score is then a function of `delta`, and

    d score / d activation  =  d score(delta) / d delta  at delta = 0,

an *input* gradient, which the backend seam takes on every backend. Every consumer
of the activation (the next layer *and* a skip connection's `Add`) sees the probed
tensor, because the probe sits on the layer's output, not on an edge of the graph.

Functional models (including `keras.Model` subclasses built from inputs and outputs,
such as `kerasdl.models.SmallCNN`) are re-run with Keras's own graph executor, which
only private Keras API reaches (`kerasdl.backend.run_graph` isolates it); Sequential
models layer by layer; nested functional or Sequential sub-models recursively.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl import backend as kb

#: Keras layers whose output is a convolution's feature map.
CONV_LAYERS = (
    keras.layers.Conv2D,
    keras.layers.Conv2DTranspose,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
)


def graph_kind(layer) -> str | None:
    """`"functional"`, `"sequential"`, or None for a layer without a graph."""
    if isinstance(layer, keras.Sequential):
        return "sequential"
    if kb.is_functional(layer):
        return "functional"
    return None


def is_convolutional(layer) -> bool:
    """A Keras convolution, or a custom block (not a graph model) containing one."""
    if isinstance(layer, CONV_LAYERS):
        return True
    if graph_kind(layer) is not None:
        return False
    return any(isinstance(sub, CONV_LAYERS) for sub in kb.sublayers(layer))


def walk_layers(model) -> list:
    """The layers of `model` in graph order, nested graph models expanded in place."""
    layers = []
    for layer in model.layers:
        if graph_kind(layer) is not None:
            layers.extend(walk_layers(layer))
        else:
            layers.append(layer)
    return layers


def output_shape(layer):
    """The (first) output shape of `layer` in its graph, or None if not one tensor."""
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return None
    if isinstance(output, (list, tuple, dict)):
        return None
    shape = getattr(output, "shape", None)
    return None if shape is None else tuple(shape)


def contains(model, target) -> bool:
    """Whether `target` is a layer of graph model `model` (at any depth)."""
    if graph_kind(model) is None:
        return False
    return any(layer is target for layer in walk_layers(model))


def count_calls(model, target) -> int:
    """How many times `target` runs in one call of `model` (nested models included)."""
    kind = graph_kind(model)
    if kind == "sequential":
        operations = list(model.layers)
    else:
        operations = [op for op, _ in kb.graph_calls(model)]
    total = 0
    for op in operations:
        if op is target:
            total += 1
        elif contains(op, target):
            total += count_calls(op, target)
    return total


_SQUASHING = ("softmax", "sigmoid")


def output_layer(model):
    """The layer computing `model`'s first output (inside nested graph models)."""
    if graph_kind(model) == "sequential":
        layer = model.layers[-1] if model.layers else None
    else:
        layer = kb.producing_layer(model.outputs[0])
    if layer is not None and graph_kind(layer) is not None:
        return output_layer(layer)
    return layer


def squashing_layer(model):
    """The output layer if it ends in a softmax or sigmoid, else None."""
    layer = output_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return layer
    activation = getattr(layer, "activation", None)
    if getattr(activation, "__name__", None) in _SQUASHING:
        return layer
    return None


def _without_squashing(op, squashed=None):
    """`op` called without its final softmax/sigmoid: it returns logits (and
    appends the probabilities it would have returned to `squashed`)."""

    def call(*args, **kwargs):
        if isinstance(op, (keras.layers.Softmax, keras.layers.Activation)):
            logits = args[0]
            if squashed is not None:
                squashed.append(op(*args, **kwargs))
            return logits
        saved = op.activation
        op.activation = keras.activations.linear
        try:
            logits = op(*args, **kwargs)
        finally:
            op.activation = saved
        if squashed is not None:
            squashed.append(saved(logits))
        return logits

    return call


def run_with_probe(
    model, inputs, target, delta=None, captured=None, logits_of=None, squashed=None
):
    """Run `model` on `inputs`, adding `delta` to `target`'s output.

    Args:
        model: A functional or Sequential Keras model.
        inputs: The model's input(s), as for `model(inputs)`.
        target: A layer of `model` (at any nesting depth) that runs once per call,
            or None.
        delta: A tensor broadcastable to `target`'s output, added to it; None adds
            nothing.
        captured: Optional list; `target`'s output (before `delta`) is appended.
        logits_of: Optional layer (`squashing_layer(model)`) run without its
            softmax/sigmoid, so that the model returns logits.
        squashed: Optional list; with `logits_of`, the model's usual outputs (the
            probabilities) are appended.

    Returns:
        The model's outputs, as `model(inputs)` (inference mode) returns them.
    """

    def operation_fn(op):
        if op is logits_of:
            return _without_squashing(op, squashed)
        if op is target:

            def probed(*args, **kwargs):
                out = op(*args, **kwargs)
                if captured is not None:
                    captured.append(out)
                if delta is not None:
                    out = out + ops.cast(delta, out.dtype)
                return out

            return probed
        if (target is not None and contains(op, target)) or (
            logits_of is not None and contains(op, logits_of)
        ):
            return lambda *args, **kwargs: run_with_probe(
                op,
                args[0] if len(args) == 1 else list(args),
                target,
                delta,
                captured,
                logits_of,
                squashed,
            )
        return op

    if graph_kind(model) == "sequential":
        x = inputs
        for layer in model.layers:
            x = operation_fn(layer)(x)
        return x
    return kb.run_graph(model, inputs, operation_fn)
