"""Model-parallel layouts: which weights are split over which mesh axis.

The mesh axis names, the Megatron-LM rules that split the Transformer blocks of
`kerasdl.layers` over the `model` axis (`transformer_layout_map`), and the
`ModelParallel` distribution that checks each layout against its weight's shape.
`kerasdl.training.distribute` builds distributions with them.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras

__all__ = [
    "BATCH_AXIS",
    "MODEL_AXIS",
    "TRANSFORMER_LAYOUT_RULES",
    "CheckedModelParallel",
    "transformer_layout_map",
]

#: The mesh axis names of model-parallel distributions.
BATCH_AXIS = "batch"
MODEL_AXIS = "model"

#: Weight-path regexes of `kerasdl.layers.MultiHeadAttention` and the blocks'
#: feed-forward layers, and how each weight is split over the `model` axis: the
#: query/key/value projections by head, the output projection by head (its input
#: side), the first feed-forward layer by output unit and the second by input
#: unit. So each device computes whole heads and a slice of the feed-forward
#: width, and each block needs one all-reduce after attention and one after the
#: feed-forward network (Shoeybi et al., 2019, "Megatron-LM").
TRANSFORMER_LAYOUT_RULES = {
    r"(?:.*/)?(?:query|key|value)_kernel": (None, MODEL_AXIS, None),
    r"(?:.*/)?(?:query|key|value)_bias": (MODEL_AXIS, None),
    r"(?:.*/)?output_kernel": (MODEL_AXIS, None, None),
    r"(?:.*/)?ffn_intermediate/kernel": (None, MODEL_AXIS),
    r"(?:.*/)?ffn_intermediate/bias": (MODEL_AXIS,),
    r"(?:.*/)?ffn_output/kernel": (MODEL_AXIS, None),
}


def transformer_layout_map(mesh, rules: Mapping | None = None):
    """A `keras.distribution.LayoutMap` that splits Transformer blocks over `model`.

    Applies `TRANSFORMER_LAYOUT_RULES` (the attention heads and the feed-forward
    width of `kerasdl.layers.TransformerEncoderBlock`/`TransformerDecoderBlock`
    and of `kerasdl.layers.MultiHeadAttention`, whatever model holds them: GPT,
    BERT, ViT, encoder-decoder). Every other weight (embeddings, norms, heads)
    is replicated. The split sizes must divide by the mesh's `model` axis: the
    number of heads and the feed-forward width.

    Args:
        mesh: A `keras.distribution.DeviceMesh` with a `"model"` axis.
        rules: Optional `{path_regex: axes}` used instead of the default rules
            (each weight path may match at most one regex; regexes must match
            the whole path, as `LayoutMap` uses `re.fullmatch`).

    Returns:
        The `LayoutMap`.

    Example:
        >>> mesh = keras.distribution.DeviceMesh(
        ...     (2, 2), ("batch", "model"), list_devices())
        >>> distribution = keras.distribution.ModelParallel(
        ...     layout_map=transformer_layout_map(mesh), batch_dim_name="batch")
    """
    if not isinstance(mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "mesh must be a keras.distribution.DeviceMesh; received "
            f"{type(mesh).__name__}."
        )
    if MODEL_AXIS not in mesh.axis_names:
        raise ValueError(
            f"mesh must have a {MODEL_AXIS!r} axis to split weights along; received "
            f"axis names {list(mesh.axis_names)}."
        )
    layout_map = keras.distribution.LayoutMap(mesh)
    for pattern, axes in (TRANSFORMER_LAYOUT_RULES if rules is None else rules).items():
        layout_map[pattern] = tuple(axes)
    return layout_map


def _check_layout(variable, layout) -> None:
    """Clear errors where JAX would fail deep inside `device_put`."""
    shape = tuple(variable.shape)
    axes = tuple(layout.axes)
    if len(axes) != len(shape):
        raise ValueError(
            f"The layout {axes} for weight {variable.path!r} has {len(axes)} axes "
            f"but the weight has shape {shape}; fix the LayoutMap rule that "
            "matches this path."
        )
    mesh = layout.device_mesh
    for dim, (size, axis) in enumerate(zip(shape, axes, strict=True)):
        if axis is None:
            continue
        parts = mesh.shape[list(mesh.axis_names).index(axis)]
        if size % parts:
            raise ValueError(
                f"Weight {variable.path!r} of shape {shape} cannot be split along "
                f"mesh axis {axis!r} ({parts} devices): its dimension {dim} has "
                f"size {size}, not a multiple of {parts}. Choose model_axis to "
                "divide the number of heads and the feed-forward width."
            )


class CheckedModelParallel(keras.distribution.ModelParallel):
    """`ModelParallel` that checks each layout against its weight's shape."""

    def get_variable_layout(self, variable):
        layout = super().get_variable_layout(variable)
        _check_layout(variable, layout)
        return layout
