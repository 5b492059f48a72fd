"""Distributed hyperparameter search with Keras Tuner's own chief/worker protocol.

Keras Tuner distributes a search through three environment variables: every
process gets `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT` (where the
oracle listens) and its own `KERASTUNER_TUNER_ID`: `"chief"` for the process that
runs the oracle as a gRPC server (its `search` blocks until the budget is spent),
`"tuner0"`, `"tuner1"`, ... for the workers, which pull trials from the chief, run
them and report the scores back. The oracle state (`oracle.json`, each trial's
`trial.json`) is written by the chief; each worker writes the checkpoints of the
trials it ran (and `tuner<i>.json`) into the same project folder.

`launch_distributed_search` runs all of it on one machine: one chief and
`num_workers` workers as subprocesses (`kerasdl tune-distributed --role
chief|worker ...`, each running `run_search_role`), logs in
`out_dir/logs/<role>.log`, and writes `out_dir/distributed.json`: every trial
with its score, status and the worker that ran it (each worker leaves
`kerasdl_worker.json` in the trial folders it ran), and the number of trials per
worker.

Run it from the command line:

```
kerasdl tune-distributed --family mlp --dataset digits \
    --max-trials 4 --workers 2 --out runs/tune-distributed
```

Across machines, start the same command with `--role chief` on one host and
`--role worker` on the others, with the environment variables set by hand (see
`run_search_role`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras

from kerasdl._backends import SUPPORTED_BACKENDS
from kerasdl._checks import check_float, check_int
from kerasdl.hypermodels.registry import check_family
from kerasdl.hypermodels.tuners import _finite, _model_values, check_tuner

DISTRIBUTED_FILE = "distributed.json"
WORKER_FILE = "kerasdl_worker.json"  # in each trial folder: who ran the trial
READY_DIR = ".ready"  # workers touch a file here and start together
DEFAULT_OUT = Path("runs") / "tune-distributed"
VAL_SIZE = 0.2
TEST_SIZE = 0.2
LOG_TAIL_LINES = 25

__all__ = ["format_summary", "launch_distributed_search"]


# ------------------------------------------------------------------------- ports


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_port_free(host: str, port: int) -> None:
    """A one-line ValueError if `port` cannot be bound on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as error:
            raise ValueError(
                f"Port {port} on {host} is already in use ({error.strerror}); pass "
                "another `port` (--port), or none to pick a free one."
            ) from None


# ------------------------------------------------------------------ the processes


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:]) or "(empty log)"


