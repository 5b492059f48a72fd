"""A character-level GPT on Python's help texts, against a bigram model.

Shows `kerasdl.models.transformers`:

- `train_char_lm` trains a `GPTLanguageModel` (pre-norm decoder blocks, learned
  positions, a head tied to the token embedding) on the embedded corpus and
  scores the held-out tail in nats per character, next to a bigram model scored
  on the very same predictions;
- `generate` with greedy decoding and temperature, top-k and top-p sampling;
- the key/value cache: cached and uncached generation give the same characters,
  the cached one faster (`benchmarks/bench_gpt.py` measures by how much);
- `save_char_lm` / `load_char_lm`: the model and its tokenizer on disk, as
  `kerasdl train gpt` and `kerasdl generate` use them.

Run:

    python examples/gpt_char_lm.py
    python examples/gpt_char_lm.py --epochs 5 --max-len 128
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kerasdl.recipes import (
    corpus_text,
    generate_text,
    load_char_lm,
    save_char_lm,
    train_char_lm,
)

NAME = "gpt_char_lm"
PROMPT = "The "
SAMPLERS = {
    "greedy": {"method": "greedy"},
    "temperature 0.8": {"method": "temperature", "temperature": 0.8},
    "top-k 5": {"method": "top_k", "top_k": 5},
    "top-p 0.9": {"method": "top_p", "top_p": 0.9},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=96)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--hidden-dim", type=int, default=96)
    parser.add_argument(
        "--chars", type=int, default=None, help="use only the first N characters"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(f"runs/examples/{NAME}"))
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    text = corpus_text("builtin")[: args.chars]
    result = train_char_lm(
        text,
        max_len=args.max_len,
        num_layers=args.layers,
        hidden_dim=args.hidden_dim,
        num_heads=4,
        epochs=args.epochs,
        seed=args.seed,
        verbose=0 if args.quiet else 2,
    )
    print(
        f"held-out: GPT {result.val_nats_per_char:.3f} nats/char, bigram "
        f"{result.bigram_nats_per_char:.3f} ({result.val_chars:,} characters)"
    )
    save_char_lm(result, args.out, sample_prompt=PROMPT)
    model, tokenizer = load_char_lm(args.out / "model.keras")

    samples, new = {}, args.max_len - len(PROMPT)
    for label, options in SAMPLERS.items():
        samples[label] = generate_text(model, tokenizer, PROMPT, new, seed=0, **options)
        print(f"--- {label}:\n{samples[label]}")

    timings = {}
    for use_cache in (True, False):
        generate_text(model, tokenizer, PROMPT, new, use_cache=use_cache)  # compile
        start = time.perf_counter()
        text_out = generate_text(model, tokenizer, PROMPT, new, use_cache=use_cache)
        timings["cached" if use_cache else "uncached"] = {
            "seconds": time.perf_counter() - start,
            "text": text_out,
        }
    same = timings["cached"]["text"] == timings["uncached"]["text"]
    print(
        f"greedy, {new} characters: cached {timings['cached']['seconds']:.3f} s, "
        f"uncached {timings['uncached']['seconds']:.3f} s, same text: {same}"
    )
    summary = {
        **{k: v for k, v in result.summary().items() if k != "history"},
        "history": result.history,
        "samples": samples,
        "cached_seconds": timings["cached"]["seconds"],
        "uncached_seconds": timings["uncached"]["seconds"],
        "cached_equals_uncached": same,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}/summary.json, loss.png, model.keras, tokenizer.json")
    return summary


if __name__ == "__main__":
    main()
