"""Which axes of the inputs attend, for `MultiHeadAttention`: the static shape
checks of `query`, `value` and `key`, and attention of inputs of rank > 3 over
`attention_axes` (Keras's semantics: the other index axes join the batch, the
attention axes are flattened into one time axis).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasdl.layers.attention.masks import check_axes_mask_shape, dims_clash, shape_of
from kerasdl.layers.attention.scaled_dot_product import scaled_dot_product_attention

__all__ = ["AttentionAxes", "normalize_attention_axes"]


def normalize_attention_axes(attention_axes):
    """`attention_axes` as None or a tuple of ints; a clear error for anything else."""
    if attention_axes is None:
        return None
    if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
        attention_axes = (attention_axes,)
    if (
        not isinstance(attention_axes, (list, tuple))
        or not attention_axes
        or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in attention_axes
        )
    ):
        raise ValueError(
            "`attention_axes` must be None, an int or a non-empty tuple of ints "
            f"(axes of `query`); received attention_axes={attention_axes!r}."
        )
    return tuple(attention_axes)


class AttentionAxes:
    """Mixin of `MultiHeadAttention`: shape checks and attention over axes.

    Reads `attention_axes`, `num_heads`, `key_dim`, `value_dim`, `dropout`, the
    projection weights and `_output_projection` of the layer.
    """

    def _check_shapes(self, query_shape, value_shape, key_shape=None):
        query_shape = tuple(query_shape)
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(
                "Expected `query` of rank 3 (batch, time, features) or more "
                f"(batch, *index_axes, features); received shape {query_shape}."
            )
        if rank == 3 and self.attention_axes is None:
            layout = "rank 3 (batch, time, features)"
        else:
            layout = f"rank {rank} (the rank of `query`)"
        named = [("query", query_shape), ("value", value_shape)]
        if key_shape is not None:
            named.append(("key", key_shape))
        for name, shape in named:
            shape = tuple(shape)
            if len(shape) != rank:
                raise ValueError(
                    f"Expected `{name}` of {layout}; received shape {shape}."
                )
            if shape[-1] is None:
                raise ValueError(
                    f"The last axis of `{name}` must be known; received shape {shape}."
                )
        axes = self._axes_for(rank)
        if key_shape is not None and any(
            dims_clash(a, b) for a, b in zip(value_shape[1:-1], key_shape[1:-1])
        ):
            what = "time axis" if rank == 3 else "axes except the last"
            raise ValueError(
                f"`key` and `value` must have the same {what}; received value "
                f"shape {tuple(value_shape)} and key shape {tuple(key_shape)}."
            )
        if rank > 3 or axes != (1,):
            for name, shape in named:
                if any(size is None for size in tuple(shape)[1:-1]):
                    raise ValueError(
                        f"Attention over `attention_axes` needs every axis of "
                        f"`{name}` but batch known; received shape {tuple(shape)}."
                    )
            others = [a for a in range(1, rank - 1) if a not in axes]
            if any(query_shape[a] != value_shape[a] for a in others):
                raise ValueError(
                    f"`query` and `value` must agree on the axes not attended over "
                    f"({others}, with attention_axes={axes}); received query "
                    f"shape {query_shape} and value shape {tuple(value_shape)}."
                )

    def _axes_for(self, rank):
        """The attention axes, non-negative, for inputs of rank `rank`."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(a % rank if -rank <= a < rank else a for a in self.attention_axes)
        if any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(
                f"`attention_axes` must be distinct axes of `query` other than "
                f"batch (0) and features (-1), i.e. in [1, {rank - 2}] for inputs "
                f"of rank {rank}; received attention_axes={self.attention_axes}."
            )
        return tuple(sorted(axes))

    def _features_out(self, query_shape):
        return self._output_shape or (query_shape[-1],)

    def _call_over_axes(
        self,
        query,
        value,
        key,
        attention_mask,
        return_attention_scores,
        training,
        use_causal_mask,
        unsupported,
    ):
        """Attention of rank > 3 inputs over `attention_axes` (Keras's
        semantics): the other index axes join the batch, the attention axes are
        flattened into one time axis, `scaled_dot_product_attention` runs, and
        the results are unflattened."""
        rank = len(query.shape)
        axes = self._axes_for(rank)
        if any(m is not None for m in unsupported):
            raise ValueError(
                "Padding masks (`query_mask`, `value_mask`, `key_mask`, implicit "
                "Keras masks) and `cache` need rank 3 inputs attending over axis "
                f"1; received query shape {shape_of(query)} with attention_axes="
                f"{axes}. Pass an `attention_mask` instead."
            )
        if use_causal_mask and len(axes) != 1:
            raise ValueError(
                "`use_causal_mask=True` needs a single attention axis; received "
                f"attention_axes={axes}."
            )
        others = [a for a in range(1, rank - 1) if a not in axes]
        letters = "tuvwxyz"[: rank - 2]
        projections = []
        for x, kernel, bias in (
            (query, self.query_kernel, self.query_bias),
            (key, self.key_kernel, self.key_bias),
            (value, self.value_kernel, self.value_bias),
        ):
            y = ops.einsum(f"b{letters}d,dnh->b{letters}nh", x, kernel)
            projections.append(y + bias if self.use_bias else y)

        def flatten(y):
            # (b, *index, n, h) -> (b * others, prod(attention axes), n, h)
            y = ops.transpose(y, (0, *others, *axes, rank - 1, rank))
            length = math.prod(y.shape[1 + len(others) : -2])
            return ops.reshape(y, (-1, length, y.shape[-2], y.shape[-1]))

        q, k, v = (flatten(y) for y in projections)
        batch = ops.shape(query)[0]
        other_sizes = tuple(query.shape[a] for a in others)
        q_sizes = tuple(query.shape[a] for a in axes)
        k_sizes = tuple(key.shape[a] for a in axes)
        mask = None
        if attention_mask is not None:
            mask = self._flat_axes_mask(
                attention_mask, query.shape[0], other_sizes, q_sizes, k_sizes
            )
        rate = self.dropout if training else 0.0
        result = scaled_dot_product_attention(
            q,
            k,
            v,
            mask=mask,
            causal=use_causal_mask,
            return_weights=return_attention_scores,
            dropout=rate,
            scale=1.0 / math.sqrt(self.key_dim),
            seed=getattr(self, "seed_generator", None),
        )
        heads, scores = result if return_attention_scores else (result, None)
        # (b * others, q_len, n, v) -> (b, *others, *q_axes, n, v) -> input order
        heads = ops.reshape(
            heads, (batch, *other_sizes, *q_sizes, self.num_heads, self.value_dim)
        )
        order = [*others, *axes]
        inverse = [1 + order.index(a) for a in range(1, rank - 1)]
        heads = ops.transpose(heads, (0, *inverse, rank - 1, rank))
        output = self._output_projection(heads)
        if not return_attention_scores:
            return output
        scores = ops.reshape(
            scores, (batch, *other_sizes, self.num_heads, *q_sizes, *k_sizes)
        )
        return output, scores

    @staticmethod
    def _flat_axes_mask(attention_mask, batch, other_sizes, q_sizes, k_sizes):
        """`(batch, *q_axes, *k_axes)` -> `(batch * others, 1, q_len, k_len)`."""
        mask = ops.convert_to_tensor(attention_mask)
        check_axes_mask_shape(shape_of(mask), (batch, *q_sizes, *k_sizes))
        if keras.backend.standardize_dtype(mask.dtype) != "bool":
            mask = ops.not_equal(mask, ops.zeros((), dtype=mask.dtype))
        full = (ops.shape(mask)[0], *q_sizes, *k_sizes)
        mask = ops.broadcast_to(mask, full)
        q_len, k_len = math.prod(q_sizes), math.prod(k_sizes)
        mask = ops.reshape(mask, (-1, 1, 1, q_len, k_len))
        if other_sizes:
            n_other = math.prod(other_sizes)
            mask = ops.broadcast_to(
                mask, (ops.shape(mask)[0], n_other, 1, q_len, k_len)
            )
        return ops.reshape(mask, (-1, 1, q_len, k_len))
