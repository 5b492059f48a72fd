"""Transfer learning, the models: a backbone, cut at a feature map, under a new head.

- `load_backbone`: one of our convnets, a saved `.keras` model, or a
  `keras.applications` model with ImageNet or file weights.
- `build_transfer_model`: pooling -> dropout -> Dense on the backbone, which runs
  inside an `InferenceModeModel` so its batch-norm layers keep their moving
  statistics even when unfrozen.
- `backbone_blocks`, `freeze_backbone`, `unfreeze_top_blocks`: the units one
  unfreezes for fine-tuning (top-level layers with weights in our convnets; layers
  sharing a block prefix in the `keras.applications` graphs).

The two-phase training recipe is `kerasdl.recipes.fit_transfer`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import keras

from kerasdl import backend as kb
from kerasdl._checks import check_float, check_int
from kerasdl._keras_home import keras_home

__all__ = [
    "BACKBONE_LAYER_NAME",
    "HEAD_POOLINGS",
    "InferenceModeModel",
    "application_names",
    "backbone_blocks",
    "build_transfer_model",
    "feature_extractor",
    "freeze_backbone",
    "get_backbone",
    "load_backbone",
    "unfreeze_top_blocks",
]

#: The name of the backbone sub-model inside a transfer model.
BACKBONE_LAYER_NAME = "backbone"
#: `build_transfer_model(pooling=...)`: how the head turns a feature map into a vector.
HEAD_POOLINGS = {
    "avg": keras.layers.GlobalAveragePooling2D,
    "max": keras.layers.GlobalMaxPooling2D,
    "flatten": keras.layers.Flatten,
}

# Block prefixes of the keras.applications graphs, tried in this order.
_BLOCK_PATTERNS = (
    re.compile(r"^(conv\d+_block\d+)_"),  # ResNet, ResNetV2, DenseNet
    re.compile(r"^(block\d+[a-z])_"),  # EfficientNet
    re.compile(r"^(block_\d+|expanded_conv)_"),  # MobileNetV2
    re.compile(r"^(block\d+)_"),  # VGG, Xception
    re.compile(r"^(stage\d+_block\d+)"),  # ours, in a flattened graph
)


# === Backbones ===


def application_names() -> list[str]:
    """The model builders of `keras.applications` (e.g. `"ResNet50"`)."""
    return sorted(
        name
        for name in dir(keras.applications)
        if name[:1].isupper() and callable(getattr(keras.applications, name))
    )


def _check_weights_file(weights) -> Path:
    path = Path(weights)
    if not path.is_file():
        raise ValueError(
            f"`weights` must be None, 'imagenet' or the path of a weights file; "
            f"received weights={str(weights)!r}, which is not a file."
        )
    return path


def load_backbone(source, *, input_shape=None, weights=None, **builder_kwargs):
    """A backbone model from a model, a `.keras` file or a `keras.applications` name.

    Args:
        source: A `keras.Model` (returned as is, after loading `weights` into it),
            the path of a `.keras` file saved with `model.save`, or the name of a
            `keras.applications` builder (`"ResNet50"`, `"MobileNetV2"`,
            `"EfficientNetB0"` ... see `application_names()`), which is built
            without its classifier (`include_top=False`).
        input_shape: `(height, width, channels)` for a `keras.applications`
            model (its own minimum size and channel rules apply: 3 channels with
            ImageNet weights). Ignored for the other sources.
        weights: For a `keras.applications` name: None (random), `"imagenet"`
            (downloaded once by Keras into `$KERAS_HOME/models/`, then read from
            there) or the path of a weights file. For a model: None or the path of
            a `.weights.h5` file to load into it.
        **builder_kwargs: Other arguments of the `keras.applications` builder
            (e.g. `alpha=0.35` for MobileNetV2, `pooling="avg"`).

    Returns:
        A `keras.Model`. Images for ImageNet weights must be prepared with the
        family's own function, e.g. `keras.applications.resnet50.preprocess_input`.

    Raises:
        ValueError: For an unknown name, a missing file, or ImageNet weights that
            cannot be downloaded (offline): the message names the cache folder to
            put the file in, or suggests `weights=PATH`.
    """
    if builder_kwargs and (
        isinstance(source, keras.Model) or str(source).endswith(".keras")
    ):
        raise ValueError(
            "Builder arguments only apply to a keras.applications name; received "
            f"{sorted(builder_kwargs)} with source={source!r}."
        )
    if isinstance(source, keras.Model):
        if weights is not None:
            source.load_weights(_check_weights_file(weights))
        return source
    if isinstance(source, (str, os.PathLike)) and str(source).endswith(".keras"):
        path = Path(source)
        if not path.is_file():
            raise ValueError(
                f"`source` names a .keras file that does not exist; received "
                f"source={str(source)!r}."
            )
        model = keras.saving.load_model(path)
        if weights is not None:
            model.load_weights(_check_weights_file(weights))
        return model
    if not isinstance(source, str) or source not in application_names():
        raise ValueError(
            "`source` must be a keras.Model, the path of a .keras file or a "
            f"keras.applications name ({', '.join(application_names())}); "
            f"received source={source!r}."
        )
    if weights not in (None, "imagenet"):
        weights = str(_check_weights_file(weights))
    builder = getattr(keras.applications, source)
    kwargs = {**builder_kwargs, "include_top": False, "weights": weights}
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    try:
        return builder(**kwargs)
    except ValueError:
        raise
    except Exception as error:  # get_file raises a bare Exception when offline
        if weights != "imagenet":
            raise
        raise ValueError(
            f"weights='imagenet' for {source} could not be loaded: Keras downloads "
            f"the file once into {Path(keras_home()) / 'models'} and that failed "
            f"({error}). Offline, copy the file there from a machine that has it, "
            "or pass weights=PATH to a weights file you have."
        ) from error


def _is_dense_classifier(layer) -> bool:
    return isinstance(layer, keras.layers.Dense)


def _rank(tensor) -> int:
    return len(tensor.shape)


def feature_extractor(model, layer_name=None):
    """The part of `model` that computes image features, as a functional model.

    Args:
        model: A functional `keras.Model` (ours, or a `keras.applications` one).
        layer_name: Cut at this layer's output. By default: the model's output if
            it is a feature map (rank 4) or pooled features (rank 2, not made by a
            Dense layer); else, for a classifier, the last layer whose output is a
            feature map (the input of its global pooling / flatten).

    Returns:
        A `keras.Model` sharing `model`'s layers and weights, with `model`'s input.

    Raises:
        ValueError: If `model` is not a functional model with one input and one
            output, `layer_name` is unknown, or no feature map is found.
    """
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise ValueError(
            "`model` must be a functional keras.Model (built from keras.Input); "
            f"received {type(model).__name__}."
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "`model` must have one input and one output; received "
            f"{len(model.inputs)} inputs and {len(model.outputs)} outputs."
        )
    if layer_name is not None:
        names = [layer.name for layer in model.layers]
        if layer_name not in names:
            raise ValueError(
                f"`layer_name` must name a layer of {model.name!r}; received "
                f"layer_name={layer_name!r}. Layers: {', '.join(names)}."
            )
        output = model.get_layer(layer_name).output
    else:
        output = model.outputs[0]
        last = model.layers[-1]
        if _rank(output) == 2 and _is_dense_classifier(last):
            output = None
            for layer in reversed(model.layers[:-1]):
                if isinstance(layer, keras.layers.InputLayer):
                    continue
                if _rank(layer.output) == 4:
                    output = layer.output
                    break
            if output is None:
                raise ValueError(
                    f"No feature map (rank-4 output) found in {model.name!r}; pass "
                    "`layer_name` to say where the features are."
                )
        elif _rank(output) not in (2, 4):
            raise ValueError(
                f"{model.name!r} outputs rank {_rank(output)}; pass `layer_name` to "
                "say where the image features are."
            )
    return keras.Model(model.inputs[0], output, name=BACKBONE_LAYER_NAME)


def _layer_block(name):
    for pattern in _BLOCK_PATTERNS:
        match = pattern.match(name)
        if match:
            return match.group(1)
    return None


def backbone_blocks(backbone) -> list[tuple[str, list]]:
    """The backbone's blocks, bottom to top: `[(block_name, [layers]), ...]`.

    Layers without weights (activations, pooling, additions) and input
    `Normalization` layers belong to no block: freezing them changes nothing. A
    batch norm outside any named block joins the block before it. See the module
    docstring for what a block is.
    """
    blocks: list[tuple[str, list]] = []
    for layer in backbone.layers:
        if not layer.weights or isinstance(layer, keras.layers.Normalization):
            continue  # nothing to train (input normalisation holds statistics)
        key = _layer_block(layer.name)
        if key is None:
            # A batch norm outside any named block belongs to the layer before it
            # (`conv1_conv` + `conv1_bn`, `top_conv` + `top_bn`).
            if isinstance(layer, keras.layers.BatchNormalization) and blocks:
                key = blocks[-1][0]
            else:
                key = layer.name
        if blocks and blocks[-1][0] == key:
            blocks[-1][1].append(layer)
        else:
            blocks.append((key, [layer]))
    return blocks


def _set_trainable(layer, value) -> None:
    """`layer.trainable = value`, passed down to every sublayer.

    The plain assignment is not enough: on TensorFlow it is skipped when the layer
    already holds `value` (attribute tracking short-circuits `x.a = x.a`), even
    when sublayers hold another value, e.g. a batch norm frozen inside an
    unfrozen block, or the sublayers of a block loaded with trainable=False.
    """
    value = bool(value)
    for sublayer in kb.sublayers(layer, include_self=True):
        sublayer.trainable = value


@keras.saving.register_keras_serializable(package="kerasdl")
class InferenceModeModel(keras.Model):
    """A functional model that always runs in inference mode.

    Keras 3 hands the outer `training` flag to every layer of a functional graph
    and lets it override a `training=False` given when the graph was built
    (`operation_fn` in `keras/src/models/functional.py`), so
    `backbone(x, training=False)` alone does not keep an unfrozen batch norm on
    its moving statistics during `fit`. This model ignores the flag it receives
    and calls its layers with `training=False`: batch norm normalises with its
    moving statistics (and never updates them) and dropout is off, while its
    unfrozen weights (batch-norm scales and offsets included) still get
    gradients. `build_transfer_model` wraps the backbone in it.

    Args:
        inputs: As for a functional `keras.Model`.
        outputs: As for a functional `keras.Model`.
        name: Name of the model.
        **kwargs: Passed to `keras.Model`.

    Call arguments:
        inputs: The model's inputs.
        training: Ignored (always False).
        mask: As for a functional model.

    Returns:
        The outputs of the graph in inference mode.

    Example:

    ```python
    features = feature_extractor(classifier)
    backbone = InferenceModeModel(features.inputs[0], features.outputs[0])
    ```
    """

    def call(self, inputs, training=None, mask=None, **kwargs):
        return super().call(inputs, training=False, mask=mask, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = super().from_config(config, custom_objects=custom_objects)
        # A layer rebuilt from a config with trainable=False sets only its own
        # flag: sublayers made in its __init__ (the conv and batch norm of a
        # ConvBNAct) come back trainable. Pass each flag down again, so a frozen
        # backbone is still frozen after loading.
        for layer in model.layers:
            _set_trainable(layer, model.trainable and layer.trainable)
        return model


def get_backbone(model):
    """The backbone sub-model of a model made by `build_transfer_model`."""
    try:
        return model.get_layer(BACKBONE_LAYER_NAME)
    except ValueError:
        raise ValueError(
            f"`model` has no layer named {BACKBONE_LAYER_NAME!r}: build it with "
            f"build_transfer_model; received model {model.name!r}."
        ) from None


# === Transfer model ===


def build_transfer_model(
    backbone,
    num_classes,
    *,
    layer_name=None,
    pooling="avg",
    dropout=0.2,
    head_activation="softmax",
    name=None,
):
    """A new classifier on top of a backbone's features.

    Graph: inputs -> backbone features (an `InferenceModeModel`: always in
    inference mode, so batch norm uses its moving statistics, also during `fit`)
    -> `pooling` (skipped for pooled features) -> Dropout ->
    Dense(`num_classes`). The backbone starts frozen; `fit_transfer` or
    `unfreeze_top_blocks` unfreeze parts of it.

    Args:
        backbone: A `keras.Model` (see `load_backbone`); a classifier is cut at
            its last feature map (see `feature_extractor`). Its weights are shared,
            not copied: training the transfer model changes them.
        num_classes: Number of classes of the new task (>= 2).
        layer_name: Where to cut the backbone (default: see `feature_extractor`).
            The top layers are the most specific to the source task; a lower
            cut transfers better when the new task differs (see
            `benchmarks/bench_transfer.py`).
        pooling: How a feature map becomes a vector: `"avg"` (global average),
            `"max"` (global max) or `"flatten"` (keeps where each feature is:
            better for small maps cut from a lower layer, at the cost of more
            head weights).
        dropout: Dropout before the new Dense layer, in [0, 1).
        head_activation: `"softmax"` or None (logits).
        name: Model name (default `"transfer_<backbone name>"`).

    Returns:
        A functional `keras.Model`; its backbone is the layer named `"backbone"`
        (an `InferenceModeModel` sharing `backbone`'s layers).
    """
    if not isinstance(backbone, keras.Model):
        raise ValueError(
            "`backbone` must be a keras.Model (see load_backbone); received "
            f"{type(backbone).__name__}."
        )
    num_classes = check_int("num_classes", num_classes, minimum=2)
    if pooling not in HEAD_POOLINGS:
        raise ValueError(
            f"`pooling` must be one of {HEAD_POOLINGS}; received pooling={pooling!r}."
        )
    dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
    if head_activation not in ("softmax", None):
        raise ValueError(
            "`head_activation` must be 'softmax' or None; received "
            f"head_activation={head_activation!r}."
        )
    features = feature_extractor(backbone, layer_name)
    # Not `features(inputs, training=False)`: Keras 3 lets the outer `training`
    # flag override it (see InferenceModeModel).
    features = InferenceModeModel(
        features.inputs[0], features.outputs[0], name=BACKBONE_LAYER_NAME
    )
    _set_trainable(features, False)
    inputs = keras.Input(shape=features.inputs[0].shape[1:], name="images")
    x = features(inputs, training=False)
    if _rank(x) == 4:
        x = HEAD_POOLINGS[pooling](name="head_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=head_activation, name="head_predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"transfer_{backbone.name}")


def freeze_backbone(model) -> None:
    """Freeze the whole backbone of a transfer model (the head stays trainable)."""
    _set_trainable(get_backbone(model), False)


def unfreeze_top_blocks(model, num_blocks, *, train_batchnorm=False) -> list[str]:
    """Make the top `num_blocks` blocks of the backbone trainable, freeze the rest.

    Args:
        model: A model made by `build_transfer_model`.
        num_blocks: How many blocks, counted from the top (see `backbone_blocks`);
            0 freezes the whole backbone.
        train_batchnorm: Whether the unfrozen blocks' batch-norm scales and
            offsets are trained. Either way the moving statistics stay as they
            are (the backbone runs in inference mode).

    Returns:
        The names of the unfrozen blocks, bottom to top.

    Raises:
        ValueError: If `num_blocks` is negative or more than the backbone has.
    """
    backbone = get_backbone(model)
    blocks = backbone_blocks(backbone)
    num_blocks = check_int("num_blocks", num_blocks, minimum=0)
    if num_blocks > len(blocks):
        raise ValueError(
            f"`num_blocks` must be at most {len(blocks)} (the blocks of "
            f"{backbone.name!r}); received num_blocks={num_blocks}."
        )
    if num_blocks == 0:
        _set_trainable(backbone, False)
        return []
    backbone.trainable = True
    top = blocks[len(blocks) - num_blocks :]
    unfrozen = {id(layer) for _, layers in top for layer in layers}
    for layer in backbone.layers:
        _set_trainable(layer, id(layer) in unfrozen)
    if not train_batchnorm:
        for layer in kb.sublayers(backbone):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return [name for name, _ in top]
