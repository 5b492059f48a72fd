"""`ClassifierHyperModel`: what every kerasdl HyperModel shares.

A family (MLP, CNN, ResNet, recurrent, transformer) is a subclass
that declares a *model* search space (`model_space`) and builds a network from one
set of values (`build_network`). The base class adds the *training* search space
(learning rate, schedule, optimizer, batch size), wraps the network with input
standardisation and reshaping where asked, compiles it, and in `fit` picks the batch
size, one-hot encodes integer labels and sets the schedule's length from the data.

The Keras Tuner contract (keras-tuner's `HyperResNet`): data-shaped arguments in
`__init__`, the search space in `build(hp)`, and every default equal to the untuned
model, so `hypermodel.build(keras_tuner.HyperParameters())` *is* the untuned model.
"""

from __future__ import annotations

import math

import keras
import keras_tuner
import numpy as np

from kerasdl import backend as kbackend
from kerasdl._checks import check_float, check_int
from kerasdl.hypermodels.space import Param, choice, float_range

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
BATCH_SIZES = (16, 32, 64, 128)
ASSUMED_STEPS_PER_EPOCH = 100  # cosine length in build() when the data size is unknown
SGD_MOMENTUM = 0.9
WARMUP_FRACTION = 20  # warmup_cosine warms up over total_steps // 20 (5%)


def check_image_shape(family: str, input_shape) -> None:
    """ValueError unless `input_shape` is `(height, width, channels)` with height
    and width >= 3 (the smallest image a 3x3 convolution family takes)."""
    if len(input_shape) != 3 or min(input_shape[:2]) < 3:
        raise ValueError(
            f"The {family} family needs images: `input_shape` must be (height, "
            "width, channels) with height and width >= 3; received input_shape="
            f"{input_shape!r}."
        )


def _check_shape(input_shape) -> tuple[int, ...]:
    if (
        not isinstance(input_shape, (tuple, list))
        or not input_shape
        or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1
            for d in input_shape
        )
    ):
        raise ValueError(
            "`input_shape` must be a non-empty tuple of positive integers (one "
            f"sample, no batch axis); received input_shape={input_shape!r}."
        )
    return tuple(int(d) for d in input_shape)


