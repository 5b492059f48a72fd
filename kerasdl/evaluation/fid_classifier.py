"""The small digits classifier whose penultimate layer FID-digits measures in: its
data split, network, training (with shift augmentation) and the shipped asset it
loads from.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from kerasdl.evaluation.frechet import (
    _finite,
)

ASSET_DIR = Path(__file__).resolve().parent / "assets"


ASSET_WEIGHTS = ASSET_DIR / "fid_digits.npz"


ASSET_METADATA = ASSET_DIR / "fid_digits.json"


IMAGE_SHAPE = (8, 8, 1)


NUM_CLASSES = 10


FEATURE_DIM = 128


FEATURE_LAYER = "features"


SPLIT_TEST_SIZE = 0.2


SPLIT_SEED = 0


_RANGE_TOLERANCE = 0.1


def check_images(images, name: str = "images") -> np.ndarray:
    """Validate 8x8 digit images and return them as float32 `(n, 8, 8, 1)`.

    Args:
        images: `(n, 8, 8, 1)` or `(n, 8, 8)` numbers in [0, 1] (NumPy array or a
            backend tensor). Values up to 0.1 outside [0, 1] are accepted.
        name: The argument's name, for error messages.

    Raises:
        ValueError: wrong shape, no images, NaN/inf, or values on another scale
            (e.g. a tanh generator's [-1, 1], or raw 0..16 / 0..255 grey levels).
    """
    try:
        array = np.asarray(images)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be an array of 8x8 images; received "
            f"{type(images).__name__}."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must hold numbers; received dtype {array.dtype}.")
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"`{name}` must be 8x8 grey images of shape (n, 8, 8, 1) or (n, 8, 8); "
            f"received shape {np.shape(images)}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; received shape {np.shape(images)}.")
    array = array.astype(np.float32)
    _finite(array, name)
    low, high = float(array.min()), float(array.max())
    if low < -_RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
        raise ValueError(
            f"`{name}` must hold pixel values in [0, 1]; received values in "
            f"[{low:.4g}, {high:.4g}]. Rescale them first: images from a tanh "
            "generator in [-1, 1] with (x + 1) / 2, raw digits grey levels 0..16 "
            "with x / 16, 8-bit images with x / 255."
        )
    return array


def digits_split(seed: int = SPLIT_SEED, test_size: float = SPLIT_TEST_SIZE):
    """The classifier's stratified train / held-out split of sklearn's 1,797 digits.

    Returns:
        `(x_train, y_train, x_test, y_test)`, images float32 `(n, 8, 8, 1)` in [0, 1].
    """
    from sklearn.model_selection import train_test_split

    from kerasdl.data import load_digits

    ds = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        ds.x, ds.y, test_size=test_size, random_state=seed, stratify=ds.y
    )
    return x_train, y_train, x_test, y_test


def build_digits_classifier(kernel_initializer="glorot_uniform"):
    """The FID-digits classifier, untrained: a functional `keras.Model`.

    Conv2D(32, 3x3, same, ReLU) -> Conv2D(64, 3x3, same, ReLU) -> MaxPool 2x2 ->
    Flatten (4*4*64) -> Dropout(0.25) -> Dense(128, ReLU, name="features") ->
    Dropout(0.25) -> Dense(10, softmax). No batch normalisation, so inference has
    no running statistics that could differ between backends.

    Args:
        kernel_initializer: Initializer of every kernel. Loading weights passes
            `"zeros"`: on JAX each random initializer compiles once per shape, which
            costs seconds for weights that are overwritten anyway.
    """
    import keras

    init = {"kernel_initializer": kernel_initializer}

    inputs = keras.Input(shape=IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(
        32, 3, padding="same", activation="relu", name="conv1", **init
    )(inputs)
    x = keras.layers.Conv2D(
        64, 3, padding="same", activation="relu", name="conv2", **init
    )(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.25, name="dropout_1")(x)
    x = keras.layers.Dense(FEATURE_DIM, activation="relu", name=FEATURE_LAYER, **init)(
        x
    )
    x = keras.layers.Dropout(0.25, name="dropout_2")(x)
    outputs = keras.layers.Dense(
        NUM_CLASSES, activation="softmax", name="predictions", **init
    )(x)
    return keras.Model(inputs, outputs, name="fid_digits_classifier")


def _shift_augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by -1, 0 or +1 pixel along each axis, filling with zeros."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    dy = rng.integers(0, 3, size=len(x))
    dx = rng.integers(0, 3, size=len(x))
    rows = dy[:, None] + np.arange(8)[None, :]
    cols = dx[:, None] + np.arange(8)[None, :]
    index = np.arange(len(x))[:, None, None]
    return padded[index, rows[:, :, None], cols[:, None, :], :]


def _accuracy(model, x, y, batch_size=512) -> float:
    proba = _batched(model, x, batch_size)
    return float(np.mean(proba.argmax(axis=1) == y))


def _batched(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """`model` on `x` in inference mode, in batches all padded to `batch_size`.

    One batch shape means one compiled function per model (on JAX every new shape
    would compile again), and an image's output never depends on how many others
    were passed with it.
    """
    parts = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        n = len(batch)
        if n < batch_size:
            pad = np.zeros((batch_size - n, *batch.shape[1:]), dtype=batch.dtype)
            batch = np.concatenate([batch, pad])
        parts.append(np.asarray(model.predict_on_batch(batch))[:n])
    return np.concatenate(parts, axis=0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train_digits_classifier(
    seed: int = 0,
    epochs: int = 40,
    out=None,
    *,
    batch_size: int = 32,
    augment: bool = True,
    verbose: int = 0,
):
    """Train the FID-digits classifier, deterministically, on 80% of the digits.

    The data is the stratified split of `digits_split()` (seed 0, 20% held out).
    Each epoch sees every training image once, in a seeded order, shifted by up to
    one pixel per axis when `augment` (the shifts are drawn with NumPy, so they cost
    nothing on any backend). Adam (1e-3), sparse categorical cross-entropy.

    Args:
        seed: Seed of the weights' initialisation, the dropout, the order and the
            shifts.
        epochs: Passes over the training images.
        out: Optional `.npz` path: the weights (`model.get_weights()`, in order, as
            `w000`, `w001`...) are written there and the metadata next to it as
            `.json`.
        batch_size: Images per step.
        augment: Random one-pixel shifts of the training images.
        verbose: Passed to `fit`.

    Returns:
        `(model, metadata)`; `metadata` holds the held-out `accuracy`, `seed`,
        `epochs`, `backend`, `keras_version`, `kerasdl_version`, the split and (with
        `out`) the weights file's `sha256`.
    """
    import keras

    from kerasdl import __version__
    from kerasdl.backend import enable_determinism, set_random_seed

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an integer; received seed={seed!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be an integer >= 1; received {epochs!r}.")
    set_random_seed(seed)
    enable_determinism()
    x_train, y_train, x_test, y_test = digits_split()

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        xe = x_train[order]
        xs.append(_shift_augment(xe, rng) if augment else xe)
        ys.append(y_train[order])
    x_all = np.concatenate(xs).astype(np.float32)
    y_all = np.concatenate(ys)

    model = build_digits_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # One pass over the pre-drawn epochs keeps the batches identical on every run.
    model.fit(
        x_all, y_all, batch_size=batch_size, epochs=1, shuffle=False, verbose=verbose
    )
    metadata = {
        "name": "fid_digits",
        "architecture": (
            "Conv2D(32,3,same,relu) > Conv2D(64,3,same,relu) > MaxPool(2) > "
            "Flatten > Dropout(0.25) > Dense(128,relu,'features') > Dropout(0.25) > "
            "Dense(10,softmax)"
        ),
        "feature_layer": FEATURE_LAYER,
        "feature_dim": FEATURE_DIM,
        "accuracy": _accuracy(model, x_test, y_test),
        "train_accuracy": _accuracy(model, x_train, y_train),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "split": {"test_size": SPLIT_TEST_SIZE, "seed": SPLIT_SEED, "stratify": True},
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "augment": "random one-pixel shifts" if augment else None,
        "optimizer": "Adam(1e-3)",
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "kerasdl_version": __version__,
    }
    if out is not None:
        out = Path(out).with_suffix(".npz")
        out.parent.mkdir(parents=True, exist_ok=True)
        weights = model.get_weights()
        np.savez_compressed(
            out, **{f"w{i:03d}": np.asarray(w) for i, w in enumerate(weights)}
        )
        metadata["weights_file"] = out.name
        metadata["sha256"] = _sha256(out)
        out.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    return model, metadata


def load_digits_classifier(path=None):
    """Build the classifier and load weights written by `train_digits_classifier`.

    Args:
        path: The `.npz` file; defaults to the weights shipped with kerasdl.

    Returns:
        A `keras.Model` (inference only; not compiled).
    """
    path = Path(ASSET_WEIGHTS if path is None else path)
    if not path.is_file():
        raise ValueError(
            f"FID-digits weights not found at {path}. Reinstall kerasdl, or write "
            "them with `kerasdl fid-asset --write-asset`."
        )
    model = build_digits_classifier(kernel_initializer="zeros")
    with np.load(path) as data:
        keys = sorted(k for k in data.files if k.startswith("w"))
        weights = [data[k] for k in keys]
    expected = [tuple(w.shape) for w in model.get_weights()]
    received = [tuple(w.shape) for w in weights]
    if expected != received:
        raise ValueError(
            f"The weights in {path} do not fit the FID-digits classifier: expected "
            f"shapes {expected}, received {received}."
        )
    model.set_weights(weights)
    return model
