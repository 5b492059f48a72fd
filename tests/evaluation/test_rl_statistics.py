"""RL run statistics: IQM by hand and against scipy, stratified-bootstrap intervals
against rliable's, the performance profile, the plot, errors."""

import json

import numpy as np
import pytest
from scipy import stats

from kerasdl.evaluation import (
    format_run_summary,
    iqm,
    performance_profile,
    plot_performance_profiles,
    report_rl_runs,
    stratified_bootstrap_ci,
    summarize_runs,
)

# Fixed data: 20 runs of one task (CartPole-like final returns), and 10 runs of two
# tasks.
SINGLE = np.array(
    [500, 500, 500, 498.8, 500, 190.2, 439.1, 500, 500, 487.3]
    + [500, 312.5, 500, 500, 475.0, 500, 466.4, 500, 500, 121.9]
)
TWO = np.array(
    [[9.5, 200.0], [12.0, 180.5], [30.2, 450.0], [8.1, 500.0], [55.0, 95.0]]
    + [[41.3, 310.2], [22.2, 260.0], [17.7, 499.0], [60.4, 120.0], [35.0, 388.8]]
)

# Reference intervals from rliable 1.2.0 (arch 7.2.0, numpy 2.4, pandas 2.x, in a
# scratch venv, not a dependency): rliable.library.get_interval_estimates(
# {"a": scores}, func, reps=50000, random_state=np.random.RandomState(0)) with the
# default percentile method and 95 % coverage; scores = SINGLE[:, None] or TWO;
# func = aggregate_mean / aggregate_iqm / mean(scores >= 475) / aggregate_median.
RLIABLE = {
    ("single", "mean"): (449.56, 397.4799, 491.095),
    ("single", "iqm"): (496.11, 459.02, 500.0),
    ("single", "success_rate"): (0.75, 0.55, 0.9),
    ("two", "mean"): (164.745, 119.89, 210.4652),
    ("two", "iqm"): (107.74, 76.43, 170.6503),
    ("two", "success_rate"): (0.1, 0.0, 0.25),
}
# rliable's aggregate_median: the median over tasks of the per-task means.
RLIABLE_MEDIAN_OF_TASK_MEANS_TWO = (164.745, 119.985, 209.9453)
# rliable.library.create_performance_profile({"a": SINGLE[:, None]}, TAUS)
TAUS = [0, 100, 200, 300, 400, 475, 500]
RLIABLE_PROFILE = [1.0, 1.0, 0.9, 0.9, 0.85, 0.7, 0.0]


def test_iqm_by_hand_and_against_scipy_trim_mean():
    assert iqm(np.arange(1, 9)) == 4.5  # mean of 3, 4, 5, 6
    # Outliers at both ends do not move it: the middle four of eight.
    assert iqm([-50, 0, 1, 2, 3, 4, 100, 1000]) == 2.5
    assert iqm([7.0]) == 7.0
    rng = np.random.default_rng(0)
    for n in range(1, 24):
        x = rng.normal(size=n) * 100
        assert iqm(x) == pytest.approx(stats.trim_mean(x, 0.25), rel=1e-12)
    x = rng.normal(size=(9, 3))
    assert iqm(x) == pytest.approx(stats.trim_mean(x, 0.25, axis=None), rel=1e-12)


@pytest.mark.parametrize("data", ["single", "two"])
def test_intervals_match_rliable(data):
    scores = SINGLE if data == "single" else TWO
    summary = summarize_runs(scores, threshold=475)
    # Different random streams: the endpoints agree to Monte Carlo error, here
    # within 1 % of the data's range (measured: at most 0.4 % over seeds 0-2).
    tolerance = 0.01 * np.ptp(scores)
    for name in ("mean", "iqm", "success_rate"):
        value, low, high = RLIABLE[(data, name)]
        got = summary[name]
        assert got["value"] == pytest.approx(value, rel=1e-9), name
        tol = tolerance if name != "success_rate" else 1e-9  # exact on 1/n steps
        assert abs(got["low"] - low) <= tol, (name, got, low)
        assert abs(got["high"] - high) <= tol, (name, got, high)
    assert summary["n_runs"] == len(scores) and summary["confidence"] == 0.95


