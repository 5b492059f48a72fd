"""launch_distributed_search: a real chief + 2 workers search (subprocesses on the JAX
backend, which starts faster than TensorFlow), the record of which worker ran each
trial, and the errors (port in use, a process that does not finish in time)."""

from __future__ import annotations

import json
import socket

import pytest

from kerasdl.hypermodels.distributed import (
    DISTRIBUTED_FILE,
    format_summary,
    launch_distributed_search,
)
from kerasdl.hypermodels.distributed_role import run_search_role


@pytest.mark.slow
def test_two_workers_share_the_trials(tmp_path):
    result = launch_distributed_search(
        "mlp",
        "iris",
        tuner="random",
        max_trials=4,
        epochs=1,
        num_workers=2,
        out_dir=tmp_path,
        backend="jax",
        timeout=480,
        verbose=False,
    )
    assert json.loads((tmp_path / DISTRIBUTED_FILE).read_text()) == result
    rows = result["trials"]
    assert [r["trial_id"] for r in rows] == ["0", "1", "2", "3"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    assert all(0.0 <= r["score"] <= 1.0 for r in rows)
    # Both workers ran trials (they start together), and the counts add up.
    assert {r["worker"] for r in rows} == {"tuner0", "tuner1"}
    assert set(result["trials_per_worker"]) == {"tuner0", "tuner1"}
    assert min(result["trials_per_worker"].values()) >= 1
    assert sum(result["trials_per_worker"].values()) == 4
    # The oracle gave each trial its own hyperparameters.
    assert len({json.dumps(r["hyperparameters"], sort_keys=True) for r in rows}) == 4
    assert result["best_score"] == max(r["score"] for r in rows)
    for role in ("chief", "tuner0", "tuner1"):
        assert (tmp_path / "logs" / f"{role}.log").exists()
    table = format_summary(result)
    assert "tuner0" in table and "tuner1" in table and "4/4 completed" in table


def test_port_in_use_is_refused(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ValueError, match=f"Port {port} on 127.0.0.1 is already"):
            launch_distributed_search("mlp", "iris", port=port, out_dir=tmp_path)
    assert not (tmp_path / "logs").exists()  # refused before launching anything


def test_timeout_stops_the_processes_and_names_the_log(tmp_path):
    with pytest.raises(RuntimeError, match=r"still running after timeout=0\.5 s"):
        launch_distributed_search(
            "mlp", "iris", out_dir=tmp_path, backend="jax", timeout=0.5, verbose=False
        )
    assert not (tmp_path / DISTRIBUTED_FILE).exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_workers": 0}, "num_workers"),
        ({"dataset": "nope"}, "Unknown dataset 'nope'"),
        ({"tuner": "grid"}, "Unknown tuner 'grid'"),
        ({"port": 70000}, "port"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        launch_distributed_search(out_dir=tmp_path, **{"family": "mlp", **kwargs})


def test_role_needs_the_keras_tuner_environment(monkeypatch):
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_IP"):
        run_search_role("worker")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    with pytest.raises(ValueError, match="does not match"):
        run_search_role("chief")
    with pytest.raises(ValueError, match="Expected `role` 'chief' or 'worker'"):
        run_search_role("boss")
