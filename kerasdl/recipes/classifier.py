"""`train_classifier`: the whole supervised job behind `kerasdl train MODEL`.

Split (stratified, seeded) → standardise on the training part → build a registered
model → `train` with a `TrainingConfig` → evaluate on the untouched test part → write
`model.keras`, `run.json`, the learning curves (`history.png` + `history.json`), the
final numbers (`metrics.json`), the error analysis and the model card into one folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np

from kerasdl.data import Dataset, Standardizer, check_xy, train_val_test_split
from kerasdl.models.registry import get_model_spec
from kerasdl.training.config import TrainingConfig
from kerasdl.training.fit import train

RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
HISTORY_PLOT = "history.png"
METRICS_FILE = "metrics.json"


def _finite_or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None


def save_history(history: dict, out_dir, *, title: str = "") -> dict:
    """Write the per-epoch numbers (`history.json`) and the learning curves
    (`history.png`: the loss and each logged metric, such as accuracy, training and
    validation, one panel each) into `out_dir`.

    Args:
        history: `keras.callbacks.History.history`: a list of per-epoch values for
            each logged quantity (`loss`, `accuracy`, `val_loss`, ...).
        out_dir: The folder.
        title: Figure title.

    Returns:
        The `history.json` content: `{"epochs": [1, 2, ...], "loss": [...], ...}`
        (non-finite values, from a diverged run, are written as null).
    """
    from matplotlib.ticker import MaxNLocator

    from kerasdl._figures import plt, save_figure

    out = Path(out_dir)
    record = {
        key: [_finite_or_none(v) for v in values] for key, values in history.items()
    }
    count = max((len(v) for v in record.values()), default=0)
    record = {"epochs": list(range(1, count + 1)), **record}
    (out / HISTORY_FILE).write_text(json.dumps(record, indent=2))

    # One panel for the loss and one per logged metric (accuracy for the
    # classifiers; a model compiled without metrics gets the loss panel alone).
    quantities = ["loss"] + [
        key
        for key in record
        if key not in ("epochs", "loss", "learning_rate") and not key.startswith("val_")
    ]
    fig, axes = plt.subplots(
        1, len(quantities), figsize=(4.5 * len(quantities), 3.5), squeeze=False
    )
    for ax, quantity in zip(axes[0], quantities):
        for key, label in ((quantity, "train"), (f"val_{quantity}", "validation")):
            values = record.get(key)
            if values:
                points = [np.nan if v is None else v for v in values]
                ax.plot(record["epochs"][: len(points)], points, "o-", label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(quantity)
        ax.set_title(quantity)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    save_figure(fig, out / HISTORY_PLOT)
    return record


def _with_standardisation(model: keras.Model, scaler: Standardizer, width: int):
    """Put the training part's statistics in front of the model, so the saved model
    takes raw inputs."""
    inputs = keras.Input((width,), name="features")
    normalise = keras.layers.Normalization(
        mean=np.asarray(scaler.mean_).reshape(-1),
        variance=np.square(np.asarray(scaler.scale_)).reshape(-1),
        name="standardise",
    )
    return keras.Model(inputs, model(normalise(inputs)), name=f"{model.name}_trained")


def train_classifier(
    dataset: Dataset,
    model_name: str,
    *,
    config: TrainingConfig | None = None,
    out_dir: str | Path,
    val_size: float = 0.15,
    test_size: float = 0.15,
    diagnose: bool = False,
    callbacks=(),
) -> dict:
    """Train a registered deep model on a classification dataset and evaluate it.

    Args:
        dataset: A classification `Dataset` (images or tabular).
        model_name: A registered model (`kerasdl.models.registry.list_models()`).
        config: Training settings (default: the registry's epochs, batch size and
            learning rate with Adam and seed 0).
        out_dir: Folder for `model.keras`, `run.json`, the training logs, the
            learning curves (`history.png`, with the per-epoch numbers in
            `history.json`), the final numbers (`metrics.json`: test accuracy and
            macro-F1, validation accuracy, epochs, seconds, backend, model,
            parameters), the error analysis (`errors/`) and `model_card.md`.
        val_size, test_size: Fractions of the data held out (stratified, seeded by
            `config.seed`). The test part is used once, after training.
        diagnose: Watch the run with `kerasdl.doctor.TrainingDiagnostics` (probing
            64 training samples); its findings go into `run.json` and are printed.
        callbacks: Extra Keras callbacks.

    Raises:
        ValueError: Before training, for a dataset that is not for classification,
            holds a single class or does not suit the model.

    Returns:
        The `run.json` content. If training diverged (non-finite predictions),
        `status` is `"diverged"`, no test metrics (`metrics.json`), error
        analysis or card are written, and `run.json` keeps the diagnostics (the
        learning curves are written: they show where it diverged).
    """
    from kerasdl.evaluation import error_analysis, model_card_from_run

    if dataset.task != "classification":
        raise ValueError(
            f"train_classifier needs a classification dataset; {dataset.name!r} is a "
            f"{dataset.task} dataset."
        )
    spec = get_model_spec(model_name)
    kind = "image" if dataset.is_image else "tabular"
    if kind not in spec.inputs:
        raise ValueError(
            f"model {model_name!r} accepts {'/'.join(spec.inputs)} inputs; dataset "
            f"{dataset.name!r} is {kind}."
        )
    if config is None:
        config = TrainingConfig(
            learning_rate=spec.learning_rate,
            epochs=spec.epochs,
            batch_size=spec.batch_size,
            seed=0,
        )
    seed = 0 if config.seed is None else config.seed
    x, y = check_xy(dataset.x, dataset.y, name_x="dataset.x", name_y="dataset.y")
    classes = np.unique(y)
    if len(classes) < 2:
        found = classes[0].item()  # check_xy refuses empty data
        if dataset.class_names and isinstance(found, int):
            found = dataset.class_names[found]
        raise ValueError(
            f"dataset {dataset.name!r} has a single class {found!r} (all {len(y)} "
            "samples); a classifier needs at least two classes."
        )
    x = x.reshape(len(x), -1).astype("float32")
    split = train_val_test_split(
        x, y, val_size=val_size, test_size=test_size, seed=seed, stratify=True
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    config.setup()
    num_classes = dataset.num_classes
    model = spec.builder(dataset.x.shape[1:], num_classes, **spec.builder_kwargs)
    if spec.standardize:
        model = _with_standardisation(
            model, Standardizer().fit(split.x_train), x.shape[1]
        )
    callbacks = list(callbacks)
    diagnostics = None
    if diagnose:
        from kerasdl.doctor import TrainingDiagnostics

        diagnostics = TrainingDiagnostics(split.x_train[:64], split.y_train[:64])
        callbacks.append(diagnostics)
    start = time.perf_counter()
    history = train(
        model,
        split.x_train,
        split.y_train,
        config=config,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        validation_data=(split.x_val, split.y_val),
        out_dir=out,
        callbacks=callbacks,
    )
    train_seconds = time.perf_counter() - start
    model.save(out / MODEL_FILE)
    save_history(
        history.history, out, title=f"{model_name} on {dataset.name}: learning curves"
    )

    proba = model.predict(split.x_test, verbose=0)
    losses = history.history.get("loss", [])
    run = {
        "model": model_name,
        "model_description": spec.description,
        "status": "trained",
        "dataset": {
            "name": dataset.name,
            "description": dataset.description,
            "n_train": int(len(split.y_train)),
            "n_val": int(len(split.y_val)),
            "n_test": int(len(split.y_test)),
            "class_names": dataset.class_names,
            "preprocessing": (
                "flattened; standardised with the training part's mean and std "
                "(a Normalization layer inside the saved model)"
                if spec.standardize
                else "flattened; values as the loader gives them (no extra scaling)"
            ),
        },
        "config": config.to_dict(),
        "train_seconds": round(train_seconds, 2),
        "backend": keras.backend.backend(),
        "params": int(model.count_params()),
    }
    if diagnostics is not None:
        run["diagnostics"] = [finding.to_dict() for finding in diagnostics.findings]
    if not np.all(np.isfinite(proba)):
        # Training diverged: keep the record (and the doctor's findings), measure
        # nothing, and say so; the caller decides how loudly to fail.
        run["status"] = "diverged"
        run["metrics"] = {
            "epochs_run": len(losses),
            "measured_on": "not measured: the model's predictions are NaN or "
            "infinite (training diverged)",
        }
        (out / RUN_FILE).write_text(json.dumps(run, indent=2))
        return run
    pred = np.argmax(proba, axis=1)
    analysis = error_analysis(
        split.y_test,
        pred,
        proba=proba,
        x=split.x_test.reshape((-1, *dataset.x.shape[1:]))
        if dataset.is_image
        else None,
        class_names=dataset.class_names,
        out_dir=out / "errors",
        title=f"{model_name} on {dataset.name} (test split)",
    )
    metrics = analysis["metrics"]
    run["metrics"] = {
        "test_accuracy": float(metrics["accuracy"]),
        "test_f1_macro": float(metrics["macro_f1"]),
        "epochs_run": len(losses),
        "final_train_loss": float(losses[-1]),
        "final_val_accuracy": float(history.history["val_accuracy"][-1]),
        "measured_on": (
            f"the held-out test split ({len(split.y_test)} samples, stratified, "
            f"seed {seed}), used once after training"
        ),
    }
    run["error_analysis"] = {"dir": "errors"}
    (out / RUN_FILE).write_text(json.dumps(run, indent=2))
    val_accuracy = history.history["val_accuracy"]
    final_metrics = {
        "model": model_name,
        "dataset": dataset.name,
        "test_accuracy": run["metrics"]["test_accuracy"],
        "test_f1_macro": run["metrics"]["test_f1_macro"],
        "val_accuracy": run["metrics"]["final_val_accuracy"],
        "best_val_accuracy": float(np.nanmax(val_accuracy)),
        "final_train_loss": run["metrics"]["final_train_loss"],
        "epochs_run": run["metrics"]["epochs_run"],
        "train_seconds": run["train_seconds"],
        "backend": run["backend"],
        "params": run["params"],
        "n_test": run["dataset"]["n_test"],
        "measured_on": run["metrics"]["measured_on"],
    }
    (out / METRICS_FILE).write_text(json.dumps(final_metrics, indent=2))
    model_card_from_run(out)
    return run