def _stop(process, grace: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _collect(project_dir: Path) -> list[dict]:
    """Rows of the trials in `project_dir` (the chief's trial.json files plus the
    worker's kerasdl_worker.json), sorted by trial id."""
    rows = []
    for trial_dir in sorted(project_dir.glob("trial_*")):
        state_file = trial_dir / "trial.json"
        if not state_file.exists():
            continue
        state = json.loads(state_file.read_text())
        worker_file = trial_dir / WORKER_FILE
        worker = json.loads(worker_file.read_text()) if worker_file.exists() else {}
        values = state.get("hyperparameters", {}).get("values", {})
        rows.append(
            {
                "trial_id": state["trial_id"],
                "worker": worker.get("worker"),
                "host": worker.get("host"),
                "status": state.get("status"),
                "score": _finite(state.get("score")),
                "seconds": worker.get("seconds"),
                "hyperparameters": _model_values(values),
            }
        )
    return rows


def launch_distributed_search(
    family: str = "mlp",
    dataset: str = "digits",
    *,
    tuner: str = "random",
    max_trials: int = 4,
    epochs: int = 1,
    num_workers: int = 2,
    out_dir=None,
    project_name: str | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    seed: int = 0,
    backend: str | None = None,
    timeout: float = 900.0,
    verbose: bool = True,
) -> dict:
    """Run a Keras Tuner search with one chief and `num_workers` worker processes.

    The chief runs the oracle (a gRPC server on `host:port`); the workers start
    together (each waits until all have loaded the data), pull trials from it and
    run them. All share the project folder `out_dir/<project_name>/`, which is
    started afresh. When the workers have finished, the chief is stopped.

    Args:
        family: A registered HyperModel family (`"mlp"`, `"cnn"`, ...).
        dataset: A built-in classification dataset (`kerasdl.data.list_datasets()`);
            as in `run_search`, a test part (20%) is held out and not used, and the
            validation part (20% of the rest) scores the trials.
        tuner: `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: Trials in all, shared among the workers.
        epochs: Epochs per trial (Hyperband's `max_epochs`).
        num_workers: Worker processes (`KERASTUNER_TUNER_ID` tuner0, tuner1, ...).
        out_dir: Output folder (default `runs/tune-distributed`).
        project_name: Keras Tuner project (default `f"{family}_{tuner}"`).
        port: The chief's port; None picks a free one. A port in use is refused.
        host: The address the chief listens on and the workers connect to.
        seed: Seed of the oracle, the data split and the models.
        backend: `KERAS_BACKEND` of the subprocesses (default: inherited).
            `"jax"` starts faster than `"tensorflow"`.
        timeout: Seconds before the whole search is stopped with an error.
        verbose: Print progress to stderr.

    Returns:
        The content of `out_dir/distributed.json`: the settings, `trials` (rows
        with `trial_id`, `worker`, `status`, `score`, `seconds`,
        `hyperparameters`), `trials_per_worker`, `completed_trials`,
        `best_trial_id`, `best_score`, `seconds` and the `logs`.

    Raises:
        ValueError: a bad argument, or `port` already in use.
        RuntimeError: a process failed (the message holds the tail of its log),
            or the search ran past `timeout`.

    Example:

    ```python
    result = launch_distributed_search("mlp", "iris", max_trials=4, num_workers=2)
    print(result["trials_per_worker"])  # {'tuner0': 2, 'tuner1': 2}
    ```
    """
    from kerasdl.data import list_datasets

    family = check_family(family)
    tuner = check_tuner(tuner)
    max_trials = check_int("max_trials", max_trials)
    epochs = check_int("epochs", epochs)
    num_workers = check_int("num_workers", num_workers)
    seed = check_int("seed", seed, minimum=0)
    timeout = check_float("timeout", timeout, low=0.0, low_open=True)
    if not isinstance(dataset, str) or dataset not in list_datasets():
        raise ValueError(
            f"Unknown dataset {dataset!r}; choose one of: {', '.join(list_datasets())}."
        )
    if backend is not None and backend not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"Expected `backend` one of {', '.join(map(repr, SUPPORTED_BACKENDS))}; "
            f"received {backend!r}."
        )
    if port is None:
        port = _free_port(host)
    else:
        port = check_int("port", port)
        if port > 65535:
            raise ValueError(f"Expected `port` in 1..65535; received {port}.")
        _check_port_free(host, port)

    out_dir = Path(out_dir or DEFAULT_OUT)
    project_name = project_name or f"{family}_{tuner}"
    project_dir = out_dir / project_name
    logs_dir = out_dir / "logs"
    for folder in (project_dir, out_dir / READY_DIR):
        if folder.exists():
            shutil.rmtree(folder)
    logs_dir.mkdir(parents=True, exist_ok=True)

    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p
    )
    env.update(
        {
            "KERASTUNER_ORACLE_IP": host,
            "KERASTUNER_ORACLE_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }
    )
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    common = [
        "--family",
        family,
        "--dataset",
        dataset,
        "--tuner",
        tuner,
        "--max-trials",
        str(max_trials),
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
        "--out",
        str(out_dir),
        "--project-name",
        project_name,
    ]
    roles = ["chief"] + [f"tuner{i}" for i in range(num_workers)]
    processes, log_files = {}, {}
    start = time.perf_counter()
    if verbose:
        print(
            f"distributed {tuner} search of {family} on {dataset}: chief on "
            f"{host}:{port}, {num_workers} workers, {max_trials} trials; logs in "
            f"{logs_dir}",
            file=sys.stderr,
            flush=True,
        )

    def failure(role, why):
        return RuntimeError(
            f"The {role} process {why}; last lines of {logs_dir / f'{role}.log'}:\n"
            f"{_log_tail(logs_dir / f'{role}.log')}"
        )

    try:
        for role in roles:
            command = [sys.executable, "-m", "kerasdl.cli", "tune-distributed"]
            command += ["--role", "chief" if role == "chief" else "worker", *common]
            if role != "chief":
                command += ["--wait-for-workers", str(num_workers)]
            log_files[role] = open(logs_dir / f"{role}.log", "w", encoding="utf-8")
            processes[role] = subprocess.Popen(
                command,
                env={**env, "KERASTUNER_TUNER_ID": role},
                stdout=log_files[role],
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        workers = roles[1:]
        while True:
            for role in workers:
                code = processes[role].poll()
                if code not in (None, 0):
                    raise failure(role, f"exited with code {code}")
            if all(processes[role].poll() == 0 for role in workers):
                break
            code = processes["chief"].poll()
            if code not in (None, 0):  # 0: it saw every worker stop, they exit
                raise failure("chief", f"exited with code {code} before the workers")
            if time.perf_counter() - start > timeout:
                running = [r for r in roles if processes[r].poll() is None]
                raise failure(
                    running[-1],
                    f"was still running after timeout={timeout:g} s "
                    f"(still running: {', '.join(running)})",
                )
            time.sleep(0.2)
        # Every trial has been reported (the workers' calls are synchronous), so
        # the oracle's files are written. The chief leaves its loop by itself
        # once every worker was told to stop, but polls only every 20 s if a
        # trial was still running then: give it a second, then stop it.
        try:
            processes["chief"].wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            _stop(processes["chief"])
    finally:
        for process in processes.values():
            _stop(process)
        for handle in log_files.values():
            handle.close()
    seconds = round(time.perf_counter() - start, 2)

    rows = _collect(project_dir)
    per_worker = {role: 0 for role in workers}
    for row in rows:
        if row["worker"] is not None:
            per_worker[row["worker"]] = per_worker.get(row["worker"], 0) + 1
    completed = [r for r in rows if r["status"] == "COMPLETED"]
    if not completed:
        raise failure(workers[0], "finished, but no trial completed")
    best = max(completed, key=lambda r: -1.0 if r["score"] is None else r["score"])
    result = {
        "family": family,
        "dataset": dataset,
        "tuner": tuner,
        "objective": {"name": "val_accuracy", "direction": "max"},
        "max_trials": max_trials,
        "epochs": epochs,
        "seed": seed,
        "num_workers": num_workers,
        "host": host,
        "port": port,
        "backend": env.get("KERAS_BACKEND") or keras.backend.backend(),
        "project_dir": str(project_dir),
        "seconds": seconds,
        "completed_trials": len(completed),
        "best_trial_id": best["trial_id"],
        "best_score": best["score"],
        "trials_per_worker": per_worker,
        "trials": rows,
        "logs": {role: str(logs_dir / f"{role}.log") for role in roles},
    }
    with open(out_dir / DISTRIBUTED_FILE, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


def format_summary(result: dict) -> str:
    """The trials of a `launch_distributed_search` result as a text table."""
    lines = [f"{'trial':>6}  {'worker':<8}  {'status':<10}  {'val_accuracy':>12}"]
    for row in result["trials"]:
        score = "n/a" if row["score"] is None else f"{row['score']:.4f}"
        lines.append(
            f"{row['trial_id']:>6}  {row['worker'] or '?':<8}  "
            f"{row['status']:<10}  {score:>12}"
        )
    counts = ", ".join(f"{k}: {v}" for k, v in result["trials_per_worker"].items())
    best = result["best_score"]
    lines.append(
        f"{result['completed_trials']}/{len(result['trials'])} completed in "
        f"{result['seconds']:.1f} s; trials per worker: {counts}; best trial "
        f"{result['best_trial_id']} ({'n/a' if best is None else f'{best:.4f}'})"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- one role (child)
