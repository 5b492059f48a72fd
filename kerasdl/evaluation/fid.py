"""FID-digits: a Fréchet distance for generative models of 8x8 digits.

The Fréchet Inception Distance (FID, Heusel et al., 2017) compares two sets of images
through the features a fixed classifier computes for them: fit a Gaussian to each set
of features and measure

    ||mu_1 - mu_2||^2 + Tr(Sigma_1 + Sigma_2 - 2 (Sigma_1 Sigma_2)^(1/2)),

the Fréchet (2-Wasserstein) distance between the two Gaussians. Lower is better; 0
means the two feature distributions share their mean and covariance.

Inception-v3 sees 299x299 colour photographs, not 8x8 grey digits, so kerasdl ships
its own fixed feature extractor: a small CNN trained once on scikit-learn's digits
(`kerasdl fid-asset --write-asset`, or `build_fid_asset`), whose weights are stored in
`kerasdl/evaluation/assets/fid_digits.npz` with their metadata (held-out accuracy,
seed, backend) in `fid_digits.json`. The features are the 128 ReLU units of its
penultimate layer. Because the weights are fixed, the metric is too: it gives the
same numbers on TensorFlow and JAX (features agree to float32 round-off).

Scores are only comparable at equal sample sizes (FID is biased upwards for small
sets) and only within this metric: an FID-digits value is not an FID value.

Example:

```python
from kerasdl.evaluation import FIDDigits

fid = FIDDigits()
fid.score(real_images, generated_images)  # (n, 8, 8, 1) floats in [0, 1]
fid.class_histogram(generated_images)["mode_coverage"]  # 1.0 = all ten digits
fid.reference_values()  # what "good" and "bad" look like at this sample size
```
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "FIDDigits",
    "build_digits_classifier",
    "check_images",
    "digits_split",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_stats",
    "load_digits_classifier",
    "plot_class_histogram",
    "train_digits_classifier",
    "build_fid_asset",
]

ASSET_DIR = Path(__file__).resolve().parent / "assets"
ASSET_WEIGHTS = ASSET_DIR / "fid_digits.npz"
ASSET_METADATA = ASSET_DIR / "fid_digits.json"

IMAGE_SHAPE = (8, 8, 1)
NUM_CLASSES = 10
FEATURE_DIM = 128
FEATURE_LAYER = "features"
# The classifier's held-out part of the digits: stratified, 20%, this seed.
SPLIT_TEST_SIZE = 0.2
SPLIT_SEED = 0

# Pixel values may stray this far outside [0, 1] (a decoder's round-off) before the
# images are rejected as being on another scale.
_RANGE_TOLERANCE = 0.1
# Added to both covariances' diagonals when their product has no accurate square root.
_SQRTM_EPS = 1e-6
# Relative residual ||X @ X - A||_F / ||A||_F above which a square root is retried.
_SQRTM_RESIDUAL = 1e-4
# Largest imaginary part of Tr(sqrtm) accepted as round-off (relative to the trace).
_IMAG_TOLERANCE = 1e-3


# ---------------------------------------------------------------------------
# The Fréchet distance
# ---------------------------------------------------------------------------


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"`{name}` contains NaN or infinite values "
            f"({int(np.sum(~np.isfinite(array)))} of {array.size})."
        )
    return array


def _as_float_array(value, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{name}` must be an array of numbers; received {type(value).__name__}."
        ) from exc
    return array


def _sqrtm(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Square root of `matrix` and its relative residual (inf when not finite)."""
    from scipy import linalg

    with warnings.catch_warnings():
        # "Matrix is singular": judged below by the residual instead.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(matrix)
    if isinstance(root, tuple):  # pragma: no cover - SciPy < 1.16 with disp=False
        root = root[0]
    if not np.all(np.isfinite(root)):
        return root, math.inf
    norm = np.linalg.norm(matrix)
    residual = np.linalg.norm(root @ root - matrix) / max(norm, np.finfo(float).tiny)
    return root, float(residual)


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2, *, eps=_SQRTM_EPS) -> float:
    """The Fréchet distance between two Gaussians `N(mu1, sigma1)`, `N(mu2, sigma2)`.

    `||mu1 - mu2||^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^(1/2))`,
    computed in float64 with `scipy.linalg.sqrtm`. Two numerical cases are handled
    as the reference FID code does:

    - the product of the covariances is singular (fewer samples than features, or
      dead ReLU units) and its square root is inaccurate or not finite: the root is
      recomputed with `eps * I` added to both covariances;
    - round-off makes the root complex: its real part is used. A large imaginary part
      (more than 0.1% of the trace) is first retried with the `eps` offset and, if it
      persists, reported with a `RuntimeWarning`.

    A result below zero can only be round-off and is returned as 0.

    Args:
        mu1: Mean of the first Gaussian, `(d,)` (a scalar for `d = 1`).
        sigma1: Covariance of the first Gaussian, `(d, d)` (a scalar variance for
            `d = 1`).
        mu2: Mean of the second Gaussian, `(d,)`.
        sigma2: Covariance of the second Gaussian, `(d, d)`.
        eps: Diagonal offset used when the covariance product is near singular.

    Returns:
        The distance, a non-negative Python float.

    Raises:
        ValueError: the shapes do not match, a covariance is not square, or a value
            is NaN or infinite.

    Example:

    ```python
    frechet_distance_from_stats(0.0, 1.0, 3.0, 4.0)  # (0-3)^2 + (1-2)^2 = 10.0
    ```
    """
    mu1 = np.atleast_1d(_finite(_as_float_array(mu1, "mu1"), "mu1"))
    mu2 = np.atleast_1d(_finite(_as_float_array(mu2, "mu2"), "mu2"))
    sigma1 = np.atleast_2d(_finite(_as_float_array(sigma1, "sigma1"), "sigma1"))
    sigma2 = np.atleast_2d(_finite(_as_float_array(sigma2, "sigma2"), "sigma2"))
    for name, mu in (("mu1", mu1), ("mu2", mu2)):
        if mu.ndim != 1:
            raise ValueError(
                f"`{name}` must be a mean vector of shape (d,); received shape "
                f"{mu.shape}."
            )
    if mu1.shape != mu2.shape:
        raise ValueError(
            "`mu1` and `mu2` must have the same feature dimension; received shapes "
            f"{mu1.shape} and {mu2.shape}."
        )
    d = mu1.shape[0]
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(
                f"`{name}` must be a ({d}, {d}) covariance matching the means; "
                f"received shape {sigma.shape}."
            )
    if not float(eps) >= 0:
        raise ValueError(f"`eps` must be >= 0; received eps={eps!r}.")

    root, residual = _sqrtm(sigma1 @ sigma2)
    trace = np.trace(root)
    scale = max(abs(trace.real), 1.0)
    if residual > _SQRTM_RESIDUAL or abs(trace.imag) > _IMAG_TOLERANCE * scale:
        offset = eps * np.eye(d)
        retry, retry_residual = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if retry_residual <= residual or not np.isfinite(residual):
            root, residual, trace = retry, retry_residual, np.trace(retry)
    if not np.isfinite(residual):
        raise ValueError(
            "The square root of sigma1 @ sigma2 is not finite even with an "
            f"eps={eps} offset; check the covariances (are they PSD?)."
        )
    if abs(trace.imag) > _IMAG_TOLERANCE * max(abs(trace.real), 1.0):
        warnings.warn(
            "sqrtm(sigma1 @ sigma2) has a large imaginary part "
            f"(Tr = {trace.real:.6g} + {trace.imag:.3g}j); using the real part. "
            "The covariances may not be positive semi-definite.",
            RuntimeWarning,
            stacklevel=2,
        )
    diff = mu1 - mu2
    value = (
        float(diff @ diff)
        + float(np.trace(sigma1))
        + float(np.trace(sigma2))
        - 2.0 * float(trace.real)
    )
    return max(value, 0.0)


