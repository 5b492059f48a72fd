"""PNG figures for `compare`: accuracy bars and the learning curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kerasdl.plotting import plt, save_figure

KIND_COLORS = {"classical": "#4C72B0", "deep": "#DD8452"}


def plot_compare_bars(report: dict, path) -> Path:
    """Mean accuracy ± std per model (bars coloured by kind), fit time annotated."""
    rows = sorted(report["results"], key=lambda r: r["accuracy_mean"])
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.5))
    y = np.arange(len(rows))
    ax.barh(
        y,
        [r["accuracy_mean"] for r in rows],
        xerr=[r["accuracy_std"] for r in rows],
        color=[KIND_COLORS[r["kind"]] for r in rows],
        capsize=3,
    )
    ax.set_yticks(y, [r["model"] for r in rows])
    low = min(r["accuracy_mean"] - r["accuracy_std"] for r in rows)
    ax.set_xlim(max(0.0, low - 0.05), 1.0)
    for yi, r in zip(y, rows):
        ax.text(
            ax.get_xlim()[0] + 0.005,
            yi,
            f"{r['accuracy_mean']:.3f}  ({r['fit_seconds']:.1f} s)",
            va="center",
            color="white",
            fontsize=8,
        )
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in KIND_COLORS.values()]
    ax.legend(handles, list(KIND_COLORS), loc="lower right")
    ax.set_xlabel(f"accuracy, mean ± std over {report['folds']} folds")
    ax.set_title(
        f"{report['dataset']}: classical ML vs deep learning ({report['backend']})"
    )
    return save_figure(fig, path)


def plot_learning_curve(curves: dict, path, title: str = "") -> Path:
    """Accuracy against training-set size, one line per model kind."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, curve in curves.items():
        sizes = np.array(curve["train_sizes"])
        mean = np.array(curve["accuracy_mean"])
        std = np.array(curve["accuracy_std"])
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
    ax.set_xscale("log")
    ax.set_xlabel("training samples")
    ax.set_ylabel("test-fold accuracy")
    ax.set_title(f"{title}: accuracy against training-set size".strip(": "))
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