def test_any_statistic_of_the_matrix_matches_rliable():
    value, low, high = RLIABLE_MEDIAN_OF_TASK_MEANS_TWO
    got = stratified_bootstrap_ci(TWO, lambda x: np.median(x.mean(axis=0)))
    assert abs(got[0] - low) <= 0.01 * np.ptp(TWO)
    assert abs(got[1] - high) <= 0.01 * np.ptp(TWO)


def test_bootstrap_resamples_within_tasks_only():
    # Task 0 always scores 0, task 1 always 1: resampling runs inside each task
    # keeps the mean at 0.5 in every replicate (pooled resampling would not).
    scores = np.column_stack([np.zeros(6), np.ones(6)])
    assert stratified_bootstrap_ci(scores, np.mean, reps=500) == (0.5, 0.5)
    low, high = stratified_bootstrap_ci(SINGLE, np.mean, reps=2000, confidence=0.5)
    wide = stratified_bootstrap_ci(SINGLE, np.mean, reps=2000, confidence=0.95)
    assert wide[0] < low < SINGLE.mean() < high < wide[1]
    assert stratified_bootstrap_ci(SINGLE, np.mean, reps=2000, seed=3) == (
        stratified_bootstrap_ci(SINGLE, np.mean, reps=2000, seed=3)
    )


def test_summary_median_and_table():
    summary = summarize_runs(SINGLE, threshold=475, reps=2000)
    assert summary["median"]["value"] == np.median(SINGLE) == 500.0
    assert summary["median"]["low"] <= 500.0 == summary["median"]["high"]
    table = format_run_summary({"DQN / jax": summary})
    assert "DQN / jax" in table and "0.75 [" in table and "iqm" in table


def test_performance_profile_matches_rliable_and_plot_is_written(tmp_path):
    np.testing.assert_allclose(performance_profile(SINGLE, TAUS), RLIABLE_PROFILE)
    path = plot_performance_profiles(
        {"one task": SINGLE, "two tasks": TWO}, tmp_path / "profile.png", target=475
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_groups_runs_by_agent_and_backend(tmp_path):
    results = []
    for algo, returns in (("dqn", SINGLE[:5]), ("a2c", SINGLE[5:12])):
        for seed, value in enumerate(returns):
            run = tmp_path / "runs" / f"{algo}-{seed}"
            run.mkdir(parents=True)
            result = {"algo": algo, "backend": "jax", "eval_mean_return": value}
            (run / "result.json").write_text(json.dumps(result))
            results.append(run)
    report = report_rl_runs(results, tmp_path / "report", threshold=475, reps=500)
    assert list(report["summaries"]) == ["dqn / jax", "a2c / jax"]
    assert report["summaries"]["a2c / jax"] == summarize_runs(
        SINGLE[5:12], 475, reps=500
    )
    saved = json.loads((tmp_path / "report" / "rl_summary.json").read_text())
    assert saved["groups"]["dqn / jax"]["returns"] == SINGLE[:5].tolist()
    assert saved["groups"]["dqn / jax"]["n_runs"] == 5
    assert (tmp_path / "report" / "performance_profile.png").stat().st_size > 0
    assert "a2c / jax" in report["table"]
    with pytest.raises(ValueError, match=r"results\[0\].*eval_mean_return"):
        report_rl_runs([{"algo": "dqn"}], tmp_path, threshold=475)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: iqm([]), r"at least one run; received shape \(0,\)"),
        (lambda: iqm([1.0, np.nan]), "NaN"),
        (lambda: iqm(np.zeros((2, 2, 2))), r"received shape \(2, 2, 2\)"),
        (lambda: iqm(["a"]), "must be numbers"),
        (lambda: stratified_bootstrap_ci(SINGLE, "mean"), "statistic=.mean."),
        (lambda: stratified_bootstrap_ci(SINGLE, np.mean, reps=0), "reps=0"),
        (
            lambda: stratified_bootstrap_ci(SINGLE, np.mean, confidence=1.0),
            "confidence=1.0",
        ),
        (lambda: summarize_runs(SINGLE, threshold=np.nan), "threshold=nan"),
        (lambda: plot_performance_profiles([], "x.png"), r"runs=\[\]"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
