"""The tabular side of `run_search`: a table's data checks, its split, the
`TableEncoder` fitted on the search's training part only, and the best network wrapped
as a raw-row `TabularModel`."""

from __future__ import annotations

import numpy as np

from kerasdl._checks import check_float
from kerasdl.data.dataset import table_arrays
from kerasdl.hypermodels.registry import get_tabular_hypermodel


def _rows(x, index):
    """Rows `index` of an array or (by position) of a DataFrame."""
    return x.iloc[index] if hasattr(x, "iloc") else x[index]


def _split(x, y, fraction, seed, what, stratify=True):
    """A split stratified by class when possible (`stratify`, classification):
    (x_a, y_a, x_b, y_b), b = `fraction`; `x` an array or a DataFrame."""
    from sklearn.model_selection import train_test_split

    if stratify:
        _, counts = np.unique(y, return_counts=True)
        stratify = counts.min() >= 2
    try:
        a, b = train_test_split(
            np.arange(len(y)),
            test_size=fraction,
            random_state=seed,
            stratify=y if stratify else None,
        )
    except ValueError as error:
        raise ValueError(
            f"Cannot split {len(y)} samples into a {what} part of {fraction}: {error}"
        ) from None
    return _rows(x, a), y[a], _rows(x, b), y[b]


TABLE_FAMILIES = "tabular_mlp or ft_transformer"
#: Keyword arguments `run_search` gives a tabular HyperModel itself.
_TABLE_RESERVED = {"task", "num_classes", "n_dense", "seed", "encoder"}


def _as_dataset(dataset):
    """`dataset` as a `Dataset` (a name is loaded; default `"digits"`)."""
    from kerasdl.data import Dataset, load_dataset

    if isinstance(dataset, Dataset):
        return dataset
    return load_dataset("digits" if dataset is None else dataset)


def _data_kind(data) -> str:
    """What a dataset holds, for a family error: "a raw regression table ..."."""
    if data.is_raw_table:
        return f"a raw {data.task} table (strings, categories, dates or missing cells)"
    shape = tuple(np.shape(data.x))
    if len(shape) == 4:
        return f"images of shape {shape[1:]} ({data.task})"
    if len(shape) == 2 and data.task in ("classification", "regression"):
        return f"a numeric {data.task} table"
    return f"{data.task} data of shape {shape}"


def _check_classifier_data(family, data) -> None:
    """ValueError when a classifier family is given a raw table or regression."""
    if data.is_raw_table or data.task == "regression":
        raise ValueError(
            f"The {family} family tunes classifiers on numeric arrays; dataset "
            f"{data.name!r} holds {_data_kind(data)}: tune it with {TABLE_FAMILIES}."
        )


def _table_dataset(family, dataset, x, y):
    """The `Dataset` a tabular family searches (user `x`/`y`: classification),
    checked to be a classification or regression table."""
    from kerasdl.data import Dataset, check_xy

    if x is not None or y is not None:
        if x is None or y is None:
            raise ValueError("Give both `x` and `y` (user data), or neither.")
        if isinstance(dataset, Dataset):
            raise ValueError("Give either a Dataset or `x`/`y`, not both.")
        labels = np.asarray(y)
        if labels.ndim != 1:
            raise ValueError(
                f"Expected labels `y` of shape (n,); received {labels.shape}."
            )
        names, index = np.unique(labels, return_inverse=True)
        if not hasattr(x, "columns"):
            x, _ = check_xy(x, index)
        data = Dataset(
            x=x,
            y=index.astype("int64"),
            name="user" if dataset is None else str(dataset),
            task="classification",
            description="user data",
            class_names=[str(v) for v in names],
        )
    else:
        data = _as_dataset(dataset)
    if data.task not in ("classification", "regression"):
        raise ValueError(
            f"The {family} family tunes classification or regression tables; "
            f"dataset {data.name!r} holds {_data_kind(data)}."
        )
    if not data.is_raw_table and np.ndim(data.x) != 2:
        raise ValueError(
            f"The {family} family tunes tables (rows, columns); dataset "
            f"{data.name!r} holds {_data_kind(data)}: tune it with mlp, cnn, "
            "resnet, recurrent or transformer."
        )
    return data


