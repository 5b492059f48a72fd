"""`train_classifier`: split, standardise inside the model, train, evaluate once, write
model.keras / run.json / errors/ / model_card.md. One short iris run is shared."""

import json

import keras
import numpy as np
import pytest

from kerasdl import data
from kerasdl.doctor import DIAGNOSTIC_CHECKS, SEVERITIES
from kerasdl.models import registry
from kerasdl.recipes.classifier import train_classifier
from kerasdl.training import TrainingConfig

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_KEYS = {
    "model",
    "dataset",
    "config",
    "metrics",
    "backend",
    "params",
    "error_analysis",
}


def _config(**kwargs):
    return TrainingConfig(**{"epochs": 3, "batch_size": 16, "seed": 0, **kwargs})


@pytest.fixture(scope="module")
def iris():
    return data.load_dataset("iris")


@pytest.fixture(scope="module")
def iris_run(iris, tmp_path_factory):
    """One 3-epoch MLP run on iris: (returned dict, its folder)."""
    out = tmp_path_factory.mktemp("iris_mlp")
    keras.config.set_dtype_policy("float32")
    run = train_classifier(iris, "mlp", config=_config(), out_dir=out)
    return run, out


@pytest.fixture(scope="module")
def iris_split(iris):
    """The split `train_classifier` makes with seed 0 and the default sizes."""
    x = iris.x.reshape(len(iris.x), -1).astype("float32")
    return data.train_val_test_split(
        x, iris.y, val_size=0.15, test_size=0.15, seed=0, stratify=True
    )


# --- run.json ---------------------------------------------------------------------


def test_returns_and_writes_the_run(iris_run):
    run, out = iris_run
    assert RUN_KEYS <= set(run)
    assert json.loads((out / "run.json").read_text()) == run
    assert run["model"] == "mlp"
    assert run["backend"] == keras.backend.backend()
    assert run["error_analysis"] == {"dir": "errors"}
    assert "diagnostics" not in run  # only with diagnose=True


def test_run_records_the_split(iris_run, iris_split):
    dataset = iris_run[0]["dataset"]
    assert dataset["name"] == "iris"
    assert dataset["n_train"] + dataset["n_val"] + dataset["n_test"] == 150
    assert dataset["n_train"] == len(iris_split.y_train)
    assert dataset["n_val"] == len(iris_split.y_val)
    assert dataset["n_test"] == len(iris_split.y_test)
    assert dataset["class_names"] == ["setosa", "versicolor", "virginica"]
    assert "standardised" in dataset["preprocessing"]


def test_run_records_config_and_metrics(iris_run):
    run = iris_run[0]
    assert run["config"] == _config().to_dict()
    metrics = run["metrics"]
    assert metrics["epochs_run"] == 3
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.0 <= metrics["test_f1_macro"] <= 1.0
    assert np.isfinite(metrics["final_train_loss"])
    n_test = run["dataset"]["n_test"]
    assert f"held-out test split ({n_test} samples" in metrics["measured_on"]


# --- the saved model --------------------------------------------------------------


def test_saved_model_takes_raw_features(iris_run, iris_split):
    run, out = iris_run
    model = keras.saving.load_model(out / "model.keras")
    assert model.count_params() == run["params"]
    # Raw (unstandardised) test rows give exactly the accuracy run.json reports.
    proba = model.predict(iris_split.x_test, verbose=0)
    accuracy = float(np.mean(np.argmax(proba, axis=1) == iris_split.y_test))
    assert accuracy == run["metrics"]["test_accuracy"]


def test_standardisation_is_inside_the_model_and_fit_on_training_rows(
    iris_run, iris_split
):
    model = keras.saving.load_model(iris_run[1] / "model.keras")
    standardise = model.get_layer("standardise")
    z = keras.ops.convert_to_numpy(standardise(iris_split.x_train))
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-3)
    # The statistics are the training part's, not the whole set's (no leakage).
    whole = keras.ops.convert_to_numpy(
        standardise(np.concatenate([iris_split.x_train, iris_split.x_test]))
    )
    assert np.abs(whole.mean(axis=0)).max() > 1e-3


# --- the other files --------------------------------------------------------------


def test_writes_model_card_and_error_analysis(iris_run):
    out = iris_run[1]
    card = (out / "model_card.md").read_text()
    assert card.startswith("# Model card: mlp")
    assert "test_accuracy" in card and "iris" in card
    assert f"{iris_run[0]['metrics']['test_accuracy']:.4f}" in card
    assert "errors/confusion_matrix.png" in card
    assert (out / "errors" / "confusion_matrix.png").read_bytes()[:8] == PNG_SIGNATURE
    assert (out / "errors" / "per_class.json").is_file()


# --- diagnose=True ----------------------------------------------------------------


def _exploding_model(input_shape, num_classes):
    """Inputs scaled by 1e6 before a zero-initialised softmax layer: the outputs start
    uniform (not saturated), and the gradient norm of the very first probe is far
    above TrainingDiagnostics' 1e4 threshold."""
    inputs = keras.Input(input_shape)
    h = keras.layers.Rescaling(1e6)(inputs)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer="zeros"
    )(h)
    return keras.Model(inputs, outputs)


def test_diagnose_adds_the_findings_to_run_json(iris, tmp_path, monkeypatch):
    registry.list_models()  # register the built-ins first
    spec = registry.ModelSpec(
        name="exploding_probe",
        builder=_exploding_model,
        inputs=("tabular",),
        description="test model with huge gradients",
    )
    monkeypatch.setitem(registry._REGISTRY, spec.name, spec)
    # A tiny learning rate keeps the weights (and the test predictions) finite.
    config = _config(epochs=1, learning_rate=1e-9)
    run = train_classifier(
        iris, spec.name, config=config, out_dir=tmp_path, diagnose=True
    )
    assert json.loads((tmp_path / "run.json").read_text()) == run
    findings = run["diagnostics"]
    assert isinstance(findings, list)
    for finding in findings:
        assert set(finding) == {"check", "severity", "message", "fix"}
        assert finding["check"] in DIAGNOSTIC_CHECKS
        assert finding["severity"] in SEVERITIES
    assert "exploding_gradients" in [f["check"] for f in findings]


def test_a_diverged_run_still_records_its_diagnostics(iris, tmp_path):
    config = _config(epochs=1, optimizer="sgd", learning_rate=1e20)
    returned = train_classifier(
        iris, "mlp", config=config, out_dir=tmp_path, diagnose=True
    )
    run = json.loads((tmp_path / "run.json").read_text())
    assert run == returned and run["status"] == "diverged"
    assert "nan_loss" in [f["check"] for f in run["diagnostics"]]
    assert "test_accuracy" not in run["metrics"]  # nothing measured on garbage
    assert not (tmp_path / "model_card.md").exists()


# --- user mistakes ----------------------------------------------------------------


def test_regression_dataset_is_refused(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="classification") as info:
        train_classifier(data.load_dataset("diabetes"), "mlp", out_dir=out)
    assert "'diabetes'" in str(info.value) and "regression" in str(info.value)
    assert not out.exists()


def test_image_model_on_tabular_data_is_refused(iris, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="'cnn'") as info:
        train_classifier(iris, "cnn", out_dir=out)
    assert "tabular" in str(info.value) and "image" in str(info.value)
    assert not out.exists()


def test_unknown_model_is_refused(iris, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="Unknown deep model 'nope'") as info:
        train_classifier(iris, "nope", out_dir=out)
    assert "mlp" in str(info.value)  # lists the choices
    assert not out.exists()
