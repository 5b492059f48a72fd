"""Keras Tuner HyperModels, one per model family, and the search behind `kerasdl tune`.

Each HyperModel takes the data's shape in `__init__` and declares its search space in
`build(hp)`, every default equal to the untuned model (keras-tuner's `HyperResNet`
contract), so `hypermodel.build(keras_tuner.HyperParameters())` is the untuned model.

- `MLPHyperModel`, `CNNHyperModel` (SmallCNN), `ResNetHyperModel`,
  `RecurrentHyperModel`, `TransformerHyperModel`; for tables (raw or numeric,
  classification or regression) `TabularMLPHyperModel` and `FTTransformerHyperModel`;
  `get_hypermodel(family, input_shape, num_classes, ...)` by name;
  `register_hypermodel` adds a family.
- `run_search`: Hyperband, random or Bayesian search on a dataset or your data,
  written to a folder (`tune.json`, `trials.csv`, `trials.png`, `best_model.keras`),
  resumable after an interruption.
- `tune_on_training_data`: tune on training data only, get the best values and a
  builder of the best model.

Example:

```python
from kerasdl.hypermodels import run_search

result = run_search("cnn", "digits", tuner="hyperband", max_trials=6, epochs=5)
print(result["best_hyperparameters"], result["test_accuracy"])
```
"""

from kerasdl.hypermodels.base import (
    BATCH_SIZES,
    OPTIMIZERS,
    SCHEDULES,
    ClassifierHyperModel,
)
from kerasdl.hypermodels.cnn import CNNHyperModel
from kerasdl.hypermodels.distributed import format_summary, launch_distributed_search
from kerasdl.hypermodels.mlp import MLPHyperModel
from kerasdl.hypermodels.recurrent import RecurrentHyperModel
from kerasdl.hypermodels.registry import (
    get_hypermodel,
    list_hypermodels,
    register_hypermodel,
)
from kerasdl.hypermodels.resnet import ResNetHyperModel
from kerasdl.hypermodels.search import run_search, tune_on_training_data
from kerasdl.hypermodels.space import Param
from kerasdl.hypermodels.tabular import (
    FTTransformerHyperModel,
    TabularHyperModel,
    TabularMLPHyperModel,
)
from kerasdl.hypermodels.transformer import TransformerHyperModel
from kerasdl.hypermodels.tuners import (
    TUNERS,
    hyperband_trials,
    make_tuner,
    parse_search_space,
)

__all__ = [
    "FTTransformerHyperModel",
    "TabularHyperModel",
    "TabularMLPHyperModel",
    "ResNetHyperModel",
    "format_summary",
    "launch_distributed_search",
    "BATCH_SIZES",
    "CNNHyperModel",
    "ClassifierHyperModel",
    "MLPHyperModel",
    "OPTIMIZERS",
    "Param",
    "RecurrentHyperModel",
    "SCHEDULES",
    "TUNERS",
    "TransformerHyperModel",
    "get_hypermodel",
    "hyperband_trials",
    "list_hypermodels",
    "make_tuner",
    "parse_search_space",
    "register_hypermodel",
    "run_search",
    "tune_on_training_data",
]