def _check_features(features, name: str) -> np.ndarray:
    array = _as_float_array(features, name)
    if array.ndim != 2:
        hint = ""
        if array.ndim == 1:
            hint = " Use features.reshape(-1, 1) for one feature."
        raise ValueError(
            f"`{name}` must be a feature matrix of shape (n_samples, n_features); "
            f"received shape {array.shape}.{hint}"
        )
    if array.shape[0] < 2:
        raise ValueError(
            f"`{name}` needs at least 2 samples to estimate a covariance; received "
            f"shape {array.shape}."
        )
    return _finite(array, name)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean `(d,)` and covariance `(d, d)` (unbiased, float64) of `(n, d)` features."""
    array = _check_features(features, "features")
    return array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False))


def frechet_distance(features_a, features_b, *, eps=_SQRTM_EPS) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features.

    Args:
        features_a: Features of the first set, `(n_a, d)`, `n_a >= 2`.
        features_b: Features of the second set, `(n_b, d)`, `n_b >= 2`.
        eps: See `frechet_distance_from_stats`.

    Returns:
        The distance (a Python float, >= 0; symmetric in its arguments).

    Raises:
        ValueError: a matrix is not 2-D, has fewer than 2 rows, contains NaN, or the
            two differ in their number of features.

    Example:

    ```python
    fid = FIDDigits()
    frechet_distance(fid.features(real), fid.features(generated))
    ```
    """
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            "`features_a` and `features_b` must have the same number of features; "
            f"received shapes {a.shape} and {b.shape}."
        )
    mu_a, sigma_a = a.mean(axis=0), np.atleast_2d(np.cov(a, rowvar=False))
    mu_b, sigma_b = b.mean(axis=0), np.atleast_2d(np.cov(b, rowvar=False))
    return frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b, eps=eps)


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# The feature extractor
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# The metric
# ---------------------------------------------------------------------------


