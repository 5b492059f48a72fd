"""`kerasdl generate`: continue a text prompt with the GPT model `kerasdl train gpt`
wrote (`kerasdl.recipes.char_lm.generate_text`); the model and
tokenizer files are checked first (`kerasdl._checks.check_keras_file`,
`kerasdl.data.text.check_char_tokenizer_file`), each mistake in one line."""

from __future__ import annotations

from pathlib import Path

from kerasdl._checks import check_keras_file
from kerasdl.cli.common import CLIError

NAME = "generate"


def add_parser(subparsers):
    p = subparsers.add_parser(
        NAME,
        help="continue a text prompt with a model from `kerasdl train gpt`",
        description="Load model.keras (and the tokenizer.json beside it) written by "
        "`kerasdl train gpt` and print the prompt followed by generated text.",
    )
    p.add_argument("--model", type=Path, required=True, help="the model.keras file")
    p.add_argument("--prompt", required=True, help="the start of the text")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="characters to add (default: fill the model's context)",
    )
    p.add_argument(
        "--method",
        default="top_p",
        help="greedy, temperature, top_k or top_p (default top_p)",
    )
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None, help="with --method top_k")
    p.add_argument("--top-p", type=float, default=0.9, help="with --method top_p")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--no-cache", action="store_true", help="decode without KV cache")
    p.add_argument("--tokenizer", type=Path, default=None, help="default: beside it")
    return p


def run(args) -> int:
    from kerasdl.data.text import check_char_tokenizer_file
    from kerasdl.recipes.char_lm import generate_text, load_char_lm

    path = args.model
    if path.is_dir() and (path / "model.keras").is_file():
        path = path / "model.keras"
    if not path.is_file() or path.suffix != ".keras":
        raise CLIError(
            "--model must be an existing .keras file (the model.keras `kerasdl "
            f"train gpt` writes, or its folder); received {str(args.model)!r}."
        )
    kind = check_keras_file(path, "--model")
    if kind != "GPTLanguageModel":
        raise CLIError(
            f"--model {str(path)!r} holds a {kind}, not the GPTLanguageModel "
            "`kerasdl train gpt` writes."
        )
    tokenizer_path = args.tokenizer or path.parent / "tokenizer.json"
    check_char_tokenizer_file(tokenizer_path, "--tokenizer" if args.tokenizer else None)
    model, tokenizer = load_char_lm(path, tokenizer_path)
    text = generate_text(
        model,
        tokenizer,
        args.prompt,
        max_new_tokens=args.max_new_tokens,
        use_cache=not args.no_cache,
        method=args.method,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p if args.method == "top_p" else None,
        seed=args.seed,
    )
    print(text)
    return 0
