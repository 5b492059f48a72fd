"""BERT-like encoder: masked-LM pre-training on the embedded corpus, then does the
pre-training help a classifier? Pre-trained + fine-tuned vs from scratch vs TF-IDF.

Protocol, per backend (each in a fresh process):

1. Data: Python's help-topic texts (`kerasdl.data.load_text_corpus`, 79 documents,
   ~120k words). Paragraphs repeated across documents are dropped first (the
   topics repeat whole sections: `customization` is part of `specialnames`), then
   every document is cut by position: its first 80% of words are training text,
   its last 20% held out (`split_documents`). Nothing below ever trains on
   held-out text.
2. Pre-training (`train_masked_lm`): a `WordTokenizer` fitted on the training
   parts (words seen twice or more); `[CLS] 62 words [SEP]` windows; a post-norm
   `BertEncoder` (2 blocks, width 128, 4 heads) + tied MLM head; 15% of real tokens
   selected per window (80% [MASK], 10% random, 10% kept), fresh masks each epoch;
   AdamW (peak `--mlm-lr`, 10% warm-up, cosine), batch 32, `--mlm-epochs` passes.
   Quality: masked-token accuracy on the held-out windows (one fixed mask), overall
   and on alphabetic-word targets only, next to the unigram baseline (always guess
   the most frequent training token / word).
3. Labelled task (an honest substitute: no labelled English text set ships
   offline): *which help page does a passage come from?* Passages are windows of
   `--words` words from the `--classes` largest (deduplicated) documents, labelled
   by document; training windows (stride words/2) come from the training parts,
   test windows (no overlap) from the held-out parts, so test passages are unseen
   text for every model, the pre-trained encoder included.
4. Classifiers, all on the same windows: (a) `BertClassifier` (mean pooling) on a
   copy of the pre-trained encoder, fine-tuned; (b) the same classifier on a fresh
   encoder of the same shape, trained from scratch with the same recipe (AdamW peak
   `--ft-lr`, 10% warm-up, cosine, batch 32, `--ft-epochs` epochs, no early
   stopping, the last epoch scored); (c) TF-IDF of word unigrams+bigrams (on the
   raw words, no [UNK]) + logistic regression (C=10, not tuned; C=1 and 100 are
   recorded too); (d) the majority class. Scores: accuracy and macro-F1 on the
   test windows, per fine-tuning seed.

    python benchmarks/bench_bert.py                        # current KERAS_BACKEND
    python benchmarks/bench_bert.py --backends tensorflow,jax

The table is printed; numbers go to `benchmarks/results/bench_bert.json`, curves and
bars to `benchmarks/results/bench_bert.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from _workers import run_in_fresh_process

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FILL_MASK = (
    "the [MASK] statement is used to leave a loop early .",
    "a [MASK] is an immutable sequence of characters .",
    "the return value of the function is [MASK] if no return statement is executed .",
)


def neighbour_bigram_accuracy(result, smoothing=0.01):
    """A count model that fills each blank from its two neighbours.

    Fitted on the training windows: `score(w) = log P(w | left) + log P(right | w)`
    from adjacent-pair counts (add-`smoothing`), with the corrupted held-out inputs
    as the neighbours (what the MLM sees too; a [MASK] or padding neighbour adds
    nothing and the unigram fills in). Returns `(accuracy, word_accuracy)` on the
    same positions as the MLM's held-out accuracy.
    """
    import numpy as np

    tokenizer = result.tokenizer
    size = tokenizer.vocab_size
    mask_id = tokenizer.token_id("[MASK]")
    counts = np.full((size, size), smoothing)
    for row in result.train_windows:
        real = row[row > 0]
        np.add.at(counts, (real[:-1], real[1:]), 1.0)
    log_next = np.log(counts / counts.sum(1, keepdims=True))  # [prev, w]
    unigram = np.log(counts.sum(0) / counts.sum())
    inputs, labels, weights = result.heldout
    rows, cols = np.nonzero(weights)  # never column 0 ([CLS]) or the last one
    left, right = inputs[rows, cols - 1], inputs[rows, cols + 1]
    left_ok = (left > 0) & (left != mask_id)
    right_ok = (right > 0) & (right != mask_id)
    score = np.where(left_ok[:, None], log_next[left], unigram[None, :])
    score += np.where(right_ok[:, None], log_next[:, right].T, 0.0)
    special = [0, 1, mask_id, tokenizer.token_id("[CLS]"), tokenizer.token_id("[SEP]")]
    score[:, special] = -np.inf
    predicted = score.argmax(1)
    target = labels[rows, cols]
    words = np.array([t.isalpha() for t in tokenizer.vocabulary])[target]
    hits = predicted == target
    return float(hits.mean()), float(hits[words].mean())


def _passages(words, size, stride):
    """Windows of `size` words every `stride` words; a last one needs size/2."""
    out = []
    for start in range(0, max(len(words), 1), stride):
        chunk = words[start : start + size]
        if len(chunk) < max(1, size // 2):
            break
        out.append(chunk)
        if start + size >= len(words):
            break
    return out


def topic_task(result, titles, num_classes, words):
    """The passage -> source document task on the pre-training split."""
    import numpy as np

    tokenizer = result.tokenizer
    cls_id, sep_id = tokenizer.token_id("[CLS]"), tokenizer.token_id("[SEP]")
    sizes = [
        len(a.split()) + len(b.split())
        for a, b in zip(result.train_parts, result.test_parts)
    ]
    classes = [int(i) for i in np.argsort(sizes)[::-1][:num_classes]]
    task = {"classes": [titles[i] for i in classes]}
    for split, parts, stride in (
        ("train", result.train_parts, max(1, words // 2)),
        ("test", result.test_parts, words),
    ):
        rows, labels, texts = [], [], []
        for label, doc in enumerate(classes):
            for chunk in _passages(parts[doc].split(), words, stride):
                row = np.zeros(words + 2, "int32")
                ids = tokenizer.encode(" ".join(chunk))
                row[0], row[1 : 1 + len(ids)], row[1 + len(ids)] = cls_id, ids, sep_id
                rows.append(row)
                labels.append(label)
                texts.append(" ".join(chunk))
        task[split] = (np.stack(rows), np.asarray(labels, "int32"), texts)
    return task


def finetune(encoder, task, args, seed):
    """Trains a BertClassifier on `encoder`; returns scores and curves."""
    import keras
    import numpy as np
    from sklearn.metrics import f1_score

    from kerasdl.models.transformers.bert import BertClassifier
    from kerasdl.training import set_seed
    from kerasdl.training.schedules import warmup_cosine

    x, y, _ = task["train"]
    x_test, y_test, _ = task["test"]
    set_seed(seed)
    model = BertClassifier(encoder, len(task["classes"]), pooling="mean")
    steps = args.ft_epochs * int(np.ceil(len(x) / 32))
    warmup = steps // 10
    model.compile(
        keras.optimizers.AdamW(
            warmup_cosine(args.ft_lr, warmup, steps - warmup),
            weight_decay=0.01,
            global_clipnorm=1.0,
        )
    )
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        batch_size=32,
        epochs=args.ft_epochs,
        validation_data=(x_test, y_test),  # monitored only: no selection on it
        shuffle=True,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    predicted = np.argmax(model.predict(x_test, batch_size=128, verbose=0), -1)
    return {
        "seed": seed,
        "accuracy": float((predicted == y_test).mean()),
        "macro_f1": float(f1_score(y_test, predicted, average="macro")),
        "train_seconds": round(seconds, 1),
        "val_accuracy_per_epoch": [float(v) for v in history.history["val_accuracy"]],
        "train_loss_per_epoch": [float(v) for v in history.history["loss"]],
    }


def tfidf_scores(task):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    _, y, texts = task["train"]
    _, y_test, test_texts = task["test"]
    vectorizer = TfidfVectorizer(
        token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True
    )
    features = vectorizer.fit_transform(texts)
    test_features = vectorizer.transform(test_texts)
    scores = {}
    for c in (1.0, 10.0, 100.0):
        clf = LogisticRegression(C=c, max_iter=5000).fit(features, y)
        predicted = clf.predict(test_features)
        scores[f"C={c:g}"] = {
            "accuracy": float((predicted == y_test).mean()),
            "macro_f1": float(f1_score(y_test, predicted, average="macro")),
        }
    majority = np.bincount(y).argmax()
    scores["majority"] = {
        "accuracy": float((y_test == majority).mean()),
        "macro_f1": float(
            f1_score(y_test, np.full_like(y_test, majority), average="macro")
        ),
    }
    return scores


def _mean(rows, key):
    return float(sum(r[key] for r in rows) / len(rows))


def run_here(args) -> dict:
    import keras

    from kerasdl.data import load_text_corpus
    from kerasdl.models.transformers.bert import BertEncoder, fill_mask
    from kerasdl.recipes import train_masked_lm
    from kerasdl.training import set_seed

    backend = keras.backend.backend()
    corpus = load_text_corpus()
    mlm = train_masked_lm(
        corpus.x,
        max_len=args.max_len,
        hidden_dim=args.hidden_dim,
        num_layers=args.layers,
        epochs=args.mlm_epochs,
        learning_rate=args.mlm_lr,
        seed=args.seed,
    )
    print(
        f"  {backend}: MLM held-out masked accuracy {mlm.heldout_accuracy:.3f} "
        f"(words {mlm.heldout_word_accuracy:.3f}); unigram "
        f"{mlm.unigram_accuracy:.3f} (words {mlm.unigram_word_accuracy:.3f}); "
        f"{mlm.train_seconds:.0f} s",
        flush=True,
    )
    bigram, bigram_words = neighbour_bigram_accuracy(mlm)
    print(
        f"  {backend}: neighbour-bigram count model {bigram:.3f} (words "
        f"{bigram_words:.3f})",
        flush=True,
    )
    guesses = {
        text: [w for w, _ in fill_mask(mlm.model, mlm.tokenizer, text)[0]]
        for text in FILL_MASK
    }
    task = topic_task(mlm, corpus.extra["titles"], args.classes, args.words)
    pretrained_encoder = mlm.model.encoder
    runs = {"pretrained": [], "scratch": []}
    for seed in args.ft_seeds:
        copy = BertEncoder.from_config(pretrained_encoder.get_config())
        copy.set_weights(pretrained_encoder.get_weights())
        runs["pretrained"].append(finetune(copy, task, args, seed))
        set_seed(seed)
        fresh = BertEncoder.from_config(pretrained_encoder.get_config())
        runs["scratch"].append(finetune(fresh, task, args, seed))
        print(
            f"  {backend} fine-tune seed {seed}: pre-trained "
            f"{runs['pretrained'][-1]['accuracy']:.3f}, scratch "
            f"{runs['scratch'][-1]['accuracy']:.3f}",
            flush=True,
        )
    baselines = tfidf_scores(task)
    return {
        "backend": backend,
        "keras": keras.__version__,
        "mlm": mlm.summary(),
        "neighbour_bigram_accuracy": bigram,
        "neighbour_bigram_word_accuracy": bigram_words,
        "fill_mask_top5": guesses,
        "task": {
            "classes": task["classes"],
            "train_windows": int(len(task["train"][1])),
            "test_windows": int(len(task["test"][1])),
            "words_per_window": args.words,
        },
        "pretrained": runs["pretrained"],
        "scratch": runs["scratch"],
        "pretrained_mean_accuracy": _mean(runs["pretrained"], "accuracy"),
        "scratch_mean_accuracy": _mean(runs["scratch"], "accuracy"),
        "pretrained_mean_macro_f1": _mean(runs["pretrained"], "macro_f1"),
        "scratch_mean_macro_f1": _mean(runs["scratch"], "macro_f1"),
        "tfidf_logreg": baselines,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'backend':<11} {'held-out masked-token accuracy':<32} "
        f"{'all':>6} {'words':>6}"
    )
    for row in rows:
        m = row["mlm"]
        for name, everything, words in (
            (
                f"BERT MLM ({m['train_seconds']:.0f} s)",
                m["heldout_masked_accuracy"],
                m["heldout_masked_word_accuracy"],
            ),
            (
                f"unigram ({m['unigram_token']!r} / {m['unigram_word']!r})",
                m["unigram_accuracy"],
                m["unigram_word_accuracy"],
            ),
            (
                "neighbour-bigram counts",
                row["neighbour_bigram_accuracy"],
                row["neighbour_bigram_word_accuracy"],
            ),
        ):
            print(f"{row['backend']:<11} {name:<32} {everything:>6.3f} {words:>6.3f}")
    print(f"\n{'backend':<11} {'classifier':<26} {'accuracy':>8} {'macro-F1':>8}")
    for row in rows:
        entries = [
            ("BERT pre-trained + FT", row["pretrained"]),
            ("BERT from scratch", row["scratch"]),
        ]
        for name, runs in entries:
            for r in runs:
                print(
                    f"{row['backend']:<11} {name + ' s' + str(r['seed']):<26} "
                    f"{r['accuracy']:>8.3f} {r['macro_f1']:>8.3f}"
                )
        for key in ("C=10", "majority"):
            label = "TF-IDF + logreg (C=10)" if key == "C=10" else "majority class"
            s = row["tfidf_logreg"][key]
            print(
                f"{row['backend']:<11} {label:<26} {s['accuracy']:>8.3f} "
                f"{s['macro_f1']:>8.3f}"
            )
    for row in rows:
        print(f"\n{row['backend']} fill-mask (top 5):")
        for text, words in row["fill_mask_top5"].items():
            print(f"  {text!r}: {', '.join(words)}")


def plot(rows: list[dict], path: Path) -> None:
    from kerasdl.plotting import plt, save_figure

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for row in rows:
        h = row["mlm"]["history"]
        epochs = range(1, len(h["loss"]) + 1)
        axes[0].plot(epochs, h["masked_accuracy"], label=f"{row['backend']} train")
        axes[0].plot(
            epochs, h["val_masked_accuracy"], "--", label=f"{row['backend']} held-out"
        )
        axes[0].axhline(row["mlm"]["unigram_accuracy"], color="grey", lw=0.8)
        for kind, style in (("pretrained", "-"), ("scratch", ":")):
            for r in row[kind]:
                curve = r["val_accuracy_per_epoch"]
                axes[1].plot(
                    range(1, len(curve) + 1),
                    curve,
                    style,
                    label=f"{row['backend']} {kind} s{r['seed']}",
                )
    axes[0].set_title("MLM masked-token accuracy (grey: unigram)")
    axes[0].set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    axes[1].set_title("Topic classifier: test accuracy per epoch")
    axes[1].set_xlabel("fine-tuning epoch")
    axes[1].legend(fontsize=7)
    labels, values = [], []
    for row in rows:
        b = row["backend"][:2]
        labels += [f"{b} pre", f"{b} scratch", f"{b} tfidf", f"{b} major"]
        values += [
            row["pretrained_mean_accuracy"],
            row["scratch_mean_accuracy"],
            row["tfidf_logreg"]["C=10"]["accuracy"],
            row["tfidf_logreg"]["majority"]["accuracy"],
        ]
    axes[2].bar(range(len(values)), values, color="C0")
    axes[2].set_xticks(range(len(values)), labels, rotation=45, fontsize=8)
    axes[2].set_ylim(0, 1)
    axes[2].set_title("Topic classifier: test accuracy")
    save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated backends, each run in a fresh process "
        "(default: the current KERAS_BACKEND, in this process)",
    )
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--mlm-epochs", type=int, default=20)
    parser.add_argument("--mlm-lr", type=float, default=2e-3)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--words", type=int, default=30)
    parser.add_argument("--ft-epochs", type=int, default=4)
    parser.add_argument("--ft-lr", type=float, default=3e-4)
    parser.add_argument("--ft-seeds", default="0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.ft_seeds = [int(s) for s in args.ft_seeds.split(",")]

    if args.row_json:
        Path(args.row_json).write_text(json.dumps(run_here(args)))
        return 0
    if args.backends:
        argv = [
            f"--max-len={args.max_len}",
            f"--hidden-dim={args.hidden_dim}",
            f"--layers={args.layers}",
            f"--mlm-epochs={args.mlm_epochs}",
            f"--mlm-lr={args.mlm_lr}",
            f"--classes={args.classes}",
            f"--words={args.words}",
            f"--ft-epochs={args.ft_epochs}",
            f"--ft-lr={args.ft_lr}",
            f"--ft-seeds={','.join(map(str, args.ft_seeds))}",
            f"--seed={args.seed}",
        ]
        rows = []
        for backend in args.backends.split(","):
            print(f"running the BERT benchmark with {backend} ...", flush=True)
            rows.append(run_in_fresh_process(__file__, backend, argv))
    else:
        start = time.perf_counter()
        rows = [run_here(args)]
        rows[0]["wall_seconds"] = round(time.perf_counter() - start, 1)
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    png = RESULTS / "bench_bert.png"
    plot(rows, png)
    path = RESULTS / "bench_bert.json"
    payload = {
        "benchmark": "BERT-like encoder: held-out masked-token accuracy vs unigram; "
        "topic classifier pre-trained+fine-tuned vs from scratch vs TF-IDF+logreg",
        "dataset": "Python help topics (pydoc_data), repeated paragraphs removed, "
        "last 20% of every document held out",
        "labelled_task": "substitute task (no labelled English text ships offline): "
        f"the source document of a {args.words}-word passage among the "
        f"{args.classes} largest documents; test passages from the held-out tails",
        "settings": {k: v for k, v in vars(args).items() if k != "row_json"},
        "plot": str(png.relative_to(ROOT)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}\nwrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
