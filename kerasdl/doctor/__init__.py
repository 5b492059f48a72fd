"""The training doctor: data checks and training diagnostics that say what to do.

The data checks need only NumPy and scikit-learn; `TrainingDiagnostics` (a Keras
callback) is loaded on first use, so `kerasdl doctor data` does not import Keras.
"""

import importlib

from kerasdl.doctor.data_checks import DATA_CHECKS, check_data, diagnose_dataset
from kerasdl.doctor.findings import SEVERITIES, Finding, format_findings

_LAZY = {"DIAGNOSTIC_CHECKS", "TrainingDiagnostics"}

__all__ = [
    "DATA_CHECKS",
    "DIAGNOSTIC_CHECKS",
    "SEVERITIES",
    "Finding",
    "TrainingDiagnostics",
    "check_data",
    "diagnose_dataset",
    "format_findings",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module("kerasdl.doctor.diagnostics"), name)
    raise AttributeError(f"module 'kerasdl.doctor' has no attribute {name!r}")
