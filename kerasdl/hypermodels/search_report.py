"""What a search writes: one row per trial, the trials as CSV, and the trials plot
(PNG).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from kerasdl.hypermodels.tuners import (
    OBJECTIVE,
    _finite,
    _model_values,
)


def _trial_rows(tuner, epochs):
    rows = []
    for trial_id in sorted(tuner.oracle.trials):
        trial = tuner.oracle.trials[trial_id]
        values = trial.hyperparameters.values
        rows.append(
            {
                "trial_id": trial.trial_id,
                "hyperparameters": _model_values(values),
                "score": _finite(trial.score),
                "status": trial.status,
                "epochs": int(values.get("tuner/epochs", epochs)),
            }
        )
    return rows


def _write_csv(rows, path: Path) -> None:
    names = []
    for row in rows:
        names += [n for n in row["hyperparameters"] if n not in names]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["trial_id", "status", "score", "epochs", *names])
        for row in rows:
            writer.writerow(
                [row["trial_id"], row["status"], row["score"], row["epochs"]]
                + [row["hyperparameters"].get(n, "") for n in names]
            )


def _plot_trials(
    rows, path: Path, title: str, objective: str = OBJECTIVE, direction: str = "max"
) -> None:
    from kerasdl._figures import plt, save_figure

    order = np.arange(1, len(rows) + 1)
    scores = np.array(
        [np.nan if r["score"] is None else r["score"] for r in rows], dtype=float
    )
    if direction == "max":
        best = np.fmax.accumulate(np.where(np.isnan(scores), -np.inf, scores))
    else:
        best = np.fmin.accumulate(np.where(np.isnan(scores), np.inf, scores))
    best[np.isinf(best)] = np.nan
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(order, scores, "o", label="trial")
    ax.step(order, best, where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(title, fontsize=10)
    ax.set_xticks(order)
    ax.set_xticklabels([r["trial_id"] for r in rows], rotation=90, fontsize=7)
    ax.legend(loc="lower right" if direction == "max" else "upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
