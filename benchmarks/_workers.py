"""Shared by the benchmarks: run a benchmark script once per backend, each in a fresh
process (Keras picks its backend once per process, at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_in_fresh_process(script: str, backend: str, argv: list[str]) -> dict:
    """Run `script argv --row-json FILE` with `KERAS_BACKEND=backend`; return its row.

    The worker writes its result as JSON to FILE; its printed lines are echoed here.
    The wall time of the whole process (imports included) is added as
    `wall_seconds`. A failing worker stops the benchmark with its stderr's tail.
    """
    with tempfile.TemporaryDirectory() as folder:
        row_file = Path(folder) / "row.json"
        cmd = [sys.executable, script, *argv, "--row-json", str(row_file)]
        env = dict(os.environ, KERAS_BACKEND=backend)
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{backend}: benchmark failed:\n{proc.stderr[-3000:]}")
        print(proc.stdout, end="", flush=True)
        row = json.loads(row_file.read_text())
    row["wall_seconds"] = round(wall, 1)
    return row
