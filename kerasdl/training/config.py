"""`TrainingConfig` and `train`: every training choice in one validated object.

The config names the optimizer, its schedule, clipping and gradient accumulation, the
numeric precision, the seed, the epochs and batch size and the callbacks. It builds
each piece from Keras's own parts (`get_optimizer`, `get_schedule`,
`make_callbacks`, `set_seed`, `keras.config.set_dtype_policy`) and `train` runs
`model.fit` with them.

Order matters once: `config.setup()` seeds the random generators and sets the global
dtype policy, and both take effect when layers are *built*. So:

```python
config = TrainingConfig(optimizer="adamw", learning_rate=3e-4,
                        schedule="warmup_cosine", schedule_kwargs={"warmup_steps": 100},
                        precision="mixed_bfloat16", seed=0, epochs=20)
config.setup()                 # 1. seeds + dtype policy
model = build_model()          # 2. build under them
history = train(model, x, y, config=config, loss="sparse_categorical_crossentropy",
                validation_split=0.1, out_dir="runs/demo")  # 3. compile + fit
```

The global dtype policy stays as `setup()` left it (a model built afterwards in the
same process, e.g. to load `best.keras` into, should match), and `train` does not
reset it: the model keeps the policy it was built with whatever the global one is
later. Use `with config.scope(): ...` to have the previous policy restored on exit.

`distribution="data_parallel"` (or `"model_parallel"`, JAX only) spreads training
over every device (see `kerasdl.training.distribute`): `setup()` makes that
distribution the global one, and `scope()` enters it for the block, so the model
built next places its weights on the devices; `train` then checks that the model
is distributed and that every batch splits evenly over the devices.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import warnings
from dataclasses import dataclass, field

import keras
import numpy as np

from kerasdl.training import callbacks as _callbacks
from kerasdl.training import distribute as _distribute
from kerasdl.training import optimizers as _optimizers
from kerasdl.training import schedules as _schedules
from kerasdl.training.seeding import set_seed

__all__ = ["PRECISIONS", "TrainingConfig", "train"]

#: Values of `TrainingConfig.precision` (Keras dtype policy names).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# The argument of each schedule that `TrainingConfig.learning_rate` fills in.
_SCHEDULE_RATE_ARGUMENT = {
    "step": "initial_learning_rate",
    "cosine": "initial_learning_rate",
    "warmup_cosine": "peak_learning_rate",
}
_VERBOSE = ("auto", 0, 1, 2)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass
class TrainingConfig:
    """All the choices of a training run, validated when the config is made.

    Args:
        optimizer: `"sgd"`, `"rmsprop"`, `"adam"` or `"adamw"`.
        learning_rate: The learning rate (> 0); with a schedule, its starting value
            (`"step"`, `"cosine"`) or its peak (`"warmup_cosine"`).
        schedule: None (constant rate), `"step"`, `"cosine"` or `"warmup_cosine"`
            (see `kerasdl.training.schedules`).
        schedule_kwargs: The schedule's other arguments: `"step"` needs
            `drop_every` (and takes `factor`); `"cosine"` takes `decay_steps`,
            `alpha`; `"warmup_cosine"` needs `warmup_steps` and takes
            `decay_steps`, `initial_learning_rate`, `alpha`. Steps count optimizer
            updates. A missing `decay_steps` is filled in by `make_optimizer` so
            that the decay ends with the last epoch.
        momentum: Momentum for `"sgd"`/`"rmsprop"`, in [0, 1).
        nesterov: Nesterov momentum (`"sgd"` with momentum > 0).
        weight_decay: Decoupled weight decay, or None for the optimizer's default.
        clipnorm: Clip each variable's gradient to this L2 norm.
        clipvalue: Clip gradient elements to `[-clipvalue, clipvalue]`.
        global_clipnorm: Clip all gradients jointly to this L2 norm (at most one of
            the three clipping modes).
        gradient_accumulation_steps: Average the gradients of this many batches
            per update (None or 1: none). Equal to training with a batch this many
            times larger.
        precision: `"float32"`, `"mixed_float16"` or `"mixed_bfloat16"`: the global
            dtype policy `setup()` sets. Mixed policies compute in 16 bits and keep
            float32 variables; with `"mixed_float16"`, `compile` wraps the optimizer
            in a `keras.optimizers.LossScaleOptimizer` (Keras does this itself).
        seed: Seed for `setup()` (None: leave the generators alone).
        deterministic: With a seed, also switch on deterministic backend kernels.
        epochs: Number of epochs (>= 1).
        batch_size: Batch size for array inputs (>= 1); datasets bring their own.
        early_stopping_patience: Epochs without improvement before stopping; None
            for no early stopping.
        monitor: The logged quantity early stopping and checkpointing watch.
        checkpoint: Save the best model to `out_dir/best.keras`.
        csv_log: Log epochs to `out_dir/log.csv`.
        tensorboard: Write TensorBoard logs to `out_dir/tensorboard/`.
        backup: Back up every epoch to `out_dir/backup/` and resume from it.
        terminate_on_nan: Stop at the first NaN/inf loss.
        verbose: `fit`'s verbosity: `"auto"`, 0, 1 or 2.
        distribution: None (one device), `"data_parallel"` (every device holds
            the weights and takes a slice of each batch: JAX
            `keras.distribution.DataParallel`, TensorFlow `MirroredStrategy`) or
            `"model_parallel"` (JAX only: a `(batch, model)` mesh over every
            device with the Transformer blocks' weights split over the `model`
            axis, `kerasdl.training.distribute.transformer_layout_map`). Models
            built after `setup()` or inside `scope()` are distributed;
            `batch_size` must then be a multiple of the number of batch slices.

    Raises:
        ValueError: On construction, for any impossible value, naming the field and
            the value received.

    Example:
        >>> config = TrainingConfig(optimizer="sgd", learning_rate=0.1, momentum=0.9,
        ...                         schedule="cosine", epochs=5, seed=0)
        >>> config.setup()
        >>> model = build_model()
        >>> history = train(model, x, y, config=config, loss="mse")
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str | None = None
    schedule_kwargs: dict = field(default_factory=dict)
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    gradient_accumulation_steps: int | None = None
    precision: str = "float32"
    seed: int | None = None
    deterministic: bool = True
    epochs: int = 10
    batch_size: int = 32
    early_stopping_patience: int | None = None
    monitor: str = "val_loss"
    checkpoint: bool = True
    csv_log: bool = True
    tensorboard: bool = False
    backup: bool = True
    terminate_on_nan: bool = True
    verbose: str | int = "auto"
    distribution: str | None = None

    # ---------------------------------------------------------------------------
    # Validation
    # ---------------------------------------------------------------------------

    def __post_init__(self):
        if not isinstance(self.learning_rate, numbers.Real) or isinstance(
            self.learning_rate, bool
        ):
            raise ValueError(
                "learning_rate must be a number > 0 (give the schedule by name in "
                f"`schedule`); received {self.learning_rate!r}."
            )
        self.optimizer = _optimizers.validate_optimizer_args(
            self.optimizer,
            self.learning_rate,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            global_clipnorm=self.global_clipnorm,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
        )
        self._validate_schedule()
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {list(PRECISIONS)}; "
                f"received {self.precision!r}."
            )
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise ValueError(
                f"seed must be None or an integer >= 0; received {self.seed!r}."
            )
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; received {value!r}.")
        patience = self.early_stopping_patience
        if patience is not None and (not _is_int(patience) or patience < 0):
            raise ValueError(
                "early_stopping_patience must be None or an integer >= 0; "
                f"received {patience!r}."
            )
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ValueError(
                f"monitor must be a non-empty string; received {self.monitor!r}."
            )
        for name in (
            "deterministic",
            "checkpoint",
            "csv_log",
            "tensorboard",
            "backup",
            "terminate_on_nan",
        ):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False; received {value!r}.")
        if isinstance(self.verbose, bool) or self.verbose not in _VERBOSE:
            raise ValueError(
                f"verbose must be one of {list(_VERBOSE)}; received {self.verbose!r}."
            )
        _distribute.check_kind(self.distribution, name="distribution")

    def _validate_schedule(self) -> None:
        if not isinstance(self.schedule_kwargs, dict):
            raise ValueError(
                f"schedule_kwargs must be a dict; received {self.schedule_kwargs!r}."
            )
        if self.schedule is None:
            if self.schedule_kwargs:
                raise ValueError(
                    "schedule_kwargs is only used with a schedule; received "
                    f"schedule=None and schedule_kwargs={self.schedule_kwargs!r}."
                )
            return
        if self.schedule not in _schedules.SCHEDULES:
            raise ValueError(
                f"schedule must be None or one of {sorted(_schedules.SCHEDULES)}; "
                f"received {self.schedule!r}."
            )
        rate_argument = _SCHEDULE_RATE_ARGUMENT[self.schedule]
        allowed = [
            p
            for p in _schedules.schedule_parameters(self.schedule)
            if p != rate_argument
        ]
        if rate_argument in self.schedule_kwargs:
            raise ValueError(
                f"schedule_kwargs must not contain {rate_argument!r}: "
                f"TrainingConfig.learning_rate is the {rate_argument} of schedule "
                f"{self.schedule!r}; received schedule_kwargs={self.schedule_kwargs!r}."
            )
        unknown = sorted(set(self.schedule_kwargs) - set(allowed))
        if unknown:
            raise ValueError(
                f"schedule_kwargs has argument(s) {unknown} that schedule "
                f"{self.schedule!r} does not take; it takes {allowed}."
            )
        # Build once with a stand-in decay length so that bad values fail now.
        try:
            self._build_schedule(decay_steps_if_missing=1)
        except ValueError as error:
            raise ValueError(f"schedule_kwargs: {error}") from None

    # ---------------------------------------------------------------------------
    # Building the pieces
    # ---------------------------------------------------------------------------

    def _build_schedule(self, decay_steps_if_missing: int | None):
        kwargs = dict(self.schedule_kwargs)
        kwargs[_SCHEDULE_RATE_ARGUMENT[self.schedule]] = self.learning_rate
        required = {"step": ["drop_every"], "warmup_cosine": ["warmup_steps"]}
        missing = [k for k in required.get(self.schedule, []) if k not in kwargs]
        if missing:
            raise ValueError(
                f"schedule {self.schedule!r} needs {missing} in schedule_kwargs; "
                f"received schedule_kwargs={self.schedule_kwargs!r}."
            )
        if self.schedule in ("cosine", "warmup_cosine") and "decay_steps" not in kwargs:
            if decay_steps_if_missing is None:
                raise ValueError(
                    f"schedule {self.schedule!r} needs a decay length: pass "
                    "steps_per_epoch to make_optimizer (train does so for array "
                    "and sized inputs) or set schedule_kwargs['decay_steps']."
                )
            kwargs["decay_steps"] = decay_steps_if_missing
        return _schedules.get_schedule(self.schedule, **kwargs)

    def make_schedule(self, steps_per_epoch: int | None = None):
        """The learning-rate schedule, or None when `schedule` is None.

        A missing `decay_steps` is chosen so that the schedule ends with training:
        `epochs * steps_per_epoch // k` optimizer updates in all (`k` the gradient
        accumulation steps, since a schedule counts updates), minus `warmup_steps`
        for `"warmup_cosine"`.

        Args:
            steps_per_epoch: Batches per epoch; needed only when `decay_steps` must
                be derived.

        Raises:
            ValueError: If `decay_steps` is needed and cannot be derived, or the
                training is too short for the warm-up.
        """
        if self.schedule is None:
            return None
        decay_steps = None
        if steps_per_epoch is not None:
            if not _is_int(steps_per_epoch) or steps_per_epoch < 1:
                raise ValueError(
                    "steps_per_epoch must be None or an integer >= 1; received "
                    f"{steps_per_epoch!r}."
                )
        derive = (
            self.schedule in ("cosine", "warmup_cosine")
            and "decay_steps" not in self.schedule_kwargs
            and steps_per_epoch is not None
        )
        if derive:
            k = self.gradient_accumulation_steps or 1
            updates = self.epochs * int(steps_per_epoch) // k
            warmup = self.schedule_kwargs.get("warmup_steps", 0)
            decay_steps = updates - warmup
            if decay_steps < 1:
                raise ValueError(
                    f"schedule {self.schedule!r}: training makes {updates} optimizer "
                    f"update(s) ({self.epochs} epochs x {steps_per_epoch} batches"
                    f" / {k} accumulation steps), leaving none to decay over after "
                    f"warmup_steps={warmup}; train longer, lower warmup_steps or set "
                    "schedule_kwargs['decay_steps']."
                )
        return self._build_schedule(decay_steps_if_missing=decay_steps)

    def make_optimizer(self, steps_per_epoch: int | None = None):
        """Build the configured Keras optimizer (with its schedule, if any).

        Args:
            steps_per_epoch: Batches per epoch, used to derive the schedule's
                `decay_steps` when `schedule_kwargs` does not give it (see
                `make_schedule`).

        Returns:
            A `keras.optimizers.Optimizer`.
        """
        schedule = self.make_schedule(steps_per_epoch)
        return _optimizers.get_optimizer(
            self.optimizer,
            schedule if schedule is not None else self.learning_rate,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            global_clipnorm=self.global_clipnorm,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
        )

    def make_callbacks(
        self, out_dir: str | os.PathLike | None = None
    ) -> list[keras.callbacks.Callback]:
        """The configured callbacks (see `kerasdl.training.make_callbacks`)."""
        return _callbacks.make_callbacks(
            out_dir,
            early_stopping_patience=self.early_stopping_patience,
            monitor=self.monitor,
            checkpoint=self.checkpoint,
            csv_log=self.csv_log,
            tensorboard=self.tensorboard,
            terminate_on_nan=self.terminate_on_nan,
            backup=self.backup,
        )

    # ---------------------------------------------------------------------------
    # Global state
    # ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Seed the generators, set the dtype policy and the distribution. Call
        before building.

        Sets `keras.config.set_dtype_policy(self.precision)` (also for
        `"float32"`, so a previous mixed policy is undone) and, if `seed` is set,
        `set_seed(seed, deterministic)`. With a `distribution`, makes
        `make_distribution(distribution)` over all devices the global one (JAX:
        `keras.distribution.set_distribution`; TensorFlow:
        `tf.distribute.experimental_set_strategy`); with None, leaves the
        distribution state alone. Layers take the global policy, draw their
        initial weights and are placed on devices when they are built, so a
        model built *before* `setup()` ignores all three; `train` refuses a model
        whose policy does not match or that is not distributed as configured.
        Both stay set afterwards (see `scope()` to restore them).
        """
        self._seed_and_policy()
        if self.distribution is not None:
            _distribute.set_global_distribution(
                _distribute.make_distribution(self.distribution)
            )

    def _seed_and_policy(self) -> None:
        if self.seed is not None:
            set_seed(self.seed, deterministic=self.deterministic)
        keras.config.set_dtype_policy(self.precision)

    @contextlib.contextmanager
    def scope(self):
        """`setup()` for the block: the previous dtype policy and distribution
        are restored on exit.

        With a `distribution`, the block runs inside
        `kerasdl.training.distribute.distributed_scope(distribution)` (instead of
        setting a global one), so build the model *and* call `train` inside it.

        Example:
            >>> with config.scope():
            ...     model = build_model()
            ...     train(model, x, y, config=config, loss="mse")
        """
        previous = keras.config.dtype_policy()
        self._seed_and_policy()
        try:
            with _distribute.distributed_scope(self.distribution):
                yield self
        finally:
            keras.config.set_dtype_policy(previous)

    # ---------------------------------------------------------------------------
    # Serialisation
    # ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The fields as a plain (JSON-serialisable) dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainingConfig:
        """Rebuild a config from `to_dict()` output (validated again).

        Raises:
            ValueError: If `data` has keys that are not fields.
        """
        if not isinstance(data, dict):
            raise ValueError(f"data must be a dict; received {type(data).__name__}.")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(
                f"Unknown TrainingConfig field(s) {unknown}; the fields are {names}."
            )
        return cls(**data)


# -------------------------------------------------------------------------------------
# train
# -------------------------------------------------------------------------------------


def _num_samples(x) -> int | None:
    """The number of samples of array-like input (arrays, lists/dicts of arrays)."""
    sizes = []
    for leaf in keras.tree.flatten(x):
        try:
            sizes.append(int(leaf.shape[0]))
        except (AttributeError, IndexError, TypeError):
            return None
    return sizes[0] if sizes else None


def _batches_per_epoch(x, batch_size: int, validation_split: float) -> int | None:
    """Batches `fit` will run per epoch, or None when it cannot be known up front."""
    num_samples = _num_samples(x)
    if num_samples is not None:
        # As `fit` splits: the first floor(n * (1 - split)) samples train.
        train_samples, _ = _distribute.validation_split_sizes(
            num_samples, validation_split
        )
        return max(1, math.ceil(train_samples / batch_size))
    try:
        length = len(x)  # sized datasets: the number of batches
    except Exception:  # unsized datasets and generators
        return None
    return int(length) if length else None


# -- input checks, once per `train` call, before anything is compiled or run -----------


def _named_leaves(value, name):
    """`(name, leaf)` for every leaf of array input: `x`, `x['key']`, `x[0]`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _named_leaves(item, f"{name}[{key!r}]")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _named_leaves(item, f"{name}[{i}]")
    else:
        yield name, value


