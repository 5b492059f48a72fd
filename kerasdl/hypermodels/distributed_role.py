"""One process of a distributed search: the chief (Keras Tuner's oracle) or a worker,
run by `kerasdl tune-distributed --role ...` that the launcher starts.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from kerasdl.hypermodels.distributed import (
    DEFAULT_OUT,
    READY_DIR,
    TEST_SIZE,
    VAL_SIZE,
    WORKER_FILE,
)
from kerasdl.hypermodels.tuners import _finite


class _RecordWorkerMixin:
    """Writes `kerasdl_worker.json` (worker id, host, seconds, score) into the
    folder of each trial this tuner ran, and prints a line to its log."""

    def on_trial_begin(self, trial):
        self._kdl_trial_start = time.perf_counter()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        stored = self.oracle.get_trial(trial.trial_id)
        seconds = round(time.perf_counter() - self._kdl_trial_start, 2)
        record = {
            "trial_id": trial.trial_id,
            "worker": self.tuner_id,
            "host": socket.gethostname(),
            "seconds": seconds,
            "status": stored.status,
            "score": _finite(stored.score),
        }
        path = Path(self.get_trial_dir(trial.trial_id)) / WORKER_FILE
        path.write_text(json.dumps(record, indent=2))
        print(
            f"{self.tuner_id}: trial {trial.trial_id} {stored.status} "
            f"score={record['score']} ({seconds} s)",
            flush=True,
        )


def _wait_for_workers(ready_dir: Path, tuner_id: str, count: int, limit=300.0):
    """Touch `ready_dir/<tuner_id>` and wait (up to `limit` s) until `count`
    workers have done the same, so that they pull their first trials together."""
    ready_dir.mkdir(parents=True, exist_ok=True)
    (ready_dir / tuner_id).touch()
    deadline = time.perf_counter() + limit
    while len(list(ready_dir.iterdir())) < count:
        if time.perf_counter() > deadline:
            print(f"{tuner_id}: not all {count} workers ready; starting", flush=True)
            return
        time.sleep(0.1)


def run_search_role(
    role: str,
    *,
    family: str = "mlp",
    dataset: str = "digits",
    tuner: str = "random",
    max_trials: int = 4,
    epochs: int = 1,
    seed: int = 0,
    out_dir=None,
    project_name: str | None = None,
    overwrite: bool = False,
    wait_for_workers: int = 0,
) -> int:
    """Run one process of a distributed search: the chief or a worker.

    Needs `KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT` and
    `KERASTUNER_TUNER_ID` ("chief" / "tuner0", "tuner1", ...) in the environment.
    `launch_distributed_search` starts these processes itself; start them by hand
    (`kerasdl tune-distributed --role chief|worker ...`) across machines.

    Args:
        role: `"chief"` (serves the oracle until the workers are done) or
            `"worker"` (pulls trials and runs them).
        family, dataset, tuner, max_trials, epochs, seed, project_name: As in
            `launch_distributed_search`; every process of a search takes the same.
        out_dir: The shared output folder (the project is `out_dir/project_name`;
            default `runs/tune-distributed`).
        overwrite: With `role="chief"`, start the project afresh (a worker never
            deletes the shared state).
        wait_for_workers: A worker waits until this many workers are ready, so
            that they pull their first trials together (0: do not wait).

    Returns:
        0 once the role is done.

    Raises:
        ValueError: an unknown `role`, a missing environment variable, or a
            `KERASTUNER_TUNER_ID` that does not match `role`.
    """
    from kerasdl.hypermodels.search import _load_data, _make_hypermodel, _split
    from kerasdl.hypermodels.tuners import make_tuner

    missing = [
        name
        for name in (
            "KERASTUNER_ORACLE_IP",
            "KERASTUNER_ORACLE_PORT",
            "KERASTUNER_TUNER_ID",
        )
        if not os.environ.get(name)
    ]
    if role not in ("chief", "worker"):
        raise ValueError(f"Expected `role` 'chief' or 'worker'; received {role!r}.")
    if missing:
        raise ValueError(f"role {role!r} needs the environment variable(s) {missing}.")
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]
    if (role == "chief") != ("chief" in tuner_id):
        raise ValueError(
            f"role {role!r} does not match KERASTUNER_TUNER_ID={tuner_id!r} "
            "(the chief's id contains 'chief', a worker's does not, e.g. tuner0)."
        )
    from kerasdl import backend as kbackend

    out_dir = Path(out_dir or DEFAULT_OUT)
    _, x_all, y_all, num_classes, _ = _load_data(dataset, None, None)
    x_train, y_train, _, _ = _split(x_all, y_all, TEST_SIZE, seed, "test")
    x_fit, y_fit, x_val, y_val = _split(x_train, y_train, VAL_SIZE, seed, "validation")
    hypermodel, _ = _make_hypermodel(
        family,
        x_fit,
        num_classes,
        standardize=None,
        flat_shape=None,
        seed=seed,
        epochs=epochs,
        search_space=None,
    )
    kbackend.set_random_seed(seed)
    instance = make_tuner(
        tuner,
        hypermodel,
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        directory=str(out_dir),
        project_name=project_name or f"{family}_{tuner}",
        # Only the chief may start afresh: a worker would delete the shared state.
        overwrite=bool(overwrite and role == "chief"),
        verbose=False,  # the progress lines read the oracle, which workers lack
    )
    if role == "chief":
        print(
            f"chief: oracle on {os.environ['KERASTUNER_ORACLE_IP']}:"
            f"{os.environ['KERASTUNER_ORACLE_PORT']}",
            flush=True,
        )
        instance.search()  # serves trials until the workers are done
        print("chief: all trials handed out; done", flush=True)
        return 0
    # The tuner class comes from make_tuner; add the per-trial worker record.
    base = type(instance)
    instance.__class__ = type(f"Worker{base.__name__}", (_RecordWorkerMixin, base), {})
    if wait_for_workers:
        _wait_for_workers(Path(out_dir) / READY_DIR, tuner_id, wait_for_workers)
    print(f"{tuner_id}: searching", flush=True)
    instance.search(
        x_fit, y_fit, validation_data=(x_val, y_val), epochs=epochs, verbose=0
    )
    print(f"{tuner_id}: done", flush=True)
    return 0
