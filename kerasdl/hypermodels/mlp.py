"""`MLPHyperModel`: the search space of `kerasdl.models.MLP`."""

from __future__ import annotations

from kerasdl.hypermodels.base import ClassifierHyperModel
from kerasdl.hypermodels.space import boolean, float_range, int_range


class MLPHyperModel(ClassifierHyperModel):
    """Search space of the multilayer perceptron (`kerasdl.models.MLP`).

    Hyperparameters (defaults = the registry's untuned `mlp`: 2 x 512 ReLU units,
    batch norm, dropout 0.3; Adam 1e-3 with cosine decay, batch 32, 60 epochs,
    label smoothing 0.1, standardised inputs):

    - `width`: units per hidden layer, 32..1024 (log scale);
    - `depth`: hidden layers, 1..4;
    - `dropout`: 0..0.6;
    - `batch_norm`: True/False;
    - plus `learning_rate`, `schedule`, `optimizer`, `batch_size` (see
      `ClassifierHyperModel`).

    Takes samples of any shape (they are flattened).

    Args:
        input_shape, num_classes, **kwargs: See `ClassifierHyperModel`.

    Example:

    ```python
    hypermodel = MLPHyperModel((30,), 2, width=(16, 128))
    model = hypermodel.build(keras_tuner.HyperParameters())  # the untuned MLP
    ```
    """

    family = "mlp"

    def __init__(self, input_shape, num_classes, **kwargs):
        self.take_registry_defaults("mlp")
        super().__init__(input_shape, num_classes, **kwargs)

    def model_space(self):
        untuned = self._untuned_kwargs
        return {
            "width": int_range(untuned["width"], 32, 1024, sampling="log"),
            "depth": int_range(untuned["depth"], 1, 4, minimum=0),
            "dropout": float_range(
                untuned["dropout"], 0.0, 0.6, maximum=1.0, maximum_open=True
            ),
            "batch_norm": boolean(untuned["batch_norm"]),
        }

    def build_network(self, values):
        from kerasdl.models.mlp.mlp import MLP

        return MLP(
            self.input_shape,
            self.num_classes,
            depth=values["depth"],
            width=values["width"],
            dropout=values["dropout"],
            batch_norm=values["batch_norm"],
        )
