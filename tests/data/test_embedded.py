"""The embedded datasets: real data from installed dependencies, loaded offline."""

import numpy as np
import pytest

from kerasdl import data
from kerasdl.data import Dataset


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", data.EMBEDDED_DATASETS)
def test_every_embedded_set_loads_offline(name):
    ds = data.load_dataset(name)
    assert isinstance(ds, Dataset)
    assert ds.name == name
    assert len(ds) > 0
    # One honest paragraph that says where the data comes from.
    assert len(ds.description) > 80
    assert "\n" not in ds.description
    assert ds.extra["source"].split(".")[0] in ds.description


def test_digits_are_real_8x8_images_in_unit_range():
    ds = data.load_digits()
    assert ds.x.shape == (1797, 8, 8, 1)
    assert ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64
    assert ds.x.min() == 0.0 and ds.x.max() == 1.0
    # Scaled from the integer grey levels 0..16.
    np.testing.assert_array_equal(ds.x * 16, np.round(ds.x * 16))
    assert ds.task == "classification"
    assert ds.class_names == [str(i) for i in range(10)]
    assert ds.num_classes == 10 and ds.is_image
    counts = np.bincount(ds.y)
    assert len(counts) == 10 and counts.min() >= 170 and counts.max() <= 185


@pytest.mark.parametrize(
    "loader, shape, counts, first_class",
    [
        (data.load_breast_cancer, (569, 30), [212, 357], "malignant"),
        (data.load_wine, (178, 13), [59, 71, 48], "class_0"),
        (data.load_iris, (150, 4), [50, 50, 50], "setosa"),
    ],
)
def test_tabular_classification_sets(loader, shape, counts, first_class):
    ds = loader()
    assert ds.x.shape == shape
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    assert np.bincount(ds.y).tolist() == counts
    assert ds.class_names[0] == first_class
    assert len(ds.class_names) == len(counts)
    assert len(ds.feature_names) == shape[1]
    assert all(isinstance(f, str) for f in ds.feature_names)
    assert np.all(np.isfinite(ds.x))


def test_diabetes_is_a_regression():
    ds = data.load_diabetes()
    assert ds.task == "regression"
    assert ds.x.shape == (442, 10) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.float32
    assert ds.y.min() == 25 and ds.y.max() == 346
    assert ds.feature_names[:3] == ["age", "sex", "bmi"]
    assert ds.num_classes is None


def test_sunspots_is_a_yearly_series():
    ds = data.load_sunspots()
    assert ds.task == "forecasting"
    assert ds.y is None
    assert ds.x.shape == (309,) and ds.x.dtype == np.float32
    years = ds.extra["years"]
    assert years.dtype == np.int64
    np.testing.assert_array_equal(years, np.arange(1700, 2009))
    assert ds.x.min() >= 0 and ds.x.max() > 150
    assert ds.x[:3].tolist() == [5.0, 11.0, 16.0]  # 1700, 1701, 1702


def test_text_corpus_is_the_stdlib_help_topics():
    from pydoc_data.topics import topics

    ds = data.load_text_corpus()
    assert ds.task == "text" and ds.y is None
    titles = ds.extra["titles"]
    assert titles == sorted(topics)
    assert ds.x.shape == (len(topics),)
    assert ds.x[titles.index("assert")] == topics["assert"]
    assert all(isinstance(doc, str) and doc.strip() for doc in ds.x)
    assert "pydoc_data" in ds.description
    assert sum(len(doc) for doc in ds.x) > 100_000


def test_registry_names():
    names = data.list_datasets()
    assert set(data.EMBEDDED_DATASETS) <= set(names)
    assert set(data.KERAS_DATASETS) <= set(names)
    assert len(names) == len(set(names)) == 14
    assert not set(data.EMBEDDED_DATASETS) & set(data.KERAS_DATASETS)


def test_load_dataset_unknown_name_lists_choices():
    with pytest.raises(
        ValueError, match=r"Unknown dataset 'foo'; choose one of: .*digits"
    ):
        data.load_dataset("foo")


def test_load_dataset_rejects_arguments_the_loader_does_not_take():
    with pytest.raises(ValueError, match=r"unexpected arguments \['subset'\]"):
        data.load_dataset("iris", subset="test")


def test_load_dataset_passes_arguments(keras_home):
    with pytest.raises(data.DatasetUnavailableError, match="mnist.npz"):
        data.load_dataset("mnist", subset="test", download=False)
