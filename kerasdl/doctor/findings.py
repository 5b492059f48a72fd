"""What the doctor reports: findings with a severity and a fix, as a table."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One problem found in data or in a training run.

    Args:
        check: Short name of the check that fired (e.g. `"train_test_leak"`).
        severity: `"info"`, `"warning"` or `"error"`.
        message: What was found, with the numbers (e.g. "12 test rows also appear in
            the training split").
        fix: What to do about it, as an experienced colleague would say it.
    """

    check: str
    severity: str
    message: str
    fix: str

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"severity must be one of {SEVERITIES}; received {self.severity!r}."
            )

    def to_dict(self) -> dict:
        return asdict(self)


def format_findings(findings, title: str = "findings") -> str:
    """An aligned text table (severity, check, message, fix), errors first."""
    if not findings:
        return f"{title}: nothing to report."
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    rows = sorted(findings, key=lambda f: order[f.severity])
    header = ("severity", "check", "finding", "fix")
    cells = [(f.severity, f.check, f.message, f.fix) for f in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *cells)]
    widths[2] = min(widths[2], 70)
    lines = [
        f"{title}: {len(rows)}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
    ]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
