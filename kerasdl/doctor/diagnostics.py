"""A callback that watches a training run and says what is going wrong, and what to do.

`TrainingDiagnostics` works with any `model.fit`, on every backend kerasdl supports.
It looks at two things:

- the training loss Keras logs after every batch (Keras logs the running mean of the
  epoch; the callback recovers each batch's own loss from it), and
- every `every_n_batches` steps (and once before training) a *probe*: on a small fixed
  batch that you give it, the loss and its gradient with respect to every trainable
  weight (through `kerasdl.backend.value_and_weight_gradients`, which updates
  nothing), grouped per layer, plus the outputs of the model's activation layers
  (functional and Sequential models), from which it counts dead ReLU units.

From these it detects, and reports once each as a `Finding` with the fix:

- `nan_loss` (error): the training or probe loss is NaN/inf. Training is stopped.
- `exploding_gradients` (error): the global gradient norm is above 1e4, or 20x the
  median norm of the (up to 10) probes before the jump (or the first probe's norm, if
  larger) on 2 probes in a row, or non-finite while the loss is finite.
- `vanishing_gradients`: the first layer's gradient norm is below 1e-3x the last
  layer's, on 2 probes in a row.
- `dead_relu`: in some ReLU layer at least 50% of the units output 0 for every probe
  sample, on 2 probes in a row, once `no_progress_steps` steps have passed.
- `learning_rate_too_high`: the median of the last 3 batch losses is 10x that of the
  first 3 (diverging), or the median of the last 20 batch losses is 2x its lowest so
  far (climbing back up, by at least 10% of the starting loss), or the probe loss is
  2x its value before training on 2 probes in a row (overshooting).
- `no_progress`: after 200 steps the probe loss never fell 1% below its start.
- `overfitting`: val_loss stayed 10% above its best for the last 3 epochs, while the
  training loss fell 1% below its value at that best epoch and is now below val_loss.
- `activations_unavailable`, `gradient_probes_unavailable` (info): what could not be
  probed (subclassed models; a model without a loss) and how to enable it.

All numbers are arguments of the callback.

With `log_dir`, it also writes TensorBoard histograms of weights, gradients and
activations, and scalars (probe loss, gradient norms per layer, dead-unit fractions),
to `log_dir/diagnostics`.
"""

from __future__ import annotations

import collections
import inspect
import math
import numbers
import os

import keras
import numpy as np
from keras import ops

from kerasdl import backend as kb
from kerasdl.doctor.findings import Finding, format_findings

__all__ = ["DIAGNOSTIC_CHECKS", "TrainingDiagnostics"]

#: The checks `TrainingDiagnostics` can report, in the order they are usually seen.
DIAGNOSTIC_CHECKS = (
    "nan_loss",
    "exploding_gradients",
    "vanishing_gradients",
    "dead_relu",
    "learning_rate_too_high",
    "no_progress",
    "overfitting",
    "activations_unavailable",
    "gradient_probes_unavailable",
)

#: A climb back up must also be this fraction of the starting loss (noise in a loss
#: near zero can double it without meaning anything).
LR_RISE_MIN_FRACTION = 0.1

#: A diverging run: the loss has grown this many times over its starting value.
DIVERGENCE_FACTOR = 10.0
#: How many batch losses are averaged (median) for "start" and "now" of divergence.
DIVERGENCE_BATCHES = 3
#: The exploding-gradient jump is measured against the median of this many probes.
GRAD_NORM_HISTORY = 10
#: The subfolder of `log_dir` that holds the event file (a TensorBoard "run").
TENSORBOARD_RUN = "diagnostics"

