"""`TableEncoder`: raw table columns to the inputs of a deep tabular network.

A raw table is a pandas `DataFrame` plus the role of each feature column
(`{"age": "numeric", "island": "categorical", "review": "text", "day": "date"}`),
or a clean numeric array (every column numeric). The encoder is fitted on the
training rows only and turns any rows of the same table into the dict a tabular
network (`TabularMLP`, `FTTransformer`) takes:

- `"numeric"`: float32 `(batch, n_numeric)`: the numeric columns (missing cells
  imputed with the training median), a missing-indicator column per numeric or
  date column (those with a missing training cell, or all: `missing_indicators`),
  and five parts per date column (year, month, day of week, day of year, days
  since 1970-01-01), all standardized
  with the training mean and variance by `keras.layers.Normalization` (the 0/1
  missing indicators are left as they are);
- `"categorical"`: int32 `(batch, n_categorical)`: `keras.layers.StringLookup`'s
  mapping per column (vocabulary[i] -> i + 1), 0 for a category unseen (or rarer
  than `min_frequency`) in training;
  missing cells are the token `"[MISSING]"`, an index of its own when frequent;
- `"dense"`: float32 `(batch, n_dense)`: a TF-IDF vector per text column from
  `keras.layers.TextVectorization(output_mode="tf_idf")`, L2-normalized per row.

Only the keys with at least one column are present. The Keras preprocessing layers
run eagerly, outside the network (they use TensorFlow internally, on every backend);
their outputs are returned as NumPy arrays.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import pandas as pd

from kerasdl.models.tabular.table_cells import (
    _CONFIG_VERSION,
    DATE_PARTS,
    MISSING_TOKEN,
    UNSEEN_TOKEN,
    _num_rows,
    cell_token,
    date_parts,
    date_values,
    numeric_values,
    text_values,
    tokens,
)
from kerasdl.models.tabular.table_input import as_frame, resolve_roles

__all__ = [
    "DATE_PARTS",
    "MISSING_INDICATORS",
    "MISSING_TOKEN",
    "UNSEEN_TOKEN",
    "TableEncoder",
]

#: Choices for `TableEncoder(missing_indicators=...)`.
MISSING_INDICATORS = ("seen", "all")


def _idf_weights(layer, vocabulary, chunk=256):
    """An adapted TF-IDF `TextVectorization`'s IDF weights (out-of-vocabulary slot
    first), read through its public call: Keras keeps them on a private inner layer.
    A one-token document vectorizes to 1 x its token's weight; a word longer than
    any in the vocabulary gets the out-of-vocabulary slot's."""
    longest = max((len(token) for token in vocabulary), default=0)
    documents = ["z" * (longest + 1), *vocabulary[1:]]  # document i holds token i
    weights = []
    for start in range(0, len(documents), chunk):
        rows = keras.ops.convert_to_numpy(layer(documents[start : start + chunk]))
        index = np.arange(len(rows))
        weights.extend(np.asarray(rows)[index, start + index])
    return np.asarray(weights, dtype="float64")


