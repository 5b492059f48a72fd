"""Character-level GPT on the embedded corpus: held-out nats per character against a
bigram model, and the speed-up of key/value-cached generation.

Protocol, per backend (each in a fresh process):
1. Data: Python's help-topic texts (`kerasdl.data.load_text_corpus`, ~465k
   characters), joined; the last 10% of the characters are the validation text
   (unseen, continuous).
2. Model: `GPTLanguageModel` (4 pre-norm blocks, width 128, 4 heads, context 128,
   ~0.8M parameters), trained by `kerasdl.models.transformers.train_char_lm`:
   windows of 128 characters at stride 64, AdamW (peak 1e-3, 5% warm-up then
   cosine), batch 32, `--epochs` passes.
3. Quality: mean cross-entropy of every held-out character in non-overlapping
   128-character validation windows (nats per character); the bigram model
   (add-one smoothed counts fitted on the training text) is scored on exactly the
   same predictions. Target: the GPT below the bigram.
4. KV cache: the same trained model generates `--new-tokens` characters after an
   8-character prompt, greedy, batch 1, with the cache (one position per step) and
   without it (the whole 128-token context re-run per step); the tokens must be
   identical; the median of `--repeats` timed runs after one warm-up run
   (compilation excluded). A second, untrained model with the same width and a
   512-token context shows how the gap grows with the context.

    python benchmarks/bench_gpt.py                        # current KERAS_BACKEND
    python benchmarks/bench_gpt.py --backends tensorflow,jax,torch

The table is printed; numbers go to `benchmarks/results/bench_gpt.json` (a run on one
backend keeps the other backends' rows of a run with the same settings), the loss
curves to `benchmarks/results/gpt/loss_<backend>.png`, the trained model and its
tokenizer to `benchmarks/results/gpt/<backend>/` (for `kerasdl generate`; git-ignored).
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
PROMPT = "The for "


def _time_generation(model, prompt_ids, new_tokens, repeats, use_cache):
    import numpy as np

    model.generate(prompt_ids, new_tokens, use_cache=use_cache)  # compile
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = model.generate(prompt_ids, new_tokens, use_cache=use_cache)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def _cache_speedup(model, prompt_ids, new_tokens, repeats):
    import numpy as np

    cached_s, cached = _time_generation(model, prompt_ids, new_tokens, repeats, True)
    full_s, full = _time_generation(model, prompt_ids, new_tokens, repeats, False)
    return {
        "max_len": model.max_len,
        "new_tokens": new_tokens,
        "cached_ms_per_token": 1000 * cached_s / new_tokens,
        "uncached_ms_per_token": 1000 * full_s / new_tokens,
        "speedup": full_s / cached_s,
        "identical_tokens": bool(np.array_equal(cached, full)),
    }


def run_here(args) -> dict:
    import keras

    from kerasdl.models.transformers import GPTLanguageModel
    from kerasdl.recipes import generate_text, save_char_lm, train_char_lm

    backend = keras.backend.backend()
    result = train_char_lm(
        epochs=args.epochs,
        max_len=args.max_len,
        seed=args.seed,
        verbose=2,
    )
    out = RESULTS / "gpt" / backend
    record = save_char_lm(result, out, sample_prompt=PROMPT)
    (out / "loss.png").replace(RESULTS / "gpt" / f"loss_{backend}.png")
    samples = {
        method: generate_text(
            result.model, result.tokenizer, PROMPT, 120, seed=0, **options
        )
        for method, options in (
            ("greedy", {"method": "greedy"}),
            ("top_p_0.9", {"method": "top_p", "top_p": 0.9}),
            ("top_k_5_t0.8", {"method": "top_k", "top_k": 5, "temperature": 0.8}),
        )
    }
    prompt_ids = result.tokenizer.encode(PROMPT)
    speed = [
        _cache_speedup(
            result.model, prompt_ids, args.max_len - len(prompt_ids), args.repeats
        )
    ]
    long_model = GPTLanguageModel(result.tokenizer.vocab_size, 512, seed=0)
    speed.append(_cache_speedup(long_model, prompt_ids, 256, args.repeats))
    print(
        f"  {backend}: val {result.val_nats_per_char:.3f} nats/char, bigram "
        f"{result.bigram_nats_per_char:.3f}; KV-cache speed-up "
        + ", ".join(f"{s['speedup']:.1f}x (context {s['max_len']})" for s in speed),
        flush=True,
    )
    return {
        "backend": backend,
        "keras": keras.__version__,
        "val_nats_per_char": result.val_nats_per_char,
        "bigram_nats_per_char": result.bigram_nats_per_char,
        "beats_bigram": bool(result.val_nats_per_char < result.bigram_nats_per_char),
        "train_seconds": result.train_seconds,
        "parameters": result.settings["parameters"],
        "steps": result.settings["steps"],
        "history": result.history,
        "samples": samples,
        "model_files": str(out.relative_to(ROOT)),
        "kv_cache": speed,
        "result_json": record["settings"],
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'backend':<11} {'val nats/char':>13} {'bigram':>7} {'train s':>8} "
        f"{'context':>7} {'cached ms/tok':>13} {'full ms/tok':>11} {'speed-up':>8} "
        f"{'same tokens':>11}"
    )
    for row in rows:
        for i, s in enumerate(row["kv_cache"]):
            val, bigram = row["val_nats_per_char"], row["bigram_nats_per_char"]
            head = " " * 30
            if i == 0:
                head = f"{val:>13.3f} {bigram:>7.3f} {row['train_seconds']:>8.1f}"
            print(
                f"{row['backend']:<11} {head} {s['max_len']:>7} "
                f"{s['cached_ms_per_token']:>13.2f} "
                f"{s['uncached_ms_per_token']:>11.2f} "
                f"{s['speedup']:>7.1f}x {str(s['identical_tokens']):>11}"
            )
    for row in rows:
        print(f"\n{row['backend']} sample (top-p 0.9): {row['samples']['top_p_0.9']!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends",
        default=None,
        help="comma-separated backends, each run in a fresh process "
        "(default: the current KERAS_BACKEND, in this process)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--row-json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.row_json:
        row = run_here(args)
        Path(args.row_json).write_text(json.dumps(row))
        return 0
    if args.backends:
        argv = ["--epochs", str(args.epochs), "--max-len", str(args.max_len)]
        argv += ["--seed", str(args.seed), "--repeats", str(args.repeats)]
        rows = [
            run_in_fresh_process(__file__, backend, argv)
            for backend in args.backends.split(",")
        ]
    else:
        rows = [run_here(args)]
    print_table(rows)

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_gpt.json"
    training = {"epochs": args.epochs, "max_len": args.max_len, "seed": args.seed}
    if path.exists():  # keep the other backends' rows of a run with these settings
        previous = json.loads(path.read_text())
        if previous.get("training") == training:
            done = {row["backend"] for row in rows}
            rows += [r for r in previous["runs"] if r["backend"] not in done]
    payload = {
        "benchmark": "character-level GPT: held-out nats/char vs bigram; KV-cache "
        "generation speed-up",
        "dataset": "Python help topics (pydoc_data), last 10% of characters held out",
        "training": training,
        "target": "validation nats/char below the bigram's on the same predictions; "
        "cached and uncached generation give identical tokens",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    ok = all(
        r["beats_bigram"] and all(s["identical_tokens"] for s in r["kv_cache"])
        for r in rows
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