class FIDDigits:
    """FID on 8x8 digits, with the classifier kerasdl ships (loaded once, lazily).

    Args:
        weights: `.npz` weights of the classifier; defaults to the shipped ones.
        batch_size: Images per forward pass.

    Example:

    ```python
    fid = FIDDigits()
    fid.score(real, generated)                     # lower is better
    fid.class_histogram(generated)["counts"]       # mode collapse shows here
    fid.reference_values()                         # real-vs-real, real-vs-noise
    (fid.predict(generated_sevens) == 7).mean()    # a cGAN's label agreement
    ```
    """

    def __init__(self, weights=None, *, batch_size: int = 512):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise ValueError(
                f"`batch_size` must be an integer >= 1; received {batch_size!r}."
            )
        if batch_size < 1:
            raise ValueError(
                f"`batch_size` must be an integer >= 1; received {batch_size!r}."
            )
        self.weights = Path(ASSET_WEIGHTS if weights is None else weights)
        self.batch_size = batch_size
        self._classifier = None
        self._feature_model = None
        self._references: dict[int, dict] = {}
        self._reference_features: dict[int, np.ndarray] = {}

    def _load(self):
        if self._classifier is None:
            import keras

            classifier = load_digits_classifier(self.weights)
            self._feature_model = keras.Model(
                classifier.input,
                classifier.get_layer(FEATURE_LAYER).output,
                name="fid_digits_features",
            )
            self._classifier = classifier
        return self._classifier

    @property
    def classifier(self):
        """The full classifier (`keras.Model`, images -> 10 class probabilities)."""
        return self._load()

    @property
    def metadata(self) -> dict:
        """The shipped weights' metadata (accuracy, seed, backend...), or `{}`."""
        path = self.weights.with_suffix(".json")
        return json.loads(path.read_text()) if path.is_file() else {}

    def features(self, images) -> np.ndarray:
        """Penultimate-layer features, float32 `(n, 128)`.

        Args:
            images: `(n, 8, 8, 1)` or `(n, 8, 8)` floats in [0, 1].
        """
        x = check_images(images)
        self._load()
        return _batched(self._feature_model, x, self.batch_size)

    def predict_proba(self, images) -> np.ndarray:
        """Class probabilities, float32 `(n, 10)`."""
        x = check_images(images)
        return _batched(self._load(), x, self.batch_size)

    def predict(self, images) -> np.ndarray:
        """Predicted digit labels, int64 `(n,)`."""
        return self.predict_proba(images).argmax(axis=1).astype(np.int64)

    def score(self, real, generated) -> float:
        """FID-digits between two image sets (lower is better; compare equal sizes).

        Args:
            real: Reference images, `(n, 8, 8[, 1])` in [0, 1], n >= 2.
            generated: Images to judge, same format.
        """
        return frechet_distance(self.features(real), self.features(generated))

    def class_histogram(self, images, *, coverage_threshold: float = 0.25) -> dict:
        """How the classifier labels a set of images: the mode-collapse diagnostic.

        Args:
            images: `(n, 8, 8[, 1])` floats in [0, 1].
            coverage_threshold: A digit counts as covered when its share of the
                images is at least `coverage_threshold / 10` (a quarter of the
                uniform share by default), so a few stray predictions do not count.

        Returns:
            A dict: `counts` (int64 `(10,)`), `fractions` (`(10,)`), `entropy` (of the
            fractions, in nats), `normalized_entropy` (entropy / ln 10: 1 for a uniform
            spread, 0 when every image is one digit), `mode_coverage` (fraction of the
            10 digits covered), `missing` (the digits not covered) and `n`.
        """
        if not 0 <= coverage_threshold <= NUM_CLASSES:
            raise ValueError(
                "`coverage_threshold` must be in [0, 10]; received "
                f"{coverage_threshold!r}."
            )
        labels = self.predict(images)
        counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.int64)
        fractions = counts / counts.sum()
        nonzero = fractions[fractions > 0]
        entropy = float(-(nonzero * np.log(nonzero)).sum())
        covered = fractions >= coverage_threshold / NUM_CLASSES
        if coverage_threshold == 0:
            covered = counts > 0
        return {
            "counts": counts,
            "fractions": fractions,
            "entropy": entropy,
            "normalized_entropy": entropy / math.log(NUM_CLASSES),
            "mode_coverage": float(covered.mean()),
            "missing": [int(k) for k in np.flatnonzero(~covered)],
            "n": int(counts.sum()),
        }

    def score_vs_digits(self, generated, seed: int = 0) -> float:
        """FID of generated images against the first half of the real digits.

        The same real half that `reference_values(seed)` uses, so the score sits
        on that scale: about 1 is as good as a second sample of real digits, about
        80 is noise. Give as many images as the other half holds (899) for the
        numbers to be comparable; FID grows as the sample shrinks.

        Args:
            generated: Images `(n, 8, 8, 1)` in [0, 1], n >= 2.
            seed: Seed of the split (as in `reference_values`).

        Returns:
            The FID-digits value (float).
        """
        self.reference_values(seed)
        return frechet_distance(
            self._reference_features[seed], self.features(generated)
        )

    def reference_values(self, seed: int = 0) -> dict:
        """What a good and a useless generator score, at the digits' own scale.

        The 1,797 digits are cut into two stratified halves (898 and 899 images);
        `real_vs_real` is the FID between them (the floor a perfect generator of
        this many samples would reach) and `real_vs_noise` the FID between the
        first half and as many uniform-noise images in [0, 1] (a useless one).

        Measured with the shipped weights (seed 0, 899 images per set):
        real_vs_real = 1.018 and real_vs_noise = 79.43, on TensorFlow and on JAX
        alike (to 7 significant digits). A generator scoring near 1 is as close to the
        digits as a second sample of real digits; one near 80 is no better than
        noise.

        Args:
            seed: Seed of the split and of the noise.

        Returns:
            `{"real_vs_real": float, "real_vs_noise": float, "n": int, "seed": int}`.
        """
        if seed not in self._references:
            from sklearn.model_selection import train_test_split

            from kerasdl.data import load_digits

            ds = load_digits()
            half_a, half_b = train_test_split(
                ds.x, test_size=0.5, random_state=seed, stratify=ds.y
            )
            rng = np.random.default_rng(seed)
            noise = rng.uniform(0.0, 1.0, size=half_b.shape).astype(np.float32)
            features_a = self.features(half_a)
            self._reference_features[seed] = features_a
            self._references[seed] = {
                "real_vs_real": frechet_distance(features_a, self.features(half_b)),
                "real_vs_noise": frechet_distance(features_a, self.features(noise)),
                "n": int(len(half_b)),
                "seed": seed,
            }
        return dict(self._references[seed])


