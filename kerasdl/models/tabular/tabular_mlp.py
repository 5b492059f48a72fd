"""An MLP for tables with embedded columns (Gorishniy et al., 2021 and 2022).

    categorical ids  -> CategoricalEmbedding(d_embedding), flattened
    numeric numbers  -> as they are, or PeriodicEmbedding(d_embedding) flattened
                        (the paper's MLP-PLR)
    dense vector     -> as it is
    concatenate -> depth x [Dense(width) -> (BatchNorm) -> ReLU -> Dropout]
    -> Dense(output_units)                      (raw logits / values)

The plain MLP is the baseline "Revisiting Deep Learning Models for Tabular
Data" found hard to beat once tuned; with PLR embeddings ("On Embeddings for
Numerical Features in Tabular Deep Learning") it is among the strongest
deep tabular models and much cheaper than a transformer.
"""

from __future__ import annotations

import keras

from kerasdl._checks import check_float, check_int
from kerasdl.layers.tabular_embeddings import CategoricalEmbedding, PeriodicEmbedding
from kerasdl.models.tabular._base import (
    TabularNetwork,
    check_dtype,
    check_table,
    table_inputs,
)

__all__ = ["MLP_NUMERIC_EMBEDDINGS", "TabularMLP"]

MLP_NUMERIC_EMBEDDINGS = (None, "periodic")


@keras.saving.register_keras_serializable(package="kerasdl")
class TabularMLP(TabularNetwork):
    """An MLP over embedded categorical columns, numbers and dense vectors.

    Weights (n = `n_numeric`, e = `d_embedding`, k = `n_frequencies`):
    categorical tables `sum(cardinalities) e` (no per-column bias: the next
    Dense has one); PLR `n k + n 2k e + n e`; then Dense layers on
    `n (or n e) + len(cardinalities) e + n_dense` features.

    Args:
        n_numeric: Width of `"numeric"` (0: no such input).
        cardinalities: Number of ids of each categorical column, id 0 included
            (empty: no `"categorical"` input).
        output_units: Number of classes (>= 2) for classification, 1 for
            regression; the outputs are raw logits / values.
        n_dense: Width of `"dense"` (0: no such input).
        depth: Number of hidden blocks (>= 0).
        width: Units per hidden block.
        dropout: Dropout rate after each hidden block, in [0, 1).
        batch_norm: BatchNormalization between each hidden Dense (then without
            bias) and its ReLU.
        numeric_embedding: None (numbers as they are) or `"periodic"` (PLR).
        d_embedding: Size of each categorical embedding and PLR output.
        n_frequencies: PLR frequencies per column (periodic only).
        sigma: PLR frequency initialisation scale (periodic only).
        seed: Integer seed of the dropouts (None: unseeded).
        name: Name of the model.
        dtype: Dtype policy of every layer (e.g. `"mixed_bfloat16"`), or None
            for the global policy.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: A dict with the keys in `model.input_widths` (see
            `kerasdl.models.tabular`). NumPy batches are checked first.
        training: Whether dropout and batch-norm statistics follow training.

    Returns:
        `(batch, output_units)` logits or values.

    Example:

    ```python
    model = TabularMLP(8, [3, 5], output_units=1, numeric_embedding="periodic")
    model.compile("adamw", "mse")
    model.fit({"numeric": x_num, "categorical": x_cat}, y, epochs=50)
    ```
    """

    def __init__(
        self,
        n_numeric,
        cardinalities,
        output_units,
        *,
        n_dense=0,
        depth=2,
        width=256,
        dropout=0.1,
        batch_norm=False,
        numeric_embedding=None,
        d_embedding=8,
        n_frequencies=16,
        sigma=0.01,
        seed=None,
        name=None,
        dtype=None,
        **kwargs,
    ):
        n_numeric, cardinalities, n_dense, output_units = check_table(
            n_numeric, cardinalities, n_dense, output_units
        )
        depth = check_int("depth", depth, minimum=0)
        width = check_int("width", width)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        batch_norm = bool(batch_norm)
        if numeric_embedding not in MLP_NUMERIC_EMBEDDINGS:
            raise ValueError(
                f"`numeric_embedding` must be one of {MLP_NUMERIC_EMBEDDINGS}; "
                f"received numeric_embedding={numeric_embedding!r}."
            )
        d_embedding = check_int("d_embedding", d_embedding)
        n_frequencies = check_int("n_frequencies", n_frequencies)
        sigma = check_float("sigma", sigma, low=0.0, low_open=True)
        seed = check_int("seed", seed, minimum=0, allow_none=True)
        dtype = check_dtype(dtype)

        # === Layers + functional model ===
        inputs = table_inputs(n_numeric, cardinalities, n_dense)
        features = []
        if n_numeric:
            x = inputs["numeric"]
            if numeric_embedding == "periodic":
                x = PeriodicEmbedding(
                    d_embedding, n_frequencies, sigma, dtype=dtype, name="numeric_plr"
                )(x)
                x = keras.layers.Flatten(dtype=dtype, name="numeric_flatten")(x)
            features.append(x)
        if cardinalities:
            x = CategoricalEmbedding(
                cardinalities,
                d_embedding,
                use_bias=False,
                dtype=dtype,
                name="categorical_embedding",
            )(inputs["categorical"])
            features.append(
                keras.layers.Flatten(dtype=dtype, name="categorical_flatten")(x)
            )
        if n_dense:
            features.append(inputs["dense"])
        x = (
            keras.layers.Concatenate(dtype=dtype, name="features")(features)
            if len(features) > 1
            else keras.layers.Identity(dtype=dtype, name="features")(features[0])
        )
        for i in range(1, depth + 1):
            x = keras.layers.Dense(
                width,
                use_bias=not batch_norm,
                kernel_initializer="he_normal",
                dtype=dtype,
                name=f"dense_{i}",
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(
                    dtype=dtype, name=f"batch_norm_{i}"
                )(x)
            x = keras.layers.Activation("relu", dtype=dtype, name=f"relu_{i}")(x)
            if dropout:
                x = keras.layers.Dropout(
                    dropout,
                    seed=None if seed is None else seed + i,
                    dtype=dtype,
                    name=f"dropout_{i}",
                )(x)
        outputs = keras.layers.Dense(output_units, dtype=dtype, name="predictions")(x)
        super().__init__(
            inputs=inputs, outputs=outputs, name=name, dtype=dtype, **kwargs
        )

        # === Config ===
        self._set_table(n_numeric, cardinalities, n_dense, output_units)
        self.depth = depth
        self.width = width
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.numeric_embedding = numeric_embedding
        self.d_embedding = d_embedding
        self.n_frequencies = n_frequencies
        self.sigma = sigma
        self.seed = seed

    def get_config(self):
        return {
            **super().get_config(),
            "n_numeric": self.n_numeric,
            "cardinalities": list(self.cardinalities),
            "output_units": self.output_units,
            "n_dense": self.n_dense,
            "depth": self.depth,
            "width": self.width,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "numeric_embedding": self.numeric_embedding,
            "d_embedding": self.d_embedding,
            "n_frequencies": self.n_frequencies,
            "sigma": self.sigma,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
