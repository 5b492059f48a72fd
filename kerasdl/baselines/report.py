"""How `compare` reports: the text table, `compare.json` and the figures."""

from __future__ import annotations

import json
from pathlib import Path

from kerasdl.baselines.metrics import METRIC_LABELS, sort_key, task_metrics


def _cell(row, metric, with_std=False) -> str:
    value = row.get(f"{metric}_mean")
    if value is None:
        return "-"
    if with_std:
        return f"{value:.4f} ± {row[f'{metric}_std']:.4f}"
    return f"{value:.4f}"


def format_table(report: dict) -> str:
    """The results as an aligned text table, best ranking metric first."""
    task = report.get("task", "classification")
    metric = report.get("metric", "accuracy")
    others = [m for m in task_metrics(task) if m != metric]
    if task == "classification" and "task" not in report:
        others = ["f1_macro"]  # a report written before regression and tables
    header = (
        "model",
        "kind",
        METRIC_LABELS[metric],
        *(METRIC_LABELS[m] for m in others),
        "fit s/fold",
        "ms/sample",
        "params",
    )
    rows = []
    for r in sorted(report["results"], key=sort_key(metric)):
        rows.append(
            (
                r["model"],
                r["kind"],
                _cell(r, metric, with_std=True),
                *(_cell(r, m) for m in others),
                f"{r['fit_seconds']:.2f}",
                f"{r['predict_ms_per_sample']:.4f}",
                "-" if r["params"] is None else f"{r['params']:,}",
            )
        )
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    cv = "stratified" if task == "classification" else "shuffled"
    if report.get("grouped"):
        cv += ", grouped"
    lines = [
        f"{report['dataset']}: {task}, {report['folds']}-fold {cv} CV, "
        f"{report['n_samples']} samples, backend {report['backend']}, ranked by "
        f"{METRIC_LABELS[metric]}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | Path) -> dict:
    """Write `compare.json`, `compare.png` (and the learning curve) into `out_dir`."""
    from kerasdl.baselines.plots import plot_compare_bars, plot_learning_curve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "compare.json"}
    paths["json"].write_text(json.dumps(report, indent=2))
    paths["png"] = plot_compare_bars(report, out / "compare.png")
    if "learning_curve" in report:
        (out / "learning_curve.json").write_text(
            json.dumps(report["learning_curve"], indent=2)
        )
        paths["learning_curve"] = plot_learning_curve(
            report["learning_curve"],
            out / "learning_curve.png",
            title=report["dataset"],
        )
    return paths
