"""What the doctor reports: findings with a severity and a fix, as a table."""

from __future__ import annotations

import textwrap
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


def format_findings(findings, title: str = "findings", width: int = 100) -> str:
    """A table of findings, errors first: severity, check, then the finding and its
    fix wrapped to `width` columns."""
    if not findings:
        return f"{title}: nothing to report."
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    rows = sorted(findings, key=lambda f: order[f.severity])
    check_width = max(len("check"), *(len(f.check) for f in rows))
    indent = " " * (9 + check_width + 2)
    text_width = max(40, width - len(indent))
    lines = [
        f"{title}: {len(rows)} finding(s)",
        f"{'severity':<9}{'check':<{check_width}}  finding / fix",
        f"{'-' * 8} {'-' * check_width}  {'-' * text_width}",
    ]
    for f in rows:
        message = textwrap.wrap(f.message, text_width) or [""]
        fix = textwrap.wrap("fix: " + f.fix, text_width)
        lines.append(f"{f.severity:<9}{f.check:<{check_width}}  {message[0]}")
        lines += [indent + line for line in message[1:] + fix]
    return "\n".join(lines)
