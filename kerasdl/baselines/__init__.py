"""Classical baselines, deep models as scikit-learn estimators, and `compare`."""

from kerasdl.baselines.classical import (
    CLASSICAL_DESCRIPTIONS,
    CLASSICAL_MODELS,
    CLASSICAL_TASKS,
    REGRESSION_DESCRIPTIONS,
    REGRESSION_MODELS,
    classical_descriptions,
    classical_models,
    count_parameters,
    make_classical,
)
from kerasdl.baselines.compare import (
    DEFAULT_DEEP,
    best_by_kind,
    compare,
    measure_learning_curve,
)
from kerasdl.baselines.keras_classifier import (
    KerasClassifier,
    build_compiled_model,
    make_deep_estimator,
    reuse_compiled_models,
)
from kerasdl.baselines.keras_tabular import (
    TABULAR_ARCHITECTURES,
    TABULAR_DESCRIPTIONS,
    KerasTabularClassifier,
    KerasTabularRegressor,
    clear_compiled_cache,
    make_tabular_estimator,
)
from kerasdl.baselines.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    default_metric,
    make_folds,
    score_predictions,
)
from kerasdl.baselines.preprocessing import DateFeatures, make_preprocessor
from kerasdl.baselines.report import format_table, write_report
from kerasdl.baselines.tuned import TunedClassifier
from kerasdl.models.mlp.perceptron import PerceptronClassifier

__all__ = [
    "CLASSICAL_DESCRIPTIONS",
    "CLASSICAL_MODELS",
    "CLASSICAL_TASKS",
    "CLASSIFICATION_METRICS",
    "DEFAULT_DEEP",
    "DateFeatures",
    "KerasClassifier",
    "KerasTabularClassifier",
    "KerasTabularRegressor",
    "PerceptronClassifier",
    "REGRESSION_DESCRIPTIONS",
    "REGRESSION_METRICS",
    "REGRESSION_MODELS",
    "TABULAR_ARCHITECTURES",
    "TABULAR_DESCRIPTIONS",
    "TunedClassifier",
    "best_by_kind",
    "build_compiled_model",
    "clear_compiled_cache",
    "classical_descriptions",
    "classical_models",
    "compare",
    "count_parameters",
    "default_metric",
    "format_table",
    "make_classical",
    "make_deep_estimator",
    "reuse_compiled_models",
    "make_folds",
    "make_preprocessor",
    "make_tabular_estimator",
    "measure_learning_curve",
    "score_predictions",
    "write_report",
]
