"""`CNNHyperModel`: the search space of `kerasdl.models.SmallCNN`."""

from __future__ import annotations

import inspect

from kerasdl.hypermodels.base import ClassifierHyperModel, check_image_shape
from kerasdl.hypermodels.space import choice, float_range, int_range


def _small_cnn_defaults() -> dict:
    from kerasdl.models.cnn.small_cnn import SmallCNN

    signature = inspect.signature(SmallCNN.__init__)
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


class CNNHyperModel(ClassifierHyperModel):
    """Search space of the small VGG-style CNN (`kerasdl.models.SmallCNN`).

    Block `i` (from 0) has `filters * 2**i` filters, so `num_blocks` and `filters`
    together give SmallCNN's `filters` tuple. Hyperparameters (defaults = the
    registry's untuned `cnn`: blocks (32, 64) of 2 convolutions, dense 128, dropout
    0.5; Adam 2e-3 with cosine decay, batch 32, 60 epochs, label smoothing 0.1):

    - `num_blocks`: 1..3; `filters`: filters of the first block, 16/32/64;
    - `convs_per_block`: 1..3;
    - `dense_units`: 0 (no hidden dense layer)/64/128/256;
    - `dropout`: 0..0.6;
    - plus `learning_rate`, `schedule`, `optimizer`, `batch_size`.

    Other CNN families (ResNet, ...) subclass `ClassifierHyperModel` the same way:
    a `model_space()` and a `build_network(values)`, registered with
    `kerasdl.hypermodels.register_hypermodel`.

    Args:
        input_shape: `(height, width, channels)`, height and width >= 3.
        num_classes, **kwargs: See `ClassifierHyperModel`.
    """

    family = "cnn"

    def __init__(self, input_shape, num_classes, **kwargs):
        self.take_registry_defaults("cnn", _small_cnn_defaults())
        super().__init__(input_shape, num_classes, **kwargs)

    def check_input_shape(self, input_shape):
        check_image_shape(self.family, input_shape)

    def model_space(self):
        untuned = self._untuned_kwargs
        filters = tuple(untuned["filters"])
        base = filters[0]
        if any(f != base * 2**i for i, f in enumerate(filters)):
            raise ValueError(
                "CNNHyperModel assumes SmallCNN's filters double per block; its "
                f"default is {filters}."
            )
        return {
            "num_blocks": int_range(len(filters), 1, 3),
            "filters": choice(base, (16, 32, 64), minimum=1),
            "convs_per_block": int_range(untuned["convs_per_block"], 1, 3),
            "dense_units": choice(untuned["dense_units"], (0, 64, 128, 256), minimum=0),
            "dropout": float_range(
                untuned["dropout"], 0.0, 0.6, maximum=1.0, maximum_open=True
            ),
        }

    def build_network(self, values):
        from kerasdl.models.cnn.small_cnn import SmallCNN

        filters = tuple(
            int(values["filters"]) * 2**i for i in range(values["num_blocks"])
        )
        return SmallCNN(
            self.sample_shape,
            self.num_classes,
            filters=filters,
            convs_per_block=values["convs_per_block"],
            dense_units=values["dense_units"],
            dropout=values["dropout"],
            flat_input=self.flat_input,
        )
