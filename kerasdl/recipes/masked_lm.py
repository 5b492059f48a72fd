"""BERT pre-training, the recipe: tokenize documents (default: the embedded help
topics), hold out the tail of every document, train a `BertMaskedLM` with dynamic
masking, and score the masked-token accuracy on the held-out tails next to a
unigram baseline (always guess the most frequent training token).
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from kerasdl._checks import check_float, check_int
from kerasdl.data import WordTokenizer, load_text_corpus
from kerasdl.models.transformers.bert.encoder import BertEncoder
from kerasdl.models.transformers.bert.masked_lm import BertMaskedLM, masked_accuracy
from kerasdl.models.transformers.bert.masking import (
    SPECIAL_TOKENS,
    MaskedLMDataset,
    mask_tokens,
)
from kerasdl.models.transformers.bert.text import bert_windows, split_documents
from kerasdl.training import set_seed
from kerasdl.training.schedules import warmup_cosine


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
