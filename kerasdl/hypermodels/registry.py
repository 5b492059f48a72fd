"""The HyperModel registry: a family name → its HyperModel class.

Two kinds of family: the classifiers on arrays (`ClassifierHyperModel`: mlp, cnn,
recurrent, transformer, resnet), built from a sample shape and a class count
(`get_hypermodel`), and the deep tabular networks (`TabularHyperModel`:
tabular_mlp, ft_transformer), built from a fitted `TableEncoder` and a task
(`get_tabular_hypermodel`).
"""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}


def _builtins() -> None:
    if _REGISTRY:
        return
    from kerasdl.hypermodels.cnn import CNNHyperModel
    from kerasdl.hypermodels.mlp import MLPHyperModel
    from kerasdl.hypermodels.recurrent import RecurrentHyperModel
    from kerasdl.hypermodels.resnet import ResNetHyperModel
    from kerasdl.hypermodels.tabular import (
        FTTransformerHyperModel,
        TabularMLPHyperModel,
    )
    from kerasdl.hypermodels.transformer import TransformerHyperModel

    for cls in (
        MLPHyperModel,
        CNNHyperModel,
        RecurrentHyperModel,
        TransformerHyperModel,
        ResNetHyperModel,
        TabularMLPHyperModel,
        FTTransformerHyperModel,
    ):
        _REGISTRY[cls.family] = cls


def register_hypermodel(cls, *, overwrite: bool = False):
    """Add a `ClassifierHyperModel` or `TabularHyperModel` subclass under its
    `family` name.

    Args:
        cls: The subclass (its `family` attribute is the name).
        overwrite: Replace a family already registered under that name.

    Returns:
        `cls` (usable as a class decorator).
    """
    from kerasdl.hypermodels.base import ClassifierHyperModel
    from kerasdl.hypermodels.tabular import TabularHyperModel

    _builtins()
    if not (
        isinstance(cls, type)
        and issubclass(cls, (ClassifierHyperModel, TabularHyperModel))
    ):
        raise ValueError(
            "Expected a ClassifierHyperModel or TabularHyperModel subclass; "
            f"received {cls!r}."
        )
    if not isinstance(cls.family, str) or not cls.family:
        raise ValueError(f"{cls.__name__}.family must be a non-empty string.")
    if cls.family in _REGISTRY and not overwrite:
        raise ValueError(f"A family named {cls.family!r} is already registered.")
    _REGISTRY[cls.family] = cls
    return cls


def list_hypermodels() -> list[str]:
    """The registered family names."""
    _builtins()
    return list(_REGISTRY)


def check_family(family) -> str:
    """`family` if registered; else a one-line ValueError listing the families."""
    _builtins()
    if not isinstance(family, str) or family not in _REGISTRY:
        raise ValueError(
            f"Unknown family {family!r}; choose one of: {', '.join(_REGISTRY)}."
        )
    return family


def is_tabular_family(family) -> bool:
    """Whether the registered `family` searches a deep tabular network (it takes
    an encoded table: `get_tabular_hypermodel`)."""
    from kerasdl.hypermodels.tabular import TabularHyperModel

    return issubclass(_REGISTRY[check_family(family)], TabularHyperModel)


def get_hypermodel(family: str, input_shape, num_classes, **kwargs):
    """A HyperModel of the registered classifier `family` for data of this shape.

    Args:
        family: `"mlp"`, `"cnn"`, `"recurrent"`, `"transformer"`, `"resnet"` or a
            classifier family added with `register_hypermodel` (the tabular
            families take an encoder: `get_tabular_hypermodel`).
        input_shape: Shape of one sample (no batch axis).
        num_classes: Number of classes.
        **kwargs: Passed to the HyperModel (`flat_input`, `num_train_samples`,
            `normalization`, search-space overrides such as `width=(32, 256)`).

    Returns:
        The `ClassifierHyperModel` instance.

    Example:

    ```python
    hypermodel = get_hypermodel("cnn", (8, 8, 1), 10, learning_rate=(1e-4, 1e-2))
    ```
    """
    if is_tabular_family(family):
        raise ValueError(
            f"The {family} family takes an encoded table, not an input shape: use "
            f"get_tabular_hypermodel({family!r}, encoder, task=..., num_classes=...)."
        )
    return _REGISTRY[family](input_shape, num_classes, **kwargs)


def get_tabular_hypermodel(
    family: str, encoder, *, task: str = "classification", num_classes=None, **kwargs
):
    """A HyperModel of the registered tabular `family` for a fitted encoder's table.

    Args:
        family: `"tabular_mlp"`, `"ft_transformer"` or a tabular family added
            with `register_hypermodel`.
        encoder: A `TableEncoder` fitted on the training rows only.
        task: `"classification"` or `"regression"`.
        num_classes: Number of classes (classification); None for regression.
        **kwargs: Passed to the HyperModel (`seed`, `batch_size`, search-space
            overrides such as `depth=(1, 3)`).

    Returns:
        The `TabularHyperModel` instance.

    Example:

    ```python
    encoder = TableEncoder(missing_indicators="all").fit(x_train, roles)
    hypermodel = get_tabular_hypermodel("ft_transformer", encoder, task="regression")
    ```
    """
    if not is_tabular_family(family):
        raise ValueError(
            f"The {family} family is a classifier on arrays, not a tabular network: "
            f"use get_hypermodel({family!r}, input_shape, num_classes)."
        )
    return _REGISTRY[family].from_encoder(
        encoder, task=task, num_classes=num_classes, **kwargs
    )