def plot_class_histogram(hist, path, *, title="Predicted digits"):
    """Bar chart of a `class_histogram` result (PNG), with its numbers as JSON.

    Args:
        hist: The dict returned by `FIDDigits.class_histogram`, or 10 counts.
        path: Destination `.png`; the JSON goes next to it (same stem).
        title: Title of the chart.

    Returns:
        The `pathlib.Path` of the PNG.
    """
    from kerasdl.plotting import plt, save_figure

    if isinstance(hist, dict):
        if "counts" not in hist:
            raise ValueError(
                "`hist` must be the dict returned by FIDDigits.class_histogram or "
                f"an array of counts; received a dict with keys {sorted(hist)}."
            )
        counts = np.asarray(hist["counts"])
    else:
        counts = np.asarray(hist)
    if counts.ndim != 1 or len(counts) == 0:
        raise ValueError(
            f"`hist` must hold one count per class; received shape {counts.shape}."
        )
    counts = counts.astype(np.int64)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(np.arange(len(counts)), counts, color="tab:blue")
    total = max(int(counts.sum()), 1)
    ax.axhline(total / len(counts), color="grey", linestyle="--", label="uniform")
    ax.set_xticks(np.arange(len(counts)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.legend(loc="upper right")
    path = save_figure(fig, path)
    data = {"counts": counts.tolist()}
    if isinstance(hist, dict):
        for key, value in hist.items():
            if key != "counts":
                data[key] = value.tolist() if isinstance(value, np.ndarray) else value
    path.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    return path


def build_fid_asset(out=None, *, seed: int = 0, epochs: int = 40) -> dict:
    """Train the FID-digits classifier; with `out`, store it with its reference values.

    This is how the asset kerasdl ships (`ASSET_WEIGHTS`, `ASSET_METADATA`) was made;
    the command line runs it as `kerasdl fid-asset --write-asset`.

    Args:
        out: The `.npz` file to write (with a `.json` of metadata beside it), e.g.
            `ASSET_WEIGHTS`; None trains and measures only.
        seed: Seed of the classifier's initial weights and training.
        epochs: Training epochs.

    Returns:
        The metadata (`accuracy` on the held-out split, seed, backend, ...); with
        `out`, also `reference_values` (`FIDDigits.reference_values(seed=0)`), and
        `weights_file` / `weights_bytes`, what was written.
    """
    _, metadata = train_digits_classifier(seed=seed, epochs=epochs, out=out)
    if out is None:
        return metadata
    fid = FIDDigits(out)
    metadata["reference_values"] = fid.reference_values(seed=0)
    Path(out).with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    weights = Path(out).with_suffix(".npz")
    return {
        **metadata,
        "weights_file": str(weights),
        "weights_bytes": Path(out).stat().st_size,
    }
