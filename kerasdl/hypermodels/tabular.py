"""HyperModels of the deep tabular networks: `TabularMLP` and `FTTransformer`.

They search what `kerasdl.baselines.KerasTabularClassifier` /
`KerasTabularRegressor` train untuned: the network takes the input dict of a
`TableEncoder` fitted on the training rows (`"numeric"`, `"categorical"`,
`"dense"`), outputs logits (classification) or one value (regression, the target
standardised with the training rows' mean and std), and trains with AdamW,
sparse cross-entropy from logits or mean squared error, and early stopping on
the validation loss.

The Keras Tuner contract (keras-tuner's `HyperResNet`): the table's shape (the
encoder's widths and category counts) and the task go to `__init__`; `build(hp)`
declares the search space, every default equal to the untuned estimator's, so
`hypermodel.build(keras_tuner.HyperParameters())` is the untuned network,
compiled as the estimator compiles it.
"""

from __future__ import annotations

import inspect

import keras
import keras_tuner
import numpy as np

from kerasdl import backend as kbackend
from kerasdl._checks import check_float, check_int
from kerasdl.baselines.keras_tabular import KerasTabularClassifier
from kerasdl.baselines.tabular_architectures import (
    _ARCHITECTURES,
    MIN_DELTA,
    default_patience,
)
from kerasdl.baselines.tabular_inputs import _auto_batch_size
from kerasdl.hypermodels.space import Param, choice, float_range, int_range
from kerasdl.models.tabular import FTTransformer, TableEncoder, TabularMLP
from kerasdl.models.tabular._base import check_table

__all__ = [
    "TABULAR_TASKS",
    "FTTransformerHyperModel",
    "TabularHyperModel",
    "TabularMLPHyperModel",
]

TABULAR_TASKS = ("classification", "regression")
#: The untuned estimator's training settings (weight decay, patience, ...): one
#: source of truth, the estimator's own defaults.
_UNTUNED = KerasTabularClassifier().get_params()
#: `numeric_embedding` choices as Keras Tuner can hold them (no None in a Choice).
NO_EMBEDDING = "none"


