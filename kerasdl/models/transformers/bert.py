"""A BERT-like encoder: masked-language-model pre-training, then a classifier.

BERT (Devlin et al., 2019) learns text by filling in blanks: 15% of the real
tokens of a sequence are selected; of those, 80% become `[MASK]`, 10% a random
word and 10% stay as they are, and the model must name the original token at
every selected position (and only there). Because the encoder attends in both
directions, each prediction uses the words before *and* after the blank. The
pre-trained encoder then starts a task model (here a classifier) instead of
random weights.

* `mask_tokens`: the 80/10/10 corruption of a batch of token ids (NumPy);
  `MaskedLMDataset` draws fresh masks every epoch ("dynamic masking", RoBERTa).
* `BertEncoder`: token + learned position embeddings, an embedding LayerNorm,
  a stack of `TransformerEncoderBlock`s (post-norm, as BERT, by default); the
  padding mask comes from token id 0. Returns the sequence features.
* `BertMaskedLM`: the encoder and an MLM head (dense + gelu + LayerNorm + vocab
  logits through the transposed token embedding); trained with the selected
  positions as sample weights (loss and accuracy on those positions only).
* `BertClassifier`: the encoder (pre-trained or fresh), a pooling of the
  sequence (mean of the real tokens, or the `[CLS]` token), dropout and a
  `Dense(num_classes)` of logits.
* Text helpers: `split_documents` (held-out tail of every document, duplicated
  paragraphs removed), `bert_windows` (`[CLS] words [SEP]` rows) and
  `fill_mask` (the model's top guesses for each `[MASK]` in a sentence).
* `train_masked_lm`: the whole pre-training recipe on a list of documents
  (default: the embedded help topics), scored by the masked-token accuracy on
  the held-out tail of every document next to a unigram baseline (always
  guess the most frequent training token).

All three models are "functional graphs in a class": `__init__` builds the
graph and `get_config` returns the constructor arguments, so they serialize to
`.keras` files and reload with identical outputs.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int
from kerasdl.layers.positional import LearnedPositionEmbedding
from kerasdl.layers.transformer import TransformerEncoderBlock

__all__ = [
    "POOLINGS",
    "SPECIAL_TOKENS",
    "BertClassifier",
    "BertEncoder",
    "BertMaskedLM",
    "MaskedLMDataset",
    "MaskedLMHead",
    "MaskedLMResult",
    "bert_windows",
    "fill_mask",
    "mask_tokens",
    "masked_accuracy",
    "split_documents",
    "train_masked_lm",
]

POOLINGS = ("mean", "cls")
#: The special tokens of a BERT `WordTokenizer`, ids 2, 3, 4 (after [PAD], [UNK]).
SPECIAL_TOKENS = ("[MASK]", "[CLS]", "[SEP]")


# ---- Masking -------------------------------------------------------------------


def _check_ids(name, value, vocab_size):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not 0 <= value < vocab_size
    ):
        raise ValueError(
            f"`{name}` must be a token id in [0, {vocab_size}); received "
            f"{name}={value!r}."
        )
    return int(value)


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def mask_tokens(
    tokens,
    vocab_size,
    mask_token_id,
    rate=0.15,
    special_ids=(),
    mask_fraction=0.8,
    random_fraction=0.1,
    seed=None,
):
    """Corrupts token ids for masked-language-model training (BERT's 80/10/10 rule).

    Each real token (not padding id 0, not `mask_token_id`, not in
    `special_ids`) is selected independently with probability `rate`. A selected
    token becomes `mask_token_id` with probability `mask_fraction`, a random
    real token with probability `random_fraction` (drawn uniformly from the ids
    that are neither padding nor special, so it may by chance be the original),
    and is left unchanged otherwise. Padding and special tokens are never
    selected or changed.

    Args:
        tokens: Integer ids of any shape, usually `(batch, time)`.
        vocab_size: Number of token ids.
        mask_token_id: Id of `[MASK]`.
        rate: Probability that a real token is selected, in (0, 1].
        special_ids: Ids never selected nor drawn as replacements (e.g.
            `[UNK]`, `[CLS]`, `[SEP]`); padding 0 and `mask_token_id` always are.
        mask_fraction: Share of the selected tokens replaced by `[MASK]`.
        random_fraction: Share replaced by a random real token;
            `mask_fraction + random_fraction <= 1`, the rest kept.
        seed: An int, None, or a `numpy.random.Generator`.

    Returns:
        `(inputs, labels, sample_weights)`: the corrupted int32 ids, the
        original int32 ids (the targets; they equal `tokens` everywhere) and
        float32 weights, 1 at the selected positions and 0 elsewhere, all
        shaped like `tokens`.

    Example:

    ```python
    x, y, w = mask_tokens(windows, tokenizer.vocab_size, mask_id,
                          special_ids=(unk_id, cls_id, sep_id), seed=0)
    model.fit(x, y, sample_weight=w)
    ```
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise ValueError(
            f"`tokens` must hold integer ids; received dtype {tokens.dtype}."
        )
    if tokens.ndim < 1:
        raise ValueError(
            f"`tokens` must have at least one axis; received shape {tokens.shape}."
        )
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(
            f"`tokens` must be ids in [0, {vocab_size}); received values from "
            f"{tokens.min()} to {tokens.max()}."
        )
    mask_token_id = _check_ids("mask_token_id", mask_token_id, vocab_size)
    if mask_token_id == 0:
        raise ValueError("`mask_token_id` must not be the padding id 0; received 0.")
    special = {0, mask_token_id}
    for value in special_ids:
        special.add(_check_ids("special_ids", value, vocab_size))
    rate = check_float("rate", rate, low=0.0, high=1.0, low_open=True)
    mask_fraction = check_float("mask_fraction", mask_fraction, low=0.0, high=1.0)
    random_fraction = check_float("random_fraction", random_fraction, low=0.0, high=1.0)
    if mask_fraction + random_fraction > 1.0 + 1e-9:
        raise ValueError(
            "`mask_fraction + random_fraction` must be <= 1; received "
            f"mask_fraction={mask_fraction} and random_fraction={random_fraction}."
        )
    real_ids = np.setdiff1d(np.arange(vocab_size), np.fromiter(special, int))
    if real_ids.size == 0:
        raise ValueError(
            f"No real token ids are left to draw from: vocab_size={vocab_size} and "
            f"special ids {sorted(special)}."
        )
    rng = _rng(seed)
    candidates = ~np.isin(tokens, list(special))
    selected = candidates & (rng.random(tokens.shape) < rate)
    action = rng.random(tokens.shape)
    to_mask = selected & (action < mask_fraction)
    to_random = selected & (action >= mask_fraction)
    to_random &= action < mask_fraction + random_fraction
    inputs = tokens.astype("int32", copy=True)
    inputs[to_mask] = mask_token_id
    inputs[to_random] = rng.choice(real_ids, size=int(to_random.sum()))
    return inputs, tokens.astype("int32", copy=True), selected.astype("float32")


class MaskedLMDataset(keras.utils.PyDataset):
    """Batches of `mask_tokens(windows)` with fresh masks every epoch.

    Dynamic masking (RoBERTa, Liu et al., 2019): the same window is corrupted
    differently in every epoch, so a small corpus gives more distinct training
    examples. Batch `i` of epoch `e` is a pure function of `(seed, e, i)`, so a
    run is reproducible. Only full batches are served (the shuffled order
    changes each epoch, so every window is used).

    Args:
        windows: Integer ids `(n, time)`, padded with 0.
        batch_size: Windows per batch (at most `n`).
        vocab_size, mask_token_id, special_ids, rate: As in `mask_tokens`.
        seed: Integer seed of the shuffling and the masks.
        shuffle: Whether to reshuffle the windows each epoch.
        **kwargs: Passed to `keras.utils.PyDataset` (`workers`, ...).

    Example:

    ```python
    data = MaskedLMDataset(windows, 32, vocab_size, mask_id, special_ids=(1, 3, 4))
    mlm.fit(data, epochs=10)
    ```
    """

    def __init__(
        self,
        windows,
        batch_size,
        vocab_size,
        mask_token_id,
        special_ids=(),
        rate=0.15,
        seed=0,
        shuffle=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        windows = np.asarray(windows)
        if windows.ndim != 2 or windows.dtype.kind not in "iu":
            raise ValueError(
                "Expected `windows` of integer ids with shape (n, time); received "
                f"shape {windows.shape} and dtype {windows.dtype}."
            )
        self.batch_size = check_int("batch_size", batch_size)
        if self.batch_size > len(windows):
            raise ValueError(
                f"`batch_size` must be <= the number of windows ({len(windows)}); "
                f"received batch_size={batch_size}."
            )
        self.windows = windows.astype("int32")
        self.vocab_size = vocab_size
        self.mask_token_id = mask_token_id
        self.special_ids = tuple(special_ids)
        self.rate = rate
        self.seed = check_int("seed", seed, minimum=0)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        mask_tokens(self.windows[:1], vocab_size, mask_token_id, rate, special_ids)
        self._order = self._permutation()

    def _permutation(self):
        if not self.shuffle:
            return np.arange(len(self.windows))
        return np.random.default_rng([self.seed, self.epoch, 1]).permutation(
            len(self.windows)
        )

    def __len__(self):
        return len(self.windows) // self.batch_size

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        inputs, labels, weights = mask_tokens(
            self.windows[rows],
            self.vocab_size,
            self.mask_token_id,
            self.rate,
            self.special_ids,
            seed=np.random.default_rng([self.seed, self.epoch, 2, index]),
        )
        return inputs, labels, weights

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._permutation()


# ---- Text helpers --------------------------------------------------------------


def split_documents(documents, test_fraction=0.2, deduplicate=True):
    """Cuts every document into a head (training) and a tail (held out).

    The cut is by position, in words: the first `1 - test_fraction` of each
    document's words are its training part, the rest its held-out part, so
    held-out text is continuous prose no model has seen. With `deduplicate`,
    a paragraph (text between blank lines) that already appeared in a longer
    document is dropped first: Python's help topics repeat whole sections
    (`customization` is a part of `specialnames`), and a repeated paragraph
    would put held-out text into the training part of another document.

    Args:
        documents: Iterable of str.
        test_fraction: Share of each document's words held out, in (0, 1).
        deduplicate: Drop paragraphs seen in a longer (earlier-kept) document.

    Returns:
        `(train_parts, test_parts)`: two lists of str, index-aligned with
        `documents`; words are joined by single spaces (`word_split` gives back
        the same words). A document left empty gives two empty strings.
    """
    from kerasdl.data.text import word_split

    documents = list(documents)
    if not documents or not all(isinstance(d, str) for d in documents):
        raise ValueError("`documents` must be a non-empty list of str.")
    test_fraction = check_float(
        "test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True
    )
    kept = list(documents)
    if deduplicate:
        seen = set()
        for i in sorted(range(len(documents)), key=lambda i: -len(documents[i])):
            paragraphs = []
            for paragraph in documents[i].split("\n\n"):
                key = " ".join(word_split(paragraph))
                if key and key not in seen:
                    seen.add(key)
                    paragraphs.append(paragraph)
            kept[i] = "\n\n".join(paragraphs)
    train_parts, test_parts = [], []
    for document in kept:
        words = word_split(document)
        cut = int(round(len(words) * (1.0 - test_fraction)))
        train_parts.append(" ".join(words[:cut]))
        test_parts.append(" ".join(words[cut:]))
    return train_parts, test_parts


def bert_windows(ids, max_len, cls_id, sep_id, stride=None, min_tokens=1):
    """Cuts 1-D ids into `[CLS] chunk [SEP]` rows, zero-padded to `max_len`.

    Args:
        ids: 1-D integer ids of one document (or text part).
        max_len: Row length; each chunk holds up to `max_len - 2` ids.
        cls_id: Id of `[CLS]` (first token of every row).
        sep_id: Id of `[SEP]` (after the last real token).
        stride: Step between chunk starts; default `max_len - 2` (no overlap).
        min_tokens: A final chunk shorter than this is dropped.

    Returns:
        int32 array `(n_rows, max_len)`, possibly with 0 rows.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"Expected 1-D `ids`; received shape {ids.shape}.")
    max_len = check_int("max_len", max_len, minimum=3)
    chunk = max_len - 2
    stride = chunk if stride is None else check_int("stride", stride)
    min_tokens = check_int("min_tokens", min_tokens)
    rows = []
    for start in range(0, max(len(ids), 1), stride):
        piece = ids[start : start + chunk]
        if len(piece) < min_tokens:
            break
        row = np.zeros(max_len, "int32")
        row[0] = cls_id
        row[1 : 1 + len(piece)] = piece
        row[1 + len(piece)] = sep_id
        rows.append(row)
        if start + chunk >= len(ids):
            break
    return np.stack(rows) if rows else np.zeros((0, max_len), "int32")


def fill_mask(
    model,
    tokenizer,
    text,
    top_k=5,
    mask_token="[MASK]",
    cls_token="[CLS]",
    sep_token="[SEP]",
):
    """The masked LM's top guesses for each `[MASK]` in `text`.

    Args:
        model: A `BertMaskedLM`.
        tokenizer: The `WordTokenizer` it was trained with (holding the three
            special tokens).
        text: A sentence with one or more `mask_token`s, e.g.
            `"the [MASK] statement is used to ..."`.
        top_k: Guesses per blank.
        mask_token, cls_token, sep_token: The special tokens' spelling.

    Returns:
        A list with one entry per blank: a list of `(word, probability)`,
        most likely first. Special tokens and `[UNK]` are never proposed.
    """
    if not isinstance(text, str) or mask_token not in text:
        raise ValueError(
            f"`text` must be a str holding {mask_token!r}; received text={text!r}."
        )
    top_k = check_int("top_k", top_k)
    mask_id = tokenizer.token_id(mask_token)
    pieces = text.split(mask_token)
    ids = [tokenizer.token_id(cls_token)]
    for i, piece in enumerate(pieces):
        ids.extend(int(t) for t in tokenizer.encode(piece))
        if i < len(pieces) - 1:
            ids.append(mask_id)
    ids.append(tokenizer.token_id(sep_token))
    max_len = model.encoder.max_len
    if len(ids) > max_len:
        raise ValueError(
            f"`text` is {len(ids)} tokens with [CLS] and [SEP]; this model reads at "
            f"most max_len={max_len}."
        )
    # Padded to max_len (padding changes nothing) so every sentence has the
    # same shape and the compiled predict function is reused.
    row = np.zeros((1, max_len), "int32")
    row[0, : len(ids)] = ids
    logits = ops.convert_to_numpy(model.predict_on_batch(row))
    logits = np.asarray(logits[0], dtype="float64")
    banned = [0, 1, mask_id, ids[0], ids[-1]]
    guesses = []
    for position in np.flatnonzero(np.asarray(ids) == mask_id):
        row = logits[position].copy()
        row[banned] = -np.inf
        probs = np.exp(row - row.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:top_k]
        guesses.append([(tokenizer.vocabulary[i], float(probs[i])) for i in best])
    return guesses


# ---- Models --------------------------------------------------------------------


def _token_input():
    return keras.Input(shape=(None,), dtype="int32", name="token_ids")


@keras.saving.register_keras_serializable(package="kerasdl")
class BertEncoder(keras.Model):
    """A BERT-style bidirectional Transformer encoder.

    Token embedding + learned position embedding, LayerNorm and dropout, then
    `num_layers` `TransformerEncoderBlock`s. Token id 0 is padding: padded
    positions are hidden from every attention, so the features of the real
    tokens do not depend on how much padding follows (tested). With
    `norm_first=False` (default) the blocks are post-norm, as in BERT; with
    `norm_first=True` they are pre-norm and a final LayerNorm is added.

    Args:
        vocab_size: Number of token ids (0 is padding).
        max_len: Longest sequence; the size of the position table.
        hidden_dim: Model width; divisible by `num_heads`.
        num_layers: Number of encoder blocks.
        num_heads: Attention heads per block.
        intermediate_dim: Feed-forward width; default `4 * hidden_dim`.
        dropout: Dropout of the embeddings, attention weights and sub-layers.
        norm_first: Pre-norm (True) or post-norm (False, BERT) blocks.
        layer_norm_epsilon: Epsilon of every LayerNorm.
        seed: Integer seed of the dropouts (initial weights follow Keras's
            global seed: `kerasdl.training.set_seed`).
        **kwargs: Passed to `keras.Model` (e.g. `name`, `dtype`).

    Call arguments:
        token_ids: Integer ids `(batch, time)`, `time <= max_len`.
        training: Whether dropout is active.

    Returns:
        Sequence features `(batch, time, hidden_dim)`.

    Example:

    ```python
    encoder = BertEncoder(vocab_size=5000, max_len=64, hidden_dim=128, num_layers=2)
    features = encoder(token_ids)  # (batch, time, 128)
    ```
    """

    def __init__(
        self,
        vocab_size,
        max_len,
        hidden_dim=128,
        num_layers=2,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        norm_first=False,
        layer_norm_epsilon=1e-5,
        seed=None,
        name="bert_encoder",
        **kwargs,
    ):
        vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        max_len = check_int("max_len", max_len)
        hidden_dim = check_int("hidden_dim", hidden_dim)
        num_layers = check_int("num_layers", num_layers)
        num_heads = check_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`; received "
                f"hidden_dim={hidden_dim} and num_heads={num_heads}."
            )
        intermediate_dim = check_int(
            "intermediate_dim", intermediate_dim, allow_none=True
        )
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)
        layer_norm_epsilon = check_float(
            "layer_norm_epsilon", layer_norm_epsilon, low=0.0, low_open=True
        )
        seed = check_int("seed", seed, minimum=0, allow_none=True)

        # === Layers ===
        token_embedding = keras.layers.Embedding(
            vocab_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="token_embedding",
        )
        position_embedding = LearnedPositionEmbedding(
            max_len, name="position_embedding"
        )
        embedding_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="embedding_norm"
        )
        embedding_dropout = keras.layers.Dropout(
            dropout, seed=seed, name="embedding_dropout"
        )
        blocks = [
            TransformerEncoderBlock(
                num_heads,
                intermediate_dim or 4 * hidden_dim,
                dropout=dropout,
                activation="gelu",
                norm_first=norm_first,
                layer_norm_epsilon=layer_norm_epsilon,
                seed=None if seed is None else seed + 1 + i,
                name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]

        # === Functional model ===
        token_ids = _token_input()
        padding_mask = ops.not_equal(token_ids, 0)
        x = position_embedding(token_embedding(token_ids))
        x = embedding_dropout(embedding_norm(x))
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        if norm_first:
            x = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, name="final_norm"
            )(x)
        super().__init__(inputs=token_ids, outputs=x, name=name, **kwargs)

        # === Config ===
        self.token_embedding = token_embedding
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.norm_first = bool(norm_first)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.seed = seed

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocab_size": self.vocab_size,
            "max_len": self.max_len,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


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


def _check_encoder(encoder):
    if not isinstance(encoder, BertEncoder):
        raise ValueError(
            "`encoder` must be a kerasdl BertEncoder; received "
            f"{type(encoder).__name__}."
        )
    return encoder


def _compile_from_config(model, config):
    """What `keras.Model.compile_from_config` does, for a model whose `compile`
    only fills in defaults (Keras skips a custom `compile` when loading)."""
    model.compile(**keras.saving.deserialize_keras_object(config))
    if hasattr(model, "optimizer") and model.built:
        model.optimizer.build(model.trainable_variables)


def _deserialize_encoder(config):
    config = dict(config)
    if isinstance(config.get("encoder"), dict):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
    return config


@keras.saving.register_keras_serializable(package="kerasdl")
class BertMaskedLM(keras.Model):
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
        **kwargs: Passed to `keras.Model`.

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

    def __init__(self, encoder, tie_embeddings=True, name="bert_masked_lm", **kwargs):
        encoder = _check_encoder(encoder)
        tie_embeddings = bool(tie_embeddings)

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
        super().__init__(inputs=token_ids, outputs=logits, name=name, **kwargs)

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
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "tie_embeddings": self.tie_embeddings,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))


@keras.saving.register_keras_serializable(package="kerasdl")
class BertClassifier(keras.Model):
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
        **kwargs: Passed to `keras.Model`.

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
        **kwargs,
    ):
        encoder = _check_encoder(encoder)
        num_classes = check_int("num_classes", num_classes, minimum=2)
        if pooling not in POOLINGS:
            raise ValueError(
                f"`pooling` must be one of {POOLINGS}; received pooling={pooling!r}."
            )
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_open=True)

        # === Functional model ===
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
        super().__init__(inputs=token_ids, outputs=logits, name=name, **kwargs)

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
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "pooling": self.pooling,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_deserialize_encoder(config))


# ---- Pre-training recipe -------------------------------------------------------


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


@dataclasses.dataclass
class MaskedLMResult:
    """What `train_masked_lm` returns.

    `train_windows` are the training rows (before masking); `heldout` is the
    fixed `(inputs, labels, sample_weights)` of the held-out windows that the
    accuracies are measured on.
    """

    model: object
    tokenizer: object
    history: dict
    heldout_accuracy: float
    heldout_word_accuracy: float
    unigram_accuracy: float
    unigram_word_accuracy: float
    unigram_token: str
    unigram_word: str
    heldout_positions: int
    train_parts: list
    test_parts: list
    train_windows: np.ndarray
    heldout: tuple
    train_seconds: float
    settings: dict

    def summary(self) -> dict:
        """The JSON-ready numbers (no model, no text)."""
        return {
            "heldout_masked_accuracy": self.heldout_accuracy,
            "heldout_masked_word_accuracy": self.heldout_word_accuracy,
            "unigram_accuracy": self.unigram_accuracy,
            "unigram_word_accuracy": self.unigram_word_accuracy,
            "unigram_token": self.unigram_token,
            "unigram_word": self.unigram_word,
            "heldout_positions": self.heldout_positions,
            "train_seconds": self.train_seconds,
            "settings": self.settings,
            "history": self.history,
        }


def _part_windows(parts, tokenizer, max_len):
    cls_id, sep_id = tokenizer.token_id("[CLS]"), tokenizer.token_id("[SEP]")
    rows = [bert_windows(tokenizer.encode(p), max_len, cls_id, sep_id) for p in parts]
    return np.concatenate(rows) if rows else np.zeros((0, max_len), "int32")


def train_masked_lm(
    documents=None,
    *,
    max_len=64,
    hidden_dim=128,
    num_layers=2,
    num_heads=4,
    intermediate_dim=None,
    dropout=0.1,
    norm_first=False,
    max_words=5000,
    min_count=2,
    epochs=8,
    batch_size=32,
    learning_rate=1e-3,
    warmup_fraction=0.1,
    weight_decay=0.01,
    test_fraction=0.2,
    mask_rate=0.15,
    seed=0,
    verbose=0,
):
    """Pre-trains a `BertMaskedLM` on documents and scores it on held-out text.

    Recipe: `split_documents` keeps the last `test_fraction` of every document
    (after removing repeated paragraphs) as held-out text; a `WordTokenizer`
    (`[PAD]`, `[UNK]`, `[MASK]`, `[CLS]`, `[SEP]`, then words seen at least
    `min_count` times in the training parts) is fitted on the training parts
    only; each part is cut into `[CLS] words [SEP]` windows of `max_len`
    tokens; training draws fresh 15% masks every epoch (`MaskedLMDataset`;
    `[UNK]`, `[CLS]`, `[SEP]` are never targets); AdamW with linear warm-up
    over `warmup_fraction` of the steps, then cosine decay to 0, global
    gradient-norm clipping at 1.

    Quality: the masked-token accuracy on the held-out windows with one fixed
    mask (seed `seed + 1`), overall and on alphabetic-word targets only (the
    corpus has long runs of punctuation, e.g. table borders `+-----+`, which
    are easy to fill in), next to the unigram baseline that always guesses the
    most frequent training token (or word).

    Args:
        documents: List of str; default the embedded corpus
            (`kerasdl.data.load_text_corpus`, Python's help topics).
        max_len, hidden_dim, num_layers, num_heads, intermediate_dim, dropout,
            norm_first: The `BertEncoder`.
        max_words, min_count: The tokenizer's vocabulary.
        epochs, batch_size, learning_rate, warmup_fraction, weight_decay:
            The optimisation.
        test_fraction: Share of each document held out.
        mask_rate: Share of the real tokens selected per window.
        seed: Seed of the weights, masks, shuffling and dropout.
        verbose: Keras's `fit` verbosity.

    Returns:
        A `MaskedLMResult`.
    """
    from kerasdl.data import WordTokenizer, load_text_corpus
    from kerasdl.training import set_seed
    from kerasdl.training.schedules import warmup_cosine

    documents = list(load_text_corpus().x if documents is None else documents)
    max_len = check_int("max_len", max_len, minimum=3)
    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    check_float("warmup_fraction", warmup_fraction, low=0.0, high=1.0, high_open=True)
    check_float("weight_decay", weight_decay, low=0.0)
    seed = check_int("seed", seed, minimum=0)
    train_parts, test_parts = split_documents(documents, test_fraction)
    tokenizer = WordTokenizer.fit(
        [p for p in train_parts if p], max_words, min_count, SPECIAL_TOKENS
    )
    mask_id = tokenizer.token_id("[MASK]")
    special = (1, tokenizer.token_id("[CLS]"), tokenizer.token_id("[SEP]"))
    train_windows = _part_windows(train_parts, tokenizer, max_len)
    test_windows = _part_windows(test_parts, tokenizer, max_len)
    if len(train_windows) < batch_size or not len(test_windows):
        raise ValueError(
            f"The documents give {len(train_windows)} training and "
            f"{len(test_windows)} held-out windows of max_len={max_len}; need at "
            f"least batch_size={batch_size} and 1. Pass more text or smaller sizes."
        )

    set_seed(seed)
    encoder = BertEncoder(
        tokenizer.vocab_size,
        max_len,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        num_heads=num_heads,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        norm_first=norm_first,
        seed=seed,
    )
    model = BertMaskedLM(encoder)
    data = MaskedLMDataset(
        train_windows,
        batch_size,
        tokenizer.vocab_size,
        mask_id,
        special_ids=special,
        rate=mask_rate,
        seed=seed,
    )
    steps = epochs * len(data)
    warmup = int(round(warmup_fraction * steps))
    schedule = warmup_cosine(learning_rate, warmup, max(1, steps - warmup))
    model.compile(
        keras.optimizers.AdamW(schedule, weight_decay=weight_decay, global_clipnorm=1.0)
    )
    heldout = mask_tokens(
        test_windows,
        tokenizer.vocab_size,
        mask_id,
        mask_rate,
        special,
        seed=seed + 1,
    )
    start = time.perf_counter()
    history = model.fit(data, epochs=epochs, validation_data=heldout, verbose=verbose)
    seconds = time.perf_counter() - start

    words = [i for i, t in enumerate(tokenizer.vocabulary) if t.isalpha()]
    accuracy, positions = masked_accuracy(model, *heldout)
    word_accuracy, _ = masked_accuracy(model, *heldout, only_ids=words)
    # The unigram baseline: the most frequent training target (and word).
    counts = np.bincount(train_windows.ravel(), minlength=tokenizer.vocab_size)
    counts[[0, mask_id, *special]] = 0
    top_token = int(np.argmax(counts))
    word_counts = np.zeros_like(counts)
    word_counts[words] = counts[words]
    top_word = int(np.argmax(word_counts))
    _, labels, weights = heldout
    selected = weights > 0
    is_word = selected & np.isin(labels, words)
    settings = {
        "max_len": max_len,
        "hidden_dim": hidden_dim,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "intermediate_dim": intermediate_dim or 4 * hidden_dim,
        "dropout": dropout,
        "norm_first": norm_first,
        "vocab_size": tokenizer.vocab_size,
        "max_words": max_words,
        "min_count": min_count,
        "epochs": epochs,
        "batch_size": batch_size,
        "steps": steps,
        "learning_rate": learning_rate,
        "warmup_steps": warmup,
        "weight_decay": weight_decay,
        "test_fraction": test_fraction,
        "mask_rate": mask_rate,
        "seed": seed,
        "parameters": int(model.count_params()),
        "train_windows": int(len(train_windows)),
        "heldout_windows": int(len(test_windows)),
        "train_tokens": int((train_windows > 0).sum()),
    }
    return MaskedLMResult(
        model=model,
        tokenizer=tokenizer,
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
        heldout_accuracy=accuracy,
        heldout_word_accuracy=word_accuracy,
        unigram_accuracy=float((labels[selected] == top_token).mean()),
        unigram_word_accuracy=float((labels[is_word] == top_word).mean()),
        unigram_token=tokenizer.vocabulary[top_token],
        unigram_word=tokenizer.vocabulary[top_word],
        heldout_positions=positions,
        train_parts=train_parts,
        test_parts=test_parts,
        train_windows=train_windows,
        heldout=heldout,
        train_seconds=seconds,
        settings=settings,
    )
