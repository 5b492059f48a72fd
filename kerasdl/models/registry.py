"""The deep-model registry: how `kerasdl compare` (and later `tune`) finds models.

A family plugs in by registering a `ModelSpec`: a builder taking `input_shape` and
`num_classes`, the kinds of input it accepts, and the training settings that suit it.
The CNN families of later issues register here and `kerasdl compare --deep NAME` works.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

INPUT_KINDS = ("image", "tabular")


@dataclass(frozen=True)
class ModelSpec:
    """How to build and train one deep model for classification.

    Args:
        name: Registry name (lower case, e.g. `"mlp"`, `"cnn"`, `"resnet18"`).
        builder: `builder(input_shape, num_classes, **builder_kwargs)` → uncompiled
            `keras.Model` taking *flat* inputs `(batch, prod(input_shape))` (the
            builder reshapes), since scikit-learn passes 2-D arrays.
        inputs: Input kinds it accepts: `"image"` and/or `"tabular"`.
        description: One line for `kerasdl compare --list`.
        epochs, batch_size, learning_rate: Default training settings (Adam with
            cosine decay and label smoothing 0.1 in `kerasdl.baselines`).
        standardize: Whether inputs are standardized (fitted on the training folds).
        builder_kwargs: Extra keyword arguments for `builder`.
    """

    name: str
    builder: Callable
    inputs: tuple[str, ...]
    description: str
    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    standardize: bool = True
    builder_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if not callable(self.builder):
            raise ValueError(f"builder must be callable; received {self.builder!r}.")
        for arg in ("epochs", "batch_size"):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{arg} must be an integer >= 1; received {value!r}.")
        if not (isinstance(self.learning_rate, int | float) and self.learning_rate > 0):
            raise ValueError(
                f"learning_rate must be a number > 0; received {self.learning_rate!r}."
            )
        bad = set(self.inputs) - set(INPUT_KINDS)
        if not self.inputs or bad:
            raise ValueError(
                f"inputs must be a non-empty subset of {INPUT_KINDS}; "
                f"received {self.inputs!r}."
            )


_REGISTRY: dict[str, ModelSpec] = {}
_BUILTINS_REGISTERED = False


def register_model(spec: ModelSpec, *, overwrite: bool = False) -> ModelSpec:
    """Add a model to the registry (an existing name needs `overwrite=True`)."""
    _register_builtin_models()
    if spec.name in _REGISTRY and not overwrite:
        raise ValueError(f"A model named {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec
    return spec


def get_model_spec(name: str) -> ModelSpec:
    """The registered `ModelSpec` for `name`; ValueError listing the names otherwise."""
    _register_builtin_models()
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown deep model {name!r}; "
            f"choose one of: {', '.join(sorted(_REGISTRY))}."
        )
    return _REGISTRY[name]


def list_models(input_kind: str | None = None) -> list[str]:
    """Registered model names, optionally only those accepting `input_kind`."""
    _register_builtin_models()
    if input_kind is not None and input_kind not in INPUT_KINDS:
        raise ValueError(
            f"input_kind must be one of {INPUT_KINDS} or None; received {input_kind!r}."
        )
    return sorted(
        name
        for name, spec in _REGISTRY.items()
        if input_kind is None or input_kind in spec.inputs
    )


def _flat_mlp(input_shape, num_classes, **kwargs):
    from kerasdl.models.mlp.mlp import MLP

    size = 1
    for dim in input_shape:
        size *= int(dim)
    return MLP((size,), num_classes, **kwargs)


def _flat_cnn(input_shape, num_classes, **kwargs):
    from kerasdl.models.cnn.small_cnn import SmallCNN

    return SmallCNN(input_shape, num_classes, flat_input=True, **kwargs)


def flat_convnet(input_shape, num_classes, *, builder, **kwargs):
    """A `kerasdl.models.cnn` builder (by name, e.g. `"ResNet18"`) behind a
    Reshape from flat rows, as the registry trains it: `Input((h*w*c,)) ->
    Reshape "to_image" -> the convnet` (a nested model). Used by the registry's
    convnet entries and by `kerasdl.hypermodels.ResNetHyperModel`."""
    import keras

    from kerasdl.models import cnn as convnets

    input_shape = tuple(int(d) for d in input_shape)
    model = getattr(convnets, builder)(input_shape, num_classes, **kwargs)
    size = 1
    for dim in input_shape:
        size *= dim
    inputs = keras.Input(shape=(size,), name="flat_images")
    x = keras.layers.Reshape(input_shape, name="to_image")(inputs)
    return keras.Model(inputs, model(x), name=f"flat_{model.name}")


def _convnet_spec(name, builder, description, **settings):
    """A `ModelSpec` for a convnet builder (images only, inputs not standardized)."""
    return ModelSpec(
        name=name,
        builder=functools.partial(flat_convnet, builder=builder),
        inputs=("image",),
        description=description,
        standardize=False,
        **settings,
    )


def _convnet_specs():
    """The convnets of `kerasdl.models.cnn`, with settings for small images.

    On 8x8 digits every model uses its small-input layout (see each class) and a
    narrower head than on ImageNet; the descriptions say what is scaled down.
    """
    small_head = {"dense_units": (256,), "dropout": 0.3, "batch_norm": True}
    specs = [
        _convnet_spec(
            "lenet5",
            "LeNet5",
            "LeNet-5 (ReLU, max-pool), 'same'-padded for small images",
            epochs=40,
            learning_rate=2e-3,
            builder_kwargs={"activation": "relu", "subsampling": "max"},
        ),
        _convnet_spec(
            "alexnet",
            "AlexNet",
            "AlexNet, 3x3 stem for small images, half width, BN, dense 256",
            epochs=30,
            learning_rate=1e-3,
            builder_kwargs={"width_multiplier": 0.5, **small_head},
        ),
        _convnet_spec(
            "googlenet",
            "GoogLeNet",
            "GoogLeNet (Inception v1, BN), 3x3 stem for small images, 1/4 width",
            epochs=30,
            learning_rate=2e-3,
            builder_kwargs={"width_multiplier": 0.25},
        ),
    ]
    for variant in ("vgg11", "vgg16", "vgg19"):
        specs.append(
            _convnet_spec(
                variant,
                variant.upper(),
                f"{variant.upper()}-BN, 1/4 width, dense 256, pools only while >= 2x2",
                epochs=30,
                learning_rate=1e-3,
                builder_kwargs={"width_multiplier": 0.25, **small_head},
            )
        )
    for depth in (18, 34, 50):
        specs.append(
            _convnet_spec(
                f"resnet{depth}",
                f"ResNet{depth}",
                f"ResNet-{depth}, half width, zero-init residuals, 3x3 stride-1 "
                "stem and no max-pool for small images",
                epochs=30,
                learning_rate=1e-3,
                builder_kwargs={"width_multiplier": 0.5, "zero_init_residual": True},
            )
        )
    for b in range(4):
        specs.append(
            _convnet_spec(
                f"efficientnet_b{b}",
                f"EfficientNetB{b}",
                f"EfficientNet-B{b}, stride-1 stem for small images",
                epochs=30,
                learning_rate=2e-3,
            )
        )
    return specs


def _register_builtin_models():
    """Add the built-in models once (a user's spec registered first under the same
    name wins: built-ins never overwrite)."""
    global _BUILTINS_REGISTERED
    if _BUILTINS_REGISTERED:
        return
    _BUILTINS_REGISTERED = True
    builtins = [
        ModelSpec(
            name="mlp",
            builder=_flat_mlp,
            inputs=("image", "tabular"),
            description="MLP: 2 x 512 ReLU units, batch norm, dropout 0.3",
            epochs=60,
            batch_size=32,
            learning_rate=1e-3,
            builder_kwargs={
                "depth": 2,
                "width": 512,
                "dropout": 0.3,
                "batch_norm": True,
            },
        ),
        ModelSpec(
            name="cnn",
            builder=_flat_cnn,
            inputs=("image",),
            description="SmallCNN: 2 VGG-style conv blocks (32, 64), BN, dropout 0.5",
            epochs=60,
            batch_size=32,
            learning_rate=2e-3,
            standardize=False,
        ),
    ]
    builtins.extend(_convnet_specs())
    for spec in builtins:
        _REGISTRY.setdefault(spec.name, spec)