class ClassifierHyperModel(keras_tuner.HyperModel):
    """Base class of the kerasdl HyperModels (softmax classifiers).

    Subclasses set `family`, the untuned training settings (`default_learning_rate`,
    `default_optimizer`, `default_schedule`, `default_batch_size`, `default_epochs`,
    `default_label_smoothing`, `default_standardize`) and implement `model_space()`
    and `build_network(values)`.

    Args:
        input_shape: Shape of one sample as the model will receive it, without the
            batch axis, e.g. `(8, 8, 1)` for the digits or `(30,)` for a table.
        num_classes: Number of classes (>= 2).
        flat_input: If True the model takes flat samples `(batch, prod(input_shape))`
            (as scikit-learn passes them) and reshapes them to `input_shape`.
        num_train_samples: Size of the training data; sets the length of a cosine
            schedule in `build` (`fit` sets it again from the data it is given).
            None: `ASSUMED_STEPS_PER_EPOCH` steps per epoch are assumed.
        epochs: Epochs the schedule spans in `build` (default: the untuned model's).
        label_smoothing: Of the categorical cross-entropy (default: the untuned
            model's).
        weight_decay: AdamW's weight decay (used when `optimizer="adamw"`).
        normalization: Optional `(mean, variance)` arrays broadcastable to one
            (flat, when `flat_input`) sample: a `Normalization` layer with these
            statistics is put first, so the model takes raw inputs. Compute them on
            the training data only.
        seed: If given, `build` seeds Keras first, so a trial's initial weights
            depend only on its hyperparameters.
        **search_space: Overrides of the search space, by hyperparameter name: a
            `(low, high)` range or one fixed number for numeric entries, a list of
            choices or one fixed value for categorical ones (see
            `search_space_summary()` for the names).

    Example:

    ```python
    hypermodel = MLPHyperModel((64,), 10, width=(32, 256), learning_rate=(1e-4, 1e-2))
    tuner = keras_tuner.RandomSearch(hypermodel, "val_accuracy", max_trials=5)
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=10)
    ```
    """

    family: str = ""
    default_learning_rate: float = 1e-3
    default_optimizer: str = "adam"
    default_schedule: str = "cosine"
    default_batch_size: int = 32
    default_epochs: int = 60
    default_label_smoothing: float = 0.1
    default_standardize: bool = False

    def __init__(
        self,
        input_shape,
        num_classes,
        *,
        flat_input: bool = False,
        num_train_samples: int | None = None,
        epochs: int | None = None,
        label_smoothing: float | None = None,
        weight_decay: float = 0.05,
        normalization=None,
        seed: int | None = None,
        **search_space,
    ):
        super().__init__(name=self.family or None, tunable=True)
        self.sample_shape = _check_shape(input_shape)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        if not isinstance(flat_input, bool):
            raise ValueError(
                f"`flat_input` must be True or False; received {flat_input!r}."
            )
        self.flat_input = flat_input
        self.num_train_samples = check_int(
            "num_train_samples", num_train_samples, allow_none=True
        )
        self.epochs = check_int(
            "epochs", self.default_epochs if epochs is None else epochs
        )
        self.label_smoothing = check_float(
            "label_smoothing",
            self.default_label_smoothing
            if label_smoothing is None
            else label_smoothing,
            low=0.0,
            high=1.0,
            high_open=True,
        )
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.normalization = self._check_normalization(normalization)
        self.check_input_shape(self.sample_shape)

        space = {**self.model_space(), **self.training_space()}
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

    def take_registry_defaults(self, model_name: str, base_kwargs=None) -> None:
        """Take the untuned settings from the registry's `model_name` entry.

        Sets `default_learning_rate`, `default_batch_size`, `default_epochs` and
        `default_standardize`, and keeps the entry's builder arguments (over
        `base_kwargs`, the builder's own defaults) as `self._untuned_kwargs`, so
        the untuned HyperModel trains what `kerasdl compare` trains. Subclasses
        call it before `super().__init__`.
        """
        from kerasdl.models.registry import get_model_spec

        spec = get_model_spec(model_name)
        self.default_learning_rate = spec.learning_rate
        self.default_batch_size = spec.batch_size
        self.default_epochs = spec.epochs
        self.default_standardize = spec.standardize
        self._untuned_kwargs = {**(base_kwargs or {}), **spec.builder_kwargs}

    # ----------------------------------------------------------------- to override

    def check_input_shape(self, input_shape) -> None:
        """Raise ValueError if the family cannot take samples of this shape."""

    def model_space(self) -> dict[str, Param]:
        """The architecture's hyperparameters, defaults equal to the untuned model."""
        raise NotImplementedError

    def check_space(self, space: dict[str, Param]) -> None:
        """Raise ValueError for combinations of choices that cannot be built."""

    def build_network(self, values: dict) -> keras.Model:
        """The uncompiled network for one set of hyperparameter values. It takes
        `network_input_shape(values)` samples (the base class reshapes to it)."""
        raise NotImplementedError

    def network_input_shape(self, values: dict) -> tuple[int, ...]:
        """The sample shape `build_network`'s model takes (default: as fed)."""
        return self.input_shape

    # -------------------------------------------------------------------- shared

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the model receives it (flat if `flat_input`)."""
        if self.flat_input:
            return (math.prod(self.sample_shape),)
        return self.sample_shape

    def training_space(self) -> dict[str, Param]:
        """Learning rate (log scale), schedule, optimizer and batch size."""
        return {
            "learning_rate": float_range(
                self.default_learning_rate,
                min(1e-4, self.default_learning_rate),
                max(1e-2, self.default_learning_rate),
                minimum=0.0,
                log=True,
            ),
            "schedule": choice(self.default_schedule, SCHEDULES, allowed=SCHEDULES),
            "optimizer": choice(self.default_optimizer, OPTIMIZERS, allowed=OPTIMIZERS),
            "batch_size": choice(self.default_batch_size, BATCH_SIZES, minimum=1),
        }

    def search_space_summary(self) -> dict[str, str]:
        """`{name: "range or choices, default ..."}` of the whole search space."""
        return {name: param.describe() for name, param in self.space.items()}

    def default_values(self) -> dict:
        """The untuned values (those `build(keras_tuner.HyperParameters())` uses)."""
        hp = keras_tuner.HyperParameters()
        return self._declare(hp)

    def _declare(self, hp) -> dict:
        return {name: param.declare(hp, name) for name, param in self.space.items()}

    def _check_normalization(self, normalization):
        if normalization is None:
            return None
        try:
            mean, variance = normalization
            shape = self.input_shape
            mean = np.broadcast_to(np.asarray(mean, "float32"), shape).copy()
            variance = np.broadcast_to(np.asarray(variance, "float32"), shape).copy()
        except (TypeError, ValueError) as error:
            raise ValueError(
                "`normalization` must be (mean, variance), each broadcastable to "
                f"one sample of shape {self.input_shape}; received {error}."
            ) from None
        if not (np.all(np.isfinite(mean)) and np.all(variance > 0)):
            raise ValueError(
                "`normalization` needs a finite mean and a variance > 0 everywhere."
            )
        return mean, variance

    def build(self, hp):
        """Build and compile the model for the hyperparameters in `hp`.

        Args:
            hp: A `keras_tuner.HyperParameters`; a fresh one gives the untuned model.

        Returns:
            A compiled `keras.Model` taking `(batch, *input_shape)` and returning
            class probabilities `(batch, num_classes)`; loss: categorical
            cross-entropy (one-hot targets; `fit` converts integer labels).
        """
        values = self._declare(hp)
        if self.seed is not None:
            kbackend.set_random_seed(self.seed)
        network = self.build_network(values)
        model = self._wrap(network, values)
        batches = (
            ASSUMED_STEPS_PER_EPOCH
            if self.num_train_samples is None
            else math.ceil(self.num_train_samples / values["batch_size"])
        )
        self.compile(model, values, batches * self.epochs)
        return model

    def _wrap(self, network, values):
        """Put standardisation and a reshape in front of `network` where needed."""
        target = tuple(self.network_input_shape(values))
        if self.normalization is None and target == self.input_shape:
            return network
        inputs = keras.Input(self.input_shape, name="inputs")
        x = inputs
        if self.normalization is not None:
            mean, variance = self.normalization
            x = keras.layers.Normalization(
                axis=tuple(range(1, len(self.input_shape) + 1)),
                mean=mean,
                variance=variance,
                name="standardize",
            )(x)
        if target != self.input_shape:
            x = keras.layers.Reshape(target, name="reshape")(x)
        return keras.Model(inputs, network(x), name=f"{network.name}_with_inputs")

    def make_optimizer(self, values: dict, total_steps: int):
        """The optimizer of one trial, its schedule spanning `total_steps` steps."""
        lr = float(values["learning_rate"])
        total_steps = max(int(total_steps), 1)
        schedule = values["schedule"]
        if schedule == "constant":
            rate = lr
        elif schedule == "cosine":
            rate = keras.optimizers.schedules.CosineDecay(lr, total_steps)
        else:  # warmup_cosine: linear warm-up over 5% of the steps, then cosine
            warmup = total_steps // WARMUP_FRACTION
            if warmup == 0:
                rate = keras.optimizers.schedules.CosineDecay(lr, total_steps)
            else:
                rate = keras.optimizers.schedules.CosineDecay(
                    0.0,
                    total_steps - warmup,
                    warmup_target=lr,
                    warmup_steps=warmup,
                )
        name = values["optimizer"]
        if name == "adam":
            return keras.optimizers.Adam(rate)
        if name == "adamw":
            return keras.optimizers.AdamW(rate, weight_decay=self.weight_decay)
        return keras.optimizers.SGD(rate, momentum=SGD_MOMENTUM)

    def compile(self, model, values: dict, total_steps: int) -> None:
        """Compile `model` with the trial's optimizer, categorical cross-entropy
        (with the family's label smoothing) and accuracy."""
        model.compile(
            optimizer=self.make_optimizer(values, total_steps),
            loss=keras.losses.CategoricalCrossentropy(
                label_smoothing=self.label_smoothing
            ),
            metrics=["accuracy"],
        )

    def one_hot(self, y, name="y"):
        """Integer labels `(n,)` as one-hot `(n, num_classes)`; one-hot passes."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == self.num_classes:
            return y.astype("float32")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or not (
            np.issubdtype(y.dtype, np.integer)
            or (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)))
        ):
            raise ValueError(
                f"Expected `{name}` to hold integer class labels (n,) or one-hot "
                f"(n, {self.num_classes}); received shape {y.shape} of {y.dtype}."
            )
        if len(y) and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(
                f"Expected `{name}` labels in [0, {self.num_classes - 1}]; received "
                f"labels from {y.min()} to {y.max()}."
            )
        return keras.utils.to_categorical(y.astype("int64"), self.num_classes)

    def fit(self, hp, model, *args, **kwargs):
        """Train one trial's model: picks the batch size, converts labels, sets the
        schedule's length and calls `model.fit`.

        Args:
            hp: The trial's `keras_tuner.HyperParameters`.
            model: The model from `build(hp)`.
            *args, **kwargs: As for `model.fit` (`x`, `y`, `epochs`,
                `validation_data`, `callbacks`, ...), without `batch_size`, which
                is the `batch_size` hyperparameter.

        Returns:
            The `History` of `model.fit`.
        """
        if "batch_size" in kwargs:
            raise ValueError(
                "`batch_size` is a hyperparameter of the HyperModel: fix it with "
                f"batch_size=N when creating it; received batch_size="
                f"{kwargs['batch_size']!r} in fit()."
            )
        values = self._declare(hp)
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x")
        y = args.pop(0) if args else kwargs.pop("y")
        y = self.one_hot(y)
        validation = kwargs.get("validation_data")
        if validation is not None:
            x_val, y_val = validation[0], validation[1]
            kwargs["validation_data"] = (x_val, self.one_hot(y_val, "validation y"))
        epochs = kwargs.get("epochs", 1) - kwargs.get("initial_epoch", 0)
        steps = math.ceil(len(x) / values["batch_size"]) * max(epochs, 1)
        self.compile(model, values, steps)  # keeps the (possibly loaded) weights
        return model.fit(x, y, *args, batch_size=values["batch_size"], **kwargs)
