"""`kerasdl fid-asset`: train the FID-digits classifier and print its held-out
accuracy; with `--write-asset` (or `--out`) store its weights, metadata and reference
values (`kerasdl.recipes.fid_asset.build_fid_asset`)."""

from __future__ import annotations

from pathlib import Path

NAME = "fid-asset"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="train the FID-digits classifier (and write its weights)",
        description="Train the FID-digits classifier and print reference values.",
    )
    p.add_argument(
        "--write-asset",
        action="store_true",
        help="write the weights to the asset kerasdl ships "
        "(kerasdl/evaluation/assets/fid_digits.npz, + .json metadata)",
    )
    p.add_argument("--out", default=None, help="write the weights here instead")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=40)
    return p


def run(args) -> int:
    from kerasdl.evaluation.fid_classifier import ASSET_WEIGHTS
    from kerasdl.recipes.fid_asset import build_fid_asset

    out = args.out or (ASSET_WEIGHTS if args.write_asset else None)
    record = build_fid_asset(out, seed=args.seed, epochs=args.epochs)
    print(f"held-out accuracy: {record['accuracy']:.4f}")
    if out is not None:
        print(f"wrote {Path(record['weights_file'])} ({record['weights_bytes']} B)")
        print(f"reference values: {record['reference_values']}")
    return 0