_FIXES = {
    "nan_loss": (
        "Lower the learning rate by 10x and clip gradients "
        "(TrainingConfig(clipnorm=1.0), or the optimizer's clipnorm=1.0); look for "
        "NaN/inf or huge values in the inputs and targets (kerasdl doctor data) and "
        "standardise them; in a custom loss avoid log(0) and division by zero (use "
        "the from_logits=True losses)."
    ),
    "exploding_gradients": (
        "Clip gradients with TrainingConfig(clipnorm=1.0) (or the optimizer's "
        "clipnorm=1.0) and lower the learning rate by 10x; standardise inputs and "
        "targets; in deep or recurrent nets use He/Glorot initialisation and add "
        "batch or layer normalisation."
    ),
    "vanishing_gradients": (
        "Use ReLU-family activations with He initialisation "
        "(kernel_initializer='he_normal') instead of sigmoid/tanh in hidden layers, "
        "add batch normalisation or residual connections, or make the net shallower."
    ),
    "dead_relu": (
        "Initialise with kernel_initializer='he_normal' and zero (not negative) "
        "biases, lower the learning rate, or use LeakyReLU/ELU/GELU; batch "
        "normalisation before the ReLU also keeps units alive."
    ),
    "learning_rate_too_high": (
        "Lower the learning rate by 10x (or pick one with "
        "kerasdl.training.find_learning_rate); add warmup (schedule='warmup_cosine') "
        "and gradient clipping (TrainingConfig(clipnorm=1.0))."
    ),
    "no_progress": (
        "Check that the learning rate is not zero or tiny (try Adam at 1e-3), that "
        "inputs are standardised and labels line up with them, and that the loss fits "
        "the targets (sparse_categorical_crossentropy for integer labels, "
        "from_logits=True for logits); first make sure the model can overfit one "
        "small batch."
    ),
    "overfitting": (
        "Add regularisation (Dropout, an L2 kernel_regularizer), stop early on "
        "val_loss (TrainingConfig(early_stopping_patience=3)), get more data or "
        "augment it, or use a smaller model."
    ),
    "activations_unavailable": (
        "Build the model with the functional API or Sequential to get dead-ReLU "
        "counts and activation statistics; the gradient and loss checks still run."
    ),
    "gradient_probes_unavailable": (
        "Pass the loss to the callback, e.g. TrainingDiagnostics(x, y, loss='mse'), "
        "to get gradient norms and the gradient checks."
    ),
}

_SEVERITY = {
    "nan_loss": "error",
    "exploding_gradients": "error",
    "activations_unavailable": "info",
    "gradient_probes_unavailable": "info",
}

_ACTIVATION_LAYERS = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_positive(name: str, value, *, integer: bool = False) -> None:
    ok = (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if integer
        else _is_number(value) and math.isfinite(value)
    )
    if not ok or value <= 0:
        kind = "an integer >= 1" if integer else "a finite number > 0"
        raise ValueError(f"{name} must be {kind}; received {value!r}.")


def _median(values) -> float:
    return float(np.median(np.asarray(values, dtype="float64")))


def _to_numpy(tensor) -> np.ndarray:
    # Sparse gradients (TensorFlow's IndexedSlices for embeddings) become dense first.
    if hasattr(tensor, "indices") and hasattr(tensor, "dense_shape"):
        tensor = ops.convert_to_tensor(tensor)
    return np.asarray(ops.convert_to_numpy(tensor))


def _variable_numpy(variable) -> np.ndarray:
    return np.array(ops.convert_to_numpy(variable.value))


