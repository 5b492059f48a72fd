"""Transfer learning: reuse a trained backbone, train a new head, then fine-tune.

The recipe (Yosinski et al., 2014; the Keras guide "Transfer learning &
fine-tuning"):

1. Take a backbone: one of our convnets trained on another task, a saved
   `.keras` model, or a `keras.applications` model with `weights="imagenet"` or a
   weights file (`load_backbone`).
2. Cut it at its last feature map, or lower (`layer_name`), and put a new head
   on it (`build_transfer_model`): pooling (average, max or flatten) -> dropout
   -> Dense. The backbone runs inside an `InferenceModeModel`, so its batch-norm
   layers always use their moving statistics, also when they are unfrozen later
   and `fit` passes `training=True`: a small new dataset never overwrites the
   statistics learned on the large one. The top layers are the most specific to
   the source task; when the new task differs, a lower cut transfers better
   (`benchmarks/bench_transfer.py`: on digits 0-4 -> 5-9, the top cut loses to
   training from scratch and a cut after stage 2 beats it).
3. Train the head with the backbone frozen, then unfreeze the top N blocks of the
   backbone and train again at a lower learning rate (`fit_transfer`). Batch-norm
   scales and offsets stay frozen too unless `train_batchnorm=True`.

A "block" is the unit one unfreezes (`backbone_blocks`): in our convnets each
top-level layer with weights (a `ResidualBlock`, `MBConv`, `InceptionModule`,
`ConvBNAct`, `Dense`); in the flat `keras.applications` graphs the layers that
share a block prefix (`conv5_block3_...` in ResNet50, `block6d_...` in
EfficientNet, `block_16_...` in MobileNetV2, `block5_...` in VGG); any other layer
with weights is a block of its own.

Example:

```python
source = ResNet18((8, 8, 1), num_classes=5)          # trained on digits 0-4
source.fit(x_04, y_04, epochs=20)
model = build_transfer_model(source, num_classes=5)  # new head for digits 5-9
histories = fit_transfer(model, x_59, y_59, head_epochs=30,
                         fine_tune_blocks=2, fine_tune_epochs=30)
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import keras
import numpy as np

from kerasdl import backend as kb
from kerasdl._checks import check_float, check_int
from kerasdl._keras_home import keras_home
from kerasdl.data.dataset import check_xy
from kerasdl.training.optimizers import get_optimizer

__all__ = [
    "BACKBONE_LAYER_NAME",
    "HEAD_POOLINGS",
    "InferenceModeModel",
    "application_names",
    "backbone_blocks",
    "build_transfer_model",
    "feature_extractor",
    "fit_transfer",
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


# === Training ===


def _compile(model, optimizer, learning_rate, loss, metrics):
    model.compile(
        optimizer=get_optimizer(optimizer, learning_rate),
        loss=loss,
        metrics=list(metrics),
    )


def fit_transfer(
    model,
    x,
    y,
    *,
    validation_data=None,
    head_epochs=10,
    fine_tune_blocks=2,
    fine_tune_epochs=10,
    learning_rate=1e-3,
    fine_tune_learning_rate=None,
    optimizer="adam",
    batch_size=32,
    train_batchnorm=False,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    callbacks=(),
    verbose="auto",
):
    """Train the head with the backbone frozen, then fine-tune its top blocks.

    Each phase compiles the model afresh (Keras needs a recompile after
    `trainable` changes) with a new optimizer. If the fit is interrupted, the
    model keeps the weights it has reached.

    Args:
        model: A model made by `build_transfer_model`.
        x: Images `(n, height, width, channels)`.
        y: Integer labels `(n,)` (with the default loss).
        validation_data: `(x_val, y_val)`, or None.
        head_epochs: Epochs of phase 1 (>= 1).
        fine_tune_blocks: Blocks unfrozen in phase 2 (0 skips phase 2).
        fine_tune_epochs: Epochs of phase 2 (0 skips it).
        learning_rate: Phase 1 learning rate.
        fine_tune_learning_rate: Phase 2 learning rate (default
            `learning_rate / 10`); must not exceed `learning_rate`.
        optimizer: A name for `kerasdl.training.get_optimizer`.
        batch_size: Batch size of both phases.
        train_batchnorm: See `unfreeze_top_blocks`.
        loss: As for `compile`.
        metrics: As for `compile`.
        callbacks: Callbacks for both phases.
        verbose: As for `fit`.

    Returns:
        A dict: `"head"` (the phase 1 `History.history`), `"fine_tune"` (phase 2's,
        or None), `"unfrozen_blocks"` (names) and `"trainable_params"` per phase.
    """
    get_backbone(model)
    x, y = check_xy(x, y)
    expected = tuple(model.inputs[0].shape[1:])
    # None in the model's input shape (a keras.applications backbone built
    # without `input_shape`) accepts any size.
    if x.ndim != len(expected) + 1 or any(
        want is not None and want != got for want, got in zip(expected, x.shape[1:])
    ):
        raise ValueError(
            f"`x` must hold images of shape {expected}; received x.shape={x.shape}."
        )
    head_epochs = check_int("head_epochs", head_epochs)
    fine_tune_blocks = check_int("fine_tune_blocks", fine_tune_blocks, minimum=0)
    fine_tune_epochs = check_int("fine_tune_epochs", fine_tune_epochs, minimum=0)
    learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    if fine_tune_learning_rate is None:
        fine_tune_learning_rate = learning_rate / 10
    fine_tune_learning_rate = check_float(
        "fine_tune_learning_rate",
        fine_tune_learning_rate,
        low=0.0,
        high=learning_rate,
        low_open=True,
    )
    batch_size = check_int("batch_size", batch_size)
    blocks = backbone_blocks(get_backbone(model))
    if fine_tune_blocks > len(blocks):
        raise ValueError(
            f"`fine_tune_blocks` must be at most {len(blocks)} (the backbone's "
            f"blocks); received fine_tune_blocks={fine_tune_blocks}."
        )

    def fit(epochs):
        history = model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=list(callbacks),
            verbose=verbose,
        )
        return history.history

    result = {"unfrozen_blocks": [], "trainable_params": {}, "fine_tune": None}
    freeze_backbone(model)
    _compile(model, optimizer, learning_rate, loss, metrics)
    result["trainable_params"]["head"] = _count(model.trainable_weights)
    result["head"] = fit(head_epochs)
    if fine_tune_blocks and fine_tune_epochs:
        result["unfrozen_blocks"] = unfreeze_top_blocks(
            model, fine_tune_blocks, train_batchnorm=train_batchnorm
        )
        _compile(model, optimizer, fine_tune_learning_rate, loss, metrics)
        result["trainable_params"]["fine_tune"] = _count(model.trainable_weights)
        result["fine_tune"] = fit(fine_tune_epochs)
    return result


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))
