"""PNG figures for `compare`: ranking-metric bars and the learning curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kerasdl.baselines.metrics import LOWER_IS_BETTER, METRIC_LABELS, sort_key
from kerasdl.plotting import plt, save_figure

#: Metrics that live in [0, 1] (their bar axis ends at 1).
BOUNDED_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc")

KIND_COLORS = {"classical": "#4C72B0", "deep": "#DD8452"}


def plot_compare_bars(report: dict, path) -> Path:
    """The ranking metric's mean ± std per model (bars coloured by kind), with the
    fit time per fold annotated; best model on top. A model that cannot give the
    metric (e.g. ROC-AUC without probabilities) is left out and named in the title.
    """
    metric = report.get("metric", "accuracy")
    key = f"{metric}_mean"
    scored = [r for r in report["results"] if r.get(key) is not None]
    missing = [r["model"] for r in report["results"] if r.get(key) is None]
    rows = sorted(scored, key=sort_key(metric))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.5 * max(len(rows), 1) + 1.5))
    y = np.arange(len(rows))
    means = np.array([r[key] for r in rows], dtype=float)
    stds = np.array([r[f"{metric}_std"] for r in rows], dtype=float)
    ax.barh(
        y,
        means,
        xerr=stds,
        color=[KIND_COLORS[r["kind"]] for r in rows],
        capsize=3,
    )
    ax.set_yticks(y, [r["model"] for r in rows])
    if len(rows) and metric in BOUNDED_METRICS:
        low = float(np.min(means - stds))
        ax.set_xlim(max(0.0, low - 0.05), 1.0)
    elif len(rows):
        ax.set_xlim(
            min(0.0, float(np.min(means - stds))), float(np.max(means + stds)) * 1.05
        )
    for yi, r in zip(y, rows):
        ax.text(
            ax.get_xlim()[0] + 0.005 * (ax.get_xlim()[1] - ax.get_xlim()[0]),
            yi,
            f"{r[key]:.3f}  ({r['fit_seconds']:.1f} s)",
            va="center",
            color="white",
            fontsize=8,
        )
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in KIND_COLORS.values()]
    ax.legend(handles, list(KIND_COLORS), loc="lower right")
    better = "lower" if metric in LOWER_IS_BETTER else "higher"
    ax.set_xlabel(
        f"{METRIC_LABELS[metric]} ({better} is better), mean ± std over "
        f"{report['folds']} folds"
    )
    title = f"{report['dataset']}: classical ML vs deep learning ({report['backend']})"
    if missing:
        title += f"\nno {METRIC_LABELS[metric]} for: {', '.join(missing)}"
    ax.set_title(title)
    return save_figure(fig, path)


def plot_learning_curve(curves: dict, path, title: str = "") -> Path:
    """The ranking metric against training-set size, one line per model kind."""
    fig, ax = plt.subplots(figsize=(6, 4))
    metric = "accuracy"
    for kind, curve in curves.items():
        metric = curve.get("metric", "accuracy")
        sizes = np.array(curve["train_sizes"])
        mean = np.array(curve[f"{metric}_mean"])
        std = np.array(curve[f"{metric}_std"])
        ax.plot(
            sizes,
            mean,
            "o-",
            color=KIND_COLORS[kind],
            label=f"{curve['model']} ({kind})",
        )
        ax.fill_between(
            sizes, mean - std, mean + std, color=KIND_COLORS[kind], alpha=0.2
        )
    label = METRIC_LABELS[metric]
    ax.set_xscale("log")
    ax.set_xlabel("training samples")
    ax.set_ylabel(f"test-fold {label}")
    ax.set_title(f"{title}: {label} against training-set size".strip(": "))
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
