"""The few private Keras internals kerasdl uses, each behind one small function.

Keras has no public API for these; everything else in kerasdl uses public Keras.
Each function fails with a `KerasInternalsError` naming what moved, and
`tests/test_keras_internals.py` checks every one against the installed Keras, so
a Keras upgrade that changes them fails there, loudly, not deep in a user's run.

- `set_keras_seed`: Keras's global seed, set without importing TensorFlow
  (`keras.utils.set_random_seed` imports it to seed it too).
- `sublayers`: every layer nested in a layer (`Layer._flatten_layers`).
- `is_functional`, `graph_calls`, `run_graph`: a functional model's graph,
  re-run with chosen layers replaced (`Functional._run_through_graph`, the method
  `Functional.call` uses; Grad-CAM probes an inner activation with it).
- `producing_layer`: the layer that computed a symbolic tensor (`_keras_history`).
"""

from __future__ import annotations

import keras


class KerasInternalsError(RuntimeError):
    """A private Keras internal kerasdl relies on is missing or changed."""


def _missing(what: str, error: Exception | None = None) -> KerasInternalsError:
    return KerasInternalsError(
        f"kerasdl relies on Keras's private {what}, which this Keras "
        f"({keras.__version__}) does not have"
        + (f" ({type(error).__name__}: {error})" if error else "")
        + ". Keras has no public equivalent; kerasdl/_backends/keras_internals.py "
        "must be updated for this Keras version."
    )


def set_keras_seed(seed: int) -> None:
    """Seed Keras's global random state (`keras.random` without a SeedGenerator).

    What `keras.utils.set_random_seed` does for Keras, without the TensorFlow
    import (Python's and NumPy's seeds are the caller's business).
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError as error:
        what = "global seed state (keras.src.utils.rng_utils)"
        raise _missing(what, error) from error
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)


def sublayers(layer, *, include_self: bool = False) -> list:
    """Every layer nested in `layer`, at any depth (and `layer` first if asked)."""
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is None:
        raise _missing("Layer._flatten_layers")
    return list(flatten(include_self=include_self, recursive=True))


def is_functional(model) -> bool:
    """Whether `model` is a functional graph (`keras.Model(inputs, outputs)`,
    subclasses built that way included; not Sequential)."""
    if isinstance(model, keras.Sequential) or not isinstance(model, keras.Model):
        return False
    return (
        hasattr(model, "_run_through_graph")
        and getattr(model, "_nodes_by_depth", None) is not None
    )


def graph_calls(model) -> list[tuple]:
    """`(layer, input_tensors)` for each layer call in functional `model`'s graph."""
    nodes_by_depth = getattr(model, "_nodes_by_depth", None)
    if nodes_by_depth is None:
        raise _missing("Functional._nodes_by_depth")
    return [
        (node.operation, tuple(node.input_tensors))
        for nodes in nodes_by_depth.values()
        for node in nodes
        if node.operation is not None and not node.is_input
    ]


def run_graph(model, inputs, operation_fn):
    """Run functional `model` on `inputs`, each layer `op` replaced by
    `operation_fn(op)` (a callable taking the layer's call arguments).

    Returns:
        The model's outputs (a one-element list is unwrapped), in inference mode.
    """
    run = getattr(model, "_run_through_graph", None)
    if run is None:
        raise _missing("Functional._run_through_graph")
    outputs = run(keras.tree.flatten(inputs), operation_fn=operation_fn)
    if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
        outputs = outputs[0]
    return outputs


def producing_layer(tensor):
    """The layer whose call produced symbolic `tensor` (a `KerasTensor`)."""
    history = getattr(tensor, "_keras_history", None)
    if history is None or not hasattr(history, "operation"):
        raise _missing("KerasTensor._keras_history.operation")
    return history.operation
