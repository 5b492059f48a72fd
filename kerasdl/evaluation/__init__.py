"""Evaluation beyond one accuracy number: error analysis (classifiers and
regressors), fairness, model cards, statistics of RL runs (IQM, stratified-bootstrap
intervals, performance profiles).

Example:

```python
from kerasdl import evaluation

result = evaluation.error_analysis(y_test, pred, proba=proba, x=x_test,
                                   class_names=names, out_dir="runs/errors")
print(result["table"])
errors = evaluation.regression_analysis(y_test, y_pred, "runs/errors")
print(errors["table"])
print(evaluation.format_fairness(evaluation.fairness_demo(seed=0)))
```
"""

from __future__ import annotations

from kerasdl.evaluation.error_analysis import (
    confusion_matrix,
    error_analysis,
    format_per_class,
    per_class_report,
    plot_confident_mistakes,
    plot_confusion_matrix,
)
from kerasdl.evaluation.fairness import (
    demographic_parity_difference,
    equal_opportunity_difference,
    fairness_report,
    format_fairness,
)
from kerasdl.evaluation.fairness_demo import (
    FairnessData,
    fairness_demo,
    load_fairness_demo,
)
from kerasdl.evaluation.model_card import model_card_from_run, write_model_card
from kerasdl.evaluation.regression_analysis import (
    format_per_range,
    per_range_report,
    plot_predicted_vs_true,
    plot_residuals,
    regression_analysis,
)
from kerasdl.evaluation.rl_statistics import (
    format_run_summary,
    iqm,
    performance_profile,
    plot_performance_profiles,
    report_rl_runs,
    stratified_bootstrap_ci,
    summarize_runs,
)

__all__ = [
    "FIDDigits",
    "FairnessData",
    "confusion_matrix",
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "error_analysis",
    "fairness_demo",
    "fairness_report",
    "format_fairness",
    "format_per_class",
    "format_per_range",
    "format_run_summary",
    "frechet_distance",
    "iqm",
    "load_fairness_demo",
    "model_card_from_run",
    "per_class_report",
    "per_range_report",
    "performance_profile",
    "plot_class_histogram",
    "plot_confident_mistakes",
    "plot_confusion_matrix",
    "plot_performance_profiles",
    "plot_predicted_vs_true",
    "plot_residuals",
    "regression_analysis",
    "report_rl_runs",
    "stratified_bootstrap_ci",
    "summarize_runs",
    "write_model_card",
]

# FID-digits is loaded on first use: importing this package does not load its
# classifier code.
_LAZY = {
    "FIDDigits": "kerasdl.evaluation.fid",
    "frechet_distance": "kerasdl.evaluation.frechet",
    "plot_class_histogram": "kerasdl.evaluation.fid",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kerasdl.evaluation' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