class TableEncoder:
    """Encodes a raw table into a tabular network's input dict; fitted on train rows.

    Decisions worth knowing:
    - a missing categorical cell becomes the token `"[MISSING]"`, counted like any
      category: when training had at least `min_frequency` missing cells it gets its
      own index (missingness is often informative), otherwise it maps to 0 with
      the unseen categories (a real category spelled `"[MISSING]"` is merged with it);
    - categories seen fewer than `min_frequency` times in training map to 0, so the
      network learns an embedding for "rare or unseen" instead of meeting an
      untrained index 0 at prediction time;
    - zero-variance numeric parts are divided by 1 (not by Keras's epsilon), so a
      value that was constant in training cannot blow up at prediction time;
    - a TF-IDF block is always `max_tokens` wide (`pad_to_max_tokens=True`), so its
      width does not depend on the training rows.

    Args:
        min_frequency: Categories seen fewer times than this in training map to 0.
        max_tokens: Vocabulary size (including the out-of-vocabulary slot) and
            output width of the TF-IDF vector of each text column.
        missing_indicators: `"seen"`: a missing-indicator column for each numeric
            or date column that had a missing cell in the training rows; `"all"`:
            one for every numeric and date column, so the encoded width (and a
            compiled network's input shape) does not depend on which rows a fold
            holds, and a column that was complete in training still says "missing"
            when a cell is missing at prediction time.

    Example:
        >>> encoder = TableEncoder().fit(train_frame, {"age": "numeric",
        ...                                            "city": "categorical"})
        >>> inputs = encoder.transform(test_frame)   # {"numeric": ..., ...}
        >>> encoder.cardinalities, encoder.n_numeric, encoder.n_dense
    """

    def __init__(
        self,
        *,
        min_frequency: int = 2,
        max_tokens: int = 500,
        missing_indicators: str = "seen",
    ):
        if (
            isinstance(min_frequency, bool)
            or not isinstance(min_frequency, numbers.Integral)
            or min_frequency < 1
        ):
            raise ValueError(
                f"min_frequency must be an integer >= 1; received {min_frequency!r}."
            )
        if (
            isinstance(max_tokens, bool)
            or not isinstance(max_tokens, numbers.Integral)
            or max_tokens < 2
        ):
            raise ValueError(
                f"max_tokens must be an integer >= 2; received {max_tokens!r}."
            )
        if missing_indicators not in MISSING_INDICATORS:
            raise ValueError(
                f"missing_indicators must be one of {MISSING_INDICATORS}; received "
                f"{missing_indicators!r}."
            )
        self.min_frequency = int(min_frequency)
        self.max_tokens = int(max_tokens)
        self.missing_indicators = missing_indicators
        self._columns: list[dict] | None = None

    # === Fitting ===

    def fit(self, x, feature_types: dict | None = None) -> TableEncoder:
        """Learn medians, vocabularies, means, variances and IDF weights from `x`.

        Args:
            x: The training rows: a pandas `DataFrame`, or a 2-D numeric array
                (every column numeric; `feature_types` must then be `None`).
            feature_types: `{column: role}` with roles from
                `("numeric", "categorical", "text", "date")`, in the order the
                columns are encoded; other columns of `x` are ignored. `None`: a
                `DataFrame`'s roles come from its dtypes (numbers and booleans
                numeric, datetimes dates, anything else categorical).

        Returns:
            `self`.
        """
        frame, input_kind = self._as_frame(x, fitting=True)
        if len(frame) == 0:
            raise ValueError("x is empty; received 0 rows to fit the encoder on.")
        roles = self._resolve_roles(frame, feature_types, input_kind)
        self.input_kind = input_kind
        columns, numeric_blocks = [], []
        for name, role in roles.items():
            series = frame[name]
            if role == "numeric":
                values = self._numeric(series, name)
                column, block = self._fit_numeric(name, values)
            elif role == "date":
                parts = self._date_parts(self._dates(series, name))
                column, block = self._fit_date(name, parts)
            elif role == "categorical":
                column, block = self._fit_categorical(name, series), None
            else:
                column, block = self._fit_text(name, series), None
            columns.append(column)
            if block is not None:
                numeric_blocks.append(block)
        self._columns = columns
        if numeric_blocks:
            block = np.concatenate(numeric_blocks, axis=1).astype("float32")
            normalization = keras.layers.Normalization(axis=-1)
            normalization.adapt(block)
            mean = np.ravel(keras.ops.convert_to_numpy(normalization.mean))
            variance = np.ravel(keras.ops.convert_to_numpy(normalization.variance))
            # A part constant in training is centred, not divided by epsilon.
            variance = np.where(variance > 1e-12, variance, 1.0)
            # Missing indicators stay 0/1: standardised, a rare one becomes
            # 1 / sqrt(p) (about 12 for 2 missing cells in 300 rows), an input
            # so large that one all-missing row got a confident wrong answer.
            indicators = self._indicator_mask(columns)
            mean = np.where(indicators, 0.0, mean)
            variance = np.where(indicators, 1.0, variance)
            self._mean = [float(v) for v in mean]
            self._variance = [float(v) for v in variance]
        else:
            self._mean, self._variance = [], []
        self._build_layers()
        return self

    def _fit_numeric(self, name, values):
        missing = np.isnan(values)
        median = float(np.median(values[~missing])) if (~missing).any() else 0.0
        column = {
            "name": name,
            "role": "numeric",
            "median": median,
            "indicator": bool(missing.any()) or self.missing_indicators == "all",
        }
        return column, self._numeric_block(column, values)

    def _fit_date(self, name, parts):
        missing = np.isnan(parts[:, 0])
        if (~missing).any():
            medians = [float(v) for v in np.median(parts[~missing], axis=0)]
        else:
            medians = [0.0] * len(DATE_PARTS)
        column = {
            "name": name,
            "role": "date",
            "medians": medians,
            "indicator": bool(missing.any()) or self.missing_indicators == "all",
        }
        return column, self._date_block(column, parts)

    def _fit_categorical(self, name, series):
        tokens = pd.Series(self._tokens(series, name))
        counts = tokens.value_counts()
        kept = counts[counts >= self.min_frequency]
        # Most frequent first; ties in a fixed (string) order, so fits repeat.
        order = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
        vocabulary = [token for token, _ in order if token != UNSEEN_TOKEN]
        return {"name": name, "role": "categorical", "vocabulary": vocabulary}

    def _fit_text(self, name, series):
        texts = self._texts(series, name)
        layer = keras.layers.TextVectorization(
            max_tokens=self.max_tokens, output_mode="tf_idf", pad_to_max_tokens=True
        )
        layer.adapt(texts)
        vocabulary = [str(token) for token in layer.get_vocabulary()]
        idf = _idf_weights(layer, vocabulary)
        return {
            "name": name,
            "role": "text",
            "vocabulary": vocabulary,
            "idf_weights": [float(v) for v in idf],
        }

    # === Layers ===

    def _build_layers(self):
        self._lookups, self._vectorizers = {}, {}
        for column in self._columns:
            if column["role"] == "categorical":
                # `keras.layers.StringLookup(vocabulary, num_oov_indices=1)`'s mapping
                # (vocabulary[i] -> i + 1, anything else -> 0), done with a pandas
                # index: the Keras layer imports TensorFlow (2-3 s) on JAX and
                # torch for a dictionary lookup. Tested equal to the layer.
                self._lookups[column["name"]] = pd.Index(column["vocabulary"])
            elif column["role"] == "text":
                self._vectorizers[column["name"]] = self._text_layer(column)
        self._normalization = None
        if self._mean:
            self._normalization = keras.layers.Normalization(
                axis=-1, mean=self._mean, variance=self._variance
            )

    def _text_layer(self, column):
        vocabulary = column["vocabulary"]
        if len(vocabulary) <= 1:  # training held no words at all
            return None
        return keras.layers.TextVectorization(
            max_tokens=self.max_tokens,
            output_mode="tf_idf",
            pad_to_max_tokens=True,
            vocabulary=vocabulary,
            idf_weights=column["idf_weights"],
        )

    # === Transforming ===

    def transform(self, x) -> dict[str, np.ndarray]:
        """Encode rows of the table the encoder was fitted on.

        Args:
            x: A `DataFrame` holding every feature column (extra columns are
                ignored), a dict `{column: values}`, a list of row dicts, or (for an
                encoder fitted on an array) a 2-D numeric array of the same width.
                Missing cells (NaN, None, NaT, "" in text) and unseen categories
                are fine.

        Returns:
            `{"numeric": float32 (n, n_numeric), "categorical": int32
            (n, n_categorical), "dense": float32 (n, n_dense)}`, only the keys that
            have columns.
        """
        self._check_fitted()
        frame, _ = self._as_frame(x, fitting=False)
        if _num_rows(frame) == 0:
            raise ValueError("x is empty; received 0 rows to encode.")
        missing = [c["name"] for c in self._columns if c["name"] not in frame]
        if missing:
            raise ValueError(
                f"x lacks the feature column(s) {missing} the encoder was fitted "
                f"on; received columns {list(frame)}."
            )
        numeric, categorical, dense = [], [], []
        for column in self._columns:
            name, role = column["name"], column["role"]
            series = frame[name]
            if role == "numeric":
                numeric.append(self._numeric_block(column, self._numeric(series, name)))
            elif role == "date":
                parts = self._date_parts(self._dates(series, name))
                numeric.append(self._date_block(column, parts))
            elif role == "categorical":
                categorical.append(self._lookup(name, self._tokens(series, name)))
            else:
                dense.append(self._tf_idf(column, self._texts(series, name)))
        out = {}
        if numeric:
            block = np.concatenate(numeric, axis=1).astype("float32")
            scaled = self._normalization(block)
            out["numeric"] = np.asarray(
                keras.ops.convert_to_numpy(scaled), dtype="float32"
            )
        if categorical:
            out["categorical"] = np.stack(categorical, axis=1).astype("int32")
        if dense:
            out["dense"] = np.concatenate(dense, axis=1).astype("float32")
        return out

    def fit_transform(self, x, feature_types: dict | None = None):
        """`fit(x, feature_types)` then `transform(x)`."""
        return self.fit(x, feature_types).transform(x)

    def _lookup(self, name, tokens):
        index = self._lookups[name]
        return (index.get_indexer(np.asarray(tokens, dtype=object)) + 1).astype("int32")

    def _tf_idf(self, column, texts):
        layer = self._vectorizers[column["name"]]
        if layer is None:
            return np.zeros((len(texts), self.max_tokens), dtype="float32")
        values = np.asarray(keras.ops.convert_to_numpy(layer(texts)), dtype="float32")
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        return values / np.where(norms > 0, norms, 1.0)

    @staticmethod
    def _indicator_mask(columns) -> np.ndarray:
        """Which entries of the `"numeric"` input are missing indicators."""
        mask = []
        for column in columns:
            if column["role"] == "numeric":
                mask.append(False)
            elif column["role"] == "date":
                mask.extend([False] * len(DATE_PARTS))
            else:
                continue
            if column["indicator"]:
                mask.append(True)
        return np.asarray(mask, dtype=bool)

    def _numeric_block(self, column, values):
        missing = np.isnan(values)
        filled = np.where(missing, column["median"], values)
        parts = [filled[:, None]]
        if column["indicator"]:
            parts.append(missing[:, None].astype("float64"))
        return np.concatenate(parts, axis=1)

    def _date_block(self, column, parts):
        missing = np.isnan(parts[:, 0])
        filled = np.where(missing[:, None], np.asarray(column["medians"]), parts)
        if column["indicator"]:
            filled = np.concatenate([filled, missing[:, None]], axis=1)
        return filled

    # === Cell checks and conversions (kerasdl.models.tabular.table_cells) ===

    _numeric = staticmethod(numeric_values)
    _dates = staticmethod(date_values)
    _date_parts = staticmethod(date_parts)
    _cell_token = staticmethod(cell_token)
    _tokens = staticmethod(tokens)
    _texts = staticmethod(text_values)

    # === Input forms (table_input.py) ===

    def _as_frame(self, x, fitting):
        if fitting:
            return as_frame(x, fitting)
        return as_frame(x, fitting, self.input_kind, len(self._columns))

    _resolve_roles = staticmethod(resolve_roles)

    # === Fitted state ===

    def _check_fitted(self):
        if self._columns is None:
            raise ValueError(
                "This TableEncoder is not fitted yet; call fit(x, feature_types) on "
                "the training rows first."
            )

    @property
    def feature_types(self) -> dict:
        """`{column: role}` of the fitted columns, in encoding order."""
        self._check_fitted()
        return {c["name"]: c["role"] for c in self._columns}

    @property
    def cardinalities(self) -> list[int]:
        """Per categorical column: vocabulary size + 1 (index 0: unseen or rare)."""
        self._check_fitted()
        return [
            len(c["vocabulary"]) + 1
            for c in self._columns
            if c["role"] == "categorical"
        ]

    @property
    def n_numeric(self) -> int:
        """Width of the `"numeric"` input (columns, indicators, date parts)."""
        self._check_fitted()
        return len(self._mean)

    @property
    def n_dense(self) -> int:
        """Width of the `"dense"` input (`max_tokens` per text column)."""
        self._check_fitted()
        return self.max_tokens * sum(c["role"] == "text" for c in self._columns)

    def input_shapes(self) -> dict[str, tuple]:
        """`{key: (width,)}` for the keys `transform` returns."""
        shapes = {}
        if self.n_numeric:
            shapes["numeric"] = (self.n_numeric,)
        if self.cardinalities:
            shapes["categorical"] = (len(self.cardinalities),)
        if self.n_dense:
            shapes["dense"] = (self.n_dense,)
        return shapes

    # === Config ===

    def get_config(self) -> dict:
        """Everything learned, as JSON-able lists and numbers."""
        self._check_fitted()
        return {
            "version": _CONFIG_VERSION,
            "min_frequency": self.min_frequency,
            "max_tokens": self.max_tokens,
            "missing_indicators": self.missing_indicators,
            "input_kind": self.input_kind,
            "columns": [dict(c) for c in self._columns],
            "numeric_mean": list(self._mean),
            "numeric_variance": list(self._variance),
        }

    @classmethod
    def from_config(cls, config: dict) -> TableEncoder:
        """Rebuild a fitted encoder from `get_config()` (no data needed)."""
        if not isinstance(config, dict) or "columns" not in config:
            raise ValueError(
                "config must be a dict from TableEncoder.get_config(); received "
                f"{type(config).__name__}."
            )
        if config.get("version", _CONFIG_VERSION) != _CONFIG_VERSION:
            raise ValueError(
                f"TableEncoder config version {config.get('version')!r} is not "
                f"supported; this kerasdl reads version {_CONFIG_VERSION}."
            )
        encoder = cls(
            min_frequency=config["min_frequency"],
            max_tokens=config["max_tokens"],
            missing_indicators=config.get("missing_indicators", "seen"),
        )
        encoder.input_kind = config["input_kind"]
        encoder._columns = [dict(c) for c in config["columns"]]
        encoder._mean = [float(v) for v in config["numeric_mean"]]
        encoder._variance = [float(v) for v in config["numeric_variance"]]
        encoder._build_layers()
        return encoder

    def __repr__(self) -> str:
        if self._columns is None:
            return (
                f"TableEncoder(min_frequency={self.min_frequency}, "
                f"max_tokens={self.max_tokens}, not fitted)"
            )
        return (
            f"TableEncoder({len(self._columns)} columns: n_numeric={self.n_numeric}, "
            f"cardinalities={self.cardinalities}, n_dense={self.n_dense})"
        )
