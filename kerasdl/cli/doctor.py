"""`kerasdl doctor data`: check a dataset for common problems before training
(`kerasdl.doctor.diagnose_dataset`)."""

from __future__ import annotations

import json
from pathlib import Path

from kerasdl.cli.common import add_data_source, load_dataset_arg

NAME = "doctor"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="find common data problems before training",
        description="Check a dataset for class imbalance, duplicates, train/test "
        "leakage, NaN/inf, unscaled or constant features and label-noise hints.",
    )
    doctor = p.add_subparsers(dest="doctor_command", metavar="WHAT")
    doctor.required = True
    p = doctor.add_parser(
        "data", help="check a dataset", description="Check a dataset."
    )
    add_data_source(p)
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write findings here")
    return p


def run(args) -> int:
    from kerasdl.doctor import diagnose_dataset, format_findings

    dataset = load_dataset_arg(args)
    findings = diagnose_dataset(dataset, test_size=args.test_size, seed=args.seed)
    print(format_findings(findings, title=f"{dataset.name}: data findings"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([f.to_dict() for f in findings], indent=2))
        print(f"wrote {args.json}")
    return 0
