"""The Keras Tuner side of `run_search`: which tuners, how they are built (with a
progress line per trial), Hyperband's trial count, and `--set NAME=VALUE` parsing."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import time
import warnings

import keras_tuner

from kerasdl._checks import check_int

TUNERS = ("hyperband", "random", "bayesian")
OBJECTIVE = "val_accuracy"
HYPERBAND_FACTOR = 3

__all__ = [
    "OBJECTIVE",
    "TUNERS",
    "check_tuner",
    "hyperband_trials",
    "make_tuner",
    "parse_search_space",
]


def check_tuner(name) -> str:
    """`name` if it is a tuner kerasdl knows; else a one-line ValueError."""
    if not isinstance(name, str) or name.lower() not in TUNERS:
        raise ValueError(f"Unknown tuner {name!r}; choose one of: {', '.join(TUNERS)}.")
    return name.lower()


def hyperband_trials(epochs: int, factor: int = HYPERBAND_FACTOR) -> int:
    """Trials in one full Hyperband iteration of Keras Tuner with `max_epochs=epochs`
    (its brackets and rounds, computed as `keras_tuner.oracles.HyperbandOracle`
    does): 6 for 3 epochs, 23 for 9, 70 for 27 with `factor=3`.

    A smaller `max_trials` cuts the iteration short, inside its first (most
    aggressive) bracket, whose trials are the shortest.
    """
    epochs = check_int("epochs", epochs)
    brackets, remaining = 0, epochs
    while remaining >= 1:
        remaining /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(epochs, factor))
    return sum(
        math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_))
        for bracket in range(brackets)
        for round_ in range(bracket + 1)
    )


def _scalar(text: str):
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return text


def parse_search_space(pairs) -> dict:
    """Search-space overrides from `NAME=VALUE` strings (`kerasdl tune --set`).

    `VALUE` is a range `low:high` (or JSON `[low, high]`), a comma-separated list of
    choices (`adam,adamw`), or one value that fixes the hyperparameter (`2`).

    Example:
        >>> parse_search_space(["width=32:256", "optimizer=adam,sgd", "depth=2"])
        {'width': (32, 256), 'optimizer': ['adam', 'sgd'], 'depth': 2}
    """
    space = {}
    for pair in pairs or ():
        name, sep, text = str(pair).partition("=")
        if not sep or not name.strip() or not text.strip():
            raise ValueError(
                "--set takes NAME=VALUE, e.g. width=32:256, optimizer=adam,sgd or "
                f"depth=2; received {pair!r}."
            )
        text = text.strip()
        if text.startswith("["):
            value = _scalar(text)
        elif ":" in text:
            low, _, high = text.partition(":")
            value = (_scalar(low), _scalar(high))
        elif "," in text:
            value = [_scalar(t) for t in text.split(",") if t.strip()]
        else:
            value = _scalar(text)
        space[name.strip()] = value
    return space


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(message, file=sys.stderr, flush=True)


def _format_values(values: dict) -> str:
    parts = []
    for name, value in values.items():
        if name.startswith("tuner/"):
            continue
        if isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{name}={value}")
    return " ".join(parts)


def _model_values(values: dict) -> dict:
    """A trial's hyperparameters without Keras Tuner's bookkeeping (`tuner/...`)."""
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class _ProgressMixin:
    """Prints one line per finished trial: `trial i/N [id] hp... -> score`."""

    _kdl_verbose = True
    _kdl_budget = None

    def on_trial_begin(self, trial):
        self._kdl_started = time.perf_counter()
        super().on_trial_begin(trial)

    def _build_hypermodel(self, hp):
        # Hyperband continues a trial from its parent's checkpoint, which holds
        # optimizer variables the new model's (unbuilt) optimizer lacks.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading")
            return super()._build_hypermodel(hp)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        if not self._kdl_verbose:
            return
        stored = self.oracle.get_trial(trial.trial_id)
        seconds = time.perf_counter() - getattr(
            self, "_kdl_started", time.perf_counter()
        )
        score = _finite(stored.score)
        score_text = "n/a" if score is None else f"{score:.4f}"
        epochs = stored.hyperparameters.values.get("tuner/epochs")
        budget = f" epochs={epochs}" if epochs is not None else ""
        _log(
            f"trial {len(self.oracle.end_order)}/{self._kdl_budget} "
            f"[{stored.trial_id}] {_format_values(stored.hyperparameters.values)}"
            f"{budget} -> {self.oracle.objective.name} {score_text} "
            f"({stored.status}, {seconds:.1f} s)",
            True,
        )


_TUNER_CLASSES = {
    "random": keras_tuner.RandomSearch,
    "hyperband": keras_tuner.Hyperband,
    "bayesian": keras_tuner.BayesianOptimization,
}


def _default_values(oracle) -> dict:
    """The search space's defaults (active values only): the untuned model."""
    hps = keras_tuner.HyperParameters()
    for hp in oracle.hyperparameters.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = hp.default
    return hps.values


