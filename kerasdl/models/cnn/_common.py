"""Pieces shared by the convnet families: argument checks, the small-input rule,
width scaling and the classification head."""

from __future__ import annotations

import keras

from kerasdl._checks import check_bool, check_float, check_image_shape, check_int
from kerasdl.layers.conv_blocks import check_activation
from kerasdl.models.base import FunctionalModel

__all__ = [
    "POOLINGS",
    "SMALL_INPUT_CHOICES",
    "ConvNet",
    "add_head",
    "downsampled",
    "check_head_args",
    "check_width_multiplier",
    "check_int_tuple",
    "check_min_size",
    "check_units",
    "resolve_small_input",
    "scale_filters",
]

SMALL_INPUT_CHOICES = ("auto", True, False)
POOLINGS = (None, "avg", "max")


def check_int_tuple(name, values, length=None, minimum=1):
    """A non-empty tuple of ints >= `minimum` (of `length` entries when given)."""
    if not isinstance(values, (tuple, list)) or not values:
        raise ValueError(
            f"`{name}` must be a non-empty tuple of integers; received "
            f"{name}={values!r}."
        )
    if length is not None and len(values) != length:
        raise ValueError(
            f"`{name}` must have {length} entries; received {name}={values!r}."
        )
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(
                f"`{name}` must contain integers >= {minimum}; received "
                f"{name}={values!r}."
            )
    return tuple(int(v) for v in values)


def check_units(dense_units, name="dense_units"):
    """A tuple of dense-layer widths; an empty tuple is allowed (no hidden layer)."""
    if isinstance(dense_units, (tuple, list)) and len(dense_units) == 0:
        return ()
    return check_int_tuple(name, dense_units)


def resolve_small_input(small_input, input_shape, threshold):
    """The small-input switch: `"auto"` means `min(height, width) < threshold`."""
    if small_input not in SMALL_INPUT_CHOICES or (
        not isinstance(small_input, (bool, str))
    ):
        raise ValueError(
            "`small_input` must be 'auto', True or False; received "
            f"small_input={small_input!r}."
        )
    if small_input == "auto":
        return min(input_shape[:2]) < threshold
    return small_input


def check_min_size(model_name, input_shape, minimum, reason):
    """ValueError naming the smallest image `model_name` accepts, and why."""
    check_image_shape(
        "input_shape",
        input_shape,
        min_size=minimum,
        reason=f"{model_name} needs it ({reason}).",
    )


def scale_filters(filters, width_multiplier):
    """`filters * width_multiplier`, rounded, at least 1."""
    return max(1, int(round(filters * width_multiplier)))


def check_head_args(arguments):
    """The classification-head arguments every convnet takes, checked once and read
    by name from `arguments` (the constructor's `locals()`): a dict of
    `num_classes`, `include_top`, `pooling`, `dropout` and `head_activation`, ready
    for `add_head(x, **head)` and the config."""
    num_classes = check_int("num_classes", arguments["num_classes"], minimum=2)
    include_top = check_bool("include_top", arguments["include_top"])
    pooling = arguments["pooling"]
    if pooling not in POOLINGS:
        raise ValueError(
            f"`pooling` must be one of {POOLINGS}; received pooling={pooling!r}."
        )
    if include_top and pooling is not None:
        raise ValueError(
            "`pooling` only applies with include_top=False (the classification "
            f"head has its own); received pooling={pooling!r} with include_top=True."
        )
    dropout = check_float(
        "dropout", arguments["dropout"], low=0.0, high=1.0, high_open=True
    )
    head_activation = arguments["head_activation"]
    if head_activation not in ("softmax", None):
        raise ValueError(
            "`head_activation` must be 'softmax' or None (logits); received "
            f"head_activation={head_activation!r}."
        )
    return {
        "num_classes": num_classes,
        "include_top": include_top,
        "pooling": pooling,
        "dropout": dropout,
        "head_activation": head_activation,
    }


def check_width_multiplier(width_multiplier):
    """A width multiplier > 0, as a float."""
    return check_float("width_multiplier", width_multiplier, low=0.0, low_open=True)


def add_head(
    x,
    *,
    include_top,
    num_classes,
    pooling,
    dropout,
    head_activation,
    dense_units=(),
    activation="relu",
    flatten=False,
):
    """The end of a convnet.

    With `include_top`: global average pooling (or `flatten`), then for each
    entry of `dense_units` Dense(activation) -> Dropout (the AlexNet/VGG
    classifier: dropout on the hidden dense layers' outputs) or, without dense
    layers, Dropout; then Dense(`num_classes`, `head_activation`).
    Without it: the feature map, or its global `pooling` ("avg"/"max").
    """
    if not include_top:
        if pooling == "avg":
            return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if pooling == "max":
            return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
        return x
    if flatten:
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    check_activation(activation)
    for i, units in enumerate(dense_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"fc{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    if dropout and not dense_units:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(
        num_classes, activation=head_activation, name="predictions"
    )(x)


def downsampled(size, window, strides, padding):
    """`(height, width)` after a window/stride op, with `None` kept."""
    from kerasdl.layers.conv_blocks import conv_output_size

    return tuple(conv_output_size(s, window, strides, padding) for s in size)


def _tuples(value):
    """JSON turns tuples into lists; turn them back (recursively)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


class ConvNet(FunctionalModel):
    """Config plumbing shared by the convnet classes (not registered: abstract).

    Subclasses build their functional graph, call `super().__init__(inputs=...,
    outputs=..., name=..., **kwargs)` and then `self._store_config(...)` with every
    `__init__` argument except `name` and `**kwargs`.
    """

    def _store_config(self, **config):
        self._convnet_config = config
        self.image_shape = config["input_shape"]
        self.num_classes = config["num_classes"]

    def get_config(self):
        return {**super().get_config(), **self._convnet_config}

    @classmethod
    def from_config(cls, config):
        return cls(**{key: _tuples(value) for key, value in config.items()})
