"""A BERT-like encoder learns Python's help texts by filling in blanks.

Shows `kerasdl.models.transformers.bert`:

- `train_masked_lm` pre-trains a `BertMaskedLM` (post-norm `BertEncoder` + MLM head
  tied to the token embedding) on the embedded corpus: 15% of the real tokens of
  each window selected, 80% of those replaced by [MASK], 10% by a random word, 10%
  kept; fresh masks every epoch. The last 20% of every help page is held out;
  the masked-token accuracy there is printed next to a unigram baseline (always
  guess the most frequent training token);
- `fill_mask`: the model's top guesses for blanks in new sentences;
- save/load: `model.keras` + `tokenizer.json` reload and give the same guesses.

The classifier that fine-tunes this encoder, against one trained from scratch and
TF-IDF + logistic regression, is measured by `benchmarks/bench_bert.py`.

Run:

    python examples/bert_mlm.py
    python examples/bert_mlm.py --epochs 40 --hidden-dim 64
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import keras

from kerasdl.data import WordTokenizer, load_text_corpus
from kerasdl.models.transformers import fill_mask
from kerasdl.plotting import plt, save_figure
from kerasdl.recipes import train_masked_lm

NAME = "bert_mlm"
SENTENCES = (
    "the [MASK] statement is used to leave a loop early .",
    "a [MASK] is an immutable sequence of characters .",
    "if the condition is [MASK] , the else clause is executed .",
    "the [MASK] of a function is the value it returns .",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument(
        "--documents",
        type=int,
        default=None,
        help="use only the N largest help pages (default: all 79)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def plot_curves(history, unigram, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = range(1, len(history["loss"]) + 1)
    left.plot(epochs, history["loss"], marker="o", label="training")
    left.plot(epochs, history["val_loss"], marker="o", label="held-out")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy at the masked positions (nats)")
    left.legend()
    right.plot(epochs, history["masked_accuracy"], marker="o", label="training")
    right.plot(epochs, history["val_masked_accuracy"], marker="o", label="held-out")
    right.axhline(unigram, color="grey", ls="--", label="unigram baseline")
    right.set_xlabel("epoch")
    right.set_ylabel("masked-token accuracy")
    right.legend()
    fig.suptitle("BERT-like masked-LM pre-training on Python's help texts")
    save_figure(fig, path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    documents = list(load_text_corpus().x)
    if args.documents is not None:
        documents = sorted(documents, key=len, reverse=True)[: args.documents]
    result = train_masked_lm(
        documents,
        max_len=args.max_len,
        hidden_dim=args.hidden_dim,
        num_layers=args.layers,
        num_heads=args.heads,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        verbose=0 if args.quiet else 2,
    )
    print(
        f"held-out masked-token accuracy: {result.heldout_accuracy:.3f} "
        f"(unigram baseline, always {result.unigram_token!r}: "
        f"{result.unigram_accuracy:.3f}); on word targets only: "
        f"{result.heldout_word_accuracy:.3f} (always {result.unigram_word!r}: "
        f"{result.unigram_word_accuracy:.3f}); {result.heldout_positions} positions"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    result.model.save(args.out / "model.keras")
    result.tokenizer.save(args.out / "tokenizer.json")
    model = keras.saving.load_model(args.out / "model.keras")
    tokenizer = WordTokenizer.load(args.out / "tokenizer.json")

    guesses, same_after_reload = {}, True
    for sentence in SENTENCES:
        top = fill_mask(model, tokenizer, sentence, top_k=5)[0]
        before = fill_mask(result.model, result.tokenizer, sentence, top_k=5)[0]
        same_after_reload &= [w for w, _ in top] == [w for w, _ in before]
        guesses[sentence] = [[w, round(p, 4)] for w, p in top]
        print(f"{sentence}\n    " + ", ".join(f"{w} ({p:.2f})" for w, p in top))

    plot_curves(result.history, result.unigram_accuracy, args.out / "curves.png")
    summary = {**result.summary(), "fill_mask_top5": guesses}
    summary["same_guesses_after_reload"] = bool(same_after_reload)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out / 'summary.json'} and {args.out / 'curves.png'}")
    return summary


if __name__ == "__main__":
    main()
