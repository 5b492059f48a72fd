"""The HyperModel registry: a family name → its `ClassifierHyperModel` subclass."""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}


def _builtins() -> None:
    if _REGISTRY:
        return
    from kerasdl.hypermodels.cnn import CNNHyperModel
    from kerasdl.hypermodels.mlp import MLPHyperModel
    from kerasdl.hypermodels.recurrent import RecurrentHyperModel
    from kerasdl.hypermodels.resnet import ResNetHyperModel
    from kerasdl.hypermodels.transformer import TransformerHyperModel

    for cls in (
        MLPHyperModel,
        CNNHyperModel,
        RecurrentHyperModel,
        TransformerHyperModel,
        ResNetHyperModel,
    ):
        _REGISTRY[cls.family] = cls


def register_hypermodel(cls, *, overwrite: bool = False):
    """Add a `ClassifierHyperModel` subclass under its `family` name.

    Args:
        cls: The subclass (its `family` attribute is the name).
        overwrite: Replace a family already registered under that name.

    Returns:
        `cls` (usable as a class decorator).
    """
    from kerasdl.hypermodels.base import ClassifierHyperModel

    _builtins()
    if not (isinstance(cls, type) and issubclass(cls, ClassifierHyperModel)):
        raise ValueError(f"Expected a ClassifierHyperModel subclass; received {cls!r}.")
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


def get_hypermodel(family: str, input_shape, num_classes, **kwargs):
    """A HyperModel of the registered `family` for data of this shape.

    Args:
        family: `"mlp"`, `"cnn"`, `"recurrent"`, `"transformer"`, `"resnet"` or a
            family added with `register_hypermodel`.
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
    return _REGISTRY[check_family(family)](input_shape, num_classes, **kwargs)