def _untuned_network_kwargs(network_class, architecture: str) -> dict:
    """The network's keyword defaults, updated by the estimator's architecture
    defaults (e.g. `FT_TRANSFORMER_SMALL`): what the untuned estimator builds."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(network_class.__init__).parameters.items()
        if p.kind is p.KEYWORD_ONLY
        and p.default is not p.empty
        and name not in ("n_dense", "name", "dtype")  # the table's and Keras's
    }
    return {**defaults, **_ARCHITECTURES[architecture][1]}


class TabularHyperModel(keras_tuner.HyperModel):
    """Base of the tabular HyperModels: shape, task, training and the space.

    Subclasses set `family`, `architecture` (the estimator's name for the
    network: `"mlp"` or `"ft_transformer"`), `network_class` and
    `learning_rate_range`, and implement `model_space()` and
    `network_kwargs(values)`.

    Args:
        n_numeric: Width of the encoder's `"numeric"` block (0: none).
        cardinalities: Category count of each categorical column, id 0 included
            (`TableEncoder.cardinalities`).
        n_dense: Width of the `"dense"` block (TF-IDF of text columns; 0: none).
        task: `"classification"` (logits, sparse cross-entropy, accuracy) or
            `"regression"` (one output, mean squared error on the standardised
            target).
        num_classes: Number of classes (>= 2) for classification; None for
            regression.
        batch_size: Rows per step; None: the untuned estimator's choice from the
            training rows given to `fit` (about 8 steps per epoch, 16 to 256).
        weight_decay: AdamW's decoupled weight decay (default: the estimator's).
        patience: Epochs without the validation loss falling by `MIN_DELTA`
            before a trial stops early (default: the estimator's).
        seed: If given, `build` seeds Keras first, so a trial's initial weights
            depend only on its hyperparameters.
        **search_space: Overrides of the search space by hyperparameter name: a
            `(low, high)` range or one number for numeric entries, a list of
            choices or one value for categorical ones (`search_space_summary()`).

    Example:

    ```python
    encoder = TableEncoder(missing_indicators="all").fit(train_frame, roles)
    hypermodel = TabularMLPHyperModel.from_encoder(
        encoder, task="classification", num_classes=3, depth=(1, 3)
    )
    tuner = keras_tuner.RandomSearch(hypermodel, "val_accuracy", max_trials=5)
    tuner.search(encoder.transform(train_frame), y_train,
                 validation_data=(encoder.transform(val_frame), y_val), epochs=50)
    ```
    """

    family: str = ""
    architecture: str = ""
    network_class: type = keras.Model
    learning_rate_range: tuple[float, float] = (1e-4, 1e-2)

    def __init__(
        self,
        n_numeric,
        cardinalities,
        *,
        n_dense=0,
        task: str = "classification",
        num_classes=None,
        batch_size=None,
        weight_decay=None,
        patience=None,
        seed=None,
        **search_space,
    ):
        super().__init__(name=self.family or None, tunable=True)
        if task not in TABULAR_TASKS:
            raise ValueError(
                f"`task` must be one of {TABULAR_TASKS}; received task={task!r}."
            )
        if task == "classification":
            num_classes = check_int("num_classes", num_classes, minimum=2)
        elif num_classes is not None:
            raise ValueError(
                "`num_classes` must be None for regression (one output); received "
                f"num_classes={num_classes!r}."
            )
        self.task = task
        self.num_classes = num_classes
        self.n_numeric, self.cardinalities, self.n_dense, self.output_units = (
            check_table(n_numeric, cardinalities, n_dense, num_classes or 1)
        )
        self.batch_size = check_int("batch_size", batch_size, allow_none=True)
        self.weight_decay = check_float(
            "weight_decay",
            _UNTUNED["weight_decay"] if weight_decay is None else weight_decay,
            low=0.0,
        )
        self.patience = check_int(
            "patience",
            default_patience(self.architecture) if patience is None else patience,
        )
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.untuned_kwargs = _untuned_network_kwargs(
            self.network_class, self.architecture
        )
        self.default_learning_rate = float(_ARCHITECTURES[self.architecture][2])

        low, high = self.learning_rate_range
        space = {
            **self.model_space(),
            "learning_rate": float_range(
                self.default_learning_rate,
                min(low, self.default_learning_rate),
                max(high, self.default_learning_rate),
                log=True,
            ),
        }
        unknown = sorted(set(search_space) - set(space))
        if unknown:
            raise ValueError(
                f"Unknown hyperparameter {unknown[0]!r} for the {self.family} family; "
                f"tunable: {', '.join(space)}."
            )
        for name, value in search_space.items():
            space[name] = space[name].override(name, value)
        self.space: dict[str, Param] = space
        self.check_space(space)

    @classmethod
    def from_encoder(cls, encoder: TableEncoder, **kwargs):
        """The HyperModel for the tables a fitted `TableEncoder` produces.

        Args:
            encoder: A fitted `TableEncoder` (its widths and category counts).
            **kwargs: `task`, `num_classes` and the other `__init__` arguments.
        """
        if not isinstance(encoder, TableEncoder):
            raise ValueError(
                f"`encoder` must be a fitted TableEncoder; received "
                f"{type(encoder).__name__}."
            )
        return cls(
            encoder.n_numeric,
            encoder.cardinalities,
            n_dense=encoder.n_dense,
            **kwargs,
        )

    # ----------------------------------------------------------------- to override

    def model_space(self) -> dict[str, Param]:
        """The network's hyperparameters, defaults equal to the untuned network."""
        raise NotImplementedError

    def check_space(self, space: dict[str, Param]) -> None:
        """Raise ValueError for choices that cannot be built."""

    def network_kwargs(self, values: dict) -> dict:
        """The network's keyword arguments for one set of values."""
        raise NotImplementedError

    # -------------------------------------------------------------------- shared

    def search_space_summary(self) -> dict[str, str]:
        """`{name: "range or choices, default ..."}` of the whole search space."""
        return {name: param.describe() for name, param in self.space.items()}

    def default_values(self) -> dict:
        """The untuned values (those `build(keras_tuner.HyperParameters())` uses)."""
        return self._declare(keras_tuner.HyperParameters())

    def _declare(self, hp) -> dict:
        return {name: param.declare(hp, name) for name, param in self.space.items()}

    def build_network(self, values: dict) -> keras.Model:
        """The uncompiled network for one set of hyperparameter values."""
        return self.network_class(
            self.n_numeric,
            self.cardinalities,
            self.output_units,
            n_dense=self.n_dense,
            **{**self.untuned_kwargs, **self.network_kwargs(values)},
        )

    def build(self, hp):
        """Build and compile the network for the hyperparameters in `hp`.

        Args:
            hp: A `keras_tuner.HyperParameters`; a fresh one gives the untuned
                network.

        Returns:
            The compiled network: it takes the encoder's input dict and returns
            logits `(batch, num_classes)` (sparse cross-entropy from logits,
            metric `accuracy`) or `(batch, 1)` standardised values (mean squared
            error); optimizer AdamW.
        """
        values = self._declare(hp)
        if self.seed is not None:
            kbackend.set_random_seed(self.seed)
        network = self.build_network(values)
        self.compile(network, values)
        return network

    def compile(self, network, values: dict) -> None:
        """Compile as the untuned estimator does (AdamW, loss from the task)."""
        if self.task == "classification":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        else:
            loss, metrics = keras.losses.MeanSquaredError(), []
        network.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=float(values["learning_rate"]),
                weight_decay=self.weight_decay,
            ),
            loss=loss,
            metrics=metrics,
            steps_per_execution=kbackend.steps_per_execution(
                _UNTUNED["steps_per_execution"]
            ),
        )

    def check_targets(self, y, name="y") -> np.ndarray:
        """Class indices `(n,)` in `[0, num_classes)` as int32, or finite
        (standardised) values `(n,)` as float32; else ValueError."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if self.task == "classification":
            if y.ndim != 1 or not (
                np.issubdtype(y.dtype, np.integer)
                or (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)))
            ):
                raise ValueError(
                    f"Expected `{name}` to hold integer class indices (n,); received "
                    f"shape {y.shape} of {y.dtype}."
                )
            if len(y) and (y.min() < 0 or y.max() >= self.num_classes):
                raise ValueError(
                    f"Expected `{name}` class indices in [0, {self.num_classes - 1}]; "
                    f"received indices from {y.min()} to {y.max()}."
                )
            return y.astype("int32")
        if y.ndim != 1 or y.dtype.kind not in "iuf" or not np.all(np.isfinite(y)):
            raise ValueError(
                f"Expected `{name}` to hold finite numbers (n,) for regression; "
                f"received shape {y.shape} of {y.dtype}."
            )
        return y.astype("float32")

    def fit(self, hp, model, *args, **kwargs):
        """Train one trial's network: the batch size, target checks and early
        stopping on the validation loss (as the untuned estimator trains).

        Args:
            hp: The trial's `keras_tuner.HyperParameters`.
            model: The network from `build(hp)`.
            *args, **kwargs: As for `model.fit`: `x` (the encoder's input dict),
                `y` (class indices, or the standardised target), `epochs`,
                `validation_data`, `callbacks`, ...; no `batch_size` (set it in
                `__init__`).

        Returns:
            The `History` of `model.fit`.
        """
        if "batch_size" in kwargs:
            raise ValueError(
                "`batch_size` is set when creating the HyperModel "
                f"(batch_size=N); received batch_size={kwargs['batch_size']!r} "
                "in fit()."
            )
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x")
        y = self.check_targets(args.pop(0) if args else kwargs.pop("y"))
        validation = kwargs.get("validation_data")
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if validation is not None:
            kwargs["validation_data"] = (
                validation[0],
                self.check_targets(validation[1], "validation y"),
            )
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=self.patience,
                    min_delta=MIN_DELTA,
                    restore_best_weights=True,
                )
            )
        batch_size = self.batch_size or _auto_batch_size(len(y))
        return model.fit(
            x, y, *args, batch_size=batch_size, callbacks=callbacks, **kwargs
        )


class TabularMLPHyperModel(TabularHyperModel):
    """Search space of `TabularMLP` (the estimator's `"mlp"` architecture).

    Hyperparameters (defaults = the untuned estimator: 2 x 256 ReLU units,
    dropout 0.1, numbers as they are, AdamW 1e-3):

    - `depth`: hidden blocks, 1..4;
    - `width`: units per block, 32..512 (log scale);
    - `dropout`: 0..0.5;
    - `numeric_embedding`: `"none"` or `"periodic"` (PLR embeddings);
    - `learning_rate`: 1e-4..1e-2 (log scale).

    Args:
        n_numeric, cardinalities, **kwargs: See `TabularHyperModel`.

    Example:

    ```python
    hypermodel = TabularMLPHyperModel(8, [4, 3], task="regression", width=(64, 256))
    network = hypermodel.build(keras_tuner.HyperParameters())  # untuned
    ```
    """

    family = "tabular_mlp"
    architecture = "mlp"
    network_class = TabularMLP
    learning_rate_range = (1e-4, 1e-2)

    def model_space(self):
        untuned = self.untuned_kwargs
        embedding = untuned["numeric_embedding"] or NO_EMBEDDING
        embeddings = (NO_EMBEDDING, "periodic")
        return {
            "depth": int_range(untuned["depth"], 1, 4, minimum=0),
            "width": int_range(untuned["width"], 32, 512, sampling="log"),
            "dropout": float_range(
                untuned["dropout"], 0.0, 0.5, maximum=1.0, maximum_open=True
            ),
            "numeric_embedding": choice(embedding, embeddings, allowed=embeddings),
        }

    def network_kwargs(self, values):
        embedding = values["numeric_embedding"]
        return {
            "depth": values["depth"],
            "width": values["width"],
            "dropout": values["dropout"],
            "numeric_embedding": None if embedding == NO_EMBEDDING else embedding,
        }


class FTTransformerHyperModel(TabularHyperModel):
    """Search space of `FTTransformer` (the estimator's `"ft_transformer"`).

    Hyperparameters (defaults = the untuned estimator: `FT_TRANSFORMER_SMALL`,
    d_token 64, 1 block of 4 heads, attention and feed-forward dropout 0.1,
    AdamW 3e-4):

    - `d_token`: token size, one of 32, 64, 96, 128 (each divisible by the 4
      heads);
    - `n_blocks`: transformer blocks, 1..4;
    - `attention_dropout`, `ffn_dropout`: 0..0.5;
    - `learning_rate`: 1e-5..1e-3 (log scale; the paper's range).

    Args:
        n_numeric, cardinalities, **kwargs: See `TabularHyperModel`.
    """

    family = "ft_transformer"
    architecture = "ft_transformer"
    network_class = FTTransformer
    learning_rate_range = (1e-5, 1e-3)

    def model_space(self):
        untuned = self.untuned_kwargs

        def rate(name):
            return float_range(untuned[name], 0.0, 0.5, maximum=1.0, maximum_open=True)

        return {
            "d_token": choice(untuned["d_token"], (32, 64, 96, 128), minimum=1),
            "n_blocks": int_range(untuned["n_blocks"], 1, 4),
            "attention_dropout": rate("attention_dropout"),
            "ffn_dropout": rate("ffn_dropout"),
        }

    def check_space(self, space):
        heads = self.untuned_kwargs["n_heads"]
        d_token = space["d_token"]
        bad = [d for d in d_token.values if d % heads]
        if bad:
            raise ValueError(
                f"Every `d_token` must be divisible by the {heads} attention heads; "
                f"received d_token choices {list(d_token.values)}."
            )

    def network_kwargs(self, values):
        return {
            name: values[name]
            for name in ("d_token", "n_blocks", "attention_dropout", "ffn_dropout")
        }
