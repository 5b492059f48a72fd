"""The training doctor: data checks and training diagnostics that say what to do.

`check_data` looks at arrays, `check_table` at raw tables (a DataFrame of raw
columns); `diagnose_dataset` picks the right one for a `Dataset`. The data checks
need only NumPy, pandas and scikit-learn; `TrainingDiagnostics` (a Keras
callback) is loaded on first use, so `kerasdl doctor data` does not import Keras.
"""

import importlib

from kerasdl.doctor.data_checks import DATA_CHECKS, check_data
from kerasdl.doctor.findings import SEVERITIES, Finding, format_findings
from kerasdl.doctor.table_checks import TABLE_CHECKS, check_table, diagnose_dataset

_LAZY = {"DIAGNOSTIC_CHECKS", "TrainingDiagnostics"}

__all__ = [
    "DATA_CHECKS",
    "DIAGNOSTIC_CHECKS",
    "SEVERITIES",
    "TABLE_CHECKS",
    "Finding",
    "TrainingDiagnostics",
    "check_data",
    "check_table",
    "diagnose_dataset",
    "format_findings",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module("kerasdl.doctor.diagnostics"), name)
    raise AttributeError(f"module 'kerasdl.doctor' has no attribute {name!r}")
