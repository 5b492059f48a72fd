"""The input contract shared by the tabular networks, and its checks.

A tabular network takes a dict of already-encoded tensors, with only the keys
that exist for the table:

* `"numeric"`: float32 `(batch, n_numeric)`: imputed, standardised numbers;
* `"categorical"`: int32 `(batch, n_categorical)`: per-column ids in
  `[0, cardinalities[j])`, 0 meaning missing or unseen;
* `"dense"`: float32 `(batch, n_dense)`, e.g. TF-IDF vectors of text columns.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np

from kerasdl._checks import check_int
from kerasdl.layers.tabular_embeddings import check_cardinalities
from kerasdl.models.base import FunctionalModel, get_dtype_policy

__all__ = ["INPUT_KEYS", "TabularNetwork", "check_dtype", "check_table"]

INPUT_KEYS = ("numeric", "categorical", "dense")


def check_table(n_numeric, cardinalities, n_dense, output_units):
    """Checked `(n_numeric, cardinalities, n_dense, output_units)`."""
    n_numeric = check_int("n_numeric", n_numeric, minimum=0)
    cardinalities = check_cardinalities(cardinalities)
    n_dense = check_int("n_dense", n_dense, minimum=0)
    output_units = check_int("output_units", output_units)
    if not (n_numeric or cardinalities or n_dense):
        raise ValueError(
            "A tabular model needs at least one input column; received "
            "n_numeric=0, cardinalities=[] and n_dense=0."
        )
    return n_numeric, cardinalities, n_dense, output_units


def check_dtype(dtype):
    """`dtype` as None or a `keras.DTypePolicy` (see `FunctionalModel`)."""
    return get_dtype_policy(dtype)


def table_inputs(n_numeric, cardinalities, n_dense):
    """One `keras.Input` per key the table has."""
    inputs = {}
    if n_numeric:
        inputs["numeric"] = keras.Input((n_numeric,), dtype="float32", name="numeric")
    if cardinalities:
        inputs["categorical"] = keras.Input(
            (len(cardinalities),), dtype="int32", name="categorical"
        )
    if n_dense:
        inputs["dense"] = keras.Input((n_dense,), dtype="float32", name="dense")
    return inputs


def _is_numpy_batch(x):
    if isinstance(x, np.ndarray):
        return True
    return isinstance(x, dict) and all(
        isinstance(v, (np.ndarray, list, numbers.Number)) for v in x.values()
    )


class TabularNetwork(FunctionalModel):
    """Base of the tabular networks: the input contract and its checks.

    A NumPy batch given to `model(x)`, `fit`, `evaluate`, `predict` or the
    `*_on_batch` methods is checked by `validate_inputs` before it reaches the
    backend (on JAX, one bad batch can leave a compiled predict function
    unusable). Backend tensors and `tf.data` pipelines are not checked here;
    an out-of-range category id there gives NaN outputs (see
    `CategoricalEmbedding`).
    """

    def _set_table(self, n_numeric, cardinalities, n_dense, output_units):
        """Record the table's shape (shared config of every tabular network)."""
        self.n_numeric = n_numeric
        self.cardinalities = cardinalities
        self.output_units = output_units
        self.n_dense = n_dense
        self._widths = {
            key: width
            for key, width in zip(INPUT_KEYS, (n_numeric, len(cardinalities), n_dense))
            if width
        }

    @property
    def input_widths(self):
        """The expected keys and their widths, e.g. `{"numeric": 8}`."""
        return dict(self._widths)

    def validate_inputs(self, x):
        """Raises ValueError/TypeError when the dict `x` breaks the contract.

        Checks the keys, that every value is `(batch, width)` with one batch
        size, that `"categorical"` holds integers in `[0, cardinalities[j])`,
        and that `"numeric"`/`"dense"` are finite (impute before the network).

        Args:
            x: A dict of NumPy arrays.

        Returns:
            None.
        """
        if not isinstance(x, dict):
            raise TypeError(
                f"{type(self).__name__} expects a dict with the keys "
                f"{sorted(self._widths)}; received {type(x).__name__}."
            )
        missing = sorted(set(self._widths) - set(x))
        unknown = sorted(set(x) - set(self._widths))
        if missing or unknown:
            raise ValueError(
                f"{type(self).__name__} expects the input keys "
                f"{sorted(self._widths)}; received {sorted(x)} (missing "
                f"{missing}, unexpected {unknown})."
            )
        batch = None
        for key, width in self._widths.items():
            value = np.asarray(x[key])
            if value.ndim != 2 or value.shape[1] != width:
                raise ValueError(
                    f"Expected `{key}` of shape (batch, {width}); received shape "
                    f"{value.shape}."
                )
            if batch is not None and value.shape[0] != batch:
                raise ValueError(
                    f"All inputs need the same batch size; `{key}` has "
                    f"{value.shape[0]} rows, another input {batch}."
                )
            batch = value.shape[0]
            if key == "categorical":
                self._check_ids(value)
            elif value.dtype.kind not in "iufb" or not np.all(np.isfinite(value)):
                bad = (
                    "is not numeric"
                    if value.dtype.kind not in "iufb"
                    else "holds NaN or inf"
                )
                raise ValueError(
                    f"`{key}` {bad} (dtype {value.dtype}); the network takes "
                    "imputed, encoded numbers."
                )

    def _check_ids(self, ids):
        if ids.dtype.kind not in "iu":
            raise TypeError(
                "Expected integer category ids in `categorical`; received dtype "
                f"{ids.dtype}."
            )
        if not ids.size:
            return
        cardinalities = np.asarray(self.cardinalities)
        bad = (ids < 0) | (ids >= cardinalities)
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"`categorical` column {column} holds id {int(ids[row, column])} "
                f"(row {row}); its ids must lie in [0, {cardinalities[column]}) "
                f"(cardinalities={list(self.cardinalities)}). Encode unseen "
                "categories as 0."
            )

    def _validate_data(self, x):
        if _is_numpy_batch(x):
            self.validate_inputs(x)

    def __call__(self, *args, **kwargs):
        self._validate_data(args[0] if args else kwargs.get("inputs"))
        return super().__call__(*args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        self._validate_data(x)
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            self._validate_data(validation[0])
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._validate_data(x)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._validate_data(x)
        return super().predict(x, *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        self._validate_data(x)
        return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x, y=None, *args, **kwargs):
        self._validate_data(x)
        return super().test_on_batch(x, y, *args, **kwargs)

    def predict_on_batch(self, x):
        self._validate_data(x)
        return super().predict_on_batch(x)
