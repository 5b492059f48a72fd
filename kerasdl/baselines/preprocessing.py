"""Raw tables to model inputs: one scikit-learn `ColumnTransformer` per model family.

A raw table is a pandas `DataFrame` plus `feature_types`, the role of every feature
column: `"numeric"` (float, NaN when missing), `"categorical"` (strings; `None`,
NaN or `pd.NA` when missing), `"text"` (strings, `""` when missing) or `"date"`
(datetime64, NaT when missing). The preprocessor is a step of the model's pipeline,
so it is fitted on the training rows only: the test rows never move a median, a
mean, a vocabulary or a category list, and the output width is fixed by the
training rows.

Two recipes:

- **linear, kernel and k-NN models** (`for_trees=False`) need finite, comparable
  scales: numbers are median-imputed (plus a was-missing indicator) and standardized;
  categories one-hot encoded (missing is its own category; categories seen fewer
  than `MIN_CATEGORY_COUNT` times in training, and unseen ones, share one
  "infrequent" column, or none when every category is frequent); each text column is
  a TF-IDF bag of words; dates become calendar numbers, imputed and standardized.
  The output may be sparse (text): every such model accepts it.
- **tree ensembles** (`for_trees=True`) split on order, not scale, and handle NaN
  natively: numbers pass through with their NaN; categories become integer codes
  (unseen ones: `-1`, which gradient boosting reads as missing) in the *first*
  columns, so `categorical_columns(feature_types)` tells native-categorical models
  which they are; text becomes a dense TF-IDF of at most `TREE_TEXT_FEATURES`
  words; dates become calendar numbers with NaN for NaT. The output is dense.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

#: The roles a feature column can play (as `kerasdl.data.dataset.FEATURE_ROLES`).
ROLES = ("numeric", "categorical", "text", "date")

#: The category that stands for a missing cell (`None`, NaN, `pd.NA`).
MISSING_CATEGORY = "(missing)"

#: One-hot (linear models): a category seen fewer times in the training rows joins
#: the shared "infrequent" column, which is also where unseen categories go.
MIN_CATEGORY_COUNT = 5

#: Ordinal codes (trees): at most this many codes per column, the rarest grouped;
#: histogram gradient boosting accepts at most 255 categories (its `max_bins`).
MAX_TREE_CATEGORIES = 255

#: Trees get a dense TF-IDF of at most this many words per text column
#: (histogram gradient boosting does not accept sparse input).
TREE_TEXT_FEATURES = 200

_DATE_PARTS = ("year", "month", "day_of_week", "day_of_year", "days_since_epoch")
_EPOCH = pd.Timestamp("1970-01-01")


class DateFeatures(TransformerMixin, BaseEstimator):
    """Expand each date column into five numbers a model can use.

    For every input column: year, month (1-12), day of week (Monday = 0), day of
    year (1-366) and days since 1970-01-01 (fractional, so the time of day counts).
    A missing date (NaT, or a value that is not a date) gives NaN in all five;
    impute afterwards where the model needs finite values. Timezone-aware columns
    are converted to UTC first.

    Example:
        >>> import pandas as pd
        >>> x = pd.DataFrame({"day": pd.to_datetime(["2024-02-29", None])})
        >>> DateFeatures().fit_transform(x)[0].tolist()
        [2024.0, 2.0, 3.0, 60.0, 19782.0]
    """

    def fit(self, X, y=None):
        """Record the number (and names) of the input columns; returns `self`."""
        if np.ndim(X) != 2:
            raise ValueError(
                "DateFeatures expects a 2-D input (rows, date columns); received "
                f"shape {np.shape(X)}."
            )
        validate_data(self, X, reset=True, skip_check_array=True)
        self.n_output_features_ = len(_DATE_PARTS) * self.n_features_in_
        return self

    def transform(self, X):
        """The `(n, 5 * columns)` float64 array of calendar numbers."""
        check_is_fitted(self, "n_output_features_")
        validate_data(self, X, reset=False, skip_check_array=True)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        blocks = [self._expand(frame.iloc[:, i]) for i in range(frame.shape[1])]
        return np.column_stack(blocks).astype("float64")

    @staticmethod
    def _expand(column) -> np.ndarray:
        dates = pd.to_datetime(pd.Series(column), errors="coerce")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
        parts = dates.dt
        days = (dates - _EPOCH) / pd.Timedelta(days=1)
        return np.column_stack(
            [
                parts.year.astype("float64"),
                parts.month.astype("float64"),
                parts.day_of_week.astype("float64"),
                parts.day_of_year.astype("float64"),
                days.astype("float64"),
            ]
        )

    def get_feature_names_out(self, input_features=None):
        """`<column>_year`, `<column>_month`, ... for each input column."""
        check_is_fitted(self, "n_output_features_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features must have {self.n_features_in_} names; received "
                f"{len(input_features)}."
            )
        return np.asarray(
            [f"{name}_{part}" for name in input_features for part in _DATE_PARTS],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def check_feature_types(feature_types) -> dict:
    """Return `feature_types` as a dict after checking it is a non-empty mapping of
    column -> role with roles from `ROLES`; else ValueError naming what is wrong."""
    if not isinstance(feature_types, dict) or not feature_types:
        raise ValueError(
            "feature_types must be a non-empty dict {column: role} with roles in "
            f"{ROLES}; received {feature_types!r}."
        )
    bad = {column: role for column, role in feature_types.items() if role not in ROLES}
    if bad:
        raise ValueError(f"feature_types roles must be in {ROLES}; received {bad}.")
    return dict(feature_types)


def columns_of(feature_types: dict, role: str) -> list:
    """The columns of `feature_types` with `role`, in their order."""
    return [column for column, r in feature_types.items() if r == role]


def categorical_columns(feature_types: dict) -> list[int]:
    """Positions of the categorical codes in the output of
    `make_preprocessor(feature_types, for_trees=True)`: always the first columns."""
    return list(
        range(len(columns_of(check_feature_types(feature_types), "categorical")))
    )


def make_preprocessor(
    feature_types: dict, *, for_trees: bool, max_text_features: int = 2000
) -> ColumnTransformer:
    """An unfitted `ColumnTransformer` that turns a raw table into model inputs.

    Columns of the table that are not in `feature_types` are dropped. Output
    columns come in role order: categorical, numeric, date, then one block per
    text column.

    Args:
        feature_types: `{column: role}` with roles `"numeric"`, `"categorical"`,
            `"text"`, `"date"`.
        for_trees: `True` for tree ensembles (NaN kept, categories as integer codes
            in the first columns, dense output); `False` for linear, kernel and
            k-NN models (imputed, standardized, one-hot, TF-IDF; possibly sparse).
        max_text_features: Vocabulary size per text column (the most frequent
            words of the training rows); trees use at most `TREE_TEXT_FEATURES`.

    Returns:
        An unfitted `sklearn.compose.ColumnTransformer`.
    """
    feature_types = check_feature_types(feature_types)
    if not isinstance(for_trees, bool):
        raise ValueError(f"for_trees must be True or False; received {for_trees!r}.")
    if (
        isinstance(max_text_features, bool)
        or not isinstance(max_text_features, numbers.Integral)
        or max_text_features < 1
    ):
        raise ValueError(
            "max_text_features must be an integer >= 1; received "
            f"{max_text_features!r}."
        )
    categorical = columns_of(feature_types, "categorical")
    numeric = columns_of(feature_types, "numeric")
    dates = columns_of(feature_types, "date")
    texts = columns_of(feature_types, "text")
    fill_missing = SimpleImputer(
        missing_values=pd.NA, strategy="constant", fill_value=MISSING_CATEGORY
    )  # pd.NA makes the imputer test with pandas.isna: None, NaN, pd.NA alike.

    transformers = []
    if for_trees:
        if categorical:
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                max_categories=MAX_TREE_CATEGORIES,
                dtype=np.float64,
            )
            transformers.append(
                ("categorical", make_pipeline(fill_missing, encoder), categorical)
            )
        if numeric:
            transformers.append(("numeric", "passthrough", numeric))
        if dates:
            transformers.append(("date", DateFeatures(), dates))
        text_features = min(max_text_features, TREE_TEXT_FEATURES)
    else:
        if categorical:
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=MIN_CATEGORY_COUNT,
            )
            transformers.append(
                ("categorical", make_pipeline(fill_missing, encoder), categorical)
            )
        if numeric:
            transformers.append(("numeric", _impute_and_scale(), numeric))
        if dates:
            transformers.append(("date", _impute_and_scale(DateFeatures()), dates))
        text_features = max_text_features
    for i, column in enumerate(texts):
        # A column name (not a list) hands the vectorizer the 1-D column it needs.
        vectorizer = TfidfVectorizer(
            max_features=text_features, min_df=1, sublinear_tf=True
        )
        transformers.append((f"text_{i}", vectorizer, column))
    return ColumnTransformer(
        transformers,
        remainder="drop",
        sparse_threshold=0.0 if for_trees else 0.3,
    )


def _impute_and_scale(*before):
    """Median imputation with was-missing indicators, then standardization."""
    return make_pipeline(
        *before, SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
    )
