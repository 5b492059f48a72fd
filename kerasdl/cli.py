"""The `kerasdl` command: one subcommand per job.

The backend must be chosen before Keras is imported, so this module imports Keras (and
everything that imports it) only after parsing `--backend`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")


class CLIError(Exception):
    """A user mistake the CLI reports in one line (exit code 2)."""


def _names(value: str) -> list[str]:
    """Parse `a,b,c` (or `none`) into a list of names."""
    if value.strip().lower() == "none":
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def _add_data_source(p) -> None:
    """--dataset NAME | --csv PATH --target COL | --images DIR [--image-size N]."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", default=None, help="dataset name (default digits)")
    source.add_argument("--csv", type=Path, help="a CSV file (with --target)")
    source.add_argument("--images", type=Path, help="a folder, one subfolder per class")
    p.add_argument("--target", help="target column of --csv")
    p.add_argument("--image-size", type=int, default=32, help="--images resize (32)")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerasdl",
        description="Applied deep learning with Keras 3, on TensorFlow and JAX.",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "compare",
        help="classical ML vs deep learning on the same stratified folds",
        description="Score classical scikit-learn baselines and deep Keras models "
        "on the same stratified k folds; print a table and write compare.json and "
        "compare.png.",
    )
    _add_data_source(p)
    p.add_argument("--folds", type=int, default=5, help="stratified folds (default 5)")
    p.add_argument(
        "--classical",
        type=_names,
        default=None,
        help="comma-separated classical models, or 'none' (default: all)",
    )
    p.add_argument(
        "--deep",
        type=_names,
        default=None,
        help="comma-separated deep models, or 'none' "
        "(default: mlp,cnn for images, mlp for tables)",
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="override deep-model epochs"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", type=Path, default=None, help="default runs/compare/<dataset>"
    )
    p.add_argument(
        "--learning-curve",
        action="store_true",
        help="also plot accuracy against training-set size (best classical vs deep)",
    )
    p.add_argument(
        "--tuned",
        type=_names,
        default=None,
        help="comma-separated HyperModel families (e.g. cnn) to add as "
        "<family>-tuned, searched inside each training fold only",
    )
    p.add_argument(
        "--tuned-trials", type=int, default=5, help="search trials per fold (5)"
    )
    p.add_argument(
        "--tuned-epochs", type=int, default=20, help="epochs per trial and final fit"
    )
    p.add_argument(
        "--tuner", default="random", help="random, hyperband or bayesian (random)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--list", action="store_true", help="list the models and exit")

    p = sub.add_parser(
        "train",
        help="train a registered deep model, evaluate it, write a model card",
        description="Train a registered deep model (see `kerasdl compare --list`) on "
        "a stratified train/val/test split with the training toolkit; write "
        "model.keras, run.json, the error analysis (errors/) and model_card.md.",
    )
    p.add_argument(
        "model",
        help="registered model name (e.g. mlp, cnn), or 'gan' with --model NAME "
        "for a generative model (dcgan, cgan, wgan, wgan_gp, vae, ddpm; those "
        "names also work here directly), or 'gpt' for the character-level "
        "GPT language model (with --corpus)",
    )
    p.add_argument(
        "--model",
        dest="generative_model",
        default=None,
        help="with 'train gan': dcgan, cgan, wgan, wgan_gp, vae or ddpm",
    )
    p.add_argument(
        "--latent-dim", type=int, default=None, help="generative models: noise size"
    )
    p.add_argument(
        "--sample-every",
        type=int,
        default=None,
        help="GANs: save a sample grid every N epochs (0: never)",
    )
    _add_data_source(p)
    p.add_argument("--epochs", type=int, default=None, help="default: the registry's")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--optimizer", default="adam", help="sgd, rmsprop, adam, adamw")
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--schedule", default=None, help="step, cosine or warmup_cosine")
    p.add_argument("--precision", default="float32", help="or mixed_float16/bfloat16")
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-size", type=float, default=0.15)
    p.add_argument("--test-size", type=float, default=0.15)
    p.add_argument(
        "--diagnose",
        action="store_true",
        help="watch the run with kerasdl.doctor.TrainingDiagnostics",
    )
    p.add_argument(
        "--quiet", action="store_true", help="generative models: no progress bar"
    )
    p.add_argument(
        "--corpus",
        default=None,
        help="'train gpt': 'builtin' (the embedded help-topic corpus, default) or "
        "the path of a UTF-8 text file",
    )
    p.add_argument(
        "--max-len", type=int, default=128, help="'train gpt': context length (128)"
    )
    p.add_argument("--layers", type=int, default=4, help="'train gpt': blocks (4)")
    p.add_argument("--hidden-dim", type=int, default=128, help="'train gpt': width")
    p.add_argument("--heads", type=int, default=4, help="'train gpt': heads (4)")
    p.add_argument("--out", type=Path, default=None, help="default runs/train/<model>")

    p = sub.add_parser(
        "tune",
        help="search a model family's hyperparameters with Keras Tuner",
        description="Search the hyperparameters of a model family (mlp, cnn, "
        "recurrent, transformer) with Keras Tuner (hyperband, random or bayesian) "
        "on a validation part of the training data; score the best model once on "
        "a held-out test part; write DIR/tune.json, trials.csv, trials.png and "
        "best_model.keras. Run it again without --overwrite to resume an "
        "interrupted search.",
    )
    p.add_argument("--family", required=True, help="mlp, cnn, recurrent or transformer")
    _add_data_source(p)
    p.add_argument(
        "--tuner", default="hyperband", help="hyperband (default), random, bayesian"
    )
    p.add_argument(
        "--max-trials",
        type=int,
        default=None,
        help="trials in all (default 10; hyperband: one full iteration, 23 for "
        "--epochs 9)",
    )
    p.add_argument(
        "--epochs", type=int, default=9, help="epochs per trial, at most (default 9)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-size", type=float, default=0.2, help="of the training part")
    p.add_argument("--test-size", type=float, default=0.2, help="held out (0.2)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="narrow the search space: a range (width=32:256), choices "
        "(optimizer=adam,sgd) or one value (depth=2); repeatable",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh (default: resume the search found in --out)",
    )
    p.add_argument("--quiet", action="store_true", help="no line per trial")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default runs/tune/<family>-<data>-<tuner>",
    )

    p = sub.add_parser(
        "rl",
        help="train a reinforcement-learning agent on a gymnasium environment",
        description="Train an agent (dqn, reinforce, a2c, qlearning), evaluate it "
        "with deterministic actions and write DIR/result.json, episodes.csv, "
        "learning_curve.png and the saved agent.",
    )
    p.add_argument("algo", help="dqn, reinforce, a2c or qlearning")
    p.add_argument(
        "--env",
        default=None,
        help="gymnasium id (CartPole-v1; qlearning: FrozenLake-v1)",
    )
    p.add_argument("--steps", type=int, default=None, help="environment steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--eval-episodes", type=int, default=None, help="100 (qlearning: 1000)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an agent hyperparameter, e.g. --set learning_rate=0.0005 "
        "--set hidden_units=[128,128] (repeatable)",
    )
    p.add_argument("--tensorboard", action="store_true", help="TensorBoard scalars")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", type=Path, default=None, help="default runs/rl/<run>")

    p = sub.add_parser(
        "doctor",
        help="find common data problems before training",
        description="Check a dataset for class imbalance, duplicates, train/test "
        "leakage, NaN/inf, unscaled or constant features and label-noise hints.",
    )
    doctor = p.add_subparsers(dest="doctor_command", metavar="WHAT")
    doctor.required = True
    p = doctor.add_parser(
        "data", help="check a dataset", description="Check a dataset."
    )
    _add_data_source(p)
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write findings here")

    p = sub.add_parser(
        "generate",
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

    p = sub.add_parser(
        "card",
        help="write the model card of a `kerasdl train` run",
        description="Write model_card.md for a model trained by `kerasdl train`, "
        "from the run.json beside it.",
    )
    p.add_argument("--model", type=Path, required=True, help="model.keras or run dir")

    p = sub.add_parser(
        "datasets",
        help="list the datasets, or describe one",
        description="List the datasets kerasdl can load, or describe one.",
    )
    p.add_argument("name", nargs="?", help="a dataset to describe")

    p = sub.add_parser(
        "activations",
        help="plot activation functions and their derivatives to PNG",
        description="Plot each activation and its derivative to a PNG (and a JSON).",
    )
    p.add_argument("--out", type=Path, default=Path("runs/activations.png"))
    return parser


def _load_dataset_arg(args):
    from kerasdl import data

    if args.csv is not None:
        if not args.target:
            raise CLIError("--csv needs --target COLUMN (the column to predict).")
        return data.load_csv(args.csv, args.target)
    if args.target:
        raise CLIError("--target applies to --csv only.")
    if args.images is not None:
        size = args.image_size
        if size < 3:
            raise CLIError(f"--image-size must be >= 3; received {size}.")
        return data.load_image_folder(args.images, image_size=(size, size))
    return data.load_dataset(args.dataset or "digits")


def _cmd_compare(args) -> int:
    from kerasdl.baselines import (
        CLASSICAL_DESCRIPTIONS,
        compare,
        format_table,
    )
    from kerasdl.models.registry import get_model_spec, list_models

    if args.list:
        print("classical:")
        for name, text in CLASSICAL_DESCRIPTIONS.items():
            print(f"  {name:<18} {text}")
        print("deep:")
        for name in list_models():
            spec = get_model_spec(name)
            print(f"  {name:<18} {spec.description} [{'/'.join(spec.inputs)}]")
        return 0
    dataset = _load_dataset_arg(args)
    out = args.out or Path("runs") / "compare" / dataset.name
    report = compare(
        dataset,
        classical=args.classical,
        deep=args.deep,
        folds=args.folds,
        seed=args.seed,
        epochs=args.epochs,
        out_dir=out,
        learning_curve=args.learning_curve,
        tuned=args.tuned,
        tuned_trials=args.tuned_trials,
        tuned_epochs=args.tuned_epochs,
        tuner=args.tuner,
        verbose=not args.quiet,
    )
    print(format_table(report))
    written = ["compare.json", "compare.png"]
    if args.learning_curve:
        written += ["learning_curve.json", "learning_curve.png"]
    print(f"wrote {', '.join(str(out / w) for w in written)}")
    return 0


def _generative_name(args):
    """The generative model a `train` command asks for, or None for a classifier."""
    from kerasdl.training.generative import GENERATIVE_MODELS, check_model_name

    if args.model == "gan":
        if args.generative_model is None:
            raise CLIError(
                "kerasdl train gan needs --model NAME, one of "
                f"{', '.join(GENERATIVE_MODELS)}."
            )
        return check_model_name(args.generative_model)
    if args.model in GENERATIVE_MODELS:
        if args.generative_model not in (None, args.model):
            raise CLIError(
                f"Two models given: {args.model!r} and --model "
                f"{args.generative_model!r}."
            )
        return args.model
    if args.generative_model is not None:
        raise CLIError(
            "--model is for generative models (kerasdl train gan --model NAME); "
            f"received it with {args.model!r}."
        )
    return None


def _cmd_train_generative(args, name) -> int:
    from kerasdl.training.generative import train_generative

    dataset = _load_dataset_arg(args)
    out = args.out or Path("runs") / "train" / name
    run = train_generative(
        name,
        dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        learning_rate=args.learning_rate,
        seed=args.seed,
        out_dir=out,
        sample_every=args.sample_every,
        verbose=0 if args.quiet else 1,
    )
    epochs = run["settings"]["epochs"]
    line = (
        f"{name} on {run['dataset']}: {epochs} epoch{'s' * (epochs != 1)} in "
        f"{run['train_seconds']:.1f} s on {run['backend']}"
    )
    quality = run.get("quality")
    if quality:
        line += (
            f"; FID-digits {quality['fid_digits']:.2f} (real vs real "
            f"{quality['fid_reference_real_vs_real']:.2f}, real vs noise "
            f"{quality['fid_reference_real_vs_noise']:.1f})"
        )
        extras = {
            "fid_digits_ddim50": "DDIM-50 FID-digits {:.2f}",
            "critic_grad_norm_mean": "critic grad norm {:.3f}",
            "cgan_label_agreement": "requested-class agreement {:.3f}",
            "test_neg_elbo_per_sample": "held-out -ELBO {:.2f} nats/sample",
        }
        for key, text in extras.items():
            if key in quality:
                line += "; " + text.format(quality[key])
    print(line)
    print(f"wrote {out}/run.json, samples.png, history.csv, {run['files'][0]}")
    return 0


def _cmd_train_gpt(args) -> int:
    from kerasdl.models.transformers.language import (
        corpus_text,
        save_char_lm,
        train_char_lm,
    )

    if args.generative_model is not None:
        raise CLIError("kerasdl train gpt does not take --model.")
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


def _cmd_generate(args) -> int:
    from kerasdl.models.transformers.language import generate_text, load_char_lm

    model, tokenizer = load_char_lm(args.model, args.tokenizer)
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


def _cmd_train(args) -> int:
    if args.model == "gpt":
        return _cmd_train_gpt(args)
    name = _generative_name(args)
    if name is not None:
        return _cmd_train_generative(args, name)
    from kerasdl.models.registry import get_model_spec
    from kerasdl.training import TrainingConfig
    from kerasdl.training.job import train_classifier

    spec = get_model_spec(args.model)
    dataset = _load_dataset_arg(args)
    config = TrainingConfig(
        optimizer=args.optimizer,
        learning_rate=(
            spec.learning_rate if args.learning_rate is None else args.learning_rate
        ),
        schedule=args.schedule,
        precision=args.precision,
        seed=args.seed,
        epochs=spec.epochs if args.epochs is None else args.epochs,
        batch_size=spec.batch_size if args.batch_size is None else args.batch_size,
        early_stopping_patience=args.early_stopping,
    )
    out = args.out or Path("runs") / "train" / args.model
    run = train_classifier(
        dataset,
        args.model,
        config=config,
        out_dir=out,
        val_size=args.val_size,
        test_size=args.test_size,
        diagnose=args.diagnose,
    )
    if run["status"] == "diverged":
        print(
            f"kerasdl train: training diverged (NaN/inf predictions); nothing was "
            f"measured. Lower --learning-rate (e.g. 10x) or use --diagnose; the "
            f"record is in {out}/run.json.",
            file=sys.stderr,
        )
        _print_diagnostics(run)
        return 1
    metrics = run["metrics"]
    print(
        f"{args.model} on {dataset.name}: test accuracy {metrics['test_accuracy']:.4f}"
        f", macro-F1 {metrics['test_f1_macro']:.4f} ({metrics['measured_on']}); "
        f"{run['train_seconds']:.1f} s on {run['backend']}"
    )
    _print_diagnostics(run)
    print(f"wrote {out}/model.keras, run.json, model_card.md, errors/")
    return 0


def _print_diagnostics(run: dict) -> None:
    if "diagnostics" in run:
        from kerasdl.doctor import Finding, format_findings

        findings = [Finding(**f) for f in run["diagnostics"]]
        print(format_findings(findings, title="training diagnostics"))


def _cmd_tune(args) -> int:
    from kerasdl.hypermodels.registry import check_family
    from kerasdl.hypermodels.search import run_search
    from kerasdl.hypermodels.tuners import check_tuner, parse_search_space

    family = check_family(args.family)
    tuner = check_tuner(args.tuner)
    space = parse_search_space(args.set)
    dataset = _load_dataset_arg(args)
    out = args.out or Path("runs") / "tune" / f"{family}-{dataset.name}-{tuner}"
    try:
        result = run_search(
            family,
            dataset,
            tuner=tuner,
            max_trials=args.max_trials,
            epochs=args.epochs,
            out_dir=out,
            seed=args.seed,
            overwrite=args.overwrite,
            val_size=args.val_size,
            test_size=args.test_size,
            search_space=space,
            verbose=not args.quiet,
        )
    except RuntimeError as error:  # no trial completed
        raise CLIError(str(error)) from error
    best = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in result["best_hyperparameters"].items()
    )
    test = result["test_accuracy"]
    done = result["completed_trials"]
    print(
        f"{family} on {result['dataset']} ({tuner}, {done} trial{'s' * (done != 1)}"
        f"): best {result['objective']['name']} {result['best_score']:.4f} "
        f"(trial {result['best_trial_id']})"
        + ("" if test is None else f"; test accuracy {test:.4f}")
        + f"; {result['backend']}"
    )
    print(f"best: {best}")
    print(f"wrote {out}/tune.json, trials.csv, trials.png, best_model.keras")
    return 0


