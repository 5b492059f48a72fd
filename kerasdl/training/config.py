"""`TrainingConfig`: every training choice in one validated object.

The config names the optimizer, its schedule, clipping and gradient accumulation, the
numeric precision, the seed, the epochs and batch size and the callbacks. It builds
each piece from Keras's own parts (`get_optimizer`, `get_schedule`,
`make_callbacks`, `set_seed`, `keras.config.set_dtype_policy`);
`kerasdl.training.fit.train` runs `model.fit` with them.

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

`setup()` leaves the global dtype policy set (`with config.scope():` restores it on
exit), and with `distribution=` makes that distribution the global one, so the model
built next places its weights on the devices (`kerasdl.training.distribute`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import numbers
import os
from dataclasses import dataclass, field

import keras

from kerasdl._checks import is_number
from kerasdl.training import callbacks as _callbacks
from kerasdl.training import distribute as _distribute
from kerasdl.training import optimizers as _optimizers
from kerasdl.training import schedules as _schedules
from kerasdl.training.seeding import set_seed

__all__ = ["PRECISIONS", "TrainingConfig"]

#: Values of `TrainingConfig.precision` (Keras dtype policy names).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# The argument of each schedule that `TrainingConfig.learning_rate` fills in.
_SCHEDULE_RATE_ARGUMENT = {
    "step": "initial_learning_rate",
    "cosine": "initial_learning_rate",
    "warmup_cosine": "peak_learning_rate",
}
_VERBOSE = ("auto", 0, 1, 2)


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
            axis, `kerasdl.training.distribute_layouts.transformer_layout_map`). Models
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
        if self.seed is not None and (
            not is_number(self.seed, integer=True) or self.seed < 0
        ):
            raise ValueError(
                f"seed must be None or an integer >= 0; received {self.seed!r}."
            )
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not is_number(value, integer=True) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; received {value!r}.")
        patience = self.early_stopping_patience
        if patience is not None and (
            not is_number(patience, integer=True) or patience < 0
        ):
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
            if not is_number(steps_per_epoch, integer=True) or steps_per_epoch < 1:
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
