"""A small U-Net that predicts the noise in a noisy image, given the timestep."""

from __future__ import annotations

import keras

from kerasdl._checks import check_image_shape, check_int
from kerasdl.models.base import FunctionalModel
from kerasdl.models.diffusion.time_embedding import SinusoidalTimeEmbedding


@keras.saving.register_keras_serializable(package="kerasdl")
class DiffusionUNet(FunctionalModel):
    """A U-Net noise predictor `eps_theta(x_t, t)` for DDPM / DDIM.

    The architecture of Ho et al. 2020, scaled down (no attention):

    - the timestep goes through `SinusoidalTimeEmbedding(time_embedding_dim)` and a
      two-layer MLP (swish) to a vector `temb`;
    - a 3x3 conv lifts the image to `base_filters` channels;
    - each resolution level `i` runs `num_res_blocks` residual blocks with
      `base_filters * channel_mults[i]` filters, then (except the last level)
      halves the resolution with a stride-2 3x3 conv;
    - a middle of two residual blocks;
    - the up path mirrors it: each block first concatenates the matching skip
      activation from the down path, and each level but the first ends with
      nearest-neighbour upsampling and a 3x3 conv;
    - GroupNormalization, swish and a 3x3 conv map back to the image's channels.

    A residual block is `GN -> swish -> conv3x3 -> (+ Dense(temb)) -> GN -> swish
    -> dropout -> conv3x3`, added to its input (through a 1x1 conv when the
    number of channels changes). The timestep enters every block through that
    per-channel bias.

    Args:
        image_shape: `(height, width, channels)`. Height and width must be
            multiples of `2 ** (len(channel_mults) - 1)`; e.g. `(8, 8, 1)` with
            `(1, 2)`, `(28, 28, 1)` with `(1, 2, 2)`, `(32, 32, 3)` with
            `(1, 2, 2, 2)`.
        base_filters: Filters of the first level (>= 1).
        channel_mults: Filter multiplier per resolution level (positive ints).
        num_res_blocks: Residual blocks per level on the way down (>= 1); the way
            up has one more per level, as in the original.
        time_embedding_dim: Size of the sinusoidal embedding and of `temb` (even).
        norm_groups: Groups of every GroupNormalization (must divide every
            level's filters), or `None`/0 for no normalization.
        dropout: Dropout rate in [0, 1) inside the residual blocks.
        name: Name of the model.
        **kwargs: Passed to `FunctionalModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: `[x_t, t]`: noisy images `(batch, *image_shape)` and timesteps
            `(batch,)` (float32; integer timesteps are cast).
        training: Python bool (dropout follows it).

    Returns:
        The predicted noise, shaped like `x_t`.

    Example:

    ```python
    network = DiffusionUNet((8, 8, 1), base_filters=32, channel_mults=(1, 2))
    eps = network.predict([x_t, np.full(len(x_t), 500.0)])
    ```
    """

    def __init__(
        self,
        image_shape=(8, 8, 1),
        base_filters=32,
        channel_mults=(1, 2),
        num_res_blocks=1,
        time_embedding_dim=64,
        norm_groups=8,
        dropout=0.0,
        name="diffusion_unet",
        **kwargs,
    ):
        if not isinstance(channel_mults, (tuple, list)):
            raise ValueError(
                "`channel_mults` must be a non-empty tuple of positive integers; "
                f"received channel_mults={channel_mults!r}."
            )
        channel_mults = tuple(channel_mults)
        if not channel_mults or not all(
            isinstance(m, int) and not isinstance(m, bool) and m >= 1
            for m in channel_mults
        ):
            raise ValueError(
                "`channel_mults` must be a non-empty tuple of positive integers; "
                f"received channel_mults={channel_mults!r}."
            )
        factor = 2 ** (len(channel_mults) - 1)
        check_image_shape(
            "image_shape",
            image_shape,
            divisible_by=factor,
            reason=f"With {len(channel_mults)} resolution levels (channel_mults="
            f"{tuple(channel_mults)!r}) the image is halved {len(channel_mults) - 1} "
            f"time(s) (minimum {factor}x{factor}); use fewer channel_mults or pad "
            "the images.",
        )
        check_int("base_filters", base_filters, 1)
        check_int("num_res_blocks", num_res_blocks, 1)
        if (
            isinstance(time_embedding_dim, bool)
            or not isinstance(time_embedding_dim, int)
            or time_embedding_dim < 2
            or time_embedding_dim % 2
        ):
            raise ValueError(
                "`time_embedding_dim` must be an even integer >= 2; received "
                f"time_embedding_dim={time_embedding_dim!r}."
            )
        if norm_groups:
            check_int("norm_groups", norm_groups, 1)
            widths = [base_filters] + [base_filters * m for m in channel_mults]
            if any(width % norm_groups for width in widths):
                raise ValueError(
                    f"`norm_groups`={norm_groups} must divide base_filters and the "
                    "filters of every level, base_filters * channel_mults = "
                    f"{widths[1:]}; "
                    f"received base_filters={base_filters}."
                )
        if isinstance(dropout, bool) or not (
            isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0
        ):
            raise ValueError(
                f"`dropout` must be a float in [0, 1); received dropout={dropout!r}."
            )
        image_shape = tuple(image_shape)
        layers = keras.layers

        # === Layers ===
        def norm(label):
            if norm_groups:
                return layers.GroupNormalization(norm_groups, name=f"{label}_norm")
            return layers.Identity(name=f"{label}_norm")

        def res_block(x, temb, filters, label):
            h = norm(f"{label}_1")(x)
            h = layers.Activation("swish", name=f"{label}_act1")(h)
            h = layers.Conv2D(filters, 3, padding="same", name=f"{label}_conv1")(h)
            bias = layers.Dense(filters, name=f"{label}_time")(temb)
            bias = layers.Reshape((1, 1, filters), name=f"{label}_time_reshape")(bias)
            h = layers.Add(name=f"{label}_add_time")([h, bias])
            h = norm(f"{label}_2")(h)
            h = layers.Activation("swish", name=f"{label}_act2")(h)
            if dropout:
                h = layers.Dropout(dropout, name=f"{label}_dropout")(h)
            h = layers.Conv2D(filters, 3, padding="same", name=f"{label}_conv2")(h)
            if x.shape[-1] != filters:
                x = layers.Conv2D(filters, 1, name=f"{label}_shortcut")(x)
            return layers.Add(name=f"{label}_out")([x, h])

        # === Functional model ===
        x_t = keras.Input(shape=image_shape, name="x_t")
        t = keras.Input(shape=(), name="t")
        temb = SinusoidalTimeEmbedding(time_embedding_dim, name="time_embedding")(t)
        for i in (1, 2):
            temb = layers.Dense(
                time_embedding_dim, activation="swish", name=f"time_mlp_{i}"
            )(temb)

        x = layers.Conv2D(base_filters, 3, padding="same", name="stem")(x_t)
        skips = [x]
        for level, mult in enumerate(channel_mults):
            for block in range(num_res_blocks):
                x = res_block(x, temb, base_filters * mult, f"down{level}_block{block}")
                skips.append(x)
            if level < len(channel_mults) - 1:
                x = layers.Conv2D(
                    x.shape[-1], 3, strides=2, padding="same", name=f"down{level}_pool"
                )(x)
                skips.append(x)

        filters = base_filters * channel_mults[-1]
        x = res_block(x, temb, filters, "middle_block0")
        x = res_block(x, temb, filters, "middle_block1")

        for level in reversed(range(len(channel_mults))):
            for block in range(num_res_blocks + 1):
                x = layers.Concatenate(name=f"up{level}_skip{block}")([x, skips.pop()])
                filters = base_filters * channel_mults[level]
                x = res_block(x, temb, filters, f"up{level}_block{block}")
            if level > 0:
                x = layers.UpSampling2D(2, name=f"up{level}_upsample")(x)
                x = layers.Conv2D(
                    x.shape[-1], 3, padding="same", name=f"up{level}_conv"
                )(x)

        x = norm("head")(x)
        x = layers.Activation("swish", name="head_act")(x)
        noise = layers.Conv2D(image_shape[-1], 3, padding="same", name="noise")(x)
        super().__init__([x_t, t], noise, name=name, **kwargs)

        # === Config ===
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.channel_mults = channel_mults
        self.num_res_blocks = num_res_blocks
        self.time_embedding_dim = time_embedding_dim
        self.norm_groups = norm_groups or None
        self.dropout = dropout

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "base_filters": self.base_filters,
            "channel_mults": self.channel_mults,
            "num_res_blocks": self.num_res_blocks,
            "time_embedding_dim": self.time_embedding_dim,
            "norm_groups": self.norm_groups,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["image_shape"] = tuple(config["image_shape"])
        config["channel_mults"] = tuple(config["channel_mults"])
        return cls(**config)


def diffusion_unet(
    image_shape=(8, 8, 1),
    base_filters=32,
    channel_mults=(1, 2),
    num_res_blocks=1,
    time_embedding_dim=64,
    norm_groups=8,
    dropout=0.0,
    name="diffusion_unet",
    dtype=None,
):
    """Builds a `DiffusionUNet` noise predictor (see it for the arguments;
    `dtype` is the dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Returns:
        A functional `keras.Model` (a `DiffusionUNet`) with inputs `[x_t, t]` and
        output the predicted noise, shaped like `x_t`.

    Example:

    ```python
    network = diffusion_unet((8, 8, 1), base_filters=32, channel_mults=(1, 2))
    eps = network.predict([x_t, np.full(len(x_t), 500.0)])
    ```
    """
    return DiffusionUNet(
        image_shape,
        base_filters=base_filters,
        channel_mults=channel_mults,
        num_res_blocks=num_res_blocks,
        time_embedding_dim=time_embedding_dim,
        norm_groups=norm_groups,
        dropout=dropout,
        name=name,
        dtype=dtype,
    )
