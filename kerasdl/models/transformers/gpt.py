"""A GPT-like decoder-only language model with a key/value cache for generation.

`GPTLanguageModel(vocab_size, max_len)` is the GPT-2 recipe at any size: token
and learned position embeddings, a stack of pre-norm causal
`TransformerDecoderBlock`s, a final LayerNorm and a language-model head tied to
the token embedding. Called on integer tokens `(batch, time)` it returns logits
`(batch, time, vocab_size)`; the logits at position t depend on tokens 0..t only.

`generate` extends a prompt one token at a time, with greedy decoding or
temperature, top-k or top-p (nucleus) sampling. With `use_cache=True` (default)
each layer keeps the keys and values of the tokens already seen, so a new token
costs one position's worth of projections and one attention row, instead of the
whole sequence again; both paths give the same tokens (tested) and
`benchmarks/bench_kv_cache.py` measures the speed-up.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdl import backend
from kerasdl._checks import check_int, check_transformer_args
from kerasdl.layers.positional import LearnedPositionEmbedding
from kerasdl.layers.transformer import TransformerDecoderBlock
from kerasdl.models.base import SubclassedModel
from kerasdl.models.transformers.sampling import (
    SAMPLING_METHODS,
    _check_sampling,
    sample_next_token,
)

__all__ = ["GPTLanguageModel", "SAMPLING_METHODS", "sample_next_token"]


@keras.saving.register_keras_serializable(package="kerasdl")
class GPTLanguageModel(SubclassedModel):
    """Decoder-only Transformer language model (GPT-2 layout, pre-norm).

    Args:
        vocab_size: Number of token ids (id 0 may be padding; it is an ordinary
            token to this model).
        max_len: Longest sequence (prompt + generated tokens) the model sees;
            the size of the position table and of the key/value cache.
        num_layers: Number of decoder blocks.
        num_heads: Attention heads per block.
        hidden_dim: Model width (embedding size); divisible by `num_heads`.
        intermediate_dim: Feed-forward width; default `4 * hidden_dim`.
        dropout: Dropout of embeddings, attention weights and sub-layer outputs.
        layer_norm_epsilon: Epsilon of the LayerNorms.
        tie_embeddings: Whether the output projection is the transposed token
            embedding (GPT-2) rather than a separate Dense layer.
        seed: Integer seed of the dropouts.
        **kwargs: Passed to `SubclassedModel`: `name`, `trainable`, `dtype` (the
            dtype policy of every layer, e.g. `"mixed_bfloat16"`).

    Call arguments:
        tokens: Integer ids `(batch, time)`, `time <= max_len`, each in
            `[0, vocab_size)`.
        training: Whether dropout is active.

    Token ids are checked where they are concrete, so a wrong id fails with a
    ValueError naming the argument instead of giving NaN logits (JAX: an id >=
    vocab_size reads outside the embedding table) or finite wrong ones (a negative
    id): NumPy ids given to `__call__`, `fit`, `evaluate`, `predict` and
    `generate` must be integers in `[0, vocab_size)` (one min/max per call, not
    per step; `fit`/`evaluate` also check integer NumPy targets `y`). Float or
    boolean ids are refused by dtype everywhere, also as tensors. Ids inside a
    `tf.data.Dataset`, a generator or a backend tensor are not read back (that
    would cost a device sync per step); check them before batching.

    Returns:
        Logits `(batch, time, vocab_size)` (float32 also under mixed precision).

    Example:

    ```python
    model = GPTLanguageModel(vocab_size=100, max_len=128)
    model.compile("adamw", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(windows[:, :-1], windows[:, 1:])
    ids = model.generate(prompt_ids, max_new_tokens=50, method="top_p", top_p=0.9)
    ```
    """

    def __init__(
        self,
        vocab_size,
        max_len,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=None,
        dropout=0.1,
        layer_norm_epsilon=1e-5,
        tie_embeddings=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.max_len = check_int("max_len", max_len)
        for name, value in check_transformer_args(locals()).items():
            setattr(self, name, value)
        self.tie_embeddings = bool(tie_embeddings)
        self.seed = seed
        self.head_dim = hidden_dim // num_heads

        # ---- Layers -----------------------------------------------------------
        normal = keras.initializers.RandomNormal(stddev=0.02, seed=seed)
        self.token_embedding = keras.layers.Embedding(
            vocab_size,
            hidden_dim,
            embeddings_initializer=normal,
            name="token_embedding",
        )
        self.position_embedding = LearnedPositionEmbedding(
            max_len, name="position_embedding"
        )
        self.embedding_dropout = keras.layers.Dropout(dropout, seed=seed)
        self.blocks = [
            TransformerDecoderBlock(
                num_heads,
                intermediate_dim or 4 * hidden_dim,
                dropout=dropout,
                norm_first=True,
                layer_norm_epsilon=layer_norm_epsilon,
                seed=None if seed is None else seed + 1 + i,
                name=f"decoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="final_norm"
        )
        self.lm_head = None
        if not self.tie_embeddings:
            self.lm_head = keras.layers.Dense(vocab_size, name="lm_head")
        self._compiled = {}

    def build(self, tokens_shape):
        shape = self._check_tokens_shape(tokens_shape)
        self.token_embedding.build(shape)
        features = shape + (self.hidden_dim,)
        self.position_embedding.build(features)
        for block in self.blocks:
            block.build(features)
        self.final_norm.build(features)
        if self.lm_head is not None:
            self.lm_head.build(features)
        self.built = True

    def _check_tokens_shape(self, shape):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(
                f"Expected `tokens` of rank 2 (batch, time); received shape {shape}."
            )
        if shape[1] is not None and shape[1] > self.max_len:
            raise ValueError(
                f"This model has max_len={self.max_len}; received tokens of "
                f"length {shape[1]}."
            )
        return shape

    # ---- Input checks (outside the compiled steps) ---------------------------

    def _check_token_ids(self, tokens, name="tokens"):
        """Integer dtype for any array or tensor; values in [0, vocab_size) for
        NumPy arrays (the only ids that are concrete without a device sync)."""
        if isinstance(tokens, np.ndarray):
            dtype = tokens.dtype
            if dtype.kind not in "iu":
                raise ValueError(
                    f"`{name}` must hold integer token ids; received dtype {dtype}."
                )
            if tokens.size:
                low, high = tokens.min(), tokens.max()
                if low < 0 or high >= self.vocab_size:
                    raise ValueError(
                        f"`{name}` must hold token ids in [0, {self.vocab_size}) "
                        f"(vocab_size={self.vocab_size}); received values from "
                        f"{low} to {high}."
                    )
        elif hasattr(tokens, "dtype") and hasattr(tokens, "shape"):
            dtype = keras.backend.standardize_dtype(tokens.dtype)
            if "int" not in dtype:
                raise ValueError(
                    f"`{name}` must hold integer token ids; received dtype {dtype}."
                )

    def _check_targets(self, y, name="y"):
        if isinstance(y, np.ndarray) and y.dtype.kind in "iu":
            self._check_token_ids(y, name)

    def __call__(self, tokens, *args, **kwargs):
        self._check_token_ids(tokens, "tokens")
        return super().__call__(tokens, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, after checking NumPy token ids `x` and targets `y`
        (and a `validation_data` tuple of them) once, up front."""
        self._check_token_ids(x, "x")
        self._check_targets(y, "y")
        validation = kwargs.get("validation_data")
        if isinstance(validation, tuple | list) and validation:
            self._check_token_ids(validation[0], "validation_data[0]")
            if len(validation) > 1:
                self._check_targets(validation[1], "validation_data[1]")
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.evaluate`, after checking NumPy ids `x` and targets `y`."""
        self._check_token_ids(x, "x")
        self._check_targets(y, "y")
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict`, after checking NumPy token ids `x`."""
        self._check_token_ids(x, "x")
        return super().predict(x, *args, **kwargs)

    # ---- Forward ---------------------------------------------------------------

    def _embed(self, tokens, start_index, training):
        x = self.token_embedding(tokens)
        x = self.position_embedding(x, start_index=start_index)
        return self.embedding_dropout(x, training=training)

    def _logits(self, x):
        x = self.final_norm(x)
        if self.lm_head is not None:
            logits = self.lm_head(x)
        else:
            table = ops.cast(self.token_embedding.embeddings, x.dtype)
            logits = ops.matmul(x, ops.transpose(table))
        return ops.cast(logits, "float32")

    def call(self, tokens, training=None):
        self._check_tokens_shape(tokens.shape)
        tokens = ops.cast(tokens, "int32")
        x = self._embed(tokens, 0, training)
        for block in self.blocks:
            x = block(x, training=training)
        return self._logits(x)

    def compute_output_shape(self, tokens_shape):
        shape = self._check_tokens_shape(tokens_shape)
        return shape + (self.vocab_size,)

    def init_cache(self, batch_size):
        """An empty key/value cache `(batch, num_layers, 2, max_len, heads,
        head_dim)` in the model's compute dtype."""
        check_int("batch_size", batch_size)
        shape = (
            batch_size,
            self.num_layers,
            2,
            self.max_len,
            self.num_heads,
            self.head_dim,
        )
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, tokens, cache, cache_update_index):
        """Runs `tokens` (at positions `cache_update_index`...) through the model,
        attending to the cached keys/values of the earlier positions.

        Returns:
            `(logits, new_cache)`: logits `(batch, time, vocab_size)` of the new
            tokens and the cache with their keys and values written in.
        """
        tokens = ops.cast(tokens, "int32")
        x = self._embed(tokens, cache_update_index, False)
        layer_caches = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(
                x,
                self_attention_cache=cache[:, i],
                cache_update_index=cache_update_index,
            )
            layer_caches.append(layer_cache)
        return self._logits(x), ops.stack(layer_caches, axis=1)

    # ---- Generation ------------------------------------------------------------

    def _compiled_fn(self, name, fn):
        if name not in self._compiled:
            self._compiled[name] = backend.compile_function(fn, self.weights)
        return self._compiled[name]

    def _prefill(self, tokens, cache):
        def fn(tokens, cache):
            logits, cache = self.call_with_cache(tokens, cache, 0)
            return logits[:, -1], cache

        return self._compiled_fn("prefill", fn)(tokens, cache)

    def _step(self, token, cache, index):
        def fn(token, cache, index):
            logits, cache = self.call_with_cache(token, cache, index)
            return logits[:, -1], cache

        return self._compiled_fn("step", fn)(token, cache, index)

    def _full_pass_logits(self, buffer, position):
        def fn(buffer, position):
            logits = self(buffer, training=False)
            return ops.take(logits, position, axis=1)

        return self._compiled_fn("full", fn)(buffer, position)

    def generate(
        self,
        prompt,
        max_new_tokens,
        method="greedy",
        temperature=1.0,
        top_k=None,
        top_p=None,
        seed=None,
        use_cache=True,
        suppress_tokens=(),
    ):
        """Extends `prompt` by `max_new_tokens` tokens.

        Args:
            prompt: Integer ids `(time,)` or `(batch, time)` (at least one
                token per row; all rows the same length).
            max_new_tokens: Number of tokens to add; `time + max_new_tokens`
                must not exceed `max_len`.
            method: `"greedy"`, `"temperature"`, `"top_k"` or `"top_p"` (see
                `sample_next_token`).
            temperature: Softmax temperature of the sampling methods.
            top_k: Tokens kept by `"top_k"`.
            top_p: Probability mass kept by `"top_p"`.
            seed: Seed of the sampling (NumPy); the same seed gives the same
                text, with or without the cache.
            use_cache: Decode with the key/value cache (one new position per
                step) or re-run the model on the whole (padded) sequence at
                each step.
            suppress_tokens: Ids never generated (e.g. the padding id 0 of a
                `CharTokenizer`): their logits are set to -inf before sampling.

        Returns:
            NumPy int32 ids `(batch, time + max_new_tokens)` (or 1-D for a 1-D
            prompt): the prompt followed by the new tokens.
        """
        prompt = np.asarray(prompt)
        squeeze = prompt.ndim == 1
        if squeeze:
            prompt = prompt[None]
        if prompt.ndim != 2 or prompt.shape[1] < 1 or prompt.shape[0] < 1:
            raise ValueError(
                "Expected `prompt` of shape (time,) or (batch, time) with at least "
                f"one token; received shape {prompt.shape}."
            )
        if prompt.dtype.kind not in "iu":
            raise ValueError(f"prompt must hold integer ids; received {prompt.dtype}.")
        if prompt.min() < 0 or prompt.max() >= self.vocab_size:
            raise ValueError(
                f"prompt ids must be in [0, {self.vocab_size}); received values from "
                f"{prompt.min()} to {prompt.max()}."
            )
        max_new_tokens = check_int("max_new_tokens", max_new_tokens, minimum=0)
        batch, length = prompt.shape
        if length + max_new_tokens > self.max_len:
            raise ValueError(
                f"The prompt ({length} tokens) plus max_new_tokens={max_new_tokens} "
                f"exceeds this model's max_len={self.max_len}."
            )
        _check_sampling(method, temperature, top_k, top_p, self.vocab_size)
        suppress = np.asarray(list(suppress_tokens), dtype="int64")
        if suppress.size and (suppress.min() < 0 or suppress.max() >= self.vocab_size):
            raise ValueError(
                f"suppress_tokens must be ids in [0, {self.vocab_size}); received "
                f"{list(suppress_tokens)!r}."
            )
        if suppress.size >= self.vocab_size:
            raise ValueError("suppress_tokens must leave at least one token.")
        if not self.built:
            self.build((None, None))
        rng = np.random.default_rng(seed)
        out = np.zeros((batch, length + max_new_tokens), "int32")
        out[:, :length] = prompt
        if max_new_tokens == 0:
            return out[0] if squeeze else out

        def pick(logits):
            logits = np.array(ops.convert_to_numpy(logits), dtype="float64")
            logits[:, suppress] = -np.inf
            return sample_next_token(logits, method, temperature, top_k, top_p, rng)

        if use_cache:
            logits, cache = self._prefill(out[:, :length], self.init_cache(batch))
            for position in range(length, length + max_new_tokens):
                out[:, position] = pick(logits)
                if position + 1 < length + max_new_tokens:
                    logits, cache = self._step(
                        out[:, position : position + 1],
                        cache,
                        np.asarray(position, "int32"),
                    )
        else:
            buffer = np.zeros((batch, self.max_len), "int32")
            buffer[:, :length] = prompt
            for position in range(length, length + max_new_tokens):
                logits = self._full_pass_logits(
                    buffer, np.asarray(position - 1, "int32")
                )
                out[:, position] = buffer[:, position] = pick(logits)
        return out[0] if squeeze else out

    # ---- Config ----------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "max_len": self.max_len,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "tie_embeddings": self.tie_embeddings,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
