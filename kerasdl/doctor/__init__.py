"""The training doctor: data checks and training diagnostics that say what to do."""

from kerasdl.doctor.findings import SEVERITIES, Finding, format_findings

__all__ = ["SEVERITIES", "Finding", "format_findings"]
