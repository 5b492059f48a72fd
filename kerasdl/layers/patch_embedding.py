"""Images as token sequences, for a Vision Transformer (Dosovitskiy et al., 2021).

* `PatchEmbedding` cuts `(batch, height, width, channels)` images into
  non-overlapping `patch_size x patch_size` patches, flattens each patch and
  projects it linearly to `hidden_dim`: `(batch, num_patches, hidden_dim)`, the
  patches in row-major order (patch `(i, j)` is token `i * (width // p) + j`).
* `ClassToken` prepends one learned `[CLS]` vector to a token sequence; after
  the encoder, that position's output summarises the image (BERT's trick,
  carried over by ViT).

`PatchEmbedding` is written as "reshape into patches, then one matrix
multiply" rather than as a `Conv2D` with kernel = stride = patch size: the two
compute the same thing (the tests prove it with copied weights), but the
explicit form shows what a patch token is, and `patchify` gives the raw patch
vectors for inspection. Its kernel `(p * p * channels, hidden_dim)` is a
`Conv2D` kernel `(p, p, channels, hidden_dim)` reshaped.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_int

__all__ = ["ClassToken", "PatchEmbedding"]


def _check_images(shape, patch_size):
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(
            "Expected `inputs` of rank 4 (batch, height, width, channels); "
            f"received shape {shape}."
        )
    _, height, width, channels = shape
    if height is None or width is None or channels is None:
        raise ValueError(
            "PatchEmbedding needs known height, width and channels; received "
            f"`inputs` of shape {shape}."
        )
    if height % patch_size or width % patch_size:
        raise ValueError(
            f"The image height and width must be divisible by patch_size="
            f"{patch_size}; received `inputs` of shape {shape} (height {height}, "
            f"width {width})."
        )
    return shape


@keras.saving.register_keras_serializable(package="kerasdl")
class PatchEmbedding(keras.layers.Layer):
    """Splits images into patches and projects each patch to a token vector.

    An image of `H x W` pixels gives `(H // p) * (W // p)` tokens, in row-major
    patch order. Each token is `patch_vector @ kernel + bias`, where the patch
    vector lists the patch's pixels row by row, channels innermost (the layout
    of a `Conv2D` kernel).

    Args:
        patch_size: Side `p` of the square patches, in pixels; the image height
            and width must be multiples of it.
        hidden_dim: Size of each token vector.
        use_bias: Whether the projection has a bias.
        kernel_initializer: Initializer of the `(p * p * channels, hidden_dim)`
            kernel.
        bias_initializer: Initializer of the bias.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Images `(batch, height, width, channels)`.

    Returns:
        `(batch, num_patches, hidden_dim)`.

    Example:

    ```python
    tokens = PatchEmbedding(patch_size=2, hidden_dim=64)(images)  # (b, 8, 8, 1)
    tokens.shape  # (b, 16, 64)
    ```
    """

    def __init__(
        self,
        patch_size,
        hidden_dim,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.patch_size = check_int("patch_size", patch_size)
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        shape = _check_images(input_shape, self.patch_size)
        patch_dim = self.patch_size * self.patch_size * shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(patch_dim, self.hidden_dim),
            initializer=self.kernel_initializer,
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(self.hidden_dim,), initializer=self.bias_initializer
            )
            if self.use_bias
            else None
        )

    def patchify(self, images):
        """The raw patches `(batch, num_patches, p * p * channels)` of `images`."""
        _, height, width, channels = _check_images(images.shape, self.patch_size)
        p = self.patch_size
        rows, cols = height // p, width // p
        # (b, rows, p, cols, p, c) -> (b, rows, cols, p, p, c): patch (i, j) holds
        # pixels [i*p:(i+1)*p, j*p:(j+1)*p], row by row, channels innermost.
        x = ops.reshape(images, (-1, rows, p, cols, p, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, rows * cols, p * p * channels))

    def call(self, inputs):
        patches = self.patchify(inputs)
        tokens = ops.matmul(patches, ops.cast(self.kernel, patches.dtype))
        if self.bias is not None:
            tokens = tokens + ops.cast(self.bias, tokens.dtype)
        return tokens

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = _check_images(input_shape, self.patch_size)
        num_patches = (height // self.patch_size) * (width // self.patch_size)
        return (batch, num_patches, self.hidden_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "patch_size": self.patch_size,
                "hidden_dim": self.hidden_dim,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class ClassToken(keras.layers.Layer):
    """Prepends one learned `[CLS]` vector to every sequence of the batch.

    The vector is the same for every input; attention lets it gather
    information from the other tokens, and a classifier reads its output.

    Args:
        initializer: Initializer of the `(features,)` vector; default zeros,
            as in the original ViT code.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, time, features)`.

    Returns:
        `(batch, time + 1, features)`; position 0 is the class token.

    Example:

    ```python
    tokens = ClassToken()(PatchEmbedding(2, 64)(images))  # (b, 17, 64)
    ```
    """

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    @staticmethod
    def _check(shape):
        shape = tuple(shape)
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(
                "Expected `inputs` of rank 3 (batch, time, features) with known "
                f"features; received shape {shape}."
            )
        return shape

    def build(self, input_shape):
        shape = self._check(input_shape)
        self.token = self.add_weight(
            name="token", shape=(shape[-1],), initializer=self.initializer
        )

    def call(self, inputs):
        self._check(inputs.shape)
        token = ops.cast(self.token, inputs.dtype)
        token = ops.broadcast_to(
            ops.reshape(token, (1, 1, -1)), (ops.shape(inputs)[0], 1, inputs.shape[-1])
        )
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        batch, time, features = self._check(input_shape)
        return (batch, None if time is None else time + 1, features)

    def get_config(self):
        config = super().get_config()
        config["initializer"] = keras.initializers.serialize(self.initializer)
        return config