def _prepare_table(
    family, dataset, x, y, *, test_size, val_size, seed, standardize, search_space
):
    """Split a table, fit the encoder on the search's training part, encode, and
    make the tabular HyperModel. Returns a dict of what the search needs."""
    from kerasdl.baselines.keras_tabular import KerasTabularRegressor
    from kerasdl.models.tabular import TableEncoder

    user_data = x is not None or y is not None
    data = _table_dataset(family, dataset, x, y)
    if standardize is False:
        raise ValueError(
            f"The {family} family always standardises the numbers (its "
            "TableEncoder does); received standardize=False."
        )
    clash = sorted(_TABLE_RESERVED & set(search_space or {}))
    if clash:
        raise ValueError(
            f"search_space takes hyperparameters only; received {clash[0]!r}."
        )
    x_all, y_all, class_names, feature_types = table_arrays(data, job="tune")
    task = data.task
    stratify = task == "classification"
    if user_data:
        x_train, y_train, x_test, y_test = x_all, y_all, None, None
    else:
        test_size = check_float(
            "test_size", test_size, low=0.0, high=1.0, low_open=True, high_open=True
        )
        x_train, y_train, x_test, y_test = _split(
            x_all, y_all, test_size, seed, "test", stratify
        )
    x_fit, y_fit, x_val, y_val = _split(
        x_train, y_train, val_size, seed, "validation", stratify
    )
    raw = hasattr(x_fit, "columns")
    # As the untuned estimator: on a raw table, a missing indicator per numeric
    # column (a column complete in training still says "missing" later).
    encoder = TableEncoder(missing_indicators="all" if raw else "seen").fit(
        x_fit, feature_types
    )
    target_mean, target_std = 0.0, 1.0
    if task == "regression":
        _, _, stats = KerasTabularRegressor()._encode_target(y_fit)
        target_mean, target_std = stats["target_mean_"], stats["target_std_"]
        y_fit = ((y_fit - target_mean) / target_std).astype("float32")
        y_val = ((y_val - target_mean) / target_std).astype("float32")
    hypermodel = get_tabular_hypermodel(
        family,
        encoder,
        task=task,
        num_classes=len(class_names) if task == "classification" else None,
        seed=seed,
        **(search_space or {}),
    )
    return {
        "name": data.name,
        "task": task,
        "fit": (encoder.transform(x_fit), y_fit),
        "val": (encoder.transform(x_val), y_val),
        "test": (x_test, y_test),
        "encoder": encoder,
        "hypermodel": hypermodel,
        "class_names": class_names,
        "target_mean": target_mean,
        "target_std": target_std,
        "data": {
            "task": task,
            "raw_table": raw,
            "feature_types": dict(encoder.feature_types),
            "input_widths": {k: v[-1] for k, v in encoder.input_shapes().items()},
            "cardinalities": list(encoder.cardinalities),
            "num_classes": hypermodel.num_classes,
            "class_names": class_names,
            "target_mean": target_mean if task == "regression" else None,
            "target_std": target_std if task == "regression" else None,
            "train_samples": len(y_fit),
            "val_samples": len(y_val),
            "test_samples": None if y_test is None else len(y_test),
            "standardized": True,
            "encoder_fitted_on": "the search's training part only",
        },
    }


def _finish_table(network, table) -> tuple:
    """`(TabularModel, test scores)`: the best network with its encoder (it
    predicts raw rows), scored once on the held-out test part."""
    from kerasdl.baselines.metrics import score_predictions
    from kerasdl.models.tabular import TabularModel

    task = table["task"]
    # An uncompiled copy, as the estimators save: the file holds no optimizer.
    trained = network
    network = type(trained).from_config(trained.get_config())
    network.set_weights(trained.get_weights())
    model = TabularModel(
        network,
        table["encoder"],
        task=task,
        class_names=table["class_names"],
        target_mean=table["target_mean"],
        target_std=table["target_std"],
    )
    x_test, y_test = table["test"]
    if task == "classification":
        scores = {"test_accuracy": None}
        if x_test is not None:
            pred = np.argmax(model.predict(x_test), axis=-1)
            scores["test_accuracy"] = float(np.mean(pred == y_test))
        return model, scores
    scores = {"test_accuracy": None, "test_rmse": None, "test_mae": None}
    scores["test_r2"] = None
    if x_test is not None:
        pred = model.predict(x_test)
        if np.all(np.isfinite(pred)):
            values = score_predictions("regression", y_test, pred)
            scores.update({f"test_{k}": v for k, v in values.items()})
    return model, scores


# -------------------------------------------------------------------------- search
