"""What `TrainingDiagnostics` detects: its checks, their thresholds and fixes.

`DiagnosticChecks` is the half of the callback that turns measurements (batch losses,
validation losses, probe losses, gradient norms, dead-unit fractions) into
`Finding`s; `kerasdl.doctor.diagnostics` takes the measurements.
"""

from __future__ import annotations

import math

import numpy as np

from kerasdl.doctor.findings import Finding
from kerasdl.doctor.probes import _median, _nan_to_inf

__all__ = ["DIAGNOSTIC_CHECKS", "DiagnosticChecks"]

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


class DiagnosticChecks:
    """The checks of `TrainingDiagnostics` (a mixin: it holds the callback's state).

    Each is reported once, as a `Finding` with its fix:

    - `nan_loss` (error): the training or probe loss is NaN/inf. Training is stopped.
    - `exploding_gradients` (error): the global gradient norm is above 1e4, or 20x
      the median norm of the (up to 10) probes before the jump (or the first probe's
      norm, if larger) on 2 probes in a row, or non-finite while the loss is finite.
    - `vanishing_gradients`: the first layer's gradient norm is below 1e-3x the last
      layer's, on 2 probes in a row.
    - `dead_relu`: in some ReLU layer at least 50% of the units output 0 for every probe
      sample, on 2 probes in a row, once `no_progress_steps` steps have passed.
    - `learning_rate_too_high`: the median of the last 3 batch losses is 10x that of the
      first 3 (diverging), or the median of the last 20 batch losses is 2x its lowest so
      far (climbing back up, by at least 10% of the starting loss), or the probe loss is
      2x its value before training on 2 probes in a row (overshooting).
    - `no_progress`: after 200 steps the probe loss never fell 1% below its start.
    - `overfitting`: val_loss stayed 10% above its best for the last 3 epochs, while
      the training loss fell 1% below its value at that best epoch and is now below
      val_loss.
    - `activations_unavailable`, `gradient_probes_unavailable` (info): what could not be
      probed (subclassed models; a model without a loss) and how to enable it.


    All numbers are arguments of `TrainingDiagnostics`.
    """

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
