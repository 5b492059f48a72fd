"""`TransformerHyperModel`: the search space of the Vision Transformer classifier."""

from __future__ import annotations

import math

from kerasdl.hypermodels.base import ClassifierHyperModel
from kerasdl.hypermodels.space import choice, float_range, int_range


def patch_sizes(image_shape) -> tuple[int, ...]:
    """Patch sides that divide the image's height and width and leave >= 4 patches
    (`(1,)` if none does)."""
    height, width = image_shape[0], image_shape[1]
    side = math.gcd(height, width)
    sizes = tuple(
        p
        for p in range(2, side + 1)
        if side % p == 0 and (height // p) * (width // p) >= 4
    )
    return sizes or (1,)


class TransformerHyperModel(ClassifierHyperModel):
    """Search space of the Vision Transformer classifier
    (`kerasdl.models.transformers.vit.ViTClassifier`) on images.

    Hyperparameters (defaults = `ViTClassifier`'s untuned defaults: patches of 4,
    width 64, 4 blocks of 4 heads, no dropout; trained as in
    `benchmarks/bench_vit.py`: AdamW (weight decay 0.05) 1e-3 with a 5% warm-up
    then cosine decay, batch 64, 60 epochs, no label smoothing):

    - `patch_size`: the sides that divide the image and leave at least 4 patches
      (2 or 4 on the 8x8 digits);
    - `hidden_dim`: 32/64/128; `num_heads`: 2/4/8 (every pair divides);
    - `num_layers`: 1..6; `dropout`: 0..0.3;
    - plus `learning_rate`, `schedule`, `optimizer`, `batch_size`.

    Args:
        input_shape: `(height, width, channels)`.
        num_classes, **kwargs: See `ClassifierHyperModel`.
    """

    family = "transformer"
    default_optimizer = "adamw"
    default_schedule = "warmup_cosine"
    default_batch_size = 64
    default_epochs = 60
    default_label_smoothing = 0.0

    def check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "The transformer family needs images: `input_shape` must be "
                f"(height, width, channels); received input_shape={input_shape!r}."
            )

    def model_space(self):
        sizes = patch_sizes(self.sample_shape)
        default_patch = 4 if 4 in sizes else sizes[len(sizes) // 2]
        return {
            "patch_size": choice(default_patch, sizes, allowed=sizes),
            "hidden_dim": choice(64, (32, 64, 128), minimum=1),
            "num_layers": int_range(4, 1, 6),
            "num_heads": choice(4, (2, 4, 8), minimum=1),
            "dropout": float_range(0.0, 0.0, 0.3, maximum=1.0, maximum_open=True),
        }

    def check_space(self, space):
        dims, heads = space["hidden_dim"].values, space["num_heads"].values
        bad = [(d, h) for d in dims for h in heads if d % h]
        if bad:
            raise ValueError(
                "Every `hidden_dim` choice must be divisible by every `num_heads` "
                f"choice; received hidden_dim={list(dims)}, num_heads={list(heads)} "
                f"(e.g. {bad[0][0]} % {bad[0][1]} != 0)."
            )

    def network_input_shape(self, values):
        return self.sample_shape

    def build_network(self, values):
        from kerasdl.models.transformers.vit import ViTClassifier

        return ViTClassifier(
            self.sample_shape,
            self.num_classes,
            patch_size=values["patch_size"],
            hidden_dim=values["hidden_dim"],
            num_layers=values["num_layers"],
            num_heads=values["num_heads"],
            dropout=values["dropout"],
        )
