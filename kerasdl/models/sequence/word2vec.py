"""Word embeddings: `keras.layers.Embedding` tables trained by word2vec.

Skip-gram with negative sampling (Mikolov et al., 2013, "Distributed
Representations of Words and Phrases and their Compositionality"): every word
(the *target*) is trained to score its neighbours within a window (the true
*contexts*) above words drawn at random from the unigram distribution raised to
the power 3/4 (the *negatives*). The score of a (target, context) pair is the
dot product of the target's row of one `keras.layers.Embedding` table with the
context's row of a second table; the loss is the binary cross-entropy of
`sigmoid(score)` against 1 for the true context and 0 for each negative. After
training, the target table holds the word vectors: words used in similar
contexts end up with a high cosine similarity.

* `skipgram_pairs` (in `skipgram.py`, re-exported here): the training arrays
  (NumPy, vectorised): windows that never cross a document boundary,
  frequent-word subsampling, unigram^0.75 negatives.
* `Word2Vec`: the model (two `Embedding` tables, dot-product logits), with
  `most_similar` (cosine nearest neighbours) and `to_embedding_layer` (the
  learned vectors as a ready `keras.layers.Embedding` for a downstream model).
* `plot_embeddings_2d`: a PCA (or t-SNE) projection of chosen words, as PNG.

Tokenizing a corpus, pairing and fitting in one call is the recipe
`kerasdl.recipes.train_word2vec`.

Example:

```python
from kerasdl.recipes import train_word2vec

model, tokenizer, history = train_word2vec(epochs=5)
model.most_similar("true", tokenizer, top_k=5)  # [("false", 0.8...), ...]
```
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_int
from kerasdl.models.base import SubclassedModel
from kerasdl.models.sequence.skipgram import (
    _RESERVED,
    skipgram_pairs,
    unigram_distribution,
)

__all__ = [
    "Word2Vec",
    "plot_embeddings_2d",
    "skipgram_pairs",
    "unigram_distribution",
]


@keras.saving.register_keras_serializable(package="kerasdl")
class Word2Vec(SubclassedModel):
    """Skip-gram word2vec: two `keras.layers.Embedding` tables and a dot product.

    Train it with `keras.losses.BinaryCrossentropy(from_logits=True)` on the
    arrays of `skipgram_pairs` (negative-sampling loss); afterwards the target
    table (`embeddings`) holds the word vectors.

    Args:
        vocab_size: Number of word ids (rows of each table).
        embedding_dim: Length of each word vector.
        seed: Integer seed of the initial target table (uniform in
            `+-0.5 / embedding_dim`, as in the word2vec C code; the context
            table starts at zero).
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        inputs: A tuple `(targets, contexts)`: integer ids `(batch,)` (or
            `(batch, 1)`) and `(batch, k)` (the true context and the negatives).

    Returns:
        Logits `(batch, k)`: the dot product of each target vector with each
        of its `k` context vectors.

    Example:

    ```python
    targets, contexts, labels = skipgram_pairs(docs, tokenizer.vocab_size)
    model = Word2Vec(tokenizer.vocab_size, embedding_dim=64)
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit((targets, contexts), labels, batch_size=1024, epochs=5)
    model.most_similar("list", tokenizer)
    ```
    """

    def __init__(self, vocab_size, embedding_dim=64, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=3)
        self.embedding_dim = check_int("embedding_dim", embedding_dim)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)

        # ---- Layers ----------------------------------------------------------
        scale = 0.5 / embedding_dim
        self.target_embedding = keras.layers.Embedding(
            vocab_size,
            embedding_dim,
            embeddings_initializer=keras.initializers.RandomUniform(
                -scale, scale, seed=seed
            ),
            name="target_embedding",
        )
        self.context_embedding = keras.layers.Embedding(
            vocab_size,
            embedding_dim,
            embeddings_initializer="zeros",
            name="context_embedding",
        )

    def build(self, input_shape=None):
        self.target_embedding.build((None,))
        self.context_embedding.build((None, None))
        self.built = True

    def _split_inputs(self, inputs):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(
                "Expected `inputs` to be a tuple (targets, contexts); received "
                f"{type(inputs).__name__}"
                + (f" of length {len(inputs)}." if hasattr(inputs, "__len__") else ".")
            )
        return inputs[0], inputs[1]

    @staticmethod
    def _check_shapes(target_shape, context_shape):
        target_shape, context_shape = tuple(target_shape), tuple(context_shape)
        if len(target_shape) not in (1, 2) or (
            len(target_shape) == 2 and target_shape[1] not in (1, None)
        ):
            raise ValueError(
                "Expected `targets` of shape (batch,) or (batch, 1); received "
                f"shape {target_shape}."
            )
        if len(context_shape) != 2:
            raise ValueError(
                "Expected `contexts` of rank 2 (batch, 1 + num_negative); "
                f"received shape {context_shape}."
            )
        return target_shape, context_shape

    def call(self, inputs):
        targets, contexts = self._split_inputs(inputs)
        target_shape, _ = self._check_shapes(targets.shape, contexts.shape)
        if len(target_shape) == 2:
            targets = ops.squeeze(targets, axis=1)
        target_vectors = self.target_embedding(targets)  # (batch, dim)
        context_vectors = self.context_embedding(contexts)  # (batch, k, dim)
        logits = ops.einsum("bd,bkd->bk", target_vectors, context_vectors)
        return ops.cast(logits, "float32")

    def compute_output_shape(self, input_shape):
        target_shape, context_shape = self._split_inputs(input_shape)
        _, context_shape = self._check_shapes(target_shape, context_shape)
        return (context_shape[0], context_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "embedding_dim": self.embedding_dim,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- Using the vectors -----------------------------------------------------

    def _require_built(self):
        if not self.built:
            self.build()

    @property
    def embeddings(self):
        """The word vectors (the target table) as a NumPy `(vocab_size, dim)`."""
        return self.get_embeddings()

    def get_embeddings(self, normalize=False):
        """The target table as NumPy, each row scaled to unit length when
        `normalize` (all-zero rows stay zero)."""
        self._require_built()
        table = np.asarray(
            ops.convert_to_numpy(self.target_embedding.embeddings), np.float32
        )
        if normalize:
            norms = np.linalg.norm(table, axis=1, keepdims=True)
            table = table / np.maximum(norms, 1e-12)
        return table

    def _query_id(self, query, tokenizer):
        if tokenizer is not None and getattr(tokenizer, "vocab_size", None) != (
            self.vocab_size
        ):
            raise ValueError(
                f"The tokenizer has {getattr(tokenizer, 'vocab_size', '?')} tokens "
                f"but this model has vocab_size={self.vocab_size}; pass the "
                "tokenizer the model was trained with."
            )
        if isinstance(query, str):
            if tokenizer is None:
                raise ValueError(
                    f"A word query ({query!r}) needs the tokenizer; received "
                    "tokenizer=None."
                )
            if query not in tokenizer.index:
                raise ValueError(
                    f"word {query!r} is not in the tokenizer's vocabulary of "
                    f"{tokenizer.vocab_size} tokens."
                )
            index = tokenizer.index[query]
        elif isinstance(query, (int, np.integer)) and not isinstance(query, bool):
            index = int(query)
            if not 0 <= index < self.vocab_size:
                raise ValueError(
                    f"word id must be in [0, {self.vocab_size}); received {index}."
                )
        else:
            raise ValueError(f"word_or_id must be a str or an int; received {query!r}.")
        if index in _RESERVED:
            raise ValueError(
                f"word_or_id={query!r} is the reserved id {index} ([PAD]/[UNK]), "
                "which has no learned meaning."
            )
        return index

    def most_similar(self, word_or_id, tokenizer=None, top_k=10):
        """The `top_k` words nearest to a word by cosine similarity.

        Args:
            word_or_id: A word of the tokenizer's vocabulary, or a word id.
            tokenizer: The `WordTokenizer` the model was trained with (needed for
                a word query; results are words with it, ids without it).
            top_k: Number of neighbours.

        Returns:
            A list of `(word, cosine)` (or `(id, cosine)` without a tokenizer),
            most similar first, without the query itself, `[PAD]` and `[UNK]`.

        Raises:
            ValueError: An unknown word, an id out of range, a reserved id, or a
                tokenizer of another vocabulary size.
        """
        top_k = check_int("top_k", top_k)
        index = self._query_id(word_or_id, tokenizer)
        table = self.get_embeddings(normalize=True)
        scores = table @ table[index]
        scores[[index, *_RESERVED]] = -np.inf
        top_k = min(top_k, self.vocab_size - 3)
        best = np.argpartition(-scores, top_k - 1)[:top_k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [
            (
                tokenizer.vocabulary[i] if tokenizer is not None else int(i),
                float(scores[i]),
            )
            for i in best
        ]

    def to_embedding_layer(self, trainable=False, mask_zero=True, name=None):
        """A new `keras.layers.Embedding` holding the learned word vectors, to
        start a downstream model (a classifier, a tagger) from them.

        Args:
            trainable: Whether the downstream model may fine-tune the vectors.
            mask_zero: Whether id 0 (`[PAD]`) produces a padding mask.
            name: Name of the layer.

        Returns:
            A built `keras.layers.Embedding(vocab_size, embedding_dim)`.
        """
        table = self.embeddings
        layer = keras.layers.Embedding(
            self.vocab_size,
            self.embedding_dim,
            embeddings_initializer=keras.initializers.Constant(table),
            mask_zero=mask_zero,
            trainable=trainable,
            name=name,
        )
        layer.build((None, None))
        layer.embeddings.assign(table)
        return layer


# ---- Plot --------------------------------------------------------------------------


def _project_2d(vectors, method, seed):
    if method == "pca":
        centred = vectors - vectors.mean(axis=0)
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        return centred @ components[:2].T
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(vectors) - 1) // 3)))
    # Exact t-SNE for the few hundred words a readable plot holds: NumPy only.
    # The Barnes-Hut default runs OpenMP threads that, next to a JAX process's
    # own, took 10-30 s for 4 points on a busy 2-core machine.
    return TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        method="exact" if len(vectors) <= 200 else "barnes_hut",
        random_state=seed,
    ).fit_transform(vectors)


def plot_embeddings_2d(
    model,
    tokenizer,
    words=None,
    path="embeddings_2d.png",
    method="pca",
    num_words=60,
    seed=0,
    title=None,
):
    """Projects word vectors to 2-D and draws them as a labelled scatter (PNG).

    Args:
        model: A trained `Word2Vec`.
        tokenizer: Its `WordTokenizer`.
        words: The words to draw; words missing from the vocabulary are
            skipped. Default: the `num_words` most frequent words.
        path: Where to write the figure.
        method: `"pca"` (NumPy SVD of the unit-length vectors) or `"tsne"`
            (scikit-learn's t-SNE).
        num_words: How many frequent words when `words` is None.
        seed: Seed of t-SNE.
        title: Figure title; a default names the method.

    Returns:
        `(path, coordinates)`: the `pathlib.Path` written and a dict word ->
        `(x, y)`.
    """
    from kerasdl._figures import plt, save_figure

    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne'; received method={method!r}.")
    num_words = check_int("num_words", num_words, minimum=2)
    if tokenizer.vocab_size != model.vocab_size:
        raise ValueError(
            f"The tokenizer has {tokenizer.vocab_size} tokens but the model has "
            f"vocab_size={model.vocab_size}."
        )
    if words is None:
        ids = [i for i in range(len(_RESERVED), model.vocab_size)][:num_words]
    else:
        if isinstance(words, str):
            raise ValueError(f"words must be a list of str; received {words!r}.")
        ids = [tokenizer.index[w] for w in words if w in tokenizer.index]
        ids = [i for i in dict.fromkeys(ids) if i not in _RESERVED]
    if len(ids) < 2:
        raise ValueError(
            f"Need at least 2 words of the vocabulary to plot; received {words!r}."
        )
    vectors = model.get_embeddings(normalize=True)[ids].astype(np.float64)
    points = _project_2d(vectors, method, seed)

    fig, ax = plt.subplots(figsize=(9, 7))
    ax.scatter(points[:, 0], points[:, 1], s=12, color="tab:blue", alpha=0.7)
    for (x, y), i in zip(points, ids):
        ax.annotate(
            tokenizer.vocabulary[i],
            (x, y),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_title(title or f"word2vec vectors, {method.upper()} to 2-D")
    ax.set_xticks([])
    ax.set_yticks([])
    written = save_figure(fig, path)
    coordinates = {
        tokenizer.vocabulary[i]: (float(x), float(y)) for (x, y), i in zip(points, ids)
    }
    return written, coordinates


# ---- One call ------------------------------------------------------------------------
