"""Word embeddings: word2vec (skip-gram, negative sampling) on Python's help texts.

Shows `kerasdl.models.sequence.word2vec`:

- `train_word2vec` tokenizes the embedded corpus (`load_text_corpus`: the 79
  help topics of CPython, about 120k words), draws skip-gram pairs with
  frequent-word subsampling and unigram^0.75 negatives (`skipgram_pairs`) and
  trains `Word2Vec`: two `keras.layers.Embedding` tables scored by a dot
  product, binary cross-entropy on the logits;
- `most_similar`: cosine nearest neighbours of a few Python words, and a check
  on word pairs a Python programmer calls related (true/false, int/float,
  break/continue, ...): the rank of each partner among all words' neighbours;
- `to_embedding_layer`: the learned vectors as a frozen, padding-masked
  `keras.layers.Embedding`, ready to start a downstream model;
- `plot_embeddings_2d`: a PCA projection of Python words, as PNG.

The corpus is small for word2vec (the classic runs use 10^8-10^9 words), so
expect clear neighbours for frequent words and noise for rare ones.

Run:

    python examples/word2vec.py
    python examples/word2vec.py --epochs 30 --dim 100 --window 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl.data import load_text_corpus
from kerasdl.models import plot_embeddings_2d
from kerasdl.recipes import train_word2vec

NAME = "word2vec"
QUERIES = ["true", "int", "str", "list", "class", "return", "exception", "for", "1"]
# Pairs chosen by meaning before training (siblings, opposites, a keyword and
# its partner); a good embedding ranks each partner among the nearest words.
RELATED_PAIRS = [
    ("true", "false"),
    ("int", "float"),
    ("str", "bytes"),
    ("list", "tuple"),
    ("key", "value"),
    ("module", "import"),
    ("exception", "raise"),
    ("class", "instance"),
    ("method", "function"),
    ("break", "continue"),
    ("if", "else"),
    ("try", "except"),
    ("and", "or"),
    ("keys", "values"),
    ("upper", "lower"),
    ("positional", "keyword"),
    ("argument", "parameter"),
    ("1", "2"),
    ("yield", "generator"),
    ("async", "await"),
    ("global", "nonlocal"),
    ("read", "write"),
    ("left", "right"),
    ("first", "last"),
]
PLOT_WORDS = (
    "true false none int float complex str bytes list tuple dict set frozenset "
    "if else elif while for break continue try except finally raise return yield "
    "class def lambda import module package function method attribute instance "
    "integer string number sequence mapping key value keys values items "
    "positional keyword argument parameter 0 1 2 3 async await global nonlocal"
).split()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--dim", type=int, default=100, help="embedding size")
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--subsample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--max-words", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument(
        "--docs", type=int, default=None, help="use only the first N documents"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def partner_ranks(model, tokenizer, pairs):
    """For each pair (a, b) in the vocabulary, the rank of b among a's neighbours
    and of a among b's (1 = nearest word)."""
    table = model.get_embeddings(normalize=True)
    ranks = {}
    for a, b in pairs:
        if a not in tokenizer.index or b not in tokenizer.index:
            continue
        for x, y in ((a, b), (b, a)):
            ix, iy = tokenizer.index[x], tokenizer.index[y]
            scores = table @ table[ix]
            scores[[0, 1, ix]] = -np.inf
            ranks[f"{x}->{y}"] = int((scores > scores[iy]).sum()) + 1
    return ranks


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    texts = list(load_text_corpus().x[: args.docs])
    start = time.perf_counter()
    model, tokenizer, history = train_word2vec(
        texts,
        max_words=args.max_words,
        min_count=args.min_count,
        embedding_dim=args.dim,
        window_size=args.window,
        num_negative=args.negatives,
        subsample=args.subsample or None,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        verbose=0 if args.quiet else 2,
    )
    seconds = time.perf_counter() - start
    print(
        f"{len(texts)} documents, vocabulary {tokenizer.vocab_size}, "
        f"{history['pairs'][-1]:,} pairs per epoch, {args.epochs} epochs in "
        f"{seconds:.1f} s on {keras.backend.backend()}; loss "
        f"{history['loss'][0]:.3f} -> {history['loss'][-1]:.3f}"
    )

    neighbours = {}
    for word in QUERIES:
        if word not in tokenizer.index:
            print(f"{word!r} is not in the vocabulary (too rare in these documents)")
            continue
        near = model.most_similar(word, tokenizer, top_k=args.top_k)
        neighbours[word] = [[w, round(s, 3)] for w, s in near]
        print(f"{word:>10}: " + ", ".join(f"{w} {s:.2f}" for w, s in near))

    ranks = partner_ranks(model, tokenizer, RELATED_PAIRS)
    values = np.array(list(ranks.values()) or [0])
    related = {
        "ranks": ranks,
        "median_rank": float(np.median(values)),
        "top10_fraction": float(np.mean(values <= 10)),
        "vocab_size": tokenizer.vocab_size,
    }
    print(
        f"related pairs: median rank of the partner {related['median_rank']:.1f} "
        f"of {tokenizer.vocab_size - 3} words; within the 10 nearest: "
        f"{related['top10_fraction']:.0%} of {len(ranks)}"
    )

    # The vectors as a frozen Embedding layer: padded ids in, vectors and mask out.
    layer = model.to_embedding_layer(trainable=False, mask_zero=True)
    batch = np.zeros((2, 6), "int32")
    for row, sentence in enumerate(["return true", "raise an exception"]):
        ids = tokenizer.encode(sentence)
        batch[row, : len(ids)] = ids
    vectors = keras.ops.convert_to_numpy(layer(batch))
    mask = keras.ops.convert_to_numpy(layer.compute_mask(batch))
    embedding_layer = {
        "input_shape": list(batch.shape),
        "output_shape": list(vectors.shape),
        "mask": mask.astype(int).tolist(),
        "matches_table": bool(np.allclose(vectors, model.embeddings[batch])),
    }
    print(
        f"Embedding layer: ids {batch.shape} -> vectors {vectors.shape}, "
        f"mask {mask.astype(int).tolist()}"
    )

    png, _ = plot_embeddings_2d(
        model, tokenizer, words=PLOT_WORDS, path=args.out / "embeddings_2d.png"
    )
    model.save(args.out / "word2vec.keras")
    tokenizer.save(args.out / "tokenizer.json")
    reloaded = keras.saving.load_model(args.out / "word2vec.keras")
    same = np.array_equal(reloaded.embeddings, model.embeddings) and all(
        [w for w, _ in reloaded.most_similar(q, tokenizer, top_k=args.top_k)]
        == [w for w, _ in near]
        for q, near in neighbours.items()
    )

    summary = {
        "backend": keras.backend.backend(),
        "config": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
        "documents": len(texts),
        "vocab_size": tokenizer.vocab_size,
        "train_seconds": seconds,
        "history": history,
        "neighbours": neighbours,
        "related_pairs": related,
        "embedding_layer": embedding_layer,
        "reloaded_same_neighbours": same,
    }
    (args.out / "neighbours.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {png}, {args.out}/neighbours.json, word2vec.keras, tokenizer.json")
    return summary


if __name__ == "__main__":
    main()
