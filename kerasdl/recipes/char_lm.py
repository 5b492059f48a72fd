"""Character-level language modelling: data windows, a bigram baseline, training.

`train_char_lm` trains a `GPTLanguageModel` on a text (default: the embedded
corpus, Python's help topics) and measures it the way language models are
compared: the mean negative log-likelihood of the held-out characters in nats
per character, next to a `BigramLanguageModel` (counts of character pairs,
add-one smoothed) fitted on the same training text and scored on the very same
held-out predictions. The validation text is the corpus's tail, unseen and
continuous.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.data.text import CharTokenizer, split_text

__all__ = [
    "BigramLanguageModel",
    "CharLMResult",
    "corpus_text",
    "evaluate_nats_per_token",
    "generate_text",
    "load_char_lm",
    "save_char_lm",
    "text_windows",
    "train_char_lm",
]


def corpus_text(corpus="builtin") -> str:
    """The text behind `--corpus`: `"builtin"` (the embedded help topics, joined
    by blank lines) or the path of a UTF-8 text file."""
    from kerasdl.data import load_text_corpus, load_text_file

    dataset = load_text_corpus() if corpus == "builtin" else load_text_file(corpus)
    return "\n\n".join(dataset.x)


def text_windows(ids, length, stride=None):
    """Input/target windows for next-token prediction.

    Args:
        ids: 1-D integer ids.
        length: Tokens per input window; targets are the inputs shifted by one.
        stride: Step between window starts; default `length` (no overlap).

    Returns:
        `(x, y)`, int32 arrays `(n_windows, length)` with `y[:, t] = ids[s + t + 1]`.
    """
    ids = np.asarray(ids)
    check_int("length", length)
    stride = length if stride is None else check_int("stride", stride)
    if ids.ndim != 1 or ids.size < length + 1:
        raise ValueError(
            f"ids must be 1-D with more than length={length} tokens; received "
            f"shape {ids.shape}."
        )
    starts = np.arange(0, ids.size - length, stride)
    index = starts[:, None] + np.arange(length + 1)[None, :]
    windows = ids[index].astype("int32")
    return windows[:, :-1], windows[:, 1:]


class BigramLanguageModel:
    """P(next | current) from counts of adjacent token pairs (NumPy).

    Args:
        vocab_size: Number of token ids.
        smoothing: Pseudo-count added to every pair (add-k smoothing), so that
            an unseen pair is unlikely but not impossible.
    """

    def __init__(self, vocab_size, smoothing=1.0):
        self.vocab_size = vocab_size
        self.smoothing = smoothing

    def fit(self, ids):
        """Counts the pairs of the 1-D `ids`; returns self."""
        check_int("vocab_size", self.vocab_size, minimum=2)
        check_float("smoothing", self.smoothing, low=0.0, low_open=True)
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.size < 2:
            raise ValueError(f"ids must be 1-D with >= 2 tokens; received {ids.shape}.")
        counts = np.full((self.vocab_size, self.vocab_size), float(self.smoothing))
        np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
        self.log_probs_ = np.log(counts / counts.sum(1, keepdims=True))
        return self

    def nll(self, x, y):
        """Mean -log P(y | x) in nats over aligned arrays of current/next ids."""
        if not hasattr(self, "log_probs_"):
            raise ValueError("This BigramLanguageModel is not fitted; call fit first.")
        return float(-self.log_probs_[np.asarray(x), np.asarray(y)].mean())


def evaluate_nats_per_token(model, x, y, batch_size=64):
    """Mean cross-entropy (nats per target token) of a logits model on windows."""
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    total = 0.0
    for start in range(0, len(x), batch_size):
        logits = model.predict_on_batch(x[start : start + batch_size])
        total += float(
            keras.ops.convert_to_numpy(loss(y[start : start + batch_size], logits))
        )
    return total / y.size


@dataclasses.dataclass
class CharLMResult:
    """What `train_char_lm` returns."""

    model: object
    tokenizer: CharTokenizer
    history: dict
    val_nats_per_char: float
    bigram_nats_per_char: float
    train_chars: int
    val_chars: int
    train_seconds: float
    settings: dict
    interrupted: bool = False

    def summary(self) -> dict:
        """The JSON-ready numbers (no model)."""
        return {
            "val_nats_per_char": self.val_nats_per_char,
            "bigram_nats_per_char": self.bigram_nats_per_char,
            "val_bits_per_char": self.val_nats_per_char / np.log(2),
            "train_chars": self.train_chars,
            "val_chars": self.val_chars,
            "train_seconds": self.train_seconds,
            "interrupted": self.interrupted,
            "settings": self.settings,
            "history": self.history,
        }


def train_char_lm(
    text=None,
    *,
    max_len=128,
    num_layers=4,
    num_heads=4,
    hidden_dim=128,
    dropout=0.1,
    epochs=3,
    batch_size=32,
    learning_rate=1e-3,
    stride=None,
    validation_fraction=0.1,
    seed=0,
    verbose=1,
    callbacks=None,
):
    """Trains a character-level `GPTLanguageModel` and scores it against a bigram.

    Args:
        text: The training text; default the embedded corpus.
        max_len: Context length (training windows are `max_len` characters).
        num_layers, num_heads, hidden_dim, dropout: The model's size.
        epochs: Passes over the training windows.
        batch_size: Windows per step.
        learning_rate: Peak AdamW learning rate (linear warm-up over the first
            5% of steps, then cosine decay to 0).
        stride: Step between training windows; default `max_len // 2`.
        validation_fraction: Share of the text, at its end, held out.
        seed: Seed of the initialisation, shuffling and dropout.
        verbose: Keras progress bar (1) or silence (0).
        callbacks: Extra Keras callbacks for `fit`.

    Returns:
        A `CharLMResult` (the model, tokenizer, history and the held-out nats
        per character of the model and of the bigram baseline).
    """
    import keras

    from kerasdl.models.transformers.gpt import GPTLanguageModel
    from kerasdl.training import set_seed

    text = corpus_text() if text is None else text
    check_int("max_len", max_len, minimum=2)
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    check_float("learning_rate", learning_rate, low=0.0, low_open=True)
    train_text, val_text = split_text(text, validation_fraction)
    tokenizer = CharTokenizer.fit(text)
    train_ids = tokenizer.encode(train_text)
    val_ids = tokenizer.encode(val_text)
    if len(val_ids) <= max_len:
        raise ValueError(
            f"The validation text ({len(val_ids)} characters) must be longer than "
            f"max_len={max_len}; pass a longer text or a larger validation_fraction."
        )
    x, y = text_windows(train_ids, max_len, stride or max(1, max_len // 2))
    x_val, y_val = text_windows(val_ids, max_len)
    if len(x) < batch_size:
        raise ValueError(
            f"The training text gives {len(x)} windows of {max_len} characters, "
            f"fewer than batch_size={batch_size}; pass a longer text or smaller sizes."
        )

    set_seed(seed)
    model = GPTLanguageModel(
        tokenizer.vocab_size,
        max_len,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        dropout=dropout,
        seed=seed,
    )
    steps = epochs * (len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, steps - steps // 20),
        warmup_target=learning_rate,
        warmup_steps=max(1, steps // 20),
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(
            schedule, weight_decay=0.01, global_clipnorm=1.0
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    interrupted = False
    try:
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=(x_val, y_val),
            shuffle=True,
            verbose=verbose,
            callbacks=callbacks,
        )
    except KeyboardInterrupt:
        # Keep what was learned: the weights trained so far are scored and
        # returned (the CLI saves them) instead of being lost with the stack.
        interrupted = True
    seconds = time.perf_counter() - start
    history = getattr(model, "history", None)
    val_nats = evaluate_nats_per_token(model, x_val, y_val)
    bigram = BigramLanguageModel(tokenizer.vocab_size).fit(train_ids)
    settings = {
        "max_len": max_len,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "dropout": dropout,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "validation_fraction": validation_fraction,
        "seed": seed,
        "parameters": int(model.count_params()),
        "steps": int(steps),
    }
    return CharLMResult(
        model=model,
        tokenizer=tokenizer,
        history={
            k: [float(v) for v in vals]
            for k, vals in (history.history if history is not None else {}).items()
        },
        val_nats_per_char=val_nats,
        bigram_nats_per_char=bigram.nll(x_val, y_val),
        train_chars=len(train_ids),
        val_chars=len(val_ids),
        train_seconds=seconds,
        settings=settings,
        interrupted=interrupted,
    )


def generate_text(
    model, tokenizer, prompt, max_new_tokens=None, use_cache=True, **sampling
):
    """Continues the text `prompt` with a trained character model.

    Args:
        model: A `GPTLanguageModel`.
        tokenizer: Its `CharTokenizer`.
        prompt: The start of the text (characters the tokenizer knows).
        max_new_tokens: Characters to add; default: fill the context
            (`model.max_len - len(prompt)`).
        use_cache: Decode with the key/value cache.
        **sampling: `method`, `temperature`, `top_k`, `top_p`, `seed` of
            `GPTLanguageModel.generate`. The padding id 0 is never generated.

    Returns:
        The prompt followed by the generated characters.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt must be a non-empty str; received {prompt!r}.")
    ids = tokenizer.encode(prompt)
    if len(ids) >= model.max_len:
        raise ValueError(
            f"The prompt has {len(ids)} characters; this model's context is "
            f"max_len={model.max_len}, so the prompt must be shorter."
        )
    if max_new_tokens is None:
        max_new_tokens = model.max_len - len(ids)
    out = model.generate(
        ids, max_new_tokens, use_cache=use_cache, suppress_tokens=(0,), **sampling
    )
    return tokenizer.decode(out)


