"""Statistics of RL runs the way "Deep RL at the Edge of the Statistical Precipice"
(Agarwal et al., 2021; its library `rliable`) reports them: over the final returns of
several independent runs (seeds), the success rate, mean, median and interquartile
mean (IQM), each with a 95 % stratified-bootstrap confidence interval, and the
performance profile (the fraction of runs above each return) as a PNG.

Scores are arranged as rliable arranges them, `(n_runs, n_tasks)`; a 1-D array is
one task. The stratified bootstrap resamples runs with replacement within each task
(tasks are never resampled) and takes percentile intervals, as rliable's
`get_interval_estimates(..., method="percentile")` does; the tests compare the
intervals with rliable's on fixed data. NumPy only (and matplotlib for the plot).

Example:

```python
from kerasdl.evaluation import summarize_runs, plot_performance_profiles

returns = [500.0, 500.0, 498.8, 190.2, 439.1, ...]  # one final return per seed
summary = summarize_runs(returns, threshold=475)
summary["iqm"]  # {"value": 496.1, "low": 459.0, "high": 500.0}
plot_performance_profiles({"DQN / jax": returns}, "runs/profile.png")
```
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kerasdl._checks import check_float, check_int

__all__ = [
    "format_run_summary",
    "iqm",
    "performance_profile",
    "plot_performance_profiles",
    "report_rl_runs",
    "stratified_bootstrap_ci",
    "summarize_runs",
]

# Replicates drawn at once (bounds the memory of the resampled scores).
_CHUNK_VALUES = 2_000_000


def _scores(scores, name: str = "scores") -> np.ndarray:
    """`scores` as a finite float array of shape `(n_runs, n_tasks)`."""
    try:
        x = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be numbers, shape (n_runs,) or (n_runs, n_tasks); "
            f"received {name}={scores!r:.200}."
        ) from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.size == 0:
        raise ValueError(
            f"`{name}` must have shape (n_runs,) or (n_runs, n_tasks) with at least "
            f"one run; received shape {np.shape(scores)}."
        )
    if not np.isfinite(x).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return x


def _trimmed_mean_batched(x: np.ndarray) -> np.ndarray:
    """IQM over the last two axes of `x` (shape `(..., n_runs, n_tasks)`)."""
    flat = np.sort(x.reshape(*x.shape[:-2], -1), axis=-1)
    n = flat.shape[-1]
    cut = int(0.25 * n)  # as scipy.stats.trim_mean(proportiontocut=0.25)
    return flat[..., cut : n - cut].mean(axis=-1)


def iqm(scores) -> float:
    """Interquartile mean: the mean of the middle 50 % of all scores (runs x tasks
    pooled), dropping `int(0.25 * n)` from each end, as
    `scipy.stats.trim_mean(scores, 0.25, axis=None)` and rliable's `aggregate_iqm`.
    Robust to a few failed runs, unlike the mean; less coarse than the median."""
    return float(_trimmed_mean_batched(_scores(scores)))


class _Batched:
    """A statistic of `(..., n_runs, n_tasks)` arrays, reducing the last two axes
    (so the bootstrap evaluates all replicates at once)."""

    def __init__(self, fn, name):
        self.fn, self.__name__ = fn, name

    def __call__(self, x):
        return self.fn(np.asarray(x, dtype=float))


def _statistics(threshold):
    return {
        "success_rate": _Batched(
            lambda x: (x >= threshold).mean(axis=(-2, -1)), "success_rate"
        ),
        "mean": _Batched(lambda x: x.mean(axis=(-2, -1)), "mean"),
        "median": _Batched(
            lambda x: np.median(x.reshape(*x.shape[:-2], -1), axis=-1), "median"
        ),
        "iqm": _Batched(_trimmed_mean_batched, "iqm"),
    }


def stratified_bootstrap_ci(
    scores_per_task,
    statistic,
    reps: int = 50_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile confidence interval of `statistic` by the stratified bootstrap.

    Each replicate resamples the runs of every task with replacement (a task keeps
    its number of runs; tasks are not resampled) and evaluates `statistic` on the
    resampled `(n_runs, n_tasks)` matrix; the interval runs between the
    `(1 - confidence) / 2` and `(1 + confidence) / 2` percentiles of the replicates
    (rliable's `StratifiedBootstrap` with `method="percentile"`).

    Args:
        scores_per_task: Scores of shape `(n_runs, n_tasks)` (or `(n_runs,)`: one
            task).
        statistic: `statistic(matrix) -> float` of an `(n_runs, n_tasks)` matrix,
            e.g. `iqm` or `lambda x: x.mean()`.
        reps: Bootstrap replicates.
        confidence: Coverage of the interval, in (0, 1).
        seed: Seed of the resampling.

    Returns:
        `(low, high)` as floats.
    """
    x = _scores(scores_per_task, "scores_per_task")
    if not callable(statistic):
        raise ValueError(
            "statistic must be a callable of an (n_runs, n_tasks) array; received "
            f"statistic={statistic!r}."
        )
    reps = check_int("reps", reps)
    confidence = check_float(
        "confidence", confidence, 0, 1, low_open=True, high_open=True
    )
    seed = check_int("seed", seed, minimum=0)
    n_runs, n_tasks = x.shape
    rng = np.random.default_rng(seed)
    columns = np.arange(n_tasks)
    values = np.empty(reps)
    chunk = max(1, _CHUNK_VALUES // x.size)
    for start in range(0, reps, chunk):
        k = min(chunk, reps - start)
        rows = rng.integers(0, n_runs, size=(k, n_runs, n_tasks))
        resampled = x[rows, columns]  # (k, n_runs, n_tasks)
        if isinstance(statistic, _Batched):
            values[start : start + k] = statistic(resampled)
        else:
            values[start : start + k] = [float(statistic(r)) for r in resampled]
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [alpha, 100 - alpha])
    return float(low), float(high)


