"""Classical baselines, deep models as scikit-learn estimators, and `compare`."""

from kerasdl.baselines.classical import (
    CLASSICAL_DESCRIPTIONS,
    CLASSICAL_MODELS,
    count_parameters,
    make_classical,
)
from kerasdl.baselines.compare import (
    DEFAULT_DEEP,
    best_by_kind,
    compare,
    format_table,
    measure_learning_curve,
    write_report,
)
from kerasdl.baselines.keras_classifier import (
    KerasClassifier,
    build_compiled_model,
    make_deep_estimator,
)

__all__ = [
    "CLASSICAL_DESCRIPTIONS",
    "CLASSICAL_MODELS",
    "DEFAULT_DEEP",
    "KerasClassifier",
    "best_by_kind",
    "build_compiled_model",
    "compare",
    "count_parameters",
    "format_table",
    "make_classical",
    "make_deep_estimator",
    "measure_learning_curve",
    "write_report",
]