def _cmd_rl(args) -> int:
    from kerasdl.rl.job import parse_overrides, run_rl

    result = run_rl(
        args.algo,
        env=args.env,
        steps=args.steps,
        seed=args.seed,
        out_dir=args.out,
        eval_episodes=args.eval_episodes,
        overrides=parse_overrides(args.set),
        verbose=0 if args.quiet else 1,
        tensorboard=args.tensorboard,
    )
    line = (
        f"{result['algo']} on {result['env']}: {result['steps']} steps in "
        f"{result['train_seconds']:.1f} s on {result['backend']}; evaluation over "
        f"{result['eval_episodes']} episodes: {result['eval_mean_return']:.1f} "
        f"+- {result['eval_std_return']:.1f}"
    )
    if "eval_success_rate" in result:
        line += f" (success rate {result['eval_success_rate']:.3f})"
    print(line)
    out = args.out or Path("runs") / "rl" / (
        f"{result['algo']}-{result['env']}-seed{result['seed']}"
    )
    print(f"wrote {out}/result.json, learning_curve.png, episodes.csv and the agent")
    return 0


def _cmd_doctor(args) -> int:
    from kerasdl.doctor import diagnose_dataset, format_findings

    dataset = _load_dataset_arg(args)
    findings = diagnose_dataset(dataset, test_size=args.test_size, seed=args.seed)
    print(format_findings(findings, title=f"{dataset.name}: data findings"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([f.to_dict() for f in findings], indent=2))
        print(f"wrote {args.json}")
    return 0


def _cmd_card(args) -> int:
    from kerasdl.evaluation import model_card_from_run

    run_dir = args.model if args.model.is_dir() else args.model.parent
    path = model_card_from_run(run_dir)
    print(f"wrote {path}")
    return 0


def _cmd_datasets(args) -> int:
    from kerasdl import data

    if args.name is None:
        for name in data.list_datasets():
            where = "embedded" if name in data.EMBEDDED_DATASETS else "keras.datasets"
            print(f"{name:<15} {where}")
        return 0
    dataset = data.load_dataset(args.name)
    print(dataset.summary())
    print(dataset.description)
    return 0


def _cmd_activations(args) -> int:
    from kerasdl.plotting import plot_activations

    path = plot_activations(args.out)
    print(f"wrote {path} and {Path(path).with_suffix('.json')}")
    return 0


COMMANDS = {
    "compare": _cmd_compare,
    "train": _cmd_train,
    "generate": _cmd_generate,
    "doctor": _cmd_doctor,
    "card": _cmd_card,
    "rl": _cmd_rl,
    "tune": _cmd_tune,
    "datasets": _cmd_datasets,
    "activations": _cmd_activations,
}


def main(argv=None) -> int:
    """Entry point of the `kerasdl` console script."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.backend:
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != args.backend:
            parser.exit(
                2,
                "kerasdl: error: --backend must be chosen before Keras is "
                "imported (call main() in a fresh process).\n",
            )
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return COMMANDS[args.command](args)
    except (CLIError, ValueError, OSError) as error:
        message = (
            str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        )
        print(f"kerasdl {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kerasdl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
