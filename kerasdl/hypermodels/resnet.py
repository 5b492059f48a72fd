"""`ResNetHyperModel`: the search space of `kerasdl.models.cnn.ResNet`."""

from __future__ import annotations

import inspect

from kerasdl.hypermodels.base import ClassifierHyperModel, check_image_shape
from kerasdl.hypermodels.space import boolean, choice, float_range

#: The searched variants: the basic-block ResNets (ResNet-50's bottleneck blocks
#: are another architecture, not a deeper stack of the same blocks).
DEPTHS = (18, 34)
WIDTH_MULTIPLIERS = (0.25, 0.5, 1.0)
DEFAULT_DEPTH = 18
UNTUNED = f"resnet{DEFAULT_DEPTH}"  # the registry entry the defaults equal


def _resnet_defaults() -> dict:
    from kerasdl.models.cnn import ResNet

    signature = inspect.signature(ResNet.__init__)
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


class ResNetHyperModel(ClassifierHyperModel):
    """Search space of the residual networks (`kerasdl.models.cnn.ResNet`).

    Images below 64 pixels a side get ResNet's small-input layout (a 3x3 stride-1
    stem, no max-pool), as the registry's models do. Hyperparameters (defaults =
    the registry's untuned `resnet18`: ResNet-18 at half width with zero-initialised
    residual branches, no dropout; Adam 1e-3 with cosine decay, batch 32, 30 epochs,
    label smoothing 0.1, inputs not standardised):

    - `depth`: the variant, 18 or 34 (its `stackwise_depth` from `RESNET_CONFIGS`:
      (2, 2, 2, 2) or (3, 4, 6, 3) basic blocks);
    - `width_multiplier`: 0.25/0.5/1.0 (scales every stage and the stem);
    - `dropout`: before the classifier, 0..0.5;
    - `zero_init_residual`: True/False (each block starts as the identity);
    - plus `learning_rate`, `schedule`, `optimizer`, `batch_size` (see
      `ClassifierHyperModel`).

    With `flat_input=True` the network is built as the registry builds it (a
    `Reshape` named `to_image` in front of the ResNet), so the untuned HyperModel
    and `kerasdl compare --deep resnet18` train the same model.

    Args:
        input_shape: `(height, width, channels)`, height and width >= 3.
        num_classes, **kwargs: See `ClassifierHyperModel`.

    Example:

    ```python
    hypermodel = ResNetHyperModel((8, 8, 1), 10, width_multiplier=[0.25, 0.5])
    model = hypermodel.build(keras_tuner.HyperParameters())  # the untuned resnet18
    ```
    """

    family = "resnet"

    def __init__(self, input_shape, num_classes, **kwargs):
        self.take_registry_defaults(UNTUNED, _resnet_defaults())
        super().__init__(input_shape, num_classes, **kwargs)

    def check_input_shape(self, input_shape):
        check_image_shape(self.family, input_shape)

    def model_space(self):
        untuned = self._untuned_kwargs
        return {
            "depth": choice(DEFAULT_DEPTH, DEPTHS, allowed=DEPTHS),
            "width_multiplier": choice(
                float(untuned["width_multiplier"]), WIDTH_MULTIPLIERS, minimum=0.0
            ),
            "dropout": float_range(
                untuned["dropout"], 0.0, 0.5, maximum=1.0, maximum_open=True
            ),
            "zero_init_residual": boolean(untuned["zero_init_residual"]),
        }

    def check_space(self, space):
        widths = space["width_multiplier"].values
        if min(widths) <= 0:
            raise ValueError(
                "`width_multiplier` choices must each be a number > 0; received "
                f"width_multiplier={list(widths)}."
            )

    def build_network(self, values):
        from kerasdl.models.cnn.resnet import RESNET_CONFIGS, ResNet

        variant = f"resnet{values['depth']}"
        kwargs = {
            "width_multiplier": float(values["width_multiplier"]),
            "zero_init_residual": values["zero_init_residual"],
            "dropout": values["dropout"],
        }
        if self.flat_input:
            # The registry's own flat wrapper: same layers, same names.
            from kerasdl.models.registry import flat_convnet

            return flat_convnet(
                self.sample_shape,
                self.num_classes,
                builder=f"ResNet{values['depth']}",
                **kwargs,
            )
        return ResNet(
            self.sample_shape,
            self.num_classes,
            name=variant,
            **RESNET_CONFIGS[variant],
            **kwargs,
        )
