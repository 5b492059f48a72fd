"""`kerasdl train cnn --model NAME` and `kerasdl explain gradcam|saliency`, called
in-process: one epoch of LeNet-5 on the digits, then explanations of
a digit written as a PNG (and as a .npy array) by OpenCV."""

import json

import cv2
import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kerasdl.cli import main
from kerasdl.explain import grad_cam

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr()


def _error_line(capsys, argv, command):
    """Run `argv`, expect exit code 2 and exactly one line on stderr; return it."""
    code, captured = _run(capsys, argv)
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"kerasdl {command}: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One epoch of `train cnn --model lenet5` (the only training in this file: on
    JAX each trained model costs tens of seconds of compilation)."""
    out = tmp_path_factory.mktemp("vision") / "lenet5"
    argv = ["train", "cnn", "--model", "lenet5", "--dataset", "digits"]
    code = main([*argv, "--epochs", "1", "--out", str(out)])
    return {"lenet5": (code, out)}


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    """Digit 0 of sklearn's set: a 64x64 PNG (8x nearest upscale, light on dark as
    the training data), the same image as a float .npy array, and its label."""
    root = tmp_path_factory.mktemp("digit")
    bunch = load_digits()
    image = (bunch.images[0] / 16.0).astype("float32")
    png = root / "zero.png"
    pixels = np.round(image * 255).astype("uint8")
    cv2.imwrite(str(png), cv2.resize(pixels, (64, 64), interpolation=0))
    npy = root / "zero.npy"
    np.save(npy, image)
    return {"png": png, "npy": npy, "image": image, "label": int(bunch.target[0])}


# --- train cnn --model NAME ---------------------------------------------------------


def test_train_cnn_writes_metrics_and_history(runs):
    name = "lenet5"
    code, out = runs[name]
    assert code == 0
    for file in ("model.keras", "run.json", "model_card.md", "errors"):
        assert (out / file).exists(), file
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == name and run["status"] == "trained"

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == name and metrics["dataset"] == "digits"
    assert metrics["backend"] == keras.backend.backend()
    for key in ("test_accuracy", "test_f1_macro", "val_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["test_accuracy"] == run["metrics"]["test_accuracy"]
    assert metrics["epochs_run"] == 1 and metrics["train_seconds"] > 0
    assert metrics["params"] == run["params"] > 1000
    assert metrics["val_accuracy"] > 0.2  # one epoch beats chance (0.1); measured 0.56

    history = json.loads((out / "history.json").read_text())
    assert history["epochs"] == [1]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(history[key]) == 1, key
    assert history["val_accuracy"][-1] == pytest.approx(metrics["val_accuracy"])
    assert (out / "history.png").read_bytes().startswith(PNG_SIGNATURE)
    assert cv2.imread(str(out / "history.png")) is not None


class _Stop(Exception):
    """Raised by the stand-in trainer once it has seen its arguments."""


def test_train_cnn_without_model_keeps_smallcnn(monkeypatch, tmp_path):
    seen = {}

    def fake_train_classifier(dataset, model_name, **kwargs):
        seen["model"] = model_name
        raise _Stop

    monkeypatch.setattr(
        "kerasdl.recipes.classifier.train_classifier", fake_train_classifier
    )
    with pytest.raises(_Stop):
        main(["train", "cnn", "--dataset", "digits", "--out", str(tmp_path)])
    assert seen["model"] == "cnn"  # the registry's SmallCNN
    with pytest.raises(_Stop):
        main(["train", "cnn", "--model", "resnet18", "--out", str(tmp_path)])
    assert seen["model"] == "resnet18"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "cnn", "--model", "nope"], "Unknown convnet --model 'nope'"),
        (["train", "cnn", "--model", "mlp"], "--model 'mlp' is not a convolutional"),
        (["train", "cnn", "--model", "dcgan"], "train gan --model dcgan"),
        (["train", "lenet5", "--model", "resnet18"], "--model 'resnet18' with"),
        (["train", "gan", "--model", "lenet5"], "Unknown generative model"),
    ],
)
def test_train_cnn_model_errors(capsys, argv, message):
    line = _error_line(capsys, argv, "train")
    assert message in line, line
    if "cnn" in argv:  # the valid names are listed
        assert "lenet5" in line and "resnet18" in line and "efficientnet_b0" in line
        assert "mlp," not in line and "dcgan," not in line


# --- explain --------------------------------------------------------------------------


def test_explain_gradcam_on_a_png(runs, digit, tmp_path, capsys):
    _, model_dir = runs["lenet5"]
    out = tmp_path / "gc"
    argv = ["explain", "gradcam", "--model", str(model_dir / "model.keras")]
    code, captured = _run(
        capsys, [*argv, "--image", str(digit["png"]), "--out", str(out)]
    )
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradcam: predicted class ")
    assert "explanation.json" in lines[0]

    record = json.loads((out / "explanation.json").read_text())
    assert 0 <= record["predicted_class"] < 10
    assert record["class_explained"] == record["predicted_class"]
    assert 0.0 <= record["predicted_probability"] <= 1.0
    assert record["outputs_are_probabilities"] is True
    assert record["layer"] == "conv2"  # LeNet-5's last convolution
    assert record["model_input_shape"] == [8, 8, 1]
    assert record["image_shape"] == [64, 64, 1]
    assert record["heatmap_shape"] == [8, 8]
    assert "divided by 255" in record["preprocessing"]
    assert "[0, 1]" in record["preprocessing"]
    heatmap = np.load(out / "heatmap.npy")
    assert heatmap.shape == (8, 8) and heatmap.max() == pytest.approx(1.0)
    row, col = record["heatmap_argmax"]
    assert heatmap[row, col] == heatmap.max()
    assert [r // 8 for r in record["heatmap_argmax_in_image"]] == [row, col]

    overlay = cv2.imread(str(out / "overlay.png"))
    assert overlay is not None and overlay.shape == (64, 64, 3)
    figure = cv2.imread(str(out / "heatmap.png"))
    assert figure is not None and figure.shape[1] > figure.shape[0] > 100


def test_explain_npy_matches_the_library(runs, digit, tmp_path, capsys):
    # A float .npy is taken as already scaled: the CLI's heatmap and probability are
    # then exactly those of grad_cam on the saved model and its flat prediction.
    _, model_dir = runs["lenet5"]
    out = tmp_path / "npy"
    argv = [
        "explain",
        "gradcam",
        "--model",
        str(model_dir),
        "--image",
        str(digit["npy"]),
    ]
    code, captured = _run(capsys, [*argv, "--class-index", "3", "--out", str(out)])
    assert code == 0, captured.err
    record = json.loads((out / "explanation.json").read_text())
    assert record["class_explained"] == 3
    assert record["image_shape"] == [8, 8, 1]
    model = keras.saving.load_model(model_dir / "model.keras")
    flat = digit["image"].reshape(1, -1)
    proba = keras.ops.convert_to_numpy(model(flat, training=False))[0]
    assert record["predicted_class"] == int(np.argmax(proba))
    assert record["class_explained_probability"] == pytest.approx(proba[3], abs=1e-5)
    expected = grad_cam(model, digit["image"][..., None], class_index=3)
    np.testing.assert_allclose(np.load(out / "heatmap.npy"), expected, atol=1e-5)


def test_explain_layer_and_saliency(runs, digit, tmp_path, capsys):
    _, model_dir = runs["lenet5"]
    model = str(model_dir / "model.keras")
    image = str(digit["png"])
    out = tmp_path / "layer"
    argv = ["explain", "gradcam", "--model", model, "--image", image]
    code, captured = _run(capsys, [*argv, "--layer", "conv1", "--out", str(out)])
    assert code == 0, captured.err
    assert json.loads((out / "explanation.json").read_text())["layer"] == "conv1"

    out = tmp_path / "sal"
    argv = ["explain", "saliency", "--model", model, "--image", image, "--invert"]
    code, captured = _run(capsys, [*argv, "--smoothgrad", "4", "--out", str(out)])
    assert code == 0, captured.err
    record = json.loads((out / "explanation.json").read_text())
    assert record["method"] == "saliency" and record["layer"] is None
    assert record["smoothgrad_samples"] == 4
    assert "inverted" in record["preprocessing"]
    assert cv2.imread(str(out / "overlay.png")).shape == (64, 64, 3)
    heatmap = np.load(out / "heatmap.npy")
    assert heatmap.shape == (8, 8) and 0.0 <= heatmap.min() <= heatmap.max() <= 1.0


def test_explain_errors(runs, digit, tmp_path, capsys):
    _, model_dir = runs["lenet5"]
    model = str(model_dir / "model.keras")
    image = str(digit["png"])
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    cases = [
        (["--model", str(tmp_path / "none.keras"), "--image", image], "--model"),
        (["--model", str(broken), "--image", image], "--model"),
        (["--model", model, "--image", str(tmp_path / "none.png")], "--image"),
        (["--model", model, "--image", str(broken)], "--image"),
        (["--model", model, "--image", image, "--class-index", "10"], "--class-index"),
        (["--model", model, "--image", image, "--layer", "nope"], "--layer 'nope'"),
    ]
    for argv, name in cases:
        line = _error_line(capsys, ["explain", "gradcam", *argv], "explain")
        assert name in line, line
    assert "0..9" in _error_line(
        capsys,
        [
            "explain",
            "saliency",
            "--model",
            model,
            "--image",
            image,
            "--class-index",
            "-1",
        ],
        "explain",
    )
    line = _error_line(
        capsys,
        ["explain", "gradcam", "--model", model, "--image", image, "--layer", "nope"],
        "explain",
    )
    assert "conv1" in line  # the message lists the convolutional layers


def test_explain_help_documents_the_scaling(capsys):
    with pytest.raises(SystemExit) as info:
        main(["explain", "gradcam", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in ("--model", "--image", "--class-index", "--layer", "--out", "255"):
        assert text in out, text
    assert "grey levels 0..16 divided by 16" in out


def test_save_history_writes_null_for_diverged_epochs(tmp_path):
    from kerasdl.recipes.classifier import save_history

    history = {"loss": [2.0, float("nan")], "val_loss": [1.5, float("inf")]}
    record = save_history(history, tmp_path, title="diverged")
    assert record == {"epochs": [1, 2], "loss": [2.0, None], "val_loss": [1.5, None]}
    assert json.loads((tmp_path / "history.json").read_text()) == record
    assert cv2.imread(str(tmp_path / "history.png")) is not None


@pytest.mark.parametrize(
    "history, titles",
    [
        # A table model compiled without metrics: the loss alone, no empty panel.
        ({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]}, ["loss"]),
        (
            {
                "loss": [1.0],
                "accuracy": [0.5],
                "val_loss": [1.2],
                "val_accuracy": [0.4],
            },
            ["loss", "accuracy"],
        ),
    ],
)
def test_save_history_draws_one_panel_per_logged_quantity(
    tmp_path, monkeypatch, history, titles
):
    import kerasdl._figures as figures
    from kerasdl.recipes.classifier import save_history

    drawn = []

    def keep(fig, path, **kwargs):
        drawn.append([ax.get_title() for ax in fig.axes])
        figures.plt.close(fig)

    monkeypatch.setattr(figures, "save_figure", keep)
    save_history(history, tmp_path)
    assert drawn == [titles]
