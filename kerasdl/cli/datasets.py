"""`kerasdl datasets [NAME]`: list the datasets kerasdl can load, or describe one."""

from __future__ import annotations

NAME = "datasets"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="list the datasets, or describe one",
        description="List the datasets kerasdl can load, or describe one.",
    )
    p.add_argument("name", nargs="?", help="a dataset to describe")
    return p


def run(args) -> int:
    from kerasdl import data

    if args.name is None:
        for name in data.list_datasets():
            where = "embedded" if name in data.EMBEDDED_DATASETS else "keras.datasets"
            print(f"{name:<15} {where}")
        return 0
    dataset = data.load_dataset(args.name)
    print(dataset.summary())
    print(dataset.description)
    return 0
