"""Running one Keras Tuner search: create (or reload) the tuner and search, with
early stopping and progress; returns the tuner and what happened.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from kerasdl import backend as kbackend
from kerasdl.hypermodels.search_setup import (
    SETTINGS_FILE,
    _settings_check,
)
from kerasdl.hypermodels.tuners import (
    _log,
    make_tuner,
)


def _search(
    hypermodel,
    fit,
    val,
    *,
    tuner,
    max_trials,
    epochs,
    seed,
    out_dir,
    project_name,
    overwrite,
    verbose,
    callbacks,
    settings,
    objective=None,
):
    """Create (or reload) the tuner and run the search. Returns (tuner, info).
    `objective`: a `keras_tuner.Objective` (None: `val_accuracy`, maximised)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    project_dir = out_dir / project_name
    resuming = _settings_check(project_dir, settings, overwrite)
    kbackend.set_random_seed(seed)
    instance = make_tuner(
        tuner,
        hypermodel,
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        directory=out_dir,
        project_name=project_name,
        overwrite=overwrite,
        verbose=verbose,
        objective=objective,
    )
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))
    trials = instance.oracle.trials.values()
    done_before = sum(t.status == "COMPLETED" for t in trials)
    if resuming:
        rerun = len(instance.oracle._retry_queue)
        _log(
            f"resuming {project_dir}: {done_before} trial(s) finished, "
            f"{rerun} interrupted trial(s) to run again, budget {max_trials}",
            verbose,
        )
    start = time.perf_counter()
    try:
        instance.search(
            fit[0],
            fit[1],
            validation_data=val,
            epochs=epochs,
            verbose=0,
            callbacks=list(callbacks or []),
        )
    except KeyboardInterrupt:
        _log(
            f"interrupted: the finished trials are kept in {project_dir}; run the "
            "same search again (without overwrite) to resume.",
            verbose,
        )
        raise
    except RuntimeError as error:  # Keras Tuner: too many failed trials in a row
        lines = [line for line in str(error).splitlines() if line.strip()]
        detail = f" Last error: {lines[-1].strip()}" if len(lines) > 1 else ""
        raise RuntimeError(f"{lines[0] if lines else error}.{detail}") from error
    completed = [t for t in instance.oracle.trials.values() if t.status == "COMPLETED"]
    if not completed:
        failed = [t for t in instance.oracle.trials.values() if t.message]
        detail = ""
        if failed:
            lines = [x for x in failed[-1].message.splitlines() if x.strip()]
            detail = f" Last error: {lines[-1].strip()}" if lines else ""
        raise RuntimeError(f"No trial of the search completed.{detail}")
    info = {
        "resumed": resuming,
        "completed_before": done_before,
        "search_seconds": round(time.perf_counter() - start, 2),
    }
    return instance, info
