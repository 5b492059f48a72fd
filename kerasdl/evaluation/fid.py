"""FID-digits: a Fréchet distance for generative models of 8x8 digits.

The Fréchet Inception Distance (FID, Heusel et al., 2017) compares two sets of images
through the features a fixed classifier computes for them: fit a Gaussian to each set
of features and measure

    ||mu_1 - mu_2||^2 + Tr(Sigma_1 + Sigma_2 - 2 (Sigma_1 Sigma_2)^(1/2)),

the Fréchet (2-Wasserstein) distance between the two Gaussians. Lower is better; 0
means the two feature distributions share their mean and covariance.

Inception-v3 sees 299x299 colour photographs, not 8x8 grey digits, so kerasdl ships
its own fixed feature extractor: a small CNN trained once on scikit-learn's digits
(`kerasdl fid-asset --write-asset`; `kerasdl.recipes.fid_asset`), whose weights are in
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

import json
import math
from pathlib import Path

import numpy as np

from kerasdl.evaluation.fid_classifier import (
    ASSET_WEIGHTS,
    FEATURE_LAYER,
    NUM_CLASSES,
    _batched,
    build_digits_classifier,
    check_images,
    digits_split,
    load_digits_classifier,
    train_digits_classifier,
)
from kerasdl.evaluation.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_stats,
)

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
]


# The classifier's held-out part of the digits: stratified, 20%, this seed.

# Pixel values may stray this far outside [0, 1] (a decoder's round-off) before the
# images are rejected as being on another scale.
# Added to both covariances' diagonals when their product has no accurate square root.
# Relative residual ||X @ X - A||_F / ||A||_F above which a square root is retried.
# Largest imaginary part of Tr(sqrtm) accepted as round-off (relative to the trace).


# ---------------------------------------------------------------------------
# The Fréchet distance
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# The feature extractor
# ---------------------------------------------------------------------------


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