def _is_relu(layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return not float(getattr(layer, "negative_slope", 0.0) or 0.0)
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "relu"


def _has_activation(layer) -> bool:
    if isinstance(layer, _ACTIVATION_LAYERS):
        return True
    activation = getattr(layer, "activation", None)
    return callable(activation) and getattr(activation, "__name__", "") != "linear"


def _layer_key(variable) -> str:
    path = getattr(variable, "path", None) or variable.name
    return path.rsplit("/", 1)[0] if "/" in path else path


class TrainingDiagnostics(keras.callbacks.Callback):
    """Watch a `fit` for the common training failures and report each, with its fix.

    The callback probes the model on a small fixed batch `(x, y)` (take 32-256
    training samples): once before training and every `every_n_batches` steps, it
    computes the loss there and its gradient with respect to every trainable weight
    (updating nothing), the gradient norm of each layer, and the outputs of the
    activation layers. It also follows the training loss batch by batch and the
    validation loss epoch by epoch. What it finds goes to `self.findings` (each
    check at most once per callback instance and model, also across several `fit`
    calls of that model; a `fit` of another model starts afresh) and, with
    `verbose`, is printed when found. The module docstring lists the checks and
    when each fires.

    Args:
        x: Inputs of the probe batch (anything `model(x)` accepts).
        y: Targets of the probe batch.
        loss: The loss to probe with: a Keras loss name, `keras.losses.Loss` or
            function `loss(y_true, y_pred)`. None: the model's own `compute_loss`
            (its compiled loss plus regularisation, or its override).
        every_n_batches: Probe every this many training steps.
        log_dir: Folder for TensorBoard files (written to `log_dir/diagnostics`), or
            None for none.
        verbose: Print each finding, with its fix, when it is first found.
        no_progress_steps: Steps after which a probe loss that never fell
            `min_improvement` below its starting value counts as `no_progress`.
        min_improvement: Relative fall of a loss that counts as progress, e.g. 0.01
            for 1% (the probe loss for `no_progress`, the training loss for
            `overfitting`).
        max_grad_norm: A global gradient norm above this is `exploding_gradients`.
        explode_factor: A global gradient norm this many times the median of the
            previous probes' is `exploding_gradients`.
        vanish_ratio: First layer's gradient norm below this times the last layer's
            is `vanishing_gradients`.
        dead_relu_fraction: A ReLU layer with at least this fraction of units that
            output zero for every probe sample is `dead_relu`.
        probe_patience: Consecutive probes on which the vanishing-gradient and
            dead-ReLU conditions must hold (a single probe can be a transient, e.g.
            a zero-initialised output layer at step 0).
        overfit_patience: Consecutive epochs that val_loss must stay `overfit_rise`
            above its best for `overfitting`.
        overfit_rise: How far (relative) above its best, e.g. 0.1 for 10%
            (smaller rises are often noise).
        lr_window: Batches whose median loss is compared with its lowest value so
            far, for `learning_rate_too_high`.
        lr_rise_factor: How many times above its lowest windowed median the loss
            must climb to be `learning_rate_too_high`.

    Attributes:
        findings: The `Finding`s so far, in the order found.
        records: One dict per probe: `step`, `epoch`, `loss`, `grad_norm`,
            `layer_grad_norms` (`{layer path: norm}`), `dead_relu_fractions`
            (`{layer name: fraction}`), `activation_stats` and `weight_stats`
            (`{name: {"mean", "std", ...}}`).

    Example:
        >>> diagnostics = TrainingDiagnostics(x_train[:64], y_train[:64],
        ...                                   log_dir="runs/doctor")
        >>> model.fit(x_train, y_train, validation_split=0.2, epochs=20,
        ...           callbacks=[diagnostics])
        >>> print(diagnostics.summary())
    """

    def __init__(
        self,
        x,
        y,
        *,
        loss=None,
        every_n_batches: int = 20,
        log_dir: str | os.PathLike | None = None,
        verbose: bool = True,
        no_progress_steps: int = 200,
        min_improvement: float = 0.01,
        max_grad_norm: float = 1e4,
        explode_factor: float = 20.0,
        vanish_ratio: float = 1e-3,
        dead_relu_fraction: float = 0.5,
        probe_patience: int = 2,
        overfit_patience: int = 3,
        overfit_rise: float = 0.1,
        lr_window: int = 20,
        lr_rise_factor: float = 2.0,
    ):
        super().__init__()
        if x is None or y is None:
            raise ValueError(
                "x and y (a small probe batch, e.g. 64 training samples) are "
                f"required; received x={type(x).__name__}, y={type(y).__name__}."
            )
        n_x, n_y = _first_dim(x), _first_dim(y)
        if n_x is not None and n_y is not None and n_x != n_y:
            raise ValueError(
                f"x and y must hold the same number of samples; received {n_x} "
                f"inputs and {n_y} targets."
            )
        for name, value in (
            ("every_n_batches", every_n_batches),
            ("no_progress_steps", no_progress_steps),
            ("probe_patience", probe_patience),
            ("overfit_patience", overfit_patience),
            ("lr_window", lr_window),
        ):
            _check_positive(name, value, integer=True)
        for name, value in (
            ("max_grad_norm", max_grad_norm),
            ("explode_factor", explode_factor),
            ("vanish_ratio", vanish_ratio),
            ("min_improvement", min_improvement),
            ("overfit_rise", overfit_rise),
        ):
            _check_positive(name, value)
        if not _is_number(dead_relu_fraction) or not 0 < dead_relu_fraction <= 1:
            raise ValueError(
                "dead_relu_fraction must be in (0, 1]; "
                f"received {dead_relu_fraction!r}."
            )
        if not _is_number(lr_rise_factor) or not lr_rise_factor > 1:
            raise ValueError(
                f"lr_rise_factor must be a number > 1; received {lr_rise_factor!r}."
            )
        if not isinstance(verbose, bool | int):
            raise ValueError(f"verbose must be True or False; received {verbose!r}.")
        if loss is not None:
            if isinstance(loss, str):
                try:
                    loss = keras.losses.get(loss)
                except ValueError as error:
                    raise ValueError(
                        f"loss must be a Keras loss name, Loss or function; "
                        f"received {loss!r}."
                    ) from error
            if not callable(loss):
                raise ValueError(
                    "loss must be a Keras loss name, Loss or function; "
                    f"received {loss!r}."
                )
        self.x = x
        self.y = y
        self.loss = loss
        self.every_n_batches = every_n_batches
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.verbose = bool(verbose)
        self.no_progress_steps = no_progress_steps
        self.min_improvement = float(min_improvement)
        self.max_grad_norm = float(max_grad_norm)
        self.explode_factor = float(explode_factor)
        self.vanish_ratio = float(vanish_ratio)
        self.dead_relu_fraction = float(dead_relu_fraction)
        self.probe_patience = probe_patience
        self.overfit_patience = overfit_patience
        self.overfit_rise = float(overfit_rise)
        self.lr_window = lr_window
        self.lr_rise_factor = float(lr_rise_factor)
        self.reset()

    # ---------------------------------------------------------------------------
    # Public helpers
    # ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all findings and history (the next `fit` starts from scratch)."""
        self.findings: list[Finding] = []
        self.records: list[dict] = []
        self._reported: set[str] = set()
        self._model_id: int | None = None
        self._step = 0
        self._epoch = 0
        self._last_probe_step: int | None = None
        # Batch losses.
        self._epoch_count = 0
        self._epoch_mean = 0.0
        self._first_losses: list[float] = []
        self._recent = collections.deque(maxlen=DIVERGENCE_BATCHES)
        self._window = collections.deque(maxlen=self.lr_window)
        self._lowest_window_median = math.inf
        self._overshoot_probes = 0
        self._jump_streak = 0
        self._jump_base = None
        self._first_grad_norm = None
        # Probes.
        self._probe_ready = False
        self._probe_disabled = False
        self._activation_model = None
        self._activation_layers: list = []
        self._relu_layers: set[str] = set()
        self._initial_probe_loss: float | None = None
        self._best_probe_loss = math.inf
        self._grad_norms = collections.deque(maxlen=GRAD_NORM_HISTORY)
        self._vanishing_streak = 0
        self._dead_streak = 0
        # Epochs with a validation loss: (training loss, validation loss).
        self._epoch_pairs: list[tuple[float, float]] = []

    @property
    def checks(self) -> list[str]:
        """The names of the checks that fired, in the order found."""
        return [finding.check for finding in self.findings]

    def summary(self) -> str:
        """The findings as a table (see `kerasdl.doctor.format_findings`)."""
        return format_findings(self.findings, title="training diagnostics")

    # ---------------------------------------------------------------------------
    # Callback hooks
    # ---------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self._model  # (Not `self.model`: no JAX state sync needed here.)
        if self._model_id is not None and self._model_id != id(model):
            self.reset()  # Another model: another run.
        self._model_id = id(model)
        self._epoch_count = 0
        if self._last_probe_step is None:
            self._probe()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_count = 0
        self._epoch_mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        count = batch + 1
        new = count - self._epoch_count
        if new <= 0:  # pragma: no cover - Keras counts batches from 0 per epoch
            return
        self._step += new
        loss = _as_float((logs or {}).get("loss"))
        if loss is not None:
            self._track_batch_loss(loss, count, new)
        else:
            self._epoch_count = count
        if "nan_loss" in self._reported:
            return
        if self._step - (self._last_probe_step or 0) >= self.every_n_batches:
            self._probe()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        loss, val_loss = _as_float(logs.get("loss")), _as_float(logs.get("val_loss"))
        if loss is None or val_loss is None:
            return
        if math.isfinite(loss) and math.isfinite(val_loss):
            self._epoch_pairs.append((loss, val_loss))
            self._check_overfitting(epoch)

    def on_train_end(self, logs=None):
        if self.log_dir is not None:
            kb.close_summaries(self._run_dir)

    # ---------------------------------------------------------------------------
    # Training loss, batch by batch
    # ---------------------------------------------------------------------------

    def _track_batch_loss(self, mean: float, count: int, new: int) -> None:
        # Keras logs the running mean of the epoch; recover the new batches' loss
        # (exact for equal batch sizes; the epoch's short last batch is approximate).
        previous_count, previous_mean = self._epoch_count, self._epoch_mean
        self._epoch_count, self._epoch_mean = count, mean
        if not math.isfinite(mean):
            self._report_nan(
                f"The training loss became {mean} at epoch {self._epoch + 1}, "
                f"batch {count} (step {self._step})"
                + self._recent_loss_note()
                + "; training was stopped."
            )
            return
        batch_loss = (count * mean - previous_count * previous_mean) / new
        self._check_learning_rate(batch_loss)

    def _recent_loss_note(self) -> str:
        if not self._first_losses or not self._recent:
            return ""
        return (
            f"; the batch loss was {_median(self._first_losses):.4g} at the start "
            f"and {self._recent[-1]:.4g} on the last finite batch"
        )

    def _check_learning_rate(self, batch_loss: float) -> None:
        if len(self._first_losses) < DIVERGENCE_BATCHES:
            self._first_losses.append(batch_loss)
        self._recent.append(batch_loss)
        self._window.append(batch_loss)
        if "learning_rate_too_high" in self._reported:
            return
        start = _median(self._first_losses)
        if len(self._recent) == DIVERGENCE_BATCHES and len(self._first_losses) == (
            DIVERGENCE_BATCHES
        ):
            now = _median(self._recent)
            if start > 0 and now > DIVERGENCE_FACTOR * start:
                self._report(
                    "learning_rate_too_high",
                    f"The training loss is diverging: the median of the last "
                    f"{DIVERGENCE_BATCHES} batches is {now:.4g}, "
                    f"{now / start:.3g}x its starting value {start:.4g} "
                    f"(step {self._step}).",
                )
                return
        if len(self._window) < self.lr_window:
            return
        median = _median(self._window)
        lowest = self._lowest_window_median
        if median > self.lr_rise_factor * lowest and median - lowest > (
            LR_RISE_MIN_FRACTION * abs(start)
        ):
            diffs = np.diff(np.asarray(self._window, dtype="float64"))
            flips = float(np.mean(np.sign(diffs[1:]) != np.sign(diffs[:-1])))
            self._report(
                "learning_rate_too_high",
                f"The training loss climbed back up: its median over the last "
                f"{self.lr_window} batches is {median:.4g}, {median / lowest:.3g}x "
                f"its lowest {lowest:.4g} (step {self._step}); batch to batch it "
                f"changed direction {flips:.0%} of the time.",
            )
        self._lowest_window_median = min(lowest, median)

    # ---------------------------------------------------------------------------
    # Validation loss, epoch by epoch
    # ---------------------------------------------------------------------------

    def _check_overfitting(self, epoch: int) -> None:
        if "overfitting" in self._reported:
            return
        train = [pair[0] for pair in self._epoch_pairs]
        val = [pair[1] for pair in self._epoch_pairs]
        best = int(np.argmin(val))
        now = len(val) - 1
        if now - best < self.overfit_patience:
            return
        # The last `overfit_patience` epochs all stayed well above the best.
        floor = val[best] + self.overfit_rise * abs(val[best])
        rise = min(val[-self.overfit_patience :]) > floor
        fall = train[now] < train[best] - self.min_improvement * abs(train[best])
        # And a generalisation gap: validation loss now above the training loss
        # (without it, a noisy val_loss near a train loss inflated by dropout is not
        # overfitting).
        gap = val[now] > train[now]
        if rise and fall and gap:
            self._report(
                "overfitting",
                f"val_loss rose from {val[best]:.4g} to {val[now]:.4g} over the last "
                f"{now - best} validated epochs (to epoch {epoch + 1}) while the "
                f"training loss fell from {train[best]:.4g} to {train[now]:.4g}.",
            )

    # ---------------------------------------------------------------------------
    # Probes: loss, gradients and activations on the fixed batch
    # ---------------------------------------------------------------------------

    @property
    def _run_dir(self) -> str:
        return os.path.join(self.log_dir, TENSORBOARD_RUN)

    def _prepare_probe(self, model) -> None:
        self._probe_ready = True
        try:
            model(self.x, training=False)  # Builds the model; collects add_loss.
        except Exception as error:
            raise _probe_error(model, "run the model on", error) from error
        if (
            self.loss is None
            and _uses_default_compute_loss(model)
            and getattr(model, "loss", None) is None
            and not model.losses
        ):
            self._probe_disabled = True
            self._report(
                "gradient_probes_unavailable",
                f"{type(model).__name__} has no compiled loss, so gradient norms and "
                "the gradient, dead-ReLU and no-progress checks are skipped.",
            )
            return
        if not model.trainable_variables:
            self._probe_disabled = True
            self._report(
                "gradient_probes_unavailable",
                f"{type(model).__name__} has no trainable weights to probe.",
            )
            return
        self._activation_model, self._activation_layers, reachable = _activation_model(
            model
        )
        if not reachable:
            self._report(
                "activations_unavailable",
                f"The activations of {type(model).__name__} (a subclassed model) "
                "cannot be reached, so dead-ReLU counts and activation statistics "
                "are skipped.",
            )
        self._relu_layers = {
            layer.name for layer in self._activation_layers if _is_relu(layer)
        }

    def _objective(self, model):
        def objective():
            y_pred = model(self.x, training=False)
            if self.loss is not None:
                value = ops.mean(self.loss(self.y, y_pred))
            elif "training" in inspect.signature(model.compute_loss).parameters:
                value = model.compute_loss(
                    x=self.x, y=self.y, y_pred=y_pred, training=False
                )
            else:  # pragma: no cover - overrides written before Keras 3.3
                value = model.compute_loss(x=self.x, y=self.y, y_pred=y_pred)
            return ops.cast(value, "float32")

        return objective

    def _probe(self) -> None:
        self._last_probe_step = self._step
        if self._probe_disabled:
            return
        model = self.model  # On JAX this also brings the weights up to date.
        if not self._probe_ready:
            self._prepare_probe(model)
            if self._probe_disabled:
                return
        variables = list(model.trainable_variables)
        # The compiled loss may update its per-output trackers: leave them as found.
        saved = [_variable_numpy(v) for v in model.metrics_variables]
        try:
            value, grads = kb.value_and_weight_gradients(
                self._objective(model), variables
            )
        except Exception as error:
            if self.records:
                raise
            raise _probe_error(model, "compute the loss on", error) from error
        finally:
            for variable, old in zip(model.metrics_variables, saved):
                variable.assign(old)
        loss = float(ops.convert_to_numpy(value))
        grads = [_to_numpy(g) for g in grads]

        layer_sq: dict[str, float] = {}
        for variable, grad in zip(variables, grads):
            key = _layer_key(variable)
            layer_sq[key] = layer_sq.get(key, 0.0) + float(
                np.sum(np.square(grad, dtype="float64"))
            )
        layer_norms = {key: math.sqrt(sq) for key, sq in layer_sq.items()}
        grad_norm = math.sqrt(sum(layer_sq.values()))
        weights = {getattr(v, "path", v.name): _variable_numpy(v) for v in variables}
        activations = self._activations()
        dead = {
            name: _dead_fraction(value, layer)
            for name, (value, layer) in activations.items()
            if name in self._relu_layers
        }
        record = {
            "step": self._step,
            "epoch": self._epoch,
            "loss": loss,
            "grad_norm": grad_norm,
            "layer_grad_norms": layer_norms,
            "dead_relu_fractions": dead,
            "activation_stats": {
                name: _stats(value) for name, (value, _) in activations.items()
            },
            "weight_stats": {name: _stats(w) for name, w in weights.items()},
        }
        self.records.append(record)
        if self.log_dir is not None:
            self._write_tensorboard(record, weights, variables, grads, activations)

        if not math.isfinite(loss):
            self._report_nan(
                f"The loss on the probe batch is {loss} at step {self._step} (epoch "
                f"{self._epoch + 1}); training was stopped."
            )
            return
        # Causes before symptoms: dead units or exploding gradients explain a loss
        # that does not move, so they are checked first.
        self._check_exploding(grad_norm, layer_norms)
        self._check_dead(dead)
        self._check_vanishing(layer_norms)
        self._check_no_progress(loss)

    def _activations(self) -> dict:
        if self._activation_model is None:
            return {}
        outputs = self._activation_model(self.x, training=False)
        if not isinstance(outputs, list | tuple):
            outputs = [outputs]
        return {
            layer.name: (np.asarray(ops.convert_to_numpy(out)), layer)
            for layer, out in zip(self._activation_layers, outputs)
        }

    def _write_tensorboard(self, record, weights, variables, grads, activations):
        scalars = {
            "probe/loss": record["loss"],
            "probe/grad_norm": record["grad_norm"],
        }
        scalars.update(
            {f"grad_norm/{k}": v for k, v in record["layer_grad_norms"].items()}
        )
        scalars.update(
            {
                f"dead_relu_fraction/{k}": v
                for k, v in record["dead_relu_fractions"].items()
            }
        )
        histograms = {f"weights/{name}": w for name, w in weights.items()}
        histograms.update(
            {
                f"gradients/{getattr(v, 'path', v.name)}": g
                for v, g in zip(variables, grads)
            }
        )
        histograms.update(
            {f"activations/{name}": value for name, (value, _) in activations.items()}
        )
        kb.write_scalars(self._run_dir, record["step"], scalars)
        kb.write_histograms(self._run_dir, record["step"], histograms)

    def _check_no_progress(self, loss: float) -> None:
        if self._initial_probe_loss is None:
            self._initial_probe_loss = loss
            return
        self._best_probe_loss = min(self._best_probe_loss, loss)
        start = self._initial_probe_loss
        self._check_overshoot(loss, start)
        explained = self._reported & {
            "nan_loss",
            "exploding_gradients",
            "learning_rate_too_high",
            "dead_relu",
            "vanishing_gradients",
        }
        if (
            "no_progress" in self._reported
            or explained  # A diverging loss is not a flat one.
            or loss > start + (self.lr_rise_factor - 1) * abs(start)
            or self._step < self.no_progress_steps
            or abs(start) <= 1e-12
        ):
            return
        if self._best_probe_loss > start - self.min_improvement * abs(start):
            self._report(
                "no_progress",
                f"After {self._step} steps the loss on the probe batch has not "
                f"fallen {self.min_improvement:.0%} below its starting value "
                f"{start:.4g} (best {self._best_probe_loss:.4g}, now {loss:.4g}).",
            )

    def _check_overshoot(self, loss: float, start: float) -> None:
        # The probe loss (inference mode, before any update at step 0) jumping well
        # above its start on consecutive probes: the first updates overshoot. Batch
        # norm can keep the training loss finite and near chance meanwhile.
        if start <= 0 or "learning_rate_too_high" in self._reported:
            return
        if loss > self.lr_rise_factor * start:
            self._overshoot_probes += 1
        else:
            self._overshoot_probes = 0
        if self._overshoot_probes >= self.probe_patience:
            self._report(
                "learning_rate_too_high",
                f"The loss on the probe batch overshot: {loss:.4g} at step "
                f"{self._step}, {loss / start:.3g}x its value before training "
                f"({start:.4g}), on {self._overshoot_probes} probes in a row.",
            )

    def _check_exploding(self, grad_norm: float, layer_norms: dict) -> None:
        history = list(self._grad_norms)
        if math.isfinite(grad_norm):
            self._grad_norms.append(grad_norm)
            if self._first_grad_norm is None:
                self._first_grad_norm = grad_norm
        if "exploding_gradients" in self._reported:
            return
        worst = max(layer_norms, key=lambda k: _nan_to_inf(layer_norms[k]))
        where = f"step {self._step}; largest in {worst!r}"
        if not math.isfinite(grad_norm):
            message = f"The gradient norm is {grad_norm} while the loss is finite"
        elif grad_norm > self.max_grad_norm:
            message = (
                f"The global gradient norm is {grad_norm:.4g}, above "
                f"{self.max_grad_norm:.3g}"
            )
        else:
            # A jump must last `probe_patience` probes: a lone spike at a near-zero
            # loss (one hard sample) is not an explosion. The base is the median
            # from before the jump began.
            if not self._jump_streak and len(history) >= 3:
                # Not below the untrained model's norm (the first probe): near a
                # zero loss, tiny norms make any wobble look like a 20x jump.
                self._jump_base = max(_median(history), self._first_grad_norm)
            if self._jump_base and grad_norm > self.explode_factor * self._jump_base:
                self._jump_streak += 1
            else:
                self._jump_streak = 0
            if self._jump_streak < self.probe_patience:
                return
            base = self._jump_base
            message = (
                f"The global gradient norm jumped to {grad_norm:.4g}, "
                f"{grad_norm / base:.3g}x its usual {base:.4g} (the median before "
                "the jump, or the first probe's if larger), for "
                f"{self._jump_streak} probes in a row"
            )
        self._report("exploding_gradients", f"{message} ({where}).")

    def _check_vanishing(self, layer_norms: dict) -> None:
        if "vanishing_gradients" in self._reported or len(layer_norms) < 2:
            return
        keys = list(layer_norms)
        first, last = layer_norms[keys[0]], layer_norms[keys[-1]]
        if not (math.isfinite(first) and math.isfinite(last)) or last <= 0:
            self._vanishing_streak = 0
            return
        if first == 0 and self._dead_streak:
            # No gradient at all reaches the first layer because its ReLUs are
            # dead: `dead_relu` says so with the right fix.
            self._vanishing_streak = 0
            return
        ratio = first / last
        self._vanishing_streak = (
            self._vanishing_streak + 1 if ratio < self.vanish_ratio else 0
        )
        if self._vanishing_streak >= self.probe_patience:
            self._report(
                "vanishing_gradients",
                f"The first layer's gradient norm ({keys[0]!r}: {first:.3g}) is "
                f"{ratio:.2g}x the last layer's ({keys[-1]!r}: {last:.3g}), below "
                f"{self.vanish_ratio:g}, on {self._vanishing_streak} probes in a row "
                f"(step {self._step}).",
            )

    def _check_dead(self, dead: dict) -> None:
        if "dead_relu" in self._reported or not dead:
            return
        worst = max(dead, key=dead.get)
        self._dead_streak = (
            self._dead_streak + 1 if dead[worst] >= self.dead_relu_fraction else 0
        )
        # Early on, units switch on and off: report on the settled network only.
        settled = self._step >= self.no_progress_steps
        if settled and self._dead_streak >= self.probe_patience:
            layers = ", ".join(
                f"{name!r}: {fraction:.0%}"
                for name, fraction in sorted(dead.items(), key=lambda kv: -kv[1])
                if fraction >= self.dead_relu_fraction
            )
            self._report(
                "dead_relu",
                f"Dead ReLU units (zero for every probe sample) in {layers}, on "
                f"{self._dead_streak} probes in a row (step {self._step}).",
            )

    # ---------------------------------------------------------------------------
    # Reporting
    # ---------------------------------------------------------------------------

    def _report_nan(self, message: str) -> None:
        if "nan_loss" not in self._reported:
            self._report("nan_loss", message)
            if self._first_losses and self._recent:
                start, last = _median(self._first_losses), self._recent[-1]
                if start > 0 and last > DIVERGENCE_FACTOR * start:
                    self._report(
                        "learning_rate_too_high",
                        f"The training loss diverged before it became NaN/inf: "
                        f"from {start:.4g} at the start to {last:.4g} "
                        f"({last / start:.3g}x) on the last finite batch.",
                    )
        self.model.stop_training = True

    def _report(self, check: str, message: str) -> None:
        if check in self._reported:
            return
        self._reported.add(check)
        finding = Finding(
            check=check,
            severity=_SEVERITY.get(check, "warning"),
            message=message,
            fix=_FIXES[check],
        )
        self.findings.append(finding)
        if self.verbose:
            print(
                f"\n[kerasdl doctor] {finding.severity}: {check}: {message}\n"
                f"  fix: {finding.fix}",
                flush=True,
            )


# ------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------


def _probe_error(model, what: str, error: Exception) -> ValueError:
    return ValueError(
        f"TrainingDiagnostics could not {what} its probe batch (x, y) for "
        f"{type(model).__name__}: {type(error).__name__}: {error} Pass a batch that "
        "the model and its loss accept, e.g. x_train[:64], y_train[:64]."
    )


def _first_dim(data):
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape):
        return shape[0]
    return None


