"""What an agent's training shows and leaves behind: a progress bar with the recent
mean return, `episodes.csv`, optional TensorBoard scalars and a learning-curve PNG."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

EPISODE_FIELDS = ("episode", "step", "return", "length")


class TrainingMonitor:
    """Collects finished episodes and training logs during `learn`.

    Args:
        total_timesteps: Environment steps of this `learn` call (the bar's length).
        start: Environment steps already done before it (resumed training).
        verbose: 1 shows a `keras.utils.Progbar`; 0 is silent.
        log_dir: When given, `episodes.csv` (appended to) and, with `tensorboard`,
            TensorBoard event files under `log_dir/tensorboard`.
        tensorboard: Write scalars for TensorBoard (needs `log_dir`).
        window: Episodes in the recent mean return.
    """

    def __init__(
        self,
        total_timesteps: int,
        start: int = 0,
        verbose: int = 1,
        log_dir=None,
        tensorboard: bool = False,
        window: int = 20,
    ):
        self.start = start
        self.window = window
        self.episodes: list[tuple[int, int, float, int]] = []
        self.last_logs: dict = {}
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.tensorboard = bool(tensorboard and self.log_dir is not None)
        self._csv = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            path = self.log_dir / "episodes.csv"
            new = not path.exists() or start == 0
            self._csv_file = open(path, "w" if new else "a", newline="")
            self._csv = csv.writer(self._csv_file)
            if new:
                self._csv.writerow(EPISODE_FIELDS)
        self._bar = None
        self._every = max(1, total_timesteps // 200)
        self._next_update = 0
        if verbose:
            import keras

            self._bar = keras.utils.Progbar(
                total_timesteps,
                stateful_metrics=["mean_return", "episodes", "epsilon", "loss"],
                unit_name="step",
            )

    def recent_mean_return(self) -> float:
        """Mean return of the last `window` episodes (NaN before the first)."""
        if not self.episodes:
            return float("nan")
        return float(np.mean([e[2] for e in self.episodes[-self.window :]]))

    def episode(self, episode: int, step: int, episode_return: float, length: int):
        """Record one finished episode."""
        row = (int(episode), int(step), float(episode_return), int(length))
        self.episodes.append(row)
        if self._csv is not None:
            self._csv.writerow(row)
        if self.tensorboard:
            from kerasdl import backend

            backend.write_scalars(
                self.log_dir / "tensorboard",
                step,
                {
                    "episode/return": episode_return,
                    "episode/length": length,
                    **{f"train/{k}": float(v) for k, v in self.last_logs.items()},
                },
            )

    def step(self, step: int, logs: dict | None = None, force: bool = False):
        """Advance the bar to environment step `step` (absolute)."""
        if logs:
            self.last_logs = dict(logs)
        if self._bar is None or (step < self._next_update and not force):
            return
        self._next_update = step + self._every
        values = [("episodes", len(self.episodes))]
        if self.episodes:
            values.append(("mean_return", self.recent_mean_return()))
        values += [
            (k, float(v)) for k, v in self.last_logs.items() if k in ("epsilon", "loss")
        ]
        self._bar.update(step - self.start, values=values, finalize=force)

    def close(self, step: int):
        """Finish the bar and flush the files."""
        self.step(step, force=True)
        if self._csv is not None:
            self._csv_file.close()
            self._csv = None
        if self.tensorboard:
            from kerasdl import backend

            backend.close_summaries(self.log_dir / "tensorboard")


def read_episodes(path) -> np.ndarray:
    """`episodes.csv` as a float array with columns episode, step, return, length."""
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return rows.reshape(-1, len(EPISODE_FIELDS))


def plot_learning_curve(
    episodes, path, title: str = "", window: int = 20, target: float | None = None
):
    """Save a learning-curve PNG: each episode's return against the environment step,
    with a moving average over `window` episodes (and a dashed target line).

    Args:
        episodes: Rows `(episode, step, return, length)` (a `TrainingMonitor`'s
            `episodes` or `read_episodes(...)`).
        path: The PNG to write.
        title: Figure title.
        window: Episodes in the moving average.
        target: Optional return to draw as a dashed line (e.g. 475 for CartPole).

    Returns:
        The path written.
    """
    from kerasdl._figures import plt, save_figure

    episodes = np.asarray(episodes, dtype=float).reshape(-1, len(EPISODE_FIELDS))
    fig, ax = plt.subplots(figsize=(7, 4))
    if len(episodes):
        steps, returns = episodes[:, 1], episodes[:, 2]
        ax.plot(steps, returns, ".", alpha=0.35, markersize=3, label="episode return")
        k = min(window, len(returns))
        smooth = np.convolve(returns, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, lw=2, label=f"mean of last {k}")
    if target is not None:
        ax.axhline(target, ls="--", color="gray", label=f"target {target:g}")
    ax.set_xlabel("environment step")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return save_figure(fig, path)