def _try_defaults_first(oracle) -> None:
    """Make the oracle's first trial the defaults (= the untuned model).

    Random trials alone may all be worse than the hand-chosen defaults; with the
    defaults as trial 0, the search's best is at least the untuned model on the
    search's own validation data. A reloaded search already has trials, so the
    defaults are never run twice.
    """
    populate = oracle.populate_space

    def populate_space(trial_id):
        if not oracle.trials and oracle.hyperparameters.space:
            return {"status": "RUNNING", "values": _default_values(oracle)}
        return populate(trial_id)

    oracle.populate_space = populate_space


def make_tuner(
    tuner: str,
    hypermodel,
    *,
    max_trials: int,
    epochs: int,
    seed: int,
    directory,
    project_name: str,
    overwrite: bool = False,
    verbose: bool = True,
    objective=None,
):
    """The Keras Tuner tuner for `run_search`, printing a line per trial.

    Args:
        tuner: `"hyperband"`, `"random"` or `"bayesian"`.
        hypermodel: A `keras_tuner.HyperModel`.
        max_trials: Trials in all (Hyperband's brackets are cut at this many).
        epochs: Epochs of a trial (Hyperband's `max_epochs`).
        seed: Seed of the oracle.
        directory, project_name: Where Keras Tuner keeps its state.
        overwrite: Start afresh (True) or reload the project found there (False).
        verbose: Print the per-trial lines to stderr.
        objective: A `keras_tuner.Objective`; None: `val_accuracy`, maximised
            (the regression tables of `run_search` minimise `val_loss`).

    Returns:
        The tuner (by default objective `val_accuracy`, maximised). For `"random"` and
        `"bayesian"` the first trial is the search space's defaults, which equal
        the untuned model, so the search can only match or beat it (on its own
        validation data).
    """
    name = check_tuner(tuner)
    base = _TUNER_CLASSES[name]
    cls = type(f"Progress{base.__name__}", (_ProgressMixin, base), {})
    common = {
        "objective": objective or keras_tuner.Objective(OBJECTIVE, direction="max"),
        "seed": seed,
        "directory": str(directory),
        "project_name": project_name,
        "overwrite": overwrite,
    }
    if name == "random":
        kwargs = {"max_trials": max_trials}
    elif name == "bayesian":
        kwargs = {
            "max_trials": max_trials,
            "num_initial_points": max(2, max_trials // 3),
        }
    else:
        kwargs = {
            "max_epochs": epochs,
            "factor": HYPERBAND_FACTOR,
            "hyperband_iterations": max_trials,
        }
    # Keras Tuner prints "Reloading Tuner from ..." itself; run_search says more.
    with contextlib.redirect_stdout(io.StringIO()):
        instance = cls(hypermodel, **common, **kwargs)
    if name == "hyperband":
        # Hyperband has no max_trials argument; the oracle honours the attribute.
        instance.oracle.max_trials = max_trials
    elif isinstance(instance.oracle, keras_tuner.Oracle):  # not a worker's client
        _try_defaults_first(instance.oracle)
    instance._kdl_verbose = verbose
    instance._kdl_budget = max_trials
    return instance
