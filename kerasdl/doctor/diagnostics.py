"""`TrainingDiagnostics`: a callback that says what goes wrong in a `fit`, and the fix.

It works with any `model.fit`, on every backend kerasdl supports. It follows the
training loss Keras logs after every batch and, every `every_n_batches` steps (and
once before training), probes a small fixed batch: the loss, its gradient with
respect to every trainable weight (`kerasdl.backend.value_and_weight_gradients`,
which updates nothing) and the activation layers' outputs. The checks that turn
these into findings are in `kerasdl.doctor.diagnostic_checks`; with `log_dir` it
also writes TensorBoard histograms and scalars to `log_dir/diagnostics`.
"""

from __future__ import annotations

import collections
import inspect
import math
import os

import keras
import numpy as np
from keras import ops

from kerasdl import backend as kb
from kerasdl._checks import is_number
from kerasdl.doctor.diagnostic_checks import (
    DIAGNOSTIC_CHECKS,
    DIVERGENCE_BATCHES,
    GRAD_NORM_HISTORY,
    TENSORBOARD_RUN,
    DiagnosticChecks,
)
from kerasdl.doctor.findings import Finding, format_findings
from kerasdl.doctor.probes import (
    _activation_model,
    _as_float,
    _check_positive,
    _dead_fraction,
    _first_dim,
    _is_relu,
    _layer_key,
    _probe_error,
    _stats,
    _to_numpy,
    _uses_default_compute_loss,
    _variable_numpy,
)

__all__ = ["DIAGNOSTIC_CHECKS", "TrainingDiagnostics"]


class TrainingDiagnostics(DiagnosticChecks, keras.callbacks.Callback):
    """Watch a `fit` for the common training failures and report each, with its fix.

    The callback probes the model on a small fixed batch `(x, y)` (take 32-256
    training samples): once before training and every `every_n_batches` steps, it
    computes the loss there and its gradient with respect to every trainable weight
    (updating nothing), the gradient norm of each layer, and the outputs of the
    activation layers. It also follows the training loss batch by batch and the
    validation loss epoch by epoch. What it finds goes to `self.findings` (each
    check at most once per callback instance and model, also across several `fit`
    calls of that model; a `fit` of another model starts afresh) and, with
    `verbose`, is printed when found. `DiagnosticChecks`
    (`kerasdl.doctor.diagnostic_checks`) lists the checks and when each fires.

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
        if not is_number(dead_relu_fraction) or not 0 < dead_relu_fraction <= 1:
            raise ValueError(
                "dead_relu_fraction must be in (0, 1]; "
                f"received {dead_relu_fraction!r}."
            )
        if not is_number(lr_rise_factor) or not lr_rise_factor > 1:
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
