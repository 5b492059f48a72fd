"""The `kerasdl` command keeps its promise: a user's mistake is one line on stderr,
`kerasdl <command>: error: ...`, naming the file or argument and the value received,
with exit code 2 and no traceback; and it comes before any training starts.

Also here: every `TrainingConfig` option is reachable from `kerasdl train`,
`activations --out DIR` says where it wrote, and a TensorFlow command's stderr
holds no TensorFlow start-up log lines while a genuine bug still shows its traceback.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from kerasdl import backend as kb
from kerasdl.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# --- fixtures: the hostile user's files --------------------------------------------


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _keras_zip(path, config):
    """A zip named like a .keras file holding `config.json` (a fake Keras archive:
    enough for the checks that come before loading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        if config is not None:
            archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")
    return path


_GPT_CONFIG = {
    "module": "kerasdl.models.transformers.gpt",
    "class_name": "GPTLanguageModel",
    "config": {},
    "registered_name": "kerasdl>GPTLanguageModel",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Every bad input, made once: run folders, GPT folders, models, images."""
    root = tmp_path_factory.mktemp("bad_input")
    good_run = {"model": "mlp", "dataset": {"name": "iris"}, "metrics": {}}
    # (Folder names say nothing, so that a message cannot pass by quoting them.)
    runs = {
        "c1": "{bad json",
        "c2": "[1, 2]",
        "c3": "7",
        "c4": json.dumps({"model": "mlp"}),
        "c5": json.dumps({**good_run, "dataset": "digits"}),
        "c6": json.dumps({**good_run, "metrics": [0.9]}),
    }
    for name, text in runs.items():
        _write(root / "card" / name / "run.json", text)
    tokenizers = {
        "t1": "{oops",
        "t2": "[1, 2]",
        "t3": json.dumps({"kind": "char"}),
        "t4": json.dumps({"kind": "char", "vocabulary": 5}),
        "t5": json.dumps({"kind": "word", "vocabulary": ["[PAD]", "a"]}),
        "t6": json.dumps({"kind": "char", "vocabulary": ["[PAD]", "ab"]}),
    }
    for name, text in tokenizers.items():
        folder = root / "gpt" / name
        _keras_zip(folder / "model.keras", _GPT_CONFIG)
        _write(folder / "tokenizer.json", text)
    good_tokenizer = json.dumps({"kind": "char", "vocabulary": ["[PAD]", "a", "b"]})
    _write(root / "notzip" / "model.keras", "hello, I am not a zip")
    _write(root / "notzip" / "tokenizer.json", good_tokenizer)
    _keras_zip(root / "noconfig" / "model.keras", None)
    _write(root / "noconfig" / "tokenizer.json", good_tokenizer)
    _keras_zip(
        root / "cnn" / "model.keras",
        {"module": "keras", "class_name": "Sequential", "config": {}},
    )
    _write(root / "cnn" / "tokenizer.json", good_tokenizer)
    # A real (untrained) kerasdl GPT: the model explain must refuse by kind.
    from kerasdl.models.transformers import GPTLanguageModel

    gpt = GPTLanguageModel(
        vocab_size=5, max_len=8, num_layers=1, num_heads=1, hidden_dim=8
    )
    gpt(np.zeros((1, 8), dtype="int32"))
    (root / "real_gpt").mkdir()
    gpt.save(root / "real_gpt" / "model.keras")
    np.save(root / "image.npy", np.random.default_rng(0).random((8, 8)))
    # An image folder with one class only.
    for i in range(6):
        folder = root / "one_class" / "cats"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(i).integers(0, 255, (8, 8), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


# --- the cases: (command, argv, what the line must name) ----------------------------


CASES = {
    # kerasdl card on a malformed run.json
    "card-invalid-json": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c1")],
        ["run.json", "not valid JSON"],
    ),
    "card-json-list": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c2")],
        ["run.json", "list"],
    ),
    "card-json-number": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c3")],
        ["run.json", "int"],
    ),
    "card-missing-keys": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c4/run.json")],
        ["run.json", "'dataset'", "'metrics'"],
    ),
    "card-dataset-not-object": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c5")],
        ["run.json", "dataset", "'digits'"],
    ),
    "card-metrics-not-object": (
        "card",
        lambda r: ["card", "--model", str(r / "card/c6")],
        ["run.json", "metrics", "[0.9]"],
    ),
    # kerasdl generate with a malformed tokenizer.json or model file
    "generate-tokenizer-invalid-json": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t1/model.keras")],
        ["tokenizer.json", "not valid JSON"],
    ),
    "generate-tokenizer-list": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t2/model.keras")],
        ["tokenizer.json", "list"],
    ),
    "generate-tokenizer-no-vocabulary": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t3/model.keras")],
        ["tokenizer.json", "vocabulary"],
    ),
    "generate-tokenizer-vocabulary-int": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t4/model.keras")],
        ["tokenizer.json", "vocabulary", "received 5"],
    ),
    "generate-tokenizer-word-kind": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t5/model.keras")],
        ["tokenizer.json", "'word'"],
    ),
    "generate-tokenizer-long-token": (
        "generate",
        lambda r: ["generate", "--model", str(r / "gpt/t6/model.keras")],
        ["tokenizer.json", "'ab'"],
    ),
    "generate-tokenizer-flag-missing": (
        "generate",
        lambda r: [
            "generate",
            "--model",
            str(r / "gpt/t2/model.keras"),
            "--tokenizer",
            str(r / "nowhere.json"),
        ],
        ["--tokenizer", "nowhere.json"],
    ),
    "generate-model-not-zip": (
        "generate",
        lambda r: ["generate", "--model", str(r / "notzip/model.keras")],
        ["--model", "notzip/model.keras", "not a .keras"],
    ),
    "generate-model-no-config": (
        "generate",
        lambda r: ["generate", "--model", str(r / "noconfig/model.keras")],
        ["--model", "noconfig/model.keras", "config.json"],
    ),
    "generate-model-not-gpt": (
        "generate",
        lambda r: ["generate", "--model", str(r / "cnn/model.keras")],
        ["--model", "cnn/model.keras", "Sequential"],
    ),
    # kerasdl explain on a model that is not an image classifier
    "explain-gpt": (
        "explain",
        lambda r: [
            "explain",
            "gradcam",
            "--model",
            str(r / "real_gpt/model.keras"),
            "--image",
            str(r / "image.npy"),
        ],
        ["--model", "real_gpt/model.keras", "GPTLanguageModel", "image classifier"],
    ),
    "explain-not-zip": (
        "explain",
        lambda r: [
            "explain",
            "saliency",
            "--model",
            str(r / "notzip/model.keras"),
            "--image",
            str(r / "image.npy"),
        ],
        ["--model", "notzip/model.keras", "not a .keras"],
    ),
    # kerasdl rl --set env_kwargs=...
    "rl-env-kwargs-number": (
        "rl",
        lambda r: ["rl", "dqn", "--steps", "10", "--set", "env_kwargs=5"],
        ["received env_kwargs=5"],
    ),
    "rl-env-kwargs-list": (
        "rl",
        lambda r: ["rl", "qlearning", "--steps", "10", "--set", "env_kwargs=[1]"],
        ["env_kwargs", "[1]"],
    ),
    "rl-env-kwargs-bad-key": (
        "rl",
        lambda r: ["rl", "dqn", "--steps", "10", "--set", 'env_kwargs={"bogus": 1}'],
        ["env_kwargs", "'bogus'", "CartPole-v1"],
    ),
    # kerasdl train: refused before training
    "train-single-class-images": (
        "train",
        lambda r: ["train", "cnn", "--images", str(r / "one_class"), "--epochs", "1"],
        ["one_class", "single class", "'cats'"],
    ),
    "train-gan-cgan-single-class": (
        "train",
        lambda r: ["train", "gan", "--model", "cgan", "--images", str(r / "one_class")],
        ["cgan", "one_class", "'cats'"],
    ),
    "train-warmup-cosine-without-warmup": (
        "train",
        lambda r: ["train", "mlp", "--dataset", "iris", "--schedule", "warmup_cosine"],
        ["--warmup-steps", "warmup_cosine"],
    ),
    "train-warmup-steps-with-cosine": (
        "train",
        lambda r: (
            ["train", "mlp", "--dataset", "iris", "--schedule", "cosine"]
            + ["--warmup-steps", "5"]
        ),
        ["--warmup-steps 5", "--schedule 'cosine'"],
    ),
    "train-drop-every-without-schedule": (
        "train",
        lambda r: ["train", "mlp", "--dataset", "iris", "--drop-every", "3"],
        ["--drop-every 3", "--schedule"],
    ),
    "train-negative-warmup": (
        "train",
        lambda r: (
            ["train", "mlp", "--dataset", "iris", "--schedule", "warmup_cosine"]
            + ["--warmup-steps", "-1"]
        ),
        ["warmup_steps", "-1"],
    ),
    "train-momentum-too-big": (
        "train",
        lambda r: (
            ["train", "mlp", "--dataset", "iris", "--optimizer", "sgd"]
            + ["--momentum", "1.5"]
        ),
        ["momentum", "1.5"],
    ),
    "train-accumulation-zero": (
        "train",
        lambda r: (
            ["train", "mlp", "--dataset", "iris"]
            + ["--gradient-accumulation-steps", "0"]
        ),
        ["gradient_accumulation_steps", "0"],
    ),
    "train-bad-monitor": (
        "train",
        lambda r: ["train", "mlp", "--dataset", "iris", "--monitor", "val_bogus"],
        ["--monitor", "'val_bogus'"],
    ),
    "train-table-momentum": (
        "train",
        lambda r: ["train", "--dataset", "penguins", "--momentum", "0.9"],
        ["--momentum 0.9", "table"],
    ),
    "train-gpt-schedule": (
        "train",
        lambda r: ["train", "gpt", "--schedule", "cosine"],
        ["--schedule 'cosine'", "gpt"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line(case, files, tmp_path, capsys, monkeypatch):
    command, make_argv, named = CASES[case]
    monkeypatch.chdir(tmp_path)  # default --out folders land here
    argv = make_argv(files)
    if command == "generate":
        argv += ["--prompt", "ab"]
    out = tmp_path / "out"
    if command in ("train", "rl", "explain"):
        argv += ["--out", str(out)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"kerasdl {command}: error: "), lines[0]
    for text in named:
        assert text in lines[0], (text, lines[0])
    # Before any training or writing: no run folder, nothing on stdout.
    assert captured.out == ""
    assert not (out / "model.keras").exists() and not (out / "run.json").exists()
    assert not (out / "result.json").exists() and not (out / "heatmap.png").exists()


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20


# --- every TrainingConfig option is reachable from `kerasdl train` ------------------

# TrainingConfig field -> the `kerasdl train` flag that sets it.
_FLAG_OF_FIELD = {"early_stopping_patience": "--early-stopping"}
_SCHEDULE_FLAGS = (
    "--warmup-steps",
    "--decay-steps",
    "--drop-every",
    "--drop-factor",
    "--min-lr-fraction",
    "--warmup-start-lr",
)


def test_train_help_names_every_training_config_option(capsys):
    from kerasdl.training import TrainingConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for field in dataclasses.fields(TrainingConfig):
        if field.name == "schedule_kwargs":
            flags = _SCHEDULE_FLAGS
        else:
            flags = [
                _FLAG_OF_FIELD.get(field.name, "--" + field.name.replace("_", "-"))
            ]
        for flag in flags:
            assert flag in text, (field.name, flag)


def _config_from(argv, monkeypatch, capsys):
    """The TrainingConfig `kerasdl train ARGV` hands to train_classifier (which is
    replaced: nothing trains)."""
    import kerasdl.recipes.classifier as job

    seen = {}

    def fake(dataset, model_name, *, config, **kwargs):
        seen["config"] = config
        raise KeyboardInterrupt  # stop here, cheaply

    monkeypatch.setattr(job, "train_classifier", fake)
    assert main(argv) == 130
    capsys.readouterr()
    return seen["config"]


def test_every_training_config_option_reaches_the_config(monkeypatch, capsys):
    argv = ["train", "mlp", "--dataset", "iris", "--optimizer", "sgd"]
    argv += ["--learning-rate", "0.05", "--schedule", "warmup_cosine"]
    argv += ["--warmup-steps", "3", "--decay-steps", "7", "--min-lr-fraction", "0.1"]
    argv += ["--warmup-start-lr", "0.001", "--momentum", "0.8", "--nesterov"]
    argv += ["--weight-decay", "0.0001", "--global-clipnorm", "1.5"]
    argv += ["--gradient-accumulation-steps", "2", "--precision", "mixed_bfloat16"]
    argv += ["--seed", "4", "--no-deterministic", "--epochs", "3", "--batch-size", "8"]
    argv += ["--early-stopping", "2", "--monitor", "val_accuracy", "--no-checkpoint"]
    argv += ["--no-csv-log", "--tensorboard", "--no-backup", "--no-terminate-on-nan"]
    argv += ["--verbose", "2"]
    # (torch has no keras.distribution: there the option is left at its default.)
    distribution = "data_parallel" if kb.supported_distributions() else None
    if distribution:
        argv += ["--distribution", distribution]
    config = _config_from(argv, monkeypatch, capsys)
    expected = dict(
        optimizer="sgd",
        learning_rate=0.05,
        schedule="warmup_cosine",
        schedule_kwargs={
            "warmup_steps": 3,
            "decay_steps": 7,
            "alpha": 0.1,
            "initial_learning_rate": 0.001,
        },
        momentum=0.8,
        nesterov=True,
        weight_decay=0.0001,
        global_clipnorm=1.5,
        gradient_accumulation_steps=2,
        precision="mixed_bfloat16",
        seed=4,
        deterministic=False,
        epochs=3,
        batch_size=8,
        early_stopping_patience=2,
        monitor="val_accuracy",
        checkpoint=False,
        csv_log=False,
        tensorboard=True,
        backup=False,
        terminate_on_nan=False,
        verbose=2,
        distribution=distribution,
    )
    for name, value in expected.items():
        assert getattr(config, name) == value, name

    argv = ["train", "mlp", "--dataset", "iris", "--schedule", "step"]
    argv += ["--drop-every", "4", "--drop-factor", "0.5", "--clipnorm", "2"]
    config = _config_from(argv, monkeypatch, capsys)
    assert config.schedule_kwargs == {"drop_every": 4, "factor": 0.5}
    assert config.clipnorm == 2.0
    argv = ["train", "mlp", "--dataset", "iris", "--clipvalue", "0.5"]
    config = _config_from(argv, monkeypatch, capsys)
    assert config.clipvalue == 0.5
    # Unset flags leave TrainingConfig's own defaults.
    config = _config_from(["train", "mlp", "--dataset", "iris"], monkeypatch, capsys)
    from kerasdl.training import TrainingConfig

    default = TrainingConfig()
    for name in ("momentum", "checkpoint", "backup", "monitor", "verbose", "schedule"):
        assert getattr(config, name) == getattr(default, name), name


def test_train_with_warmup_cosine_for_real(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "mlp", "--dataset", "iris", "--epochs", "2"]
    argv += ["--schedule", "warmup_cosine", "--warmup-steps", "2", "--out", str(out)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["schedule"] == "warmup_cosine"
    assert run["config"]["schedule_kwargs"] == {"warmup_steps": 2}


# --- activations --out -------------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True])
def test_activations_out_dir_reports_the_file_it_wrote(existing, tmp_path, capsys):
    folder = tmp_path / "plots"
    if existing:
        folder.mkdir()
    code = main(["activations", "--out", str(folder)])
    printed = capsys.readouterr().out
    assert code == 0
    png = folder / "activations.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert json.loads(png.with_suffix(".json").read_text())["activations"]
    assert printed.strip() == f"wrote {png} and {png.with_suffix('.json')}"
    assert not (tmp_path / "plots.png").exists()


# --- TensorFlow's start-up log lines ---------------------------------------------


def _fresh(code_or_args, env_extra=None, module=True):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(env_extra or {})
    argv = (
        [sys.executable, "-m", "kerasdl.cli", *code_or_args]
        if module
        else [sys.executable, "-c", code_or_args]
    )
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)


def test_a_failing_tensorflow_command_prints_one_line_only():
    # A user mistake found after TensorFlow is imported (the model file is
    # checked once Keras is loaded), with no TF_CPP_MIN_LOG_LEVEL of the user's.
    result = _fresh(
        ["--backend", "tensorflow", "explain", "gradcam", "--model", "no.keras"]
        + ["--image", "no.png"]
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kerasdl explain: error: --model"), lines[0]
    assert result.stdout == ""


def test_the_users_tf_log_level_wins_and_bugs_keep_their_traceback():
    # The CLI's quiet default does not override the user's own setting, and a
    # genuine Python error (not a user mistake) still prints its traceback.
    code = (
        "import os, kerasdl.cli as cli\n"
        "def broken(args):\n"
        "    import keras\n"
        "    print('level', os.environ['TF_CPP_MIN_LOG_LEVEL'], flush=True)\n"
        "    return {}['no such key']\n"
        "cli.COMMANDS['datasets'] = broken\n"
        "cli.main(['--backend', 'tensorflow', 'datasets'])\n"
    )
    result = _fresh(code, {"TF_CPP_MIN_LOG_LEVEL": "1"}, module=False)
    assert result.returncode == 1
    assert "level 1" in result.stdout
    assert "Traceback" in result.stderr and "KeyError" in result.stderr
