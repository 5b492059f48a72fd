"""`kerasdl train gpt`: train the character-level GPT language model on a corpus
(`kerasdl.recipes.char_lm`); `kerasdl generate` continues prompts with
it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kerasdl.cli.common import CLIError
from kerasdl.cli.train_options import refuse_training_options


def run(args) -> int:
    from kerasdl.recipes.char_lm import (
        corpus_text,
        save_char_lm,
        train_char_lm,
    )

    if args.model_option is not None:
        raise CLIError("kerasdl train gpt does not take --model.")
    refuse_training_options(args, "`kerasdl train gpt` (AdamW, warm-up and cosine)")
    corpus = args.corpus or "builtin"
    if corpus != "builtin" and not os.path.isfile(corpus):
        raise CLIError(
            f"--corpus must be 'builtin' or an existing text file; received {corpus!r}."
        )
    out = args.out or Path("runs") / "train" / "gpt"
    result = train_char_lm(
        corpus_text(corpus),
        max_len=args.max_len,
        num_layers=args.layers,
        num_heads=args.heads,
        hidden_dim=args.hidden_dim,
        epochs=5 if args.epochs is None else args.epochs,
        batch_size=32 if args.batch_size is None else args.batch_size,
        learning_rate=1e-3 if args.learning_rate is None else args.learning_rate,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
    )
    record = save_char_lm(result, out)
    record["corpus"] = corpus
    with open(out / "result.json", "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, ensure_ascii=False)
    stopped = " (interrupted; the weights so far were kept)" * result.interrupted
    print(
        f"gpt on {corpus}: validation {result.val_nats_per_char:.3f} nats/char vs "
        f"bigram {result.bigram_nats_per_char:.3f} ({result.val_chars:,} held-out "
        f"characters); {result.train_seconds:.1f} s{stopped}"
    )
    print(f"sample: {record['sample_top_p_0.9']!r}")
    print(f"wrote {out}/model.keras, tokenizer.json, result.json, loss.png")
    return 0