def summarize_runs(
    returns,
    threshold: float,
    reps: int = 50_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict:
    """Success rate, mean, median and IQM of runs' returns, with bootstrap CIs.

    Args:
        returns: The final (evaluation) return of each run, shape `(n_runs,)`, or
            `(n_runs, n_tasks)`.
        threshold: A run succeeds when its return is at least this (e.g. 475 on
            CartPole-v1).
        reps: Bootstrap replicates of each interval.
        confidence: Coverage of the intervals.
        seed: Seed of the resampling (the same for every statistic).

    Returns:
        `{"n_runs", "n_tasks", "threshold", "confidence", "success_rate", "mean",
        "median", "iqm"}`, each statistic as `{"value", "low", "high"}`. `mean`
        and `median` pool runs and tasks (rliable's `aggregate_median` is instead
        the median over tasks of the per-task means: for one task, the mean).
    """
    x = _scores(returns, "returns")
    threshold = check_float("threshold", threshold)
    summary = {
        "n_runs": int(x.shape[0]),
        "n_tasks": int(x.shape[1]),
        "threshold": threshold,
        "confidence": confidence,
    }
    for name, statistic in _statistics(threshold).items():
        low, high = stratified_bootstrap_ci(x, statistic, reps, confidence, seed)
        summary[name] = {"value": float(statistic(x)), "low": low, "high": high}
    return summary


def format_run_summary(summaries: dict) -> str:
    """A text table of `{label: summarize_runs(...)}`: one row per label, each
    statistic as `value [low, high]`."""
    names = ("success_rate", "mean", "median", "iqm")
    header = ["", "runs", *names]
    rows = [header]
    for label, s in summaries.items():
        cells = [str(label), str(s["n_runs"])]
        for name in names:
            v = s[name]
            d = 2 if name == "success_rate" else 1
            cells.append(f"{v['value']:.{d}f} [{v['low']:.{d}f}, {v['high']:.{d}f}]")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows
    )


def performance_profile(returns, thresholds) -> np.ndarray:
    """The fraction of scores (runs x tasks pooled) strictly above each threshold
    (rliable's `create_performance_profile`), as an array like `thresholds`."""
    x = _scores(returns, "returns")
    taus = np.asarray(thresholds, dtype=float)
    return (
        (x.reshape(-1)[:, None] > taus.reshape(-1)[None])
        .mean(axis=0)
        .reshape(taus.shape)
    )


