"""`BertClassifier`: an encoder (pre-trained or fresh), a pooling of the sequence
(mean of the real tokens, or the `[CLS]` token), dropout and a `Dense` of logits.
"""

from __future__ import annotations

import keras
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

POOLINGS = ("mean", "cls")


@keras.saving.register_keras_serializable(package="kerasdl")
class BertClassifier(FunctionalModel):
    """A `BertEncoder` followed by pooling, dropout and `Dense(num_classes)`.

    Pass a pre-trained encoder (e.g. `masked_lm.encoder`) to fine-tune it, or a
    fresh one to train from scratch. The encoder object is used as is: its
    variables are shared with any other model built on it (copy it with
    `BertEncoder.from_config(e.get_config())` + `set_weights` to keep the
    original untouched).

    Args:
        encoder: A `BertEncoder`.
        num_classes: Number of classes.
        pooling: `"mean"` (average of the real tokens' features, padding
            excluded; default) or `"cls"` (the features of the first token).
            Mean pooling is the default because MLM pre-training never trains
            the `[CLS]` position to summarise the sequence (BERT's next-sentence
            task did; this one has none).
        dropout: Dropout before the output layer.
        dtype: Dtype policy of the classifier (e.g. `"mixed_bfloat16"`), which
            must be the encoder's (build it with the same `dtype=`); None takes
            the encoder's.
        **kwargs: Passed to `FunctionalModel`: `trainable`.

    Call arguments:
        token_ids: Integer ids `(batch, time)`.
        training: Whether dropout is active.

    Returns:
        Logits `(batch, num_classes)` (no softmax; `compile()` defaults to
        cross-entropy from logits and accuracy).

    Example:

    ```python
    classifier = BertClassifier(masked_lm.encoder, num_classes=8)
    classifier.compile(keras.optimizers.AdamW(3e-4))
    classifier.fit(windows, labels, epochs=5)
    ```
    """

    def __init__(
        self,
        encoder,
        num_classes,
        pooling="mean",
        dropout=0.1,
        name="bert_classifier",
        dtype=None,
        **kwargs,
    ):
        encoder = _check_encoder(encoder)
        num_classes = check_int("num_classes", num_classes, minimum=2)
        if pooling not in POOLINGS:
            raise ValueError(
                f"`pooling` must be one of {POOLINGS}; received pooling={pooling!r}."
            )
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)

        dtype = composed_dtype_policy(dtype, {"encoder": encoder}, "BertClassifier")

        # === Functional model ===
        with dtype_policy_scope(dtype):
            token_ids = _token_input()
            features = encoder(token_ids)
            if pooling == "cls":
                pooled = features[:, 0, :]
            else:
                pooled = keras.layers.GlobalAveragePooling1D(name="mean_pooling")(
                    features, mask=ops.not_equal(token_ids, 0)
                )
            pooled = keras.layers.Dropout(dropout, name="dropout")(pooled)
            logits = keras.layers.Dense(num_classes, name="logits")(pooled)
        super().__init__(
            inputs=token_ids, outputs=logits, name=name, dtype=dtype, **kwargs
        )

        # === Config ===
        self.encoder = encoder
        self.num_classes = num_classes
        self.pooling = pooling
        self.dropout = dropout

    def compile(self, optimizer="adamw", loss=None, metrics=None, **kwargs):
        """`keras.Model.compile` with cross-entropy from logits and accuracy as
        defaults."""
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics is None:
            metrics = ["accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        _compile_from_config(self, config)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "pooling": self.pooling,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))
