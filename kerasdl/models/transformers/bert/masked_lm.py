"""Masked-language-model pre-training: the MLM head (dense + gelu + LayerNorm +
vocabulary logits through the transposed token embedding), `BertMaskedLM` (the
encoder and that head, trained with the selected positions as sample weights) and
`masked_accuracy`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int
from kerasdl.models.base import (
    FunctionalModel,
    composed_dtype_policy,
    dtype_policy_scope,
)
from kerasdl.models.transformers.bert.encoder import (
    _check_encoder,
    _compile_from_config,
    _deserialize_encoder,
    _token_input,
)


@keras.saving.register_keras_serializable(package="kerasdl")
class MaskedLMHead(keras.layers.Layer):
    """BERT's masked-LM head: `Dense(hidden, activation)`, LayerNorm, vocab logits.

    With `token_embedding` (a built `keras.layers.Embedding`) the output
    projection is the transposed embedding table plus a bias of its own
    (weight tying, as BERT); without it the head has its own `Dense(vocab_size)`.
    The embedding is a reference, not part of the config: a tied head is
    rebuilt by its model (`BertMaskedLM`), which owns both.

    Args:
        vocab_size: Number of token ids.
        activation: Activation of the transform layer.
        layer_norm_epsilon: Epsilon of the LayerNorm.
        token_embedding: Optional Embedding layer to tie the output to.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: Features `(batch, time, hidden)`.

    Returns:
        float32 logits `(batch, time, vocab_size)`.
    """

    def __init__(
        self,
        vocab_size,
        activation="gelu",
        layer_norm_epsilon=1e-5,
        token_embedding=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.activation = activation
        self.layer_norm_epsilon = check_float(
            "layer_norm_epsilon", layer_norm_epsilon, low=0.0, low_open=True
        )
        if token_embedding is not None:
            if not isinstance(token_embedding, keras.layers.Embedding):
                raise ValueError(
                    "`token_embedding` must be a keras.layers.Embedding or None; "
                    f"received {type(token_embedding).__name__}."
                )
            if token_embedding.input_dim != self.vocab_size:
                raise ValueError(
                    f"`token_embedding` has {token_embedding.input_dim} ids; "
                    f"expected vocab_size={vocab_size}."
                )
        self.token_embedding = token_embedding

    def build(self, inputs_shape):
        shape = tuple(inputs_shape)
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(
                "Expected `inputs` of rank 3 (batch, time, hidden); received shape "
                f"{shape}."
            )
        hidden = shape[-1]
        self.transform = keras.layers.Dense(
            hidden, activation=self.activation, name="transform"
        )
        self.transform.build(shape)
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="norm"
        )
        self.norm.build(shape)
        if self.token_embedding is None:
            self.output_dense = keras.layers.Dense(self.vocab_size, name="logits")
            self.output_dense.build(shape)
        else:
            if self.token_embedding.output_dim != hidden:
                raise ValueError(
                    f"The tied token embedding has width "
                    f"{self.token_embedding.output_dim}; the inputs have {hidden}."
                )
            self.bias = self.add_weight(
                name="bias", shape=(self.vocab_size,), initializer="zeros"
            )

    def call(self, inputs):
        x = self.norm(self.transform(inputs))
        if self.token_embedding is None:
            logits = self.output_dense(x)
        else:
            table = ops.cast(self.token_embedding.embeddings, x.dtype)
            logits = ops.matmul(x, ops.transpose(table))
            logits = logits + ops.cast(self.bias, x.dtype)
        return ops.cast(logits, "float32")

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)[:-1] + (self.vocab_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "token_embedding": None,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerasdl")
class BertMaskedLM(FunctionalModel):
    """A `BertEncoder` with a masked-language-model head.

    Train it on `mask_tokens` output: inputs the corrupted ids, targets the
    original ids, sample weights 1 at the selected positions. `compile()`
    defaults to exactly that loss (cross-entropy of the logits averaged over the
    weighted positions, `reduction="mean_with_sample_weight"`) and to the
    masked-token accuracy as a weighted metric.

    Args:
        encoder: A `BertEncoder` (its weights are shared, not copied).
        tie_embeddings: Output logits through the transposed token embedding
            (BERT) rather than a separate `Dense(vocab_size)`.
        dtype: Dtype policy of the model (e.g. `"mixed_bfloat16"`), which must
            be the encoder's (build it with the same `dtype=`); None takes the
            encoder's.
        **kwargs: Passed to `FunctionalModel`: `trainable`.

    Call arguments:
        token_ids: Integer ids `(batch, time)`.
        training: Whether dropout is active.

    Returns:
        float32 logits `(batch, time, vocab_size)`.

    Example:

    ```python
    mlm = BertMaskedLM(BertEncoder(vocab_size, max_len=64))
    mlm.compile(keras.optimizers.AdamW(1e-3))
    mlm.fit(MaskedLMDataset(windows, 32, vocab_size, mask_id), epochs=10)
    ```
    """

    def __init__(
        self,
        encoder,
        tie_embeddings=True,
        name="bert_masked_lm",
        dtype=None,
        **kwargs,
    ):
        encoder = _check_encoder(encoder)
        tie_embeddings = bool(tie_embeddings)
        dtype = composed_dtype_policy(dtype, {"encoder": encoder}, "BertMaskedLM")

        with dtype_policy_scope(dtype):
            # === Layers ===
            head = MaskedLMHead(
                encoder.vocab_size,
                layer_norm_epsilon=encoder.layer_norm_epsilon,
                token_embedding=encoder.token_embedding if tie_embeddings else None,
                name="mlm_head",
            )

            # === Functional model ===
            token_ids = _token_input()
            logits = head(encoder(token_ids))
        super().__init__(
            inputs=token_ids, outputs=logits, name=name, dtype=dtype, **kwargs
        )

        # === Config ===
        self.encoder = encoder
        self.mlm_head = head
        self.tie_embeddings = tie_embeddings

    def compile(
        self,
        optimizer="adamw",
        loss=None,
        weighted_metrics=None,
        **kwargs,
    ):
        """`keras.Model.compile` with the masked-LM loss and metric as defaults."""
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        if weighted_metrics is None:
            weighted_metrics = [
                keras.metrics.SparseCategoricalAccuracy(name="masked_accuracy")
            ]
        super().compile(
            optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs
        )

    def compile_from_config(self, config):
        _compile_from_config(self, config)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "tie_embeddings": self.tie_embeddings,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))


def masked_accuracy(model, inputs, labels, weights, batch_size=64, only_ids=None):
    """Share of the weighted (selected) positions whose argmax logit is the label.

    Args:
        model: A model returning logits `(batch, time, vocab)`.
        inputs, labels, weights: As returned by `mask_tokens`.
        batch_size: Rows per forward pass.
        only_ids: Optional ids; when given, only selected positions whose label
            is one of them count.

    Returns:
        `(accuracy, count)`: the accuracy (NaN when nothing counts) and the
        number of positions scored.
    """
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    scored = np.asarray(weights) > 0
    if only_ids is not None:
        scored &= np.isin(labels, np.asarray(list(only_ids)))
    correct = 0
    for start in range(0, len(inputs), batch_size):
        part = slice(start, start + batch_size)
        batch = inputs[part]
        if len(batch) < batch_size:  # one shape for every batch: no retracing
            batch = np.concatenate(
                [batch, np.zeros((batch_size - len(batch),) + batch.shape[1:], "int32")]
            )
        logits = ops.convert_to_numpy(model.predict_on_batch(batch))
        hits = np.argmax(logits[: len(labels[part])], axis=-1) == labels[part]
        correct += int((hits & scored[part]).sum())
    count = int(scored.sum())
    return (correct / count if count else float("nan")), count