def save_char_lm(result, out_dir, sample_prompt="The "):
    """Writes `model.keras`, `tokenizer.json`, `result.json` (the numbers and a
    sample) and `loss.png` (training and validation loss) to `out_dir`.

    Returns:
        The dict written to `result.json`.
    """
    import json
    import os

    from kerasdl._figures import plt, save_figure

    os.makedirs(out_dir, exist_ok=True)
    result.model.save(os.path.join(out_dir, "model.keras"))
    result.tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
    record = result.summary()
    prompt = (
        "".join(c for c in sample_prompt if c in result.tokenizer.index)
        or (result.tokenizer.vocabulary[1])
    )
    record["sample_prompt"] = prompt
    record["sample_top_p_0.9"] = generate_text(
        result.model, result.tokenizer, prompt, method="top_p", top_p=0.9, seed=0
    )
    with open(os.path.join(out_dir, "result.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, ensure_ascii=False)
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        values = result.history.get(key, [])
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.axhline(
        result.bigram_nats_per_char, color="grey", ls="--", label="bigram (validation)"
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per character")
    ax.set_title("Character-level GPT")
    ax.legend()
    save_figure(fig, os.path.join(out_dir, "loss.png"))
    return record


def load_char_lm(model_path, tokenizer_path=None):
    """Loads a model saved by `save_char_lm` and its tokenizer (by default the
    `tokenizer.json` beside the model file).

    Returns:
        `(model, tokenizer)`.
    """
    import os

    import keras

    import kerasdl.models.transformers.gpt  # noqa: F401  (registers the class)

    model_path = os.fspath(model_path)
    if not (os.path.isfile(model_path) and model_path.endswith(".keras")):
        raise ValueError(
            f"model must be an existing .keras file; received {model_path!r}."
        )
    if tokenizer_path is None:
        tokenizer_path = os.path.join(os.path.dirname(model_path), "tokenizer.json")
    if not os.path.isfile(tokenizer_path):
        raise ValueError(
            f"No tokenizer beside the model: {os.fspath(tokenizer_path)!r} is missing "
            "(kerasdl train gpt writes it; pass --tokenizer PATH)."
        )
    tokenizer = CharTokenizer.load(tokenizer_path)
    model = keras.saving.load_model(model_path)
    if getattr(model, "vocab_size", None) != tokenizer.vocab_size:
        raise ValueError(
            f"The tokenizer has {tokenizer.vocab_size} tokens but the model "
            f"{model_path!r} expects vocab_size={getattr(model, 'vocab_size', None)}."
        )
    return model, tokenizer
