"""`kerasdl tune-distributed`: a Keras Tuner search shared by a chief and worker
processes (`kerasdl.hypermodels.distributed`). Without `--role` it launches them all
on this machine; with `--role chief|worker` it runs one of them (the launcher starts
its processes this way, and so may a user across machines).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kerasdl._backends import SUPPORTED_BACKENDS

NAME = "tune-distributed"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="a Keras Tuner search with a chief and worker processes",
        description="A Keras Tuner search with a chief (oracle) and worker "
        "processes. Without --role: launch them all on this machine and write "
        "OUT/distributed.json (which worker ran which trial).",
    )
    p.add_argument("--family", default="mlp")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--tuner", default="random")
    p.add_argument("--max-trials", type=int, default=4)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", type=Path, default=None, help="default runs/tune-distributed"
    )
    p.add_argument("--project-name", default=None)
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--port", type=int, default=None, help="default: a free one")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--backend",
        dest="runs_backend",
        choices=SUPPORTED_BACKENDS,
        default=None,
        help="KERAS_BACKEND of the chief and workers (default: this one's)",
    )
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument(
        "--role",
        choices=("chief", "worker"),
        default=None,
        help="run one process of a search (across machines); needs the "
        "KERASTUNER_* environment variables",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="with --role chief: start the project afresh",
    )
    p.add_argument("--wait-for-workers", type=int, default=0, help=argparse.SUPPRESS)
    return p


def run(args) -> int:
    from kerasdl.hypermodels.distributed import (
        DISTRIBUTED_FILE,
        format_summary,
        launch_distributed_search,
    )
    from kerasdl.hypermodels.distributed_role import run_search_role

    if args.role is not None:
        return run_search_role(
            args.role,
            family=args.family,
            dataset=args.dataset,
            tuner=args.tuner,
            max_trials=args.max_trials,
            epochs=args.epochs,
            seed=args.seed,
            out_dir=args.out,
            project_name=args.project_name,
            overwrite=args.overwrite,
            wait_for_workers=args.wait_for_workers,
        )
    try:
        result = launch_distributed_search(
            args.family,
            args.dataset,
            tuner=args.tuner,
            max_trials=args.max_trials,
            epochs=args.epochs,
            num_workers=args.workers,
            out_dir=args.out,
            project_name=args.project_name,
            port=args.port,
            host=args.host,
            seed=args.seed,
            backend=args.runs_backend,
            timeout=args.timeout,
        )
    except RuntimeError as error:  # a process failed: its log's tail follows
        print(f"kerasdl {NAME}: error: {error}", file=sys.stderr)
        return 1
    print(format_summary(result))
    print(f"wrote {Path(result['project_dir']).parent / DISTRIBUTED_FILE}")
    return 0