def plot_performance_profiles(
    runs: dict,
    path,
    thresholds=None,
    reps: int = 2_000,
    confidence: float = 0.95,
    seed: int = 0,
    title: str = "Performance profile",
    target: float | None = None,
):
    """Save a PNG of the performance profiles of several groups of runs: for each
    return tau, the fraction of runs above tau, with a stratified-bootstrap band.

    Args:
        runs: `{label: returns}`, e.g. `{"DQN / jax": [...20 final returns...]}`.
        path: The PNG to write.
        thresholds: Returns at which to draw the profile (default: 200 points from
            the lowest to the highest return).
        reps: Bootstrap replicates of the band (0: no band).
        confidence: Coverage of the band.
        seed: Seed of the resampling.
        title: Figure title.
        target: Optional return to draw as a dashed line (e.g. 475).

    Returns:
        The path written.
    """
    from kerasdl._figures import plt, save_figure

    if not isinstance(runs, dict) or not runs:
        raise ValueError(
            "runs must be a non-empty dict {label: returns}; received "
            f"runs={runs!r:.200}."
        )
    data = {label: _scores(r, f"runs[{label!r}]") for label, r in runs.items()}
    if thresholds is None:
        pooled = np.concatenate([x.reshape(-1) for x in data.values()])
        thresholds = np.linspace(pooled.min(), pooled.max(), 200)
    taus = np.asarray(thresholds, dtype=float).reshape(-1)
    reps = check_int("reps", reps, minimum=0)
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, x in data.items():
        ax.plot(taus, performance_profile(x, taus), lw=2, label=str(label))
        if reps:
            n_runs, n_tasks = x.shape
            rows = rng.integers(0, n_runs, size=(reps, n_runs, n_tasks))
            flat = x[rows, np.arange(n_tasks)].reshape(reps, -1)
            profiles = (flat[:, :, None] > taus[None, None]).mean(axis=1)
            alpha = 100 * (1 - confidence) / 2
            low, high = np.percentile(profiles, [alpha, 100 - alpha], axis=0)
            ax.fill_between(taus, low, high, alpha=0.2, step=None)
    if target is not None:
        ax.axvline(target, ls="--", color="gray", label=f"target {target:g}")
    ax.set_xlabel("return tau")
    ax.set_ylabel("fraction of runs with return > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower left")
    return save_figure(fig, path)


def report_rl_runs(
    results,
    out_dir,
    threshold: float,
    group_by=("algo", "backend"),
    value: str = "eval_mean_return",
    reps: int = 50_000,
    seed: int = 0,
) -> dict:
    """Summarize many `kerasdl rl` runs per group (agent x backend by default):
    `summarize_runs` of each group's returns, a table, `rl_summary.json` and
    `performance_profile.png` in `out_dir`.

    Args:
        results: `kerasdl rl` results: dicts, `result.json` paths or run folders.
        out_dir: Folder for `rl_summary.json` and `performance_profile.png`.
        threshold: The success threshold (e.g. 475 on CartPole-v1).
        group_by: Result fields whose values name a group (`"dqn / jax"`).
        value: The result field holding a run's return.
        reps: Bootstrap replicates of each interval.
        seed: Seed of the resampling.

    Returns:
        `{"summaries": {group: summary}, "table": str, "files": [paths]}`.
    """
    groups: dict[str, list[float]] = {}
    for i, result in enumerate(results):
        if isinstance(result, (str, Path)):
            path = Path(result)
            path = path / "result.json" if path.is_dir() else path
            result = json.loads(path.read_text())
        if not isinstance(result, dict) or any(
            k not in result for k in (*group_by, value)
        ):
            raise ValueError(
                f"results[{i}] must be a kerasdl rl result with the fields "
                f"{(*group_by, value)}; received {result!r:.200}."
            )
        label = " / ".join(str(result[k]) for k in group_by)
        groups.setdefault(label, []).append(float(result[value]))
    if not groups:
        raise ValueError("results must hold at least one run; received none.")
    summaries = {
        label: summarize_runs(returns, threshold, reps=reps, seed=seed)
        for label, returns in groups.items()
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "rl_summary.json"
    summary_path.write_text(
        json.dumps(
            {
                "value": value,
                "group_by": list(group_by),
                "groups": {
                    label: {"returns": groups[label], **summaries[label]}
                    for label in groups
                },
            },
            indent=2,
        )
    )
    plot_path = plot_performance_profiles(
        groups, out / "performance_profile.png", seed=seed, target=threshold
    )
    return {
        "summaries": summaries,
        "table": format_run_summary(summaries),
        "files": [summary_path, plot_path],
    }