def _as_float(value):
    if value is None:
        return None
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return None


def _nan_to_inf(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _uses_default_compute_loss(model) -> bool:
    return type(model).compute_loss is keras.Model.compute_loss


def _activation_model(model):
    """`(model, layers, reachable)`: a model from `model.inputs` to the outputs of
    `layers` (its activation layers), or None when there are none (`reachable`) or
    they cannot be reached (not `reachable`: subclassed models)."""
    try:
        inputs = model.inputs
        layers = list(model.layers)
    except (AttributeError, ValueError):
        return None, [], False
    if not inputs:
        return None, [], False
    try:
        inputs = model.input  # The structure it was built with (a tensor, a dict...)
    except (AttributeError, ValueError):  # Sequential has `inputs` only.
        inputs = inputs[0] if len(inputs) == 1 else inputs
    reachable, outputs = [], []
    for layer in layers:
        if not _has_activation(layer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # e.g. a layer used twice
            continue
        if isinstance(output, keras.KerasTensor):
            reachable.append(layer)
            outputs.append(output)
    if not outputs:
        return None, [], True
    try:
        return keras.Model(inputs, outputs), reachable, True
    except (ValueError, TypeError):  # pragma: no cover - unusual graphs
        return None, [], False


def _dead_fraction(value: np.ndarray, layer) -> float:
    if value.ndim < 2:
        return 0.0
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    axis = 1 if channels_first and value.ndim > 2 else value.ndim - 1
    alive = np.any(value != 0, axis=tuple(a for a in range(value.ndim) if a != axis))
    return float(1.0 - np.mean(alive))


def _stats(value: np.ndarray) -> dict:
    value = np.asarray(value, dtype="float64")
    finite = value[np.isfinite(value)]
    if not finite.size:
        return {"mean": math.nan, "std": math.nan, "zero_fraction": math.nan}
    return {
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "zero_fraction": float(np.mean(value == 0)),
    }