def _as_array(leaf):
    """A NumPy array for NumPy and pandas leaves; None for anything else (backend
    tensors, datasets, generators are not materialised here)."""
    if isinstance(leaf, np.ndarray):
        return leaf
    if hasattr(leaf, "to_numpy") and hasattr(leaf, "iloc"):  # pandas
        try:
            return np.asarray(leaf.to_numpy())
        except (TypeError, ValueError):
            return None
    return None


def _check_finite(value, name) -> None:
    """Refuse NaN/inf in the floating-point NumPy (or pandas) leaves of `value`."""
    for leaf_name, leaf in _named_leaves(value, name):
        array = _as_array(leaf)
        if array is None or array.dtype.kind not in "fc":
            continue
        finite = np.isfinite(array)
        if finite.all():
            continue
        count = int(array.size - np.count_nonzero(finite))
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"`{leaf_name}` holds {count} NaN or infinite value(s), the first at "
            f"index {first} (value {array[first].item()!r}); received an array of "
            f"shape {array.shape}. One such value turns the loss into NaN at the "
            "first batch that holds it: impute or drop it before training."
        )


def _label_rule(loss):
    """`("sparse", ignore_class)`, `("binary", None)` or None, from `loss` as
    `compile` takes it (a name, a `keras.losses` function or loss object)."""
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except (ValueError, TypeError):
            return None
    fn, kwargs = loss, {}
    if isinstance(loss, keras.losses.Loss):  # the wrappers keep the function
        fn = getattr(loss, "fn", None)
        # The wrappers' configs hold the function's keyword arguments.
        kwargs = loss.get_config() if fn is not None else {}
    if fn is keras.losses.sparse_categorical_crossentropy:
        return "sparse", kwargs.get("ignore_class")
    if fn in (
        keras.losses.binary_crossentropy,
        keras.losses.binary_focal_crossentropy,
    ):
        return "binary", None
    return None


