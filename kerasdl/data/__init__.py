"""Datasets for kerasdl: real data that works offline, the keras.datasets sets when
cached, the user's own files and tables as they come (`load_table`), and leak-free
splitting and scaling.

Every loader returns a `Dataset` (NumPy arrays plus metadata). `load_dataset(name)`
loads any built-in set by name; `EMBEDDED_DATASETS` are those that ship inside an
installed dependency and never touch the network.

Example:

```python
from kerasdl import data

ds = data.load_dataset("digits")
parts = data.train_val_test_split(ds.x, ds.y, seed=0)
```
"""

from __future__ import annotations

import inspect

from kerasdl.data import opencv
from kerasdl.data.dataset import FEATURE_ROLES, TASKS, Dataset, check_xy
from kerasdl.data.embedded import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_sunspots,
    load_text_corpus,
    load_wine,
)
from kerasdl.data.embedded_tables import load_cars, load_penguins, load_seattle_weather
from kerasdl.data.keras_datasets import (
    DatasetUnavailableError,
    keras_cache_dir,
    load_cifar10,
    load_fashion_mnist,
    load_imdb,
    load_mnist,
)
from kerasdl.data.shapes import (
    ShapesDetection,
    ShapesSegmentation,
    load_digits_segmentation,
    make_shapes_detection,
    make_shapes_segmentation,
)
from kerasdl.data.splits import (
    Split,
    Standardizer,
    stratified_kfold,
    train_val_test_split,
)
from kerasdl.data.table import describe_table, infer_feature_types, load_table
from kerasdl.data.text import CharTokenizer, WordTokenizer, split_text, word_split
from kerasdl.data.user import load_csv, load_image_folder, load_text_file

_LOADERS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
    "diabetes": load_diabetes,
    "sunspots": load_sunspots,
    "text_corpus": load_text_corpus,
    "penguins": load_penguins,
    "cars": load_cars,
    "seattle_weather": load_seattle_weather,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "imdb": load_imdb,
}

#: Names of the datasets that ship inside an installed dependency (always offline).
EMBEDDED_DATASETS = (
    "digits",
    "breast_cancer",
    "wine",
    "iris",
    "diabetes",
    "sunspots",
    "text_corpus",
    "penguins",
    "cars",
    "seattle_weather",
)

#: Names of the keras.datasets sets: read from the Keras cache, downloaded if allowed.
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "imdb")


def list_datasets() -> list[str]:
    """Names accepted by `load_dataset`: embedded sets first, then the Keras ones."""
    return list(_LOADERS)


def load_dataset(name: str, **kwargs) -> Dataset:
    """Load a built-in dataset by name.

    Args:
        name: One of `list_datasets()`.
        **kwargs: Passed to the loader, e.g. `subset="test"`, `download=False` for
            the Keras sets or `num_words=10000` for IMDB.

    Returns:
        The loader's `Dataset`.

    Raises:
        ValueError: unknown `name`, or arguments the loader does not accept.
        DatasetUnavailableError: a Keras set is neither cached nor downloadable.
    """
    loader = _LOADERS.get(name) if isinstance(name, str) else None
    if loader is None:
        raise ValueError(
            f"Unknown dataset {name!r}; choose one of: {', '.join(_LOADERS)}."
        )
    signature = inspect.signature(loader)
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise ValueError(
            f"load_dataset({name!r}) received unexpected arguments {sorted(kwargs)}; "
            f"{loader.__name__} accepts {list(signature.parameters) or 'none'}."
        ) from exc
    return loader(**kwargs)


__all__ = [
    "ImagePipelineDataset",
    "opencv",
    "make_shapes_segmentation",
    "make_shapes_detection",
    "load_digits_segmentation",
    "ShapesSegmentation",
    "ShapesDetection",
    "CharTokenizer",
    "EMBEDDED_DATASETS",
    "FEATURE_ROLES",
    "KERAS_DATASETS",
    "TASKS",
    "Dataset",
    "DatasetUnavailableError",
    "Split",
    "Standardizer",
    "WordTokenizer",
    "check_xy",
    "describe_table",
    "infer_feature_types",
    "keras_cache_dir",
    "list_datasets",
    "load_breast_cancer",
    "load_cars",
    "load_cifar10",
    "load_csv",
    "load_dataset",
    "load_diabetes",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_imdb",
    "load_iris",
    "load_mnist",
    "load_penguins",
    "load_seattle_weather",
    "load_sunspots",
    "load_table",
    "load_text_corpus",
    "load_text_file",
    "load_wine",
    "split_text",
    "stratified_kfold",
    "train_val_test_split",
    "word_split",
]


def __getattr__(name):
    # `ImagePipelineDataset` subclasses `keras.utils.PyDataset`: imported on first
    # use, so that `import kerasdl.data` stays free of Keras (and of TensorFlow).
    if name == "ImagePipelineDataset":
        from kerasdl.data.image_pipeline_dataset import ImagePipelineDataset

        return ImagePipelineDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
