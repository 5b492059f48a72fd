"""Positional information for attention, which by itself ignores token order.

Three ways to tell a Transformer where each token sits:

* `SinusoidalPositionalEncoding`: the fixed sines and cosines of Vaswani et al.
  (2017), added to the token embeddings; no weights, any length.
* `LearnedPositionEmbedding`: one trained vector per position (BERT, GPT-2),
  up to `max_length` positions.
* `RotaryEmbedding`: RoPE (Su et al., 2021) rotates queries and keys by an
  angle proportional to their position, so that the query-key score depends
  only on the offset between the two positions.

Every layer takes a `start_index` call argument (the position of the first
token; for decoding one token at a time with a KV cache) or explicit
`positions`.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdl._checks import check_int

__all__ = [
    "LearnedPositionEmbedding",
    "RotaryEmbedding",
    "SinusoidalPositionalEncoding",
]


def _shape(x):
    return tuple(x.shape)


def _positive_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive number; received {name}={value!r}."
        )
    return value


def _positions(inputs, start_index, positions):
    """Float32 positions `(time,)` or `(batch, time)` for `inputs` (batch, time...)."""
    if positions is not None:
        if not (isinstance(start_index, int) and start_index == 0):
            raise ValueError(
                "Pass either `start_index` or `positions`, not both; received "
                f"start_index={start_index!r} and positions."
            )
        positions = ops.convert_to_tensor(positions)
        if len(positions.shape) not in (1, 2):
            raise ValueError(
                "Expected `positions` of shape (time,) or (batch, time); received "
                f"shape {_shape(positions)}."
            )
        return ops.cast(positions, "float32")
    length = ops.shape(inputs)[1]
    return ops.cast(ops.arange(length), "float32") + ops.cast(start_index, "float32")


def _check_rank(shape, ranks, layout, name="inputs"):
    shape = tuple(shape)
    if len(shape) not in ranks:
        raise ValueError(
            f"Expected `{name}` of rank {' or '.join(map(str, ranks))} {layout}; "
            f"received shape {shape}."
        )
    if shape[-1] is None:
        raise ValueError(
            f"The last axis of `{name}` must be known; received shape {shape}."
        )
    return shape


def _broadcast_table(table, inputs):
    """A `(time, dim)` or `(batch, time, dim)` table, broadcast like `inputs`."""
    if len(table.shape) == 2:
        table = ops.expand_dims(table, 0)
    return ops.broadcast_to(table, ops.shape(inputs))


@keras.saving.register_keras_serializable(package="kerasdl")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """The fixed sinusoidal position encoding of "Attention Is All You Need".

    For position `p` and feature pair `i`,
    `PE[p, 2i] = sin(p / max_wavelength^(2i/d))` and
    `PE[p, 2i + 1] = cos(p / max_wavelength^(2i/d))`, `d` the feature size (an
    odd `d` ends with a sine). Each pair is a rotation at its own frequency, so
    `PE[p + k]` is a fixed linear map of `PE[p]`: relative offsets are easy for
    attention to read. No weights; works for any length.

    Args:
        max_wavelength: The longest wavelength, `10000` in the paper.
        add_to_inputs: When True (default) the layer returns
            `inputs + encoding`; when False it returns the encoding alone,
            broadcast to the inputs' shape.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, time, features)` token embeddings.
        start_index: Position of the first token (int or scalar tensor).
        positions: Optional explicit positions `(time,)` or `(batch, time)`
            instead of `start_index + arange(time)`.

    Returns:
        A tensor shaped like `inputs`.

    Example:

    ```python
    x = keras.layers.Embedding(1000, 64)(tokens)   # (batch, time, 64)
    x = SinusoidalPositionalEncoding()(x)          # x + PE[:time]
    ```
    """

    def __init__(self, max_wavelength=10000.0, add_to_inputs=True, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = _positive_number(max_wavelength, "max_wavelength")
        self.add_to_inputs = bool(add_to_inputs)
        self.supports_masking = True

    def build(self, input_shape):
        _check_rank(input_shape, (3,), "(batch, time, features)")

    def encoding(self, positions, dim):
        """The float32 table `(..., dim)` for float32 `positions` `(...)`."""
        index = ops.arange(dim)
        pair = ops.cast(ops.floor_divide(index, 2), "float32")
        inv_freq = ops.power(
            ops.cast(self.max_wavelength, "float32"), -2.0 * pair / float(dim)
        )
        angles = ops.expand_dims(positions, -1) * inv_freq
        is_sine = ops.equal(ops.mod(index, 2), 0)
        return ops.where(is_sine, ops.sin(angles), ops.cos(angles))

    def call(self, inputs, start_index=0, positions=None):
        shape = _check_rank(_shape(inputs), (3,), "(batch, time, features)")
        pos = _positions(inputs, start_index, positions)
        table = ops.cast(self.encoding(pos, shape[-1]), inputs.dtype)
        table = _broadcast_table(table, inputs)
        return inputs + table if self.add_to_inputs else table

    def compute_output_shape(self, input_shape):
        return _check_rank(input_shape, (3,), "(batch, time, features)")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "add_to_inputs": self.add_to_inputs,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class LearnedPositionEmbedding(keras.layers.Layer):
    """A trained vector per position, as in BERT and GPT-2.

    Holds one weight `embeddings` of shape `(max_length, features)`, where
    `features` is the inputs' last dimension. Sequences (with `start_index`)
    longer than `max_length` raise a ValueError when the lengths are known;
    a traced `start_index` is not checked (on JAX an out-of-range slice is
    clamped silently, as `lax.dynamic_slice` does).

    Args:
        max_length: Number of positions that have a vector.
        add_to_inputs: When True (default) returns `inputs + embedding`, else
            the embedding alone, broadcast to the inputs' shape.
        embeddings_initializer: Initializer of the table; default a normal
            with standard deviation 0.02 (GPT-2, BERT).
        embeddings_regularizer: Optional regularizer of the table.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, time, features)`.
        start_index: Position of the first token (int or scalar tensor).
        positions: Optional integer positions `(time,)` or `(batch, time)`.

    Returns:
        A tensor shaped like `inputs`.

    Example:

    ```python
    x = LearnedPositionEmbedding(max_length=128)(token_embeddings)
    ```
    """

    def __init__(
        self,
        max_length,
        add_to_inputs=True,
        embeddings_initializer=None,
        embeddings_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_length = check_int("max_length", max_length)
        self.add_to_inputs = bool(add_to_inputs)
        if embeddings_initializer is None:
            embeddings_initializer = keras.initializers.RandomNormal(stddev=0.02)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.supports_masking = True

    def build(self, input_shape):
        shape = _check_rank(input_shape, (3,), "(batch, time, features)")
        self._check_length(shape[1], 0)
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_length, shape[-1]),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
        )

    def _check_length(self, length, start_index):
        if (
            isinstance(length, int)
            and isinstance(start_index, int)
            and start_index + length > self.max_length
        ):
            raise ValueError(
                f"LearnedPositionEmbedding has max_length={self.max_length}; "
                f"received a sequence of length {length} starting at position "
                f"{start_index}."
            )

    def call(self, inputs, start_index=0, positions=None):
        shape = _check_rank(_shape(inputs), (3,), "(batch, time, features)")
        embeddings = ops.convert_to_tensor(self.embeddings)
        if positions is not None:
            _positions(inputs, start_index, positions)  # validates the arguments
            table = ops.take(embeddings, ops.cast(positions, "int32"), axis=0)
        elif isinstance(start_index, int):
            self._check_length(shape[1], start_index)
            length = ops.shape(inputs)[1]
            table = ops.slice(embeddings, (start_index, 0), (length, shape[-1]))
        else:
            # A tensor start index (decoding with a cache): gather the rows. A
            # slice would make XLA on TensorFlow compile one program per value.
            rows = ops.arange(ops.shape(inputs)[1]) + ops.cast(start_index, "int32")
            table = ops.take(embeddings, rows, axis=0)
        table = _broadcast_table(ops.cast(table, inputs.dtype), inputs)
        return inputs + table if self.add_to_inputs else table

    def compute_output_shape(self, input_shape):
        return _check_rank(input_shape, (3,), "(batch, time, features)")

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "add_to_inputs": self.add_to_inputs,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "embeddings_regularizer": keras.regularizers.serialize(
                    self.embeddings_regularizer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class RotaryEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE, Su et al. 2021) of queries or keys.

    Feature `j` of the first half and feature `j + d/2` of the second half form
    a pair (the "rotate-half" layout of GPT-NeoX, LLaMA and keras-hub; the
    RoFormer paper pairs neighbours `2j, 2j + 1`, which is the same up to a
    fixed permutation of the features). At position `p` the pair is rotated by
    the angle `p * theta_j / scaling_factor`, with
    `theta_j = max_wavelength^(-2j/d)`. Rotations compose, so for a query at
    position `m` and a key at `n`: `<R(m) q, R(n) k> = <q, R(n - m) k>`: the
    score depends only on the offset `n - m`. Norms are unchanged. No weights.

    Apply it to the projected queries and keys (not the values) before the
    dot product; for decoding with a KV cache pass the position of the new
    token(s) as `start_index`.

    Args:
        max_wavelength: Base of the frequencies, `10000` in the paper.
        scaling_factor: Positions are divided by it (linear position
            interpolation, to stretch a trained context length); default 1.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(batch, time, heads, dim)` (or `(batch, time, dim)`), `dim`
            even.
        start_index: Position of the first token (int or scalar tensor).
        positions: Optional explicit positions `(time,)` or `(batch, time)`.

    Returns:
        A tensor shaped like `inputs`.

    Example:

    ```python
    rope = RotaryEmbedding()
    q, k = rope(q), rope(k)                     # (batch, time, heads, dim)
    q_new = rope(q_new, start_index=cache_len)  # one new token while decoding
    ```
    """

    def __init__(self, max_wavelength=10000.0, scaling_factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = _positive_number(max_wavelength, "max_wavelength")
        self.scaling_factor = _positive_number(scaling_factor, "scaling_factor")
        self.supports_masking = True

    _LAYOUT = "(batch, time, heads, dim) or (batch, time, dim)"

    def _check(self, shape):
        shape = _check_rank(shape, (3, 4), self._LAYOUT)
        if shape[-1] % 2:
            raise ValueError(
                "RotaryEmbedding needs an even last axis (pairs of features); "
                f"received `inputs` of shape {shape}."
            )
        return shape

    def build(self, input_shape):
        self._check(input_shape)

    def cos_sin(self, positions, dim):
        """Float32 `(cos, sin)` tables `(..., dim)` for float32 `positions`."""
        exponent = ops.cast(ops.arange(0, dim, 2), "float32") / float(dim)
        inv_freq = ops.power(ops.cast(self.max_wavelength, "float32"), -exponent)
        positions = positions / ops.cast(self.scaling_factor, "float32")
        angles = ops.expand_dims(positions, -1) * inv_freq  # (..., dim / 2)
        angles = ops.concatenate([angles, angles], axis=-1)
        return ops.cos(angles), ops.sin(angles)

    def call(self, inputs, start_index=0, positions=None):
        shape = self._check(_shape(inputs))
        dim = shape[-1]
        pos = _positions(inputs, start_index, positions)
        cos, sin = self.cos_sin(pos, dim)  # (time, dim) or (batch, time, dim)
        if len(cos.shape) == 2:
            cos, sin = ops.expand_dims(cos, 0), ops.expand_dims(sin, 0)
        if len(shape) == 4:  # one table for every head
            cos, sin = ops.expand_dims(cos, 2), ops.expand_dims(sin, 2)
        x = ops.cast(inputs, "float32")
        first, second = ops.split(x, 2, axis=-1)
        rotated_half = ops.concatenate([-second, first], axis=-1)
        return ops.cast(x * cos + rotated_half * sin, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self._check(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor,
            }
        )
        return config