def _output_units(model, x) -> int | None:
    """The size of the last axis of the model's single output, if known up front."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) != 1:
            return None
        units = outputs[0].shape[-1]
    elif type(model).compute_output_shape is not keras.Model.compute_output_shape:
        # A subclassed model that states its output shape (GPTLanguageModel does).
        array = _as_array(x)
        if array is None or array.ndim == 0:
            return None
        try:
            units = model.compute_output_shape((None, *array.shape[1:]))[-1]
        except Exception:  # a shape it cannot state is left for fit to find
            return None
    else:
        return None
    return int(units) if isinstance(units, int) else None


def _check_labels(model, x, y, loss, name) -> None:
    """Integer labels must index the model's outputs (sparse categorical losses);
    binary targets must lie in [0, 1]. NumPy/pandas `y` only."""
    rule = _label_rule(loss)
    labels = _as_array(y)
    if rule is None or labels is None or labels.size == 0:
        return
    if labels.dtype.kind not in "iuf":
        return
    kind, ignore_class = rule
    flat = labels.reshape(-1)
    loss_name = getattr(loss, "name", None) or getattr(loss, "__name__", loss)
    if kind == "binary":
        low, high = flat.min(), flat.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"`{name}` must hold targets in [0, 1] for {loss_name}; received "
                f"values from {low.item()!r} to {high.item()!r}."
            )
        return
    if ignore_class is not None:
        flat = flat[flat != ignore_class]
        if flat.size == 0:
            return
    if flat.dtype.kind == "f":
        fractional = np.flatnonzero(flat != np.floor(flat))
        if fractional.size:
            first = int(fractional[0])
            raise ValueError(
                f"`{name}` must hold integer class labels for {loss_name}; received "
                f"a non-integer label {flat[first].item()!r} (flat index {first}). "
                "Fractional labels would be truncated silently."
            )
    units = _output_units(model, x)
    if units is None:
        return
    outside = np.flatnonzero((flat < 0) | (flat >= units))
    if outside.size:
        first = int(outside[0])
        hint = (
            " With one output unit, use binary_crossentropy instead."
            if units == 1
            else ""
        )
        raise ValueError(
            f"`{name}` must hold class labels in [0, {units}) for {loss_name}: the "
            f"model has {units} output units; received {outside.size} label(s) "
            f"outside, values from {flat.min().item()!r} to {flat.max().item()!r} "
            f"(the first at flat index {first}: {flat[first].item()!r}). Such labels "
            "train on a meaningless loss (exactly 0.0 on JAX) instead of failing."
            + hint
        )


def _check_inputs(model, x, y, loss, validation_data) -> None:
    _check_finite(x, "x")
    _check_finite(y, "y")
    _check_labels(model, x, y, loss, "y")
    if isinstance(validation_data, tuple | list) and validation_data:
        _check_finite(validation_data[0], "validation_data[0]")
        if len(validation_data) > 1:
            _check_finite(validation_data[1], "validation_data[1]")
            _check_labels(
                model,
                validation_data[0],
                validation_data[1],
                loss,
                "validation_data[1]",
            )


def _check_distribution(model, x, config, validation_split, validation_data) -> None:
    """The model is distributed as configured and every batch splits evenly."""
    replicas = _distribute.model_replicas(model)
    if config.distribution is not None and replicas is None:
        raise ValueError(
            f"config.distribution is {config.distribution!r} but the model's weights "
            "are on one device: build the model after config.setup() or inside "
            "`with config.scope():` (weights are placed when they are created)."
        )
    if replicas is None or replicas <= 1:
        return
    train_samples = validation_samples = None
    samples = _num_samples(x)
    if samples is not None:
        train_samples, validation_samples = _distribute.validation_split_sizes(
            samples, validation_split
        )
    if isinstance(validation_data, tuple | list) and validation_data:
        validation_samples = _num_samples(validation_data[0])
    _distribute.check_batches(
        replicas, config.batch_size, train_samples, validation_samples
    )


def train(
    model: keras.Model,
    x,
    y=None,
    *,
    config: TrainingConfig,
    loss,
    metrics=None,
    validation_data=None,
    validation_split: float = 0.0,
    out_dir: str | os.PathLike | None = None,
    callbacks=(),
    shuffle: bool = True,
) -> keras.callbacks.History:
    """Compile `model` with the config's optimizer and fit it with its callbacks.

    Call `config.setup()` before building `model` (see the module docstring). The
    model is (re)compiled with `config.make_optimizer(...)` (its schedule spans
    `config.epochs`), `loss` and `metrics`, then `model.fit` runs `config.epochs`
    epochs of `config.batch_size` with `config.make_callbacks(out_dir)` followed by
    `callbacks`. If `out_dir/backup/` holds the state of an interrupted run, training
    resumes from it. The global dtype policy is left as it is.

    Input checks, before anything is compiled or run (cheap: one pass over each
    array per call): NaN/inf in NumPy or pandas `x`, `y` and `validation_data`,
    and labels against the loss and the model's output units. A
    `tf.data.Dataset`, a `keras.utils.PyDataset` or a generator is not read
    ahead of `fit`, so its batches are not checked (check the arrays before
    wrapping them).

    If `config.monitor` is a validation quantity (`"val_..."`) but there is no
    validation data, early stopping and checkpointing watch the training quantity
    instead (`"loss"` for `"val_loss"`), with a warning.

    Args:
        model: A built `keras.Model` (functional models are built on creation).
        x: Inputs, as for `fit` (arrays, a dict of arrays, a `tf.data.Dataset`,
            a `keras.utils.PyDataset`, ...).
        y: Targets for array inputs.
        config: The `TrainingConfig`.
        loss: As for `compile`.
        metrics: As for `compile`.
        validation_data: As for `fit`.
        validation_split: As for `fit` (array inputs only), in [0, 1).
        out_dir: Folder for the checkpoint, log, TensorBoard files and backup;
            None writes nothing.
        callbacks: Extra callbacks, run after the configured ones.
        shuffle: Shuffle array inputs each epoch (as for `fit`).

    Returns:
        The `keras.callbacks.History` of the fit.

    Raises:
        TypeError: If `model` is not a Keras model or `config` not a
            `TrainingConfig`.
        ValueError: If the model was built under another dtype policy than
            `config.precision`, or `validation_split` is outside [0, 1); if a
            NumPy (or pandas) `x`, `y` or `validation_data` array holds NaN or
            inf; if NumPy labels do not fit the loss: with a sparse categorical
            loss, labels that are not integers or fall outside `[0, units)` of
            the model's output (an `ignore_class` is allowed), with a binary
            loss, targets outside [0, 1]; with a
            distributed model (or `config.distribution`): if the model is not
            distributed as configured, or a batch (the last, partial ones
            included) does not split evenly over the data-parallel replicas.

    Example:
        >>> config = TrainingConfig(epochs=3, seed=0)
        >>> config.setup()
        >>> model = build_model()
        >>> history = train(model, x, y, config=config, loss="mse", out_dir="runs/a")
    """
    if not isinstance(config, TrainingConfig):
        raise TypeError(
            f"config must be a TrainingConfig; received {type(config).__name__}."
        )
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model must be a keras.Model; received {type(model).__name__}."
        )
    policy = model.dtype_policy.name
    if policy != config.precision:
        raise ValueError(
            f"The model was built with dtype policy {policy!r} but "
            f"config.precision is {config.precision!r}. Call config.setup() before "
            "building the model: layers take the global dtype policy when they are "
            "created."
        )
    if (
        not isinstance(validation_split, numbers.Real)
        or not 0.0 <= validation_split < 1.0
    ):
        raise ValueError(
            f"validation_split must be in [0, 1); received {validation_split!r}."
        )
    _check_inputs(model, x, y, loss, validation_data)
    array_input = _num_samples(x) is not None
    _check_distribution(model, x, config, validation_split, validation_data)
    steps = _batches_per_epoch(x, config.batch_size, validation_split)
    # On TensorFlow the optimizer's variables must live under the model's strategy.
    with _distribute.model_scope(model):
        optimizer = config.make_optimizer(steps_per_epoch=steps)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)

    callback_config = config
    has_validation = validation_data is not None or validation_split > 0
    watches = config.early_stopping_patience is not None or (
        config.checkpoint and out_dir is not None
    )
    if config.monitor.startswith("val_") and not has_validation and watches:
        fallback = config.monitor[len("val_") :]
        warnings.warn(
            f"config.monitor is {config.monitor!r} but there is no validation data; "
            f"early stopping and checkpointing watch {fallback!r} instead.",
            stacklevel=2,
        )
        callback_config = dataclasses.replace(config, monitor=fallback)
    all_callbacks = callback_config.make_callbacks(out_dir) + list(callbacks)

    return model.fit(
        x,
        y,
        batch_size=config.batch_size if array_input else None,
        epochs=config.epochs,
        verbose=config.verbose,
        callbacks=all_callbacks,
        validation_data=validation_data,
        validation_split=validation_split,
        shuffle=shuffle,
    )
