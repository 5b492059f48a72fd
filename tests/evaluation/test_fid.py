"""FID-digits: the Fréchet distance against closed forms, the shipped classifier (its
held-out accuracy, its fixed reference values on every backend), the class histogram
(mode collapse), plots and input validation."""

import hashlib
import json

import keras
import numpy as np
import pytest

from kerasdl.data import load_digits
from kerasdl.evaluation import FIDDigits, frechet_distance, plot_class_histogram
from kerasdl.evaluation.fid_classifier import (
    ASSET_METADATA,
    ASSET_WEIGHTS,
    FEATURE_DIM,
    digits_split,
    train_digits_classifier,
)
from kerasdl.evaluation.frechet import frechet_distance_from_stats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fid():
    return FIDDigits()


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _random_features(seed, n=400, d=6):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mixing + rng.normal(size=d)


# ---------------------------------------------------------------------------
# The distance
# ---------------------------------------------------------------------------


def test_identical_statistics_give_zero():
    x = _random_features(0)
    mu, sigma = x.mean(axis=0), np.cov(x, rowvar=False)
    assert frechet_distance_from_stats(mu, sigma, mu, sigma) == pytest.approx(
        0.0, abs=1e-6
    )
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"), [(0.0, 1.0, 3.0, 2.0), (-1.5, 0.3, 2.0, 0.3)]
)
def test_one_dimensional_closed_form(m1, s1, m2, s2):
    # W2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
    expected = (m1 - m2) ** 2 + (s1 - s2) ** 2
    assert frechet_distance_from_stats(m1, s1**2, m2, s2**2) == pytest.approx(
        expected, rel=1e-9
    )


def test_diagonal_gaussians_sum_their_one_dimensional_distances():
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 1.0])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 0.1])
    expected = np.sum((m1 - m2) ** 2 + (s1 - s2) ** 2)
    value = frechet_distance_from_stats(m1, np.diag(s1**2), m2, np.diag(s2**2))
    assert value == pytest.approx(expected, rel=1e-9)


def test_symmetric_and_translation_adds_squared_shift():
    a, b = _random_features(1), _random_features(2)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    assert frechet_distance(a, b) > 1.0
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 0.25])
    # Same covariance, means apart by `shift`: the distance is ||shift||^2.
    assert frechet_distance(a, a + shift) == pytest.approx(shift @ shift, rel=1e-6)


def test_singular_covariances_still_give_a_finite_distance():
    # Fewer samples than features and a dead (constant) unit: singular covariances.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 12)), rng.normal(size=(6, 12)) + 1.0
    a[:, 0] = b[:, 0] = 0.0
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 10.0


def test_non_psd_covariance_warns_and_uses_the_real_part():
    # sigma1 @ sigma2 has a negative eigenvalue: its square root is imaginary.
    with pytest.warns(RuntimeWarning, match="imaginary"):
        value = frechet_distance_from_stats(
            [0.0, 0.0], np.diag([1.0, -1.0]), [0.0, 0.0], np.eye(2)
        )
    assert np.isfinite(value)


def test_distance_errors():
    a = np.zeros((10, 3))
    with pytest.raises(ValueError, match=r"same number of features.*\(10, 4\)"):
        frechet_distance(a, np.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"`features_b` needs at least 2 samples"):
        frechet_distance(a, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"`features_a` must be a feature matrix"):
        frechet_distance(np.zeros(10), a)
    nan = a.copy()
    nan[2, 1] = np.nan
    with pytest.raises(ValueError, match="`features_a` contains NaN"):
        frechet_distance(nan, a)
    with pytest.raises(ValueError, match=r"`sigma2` must be a \(2, 2\) covariance"):
        frechet_distance_from_stats([0, 0], np.eye(2), [0, 0], np.eye(3))
    with pytest.raises(ValueError, match="same feature dimension"):
        frechet_distance_from_stats([0, 0], np.eye(2), [0, 0, 0], np.eye(3))
    with pytest.raises(ValueError, match="`mu1` contains NaN"):
        frechet_distance_from_stats([np.nan], 1.0, [0.0], 1.0)


# ---------------------------------------------------------------------------
# The shipped classifier and the metric
# ---------------------------------------------------------------------------


def test_shipped_weights_are_small_and_match_their_metadata():
    assert ASSET_WEIGHTS.stat().st_size < 1_000_000
    metadata = json.loads(ASSET_METADATA.read_text())
    assert hashlib.sha256(ASSET_WEIGHTS.read_bytes()).hexdigest() == metadata["sha256"]
    assert metadata["feature_dim"] == FEATURE_DIM
    assert metadata["accuracy"] >= 0.95


def test_shipped_classifier_is_accurate_on_the_held_out_split(fid):
    _, _, x_test, y_test = digits_split()
    assert len(x_test) == 360
    assert np.mean(fid.predict(x_test) == y_test) >= 0.95
    assert isinstance(fid.classifier, keras.Model)
    assert tuple(fid.classifier.output.shape) == (None, 10)


def test_features_shape_and_accepted_layouts(fid, digits):
    x = digits.x[:50]
    features = fid.features(x)
    assert features.shape == (50, FEATURE_DIM) and features.dtype == np.float32
    np.testing.assert_array_equal(fid.features(x[..., 0]), features)
    assert fid.score(x, x) == pytest.approx(0.0, abs=1e-6)


def test_reference_values_are_fixed_across_backends(fid):
    ref = fid.reference_values(seed=0)
    assert ref["n"] == 899
    # Real-vs-real is the floor, noise far above it.
    assert ref["real_vs_real"] < 0.05 * ref["real_vs_noise"]
    # The metric is fixed: every backend reproduces the values stored when the
    # weights were written (on TensorFlow), to float32 round-off.
    stored = json.loads(ASSET_METADATA.read_text())["reference_values"]
    assert ref["real_vs_real"] == pytest.approx(stored["real_vs_real"], rel=1e-4)
    assert ref["real_vs_noise"] == pytest.approx(stored["real_vs_noise"], rel=1e-4)
    # A blurred copy of the digits sits in between.
    half_a, _, half_b, _ = digits_split(test_size=0.5)
    blurred = (half_a + np.roll(half_a, 1, axis=1) + np.roll(half_a, 1, axis=2)) / 3
    blurred_fid = fid.score(half_b, blurred)
    assert ref["real_vs_real"] < blurred_fid < ref["real_vs_noise"]


def test_class_histogram_is_uniform_on_real_digits_and_shows_collapse(fid, digits):
    hist = fid.class_histogram(digits.x)
    assert hist["n"] == len(digits.x) and hist["counts"].sum() == len(digits.x)
    assert hist["counts"].min() >= 160 and hist["counts"].max() <= 200
    assert hist["normalized_entropy"] > 0.99
    assert hist["mode_coverage"] == 1.0 and hist["missing"] == []

    # A collapsed generator: only threes, plus three stray sevens.
    collapsed = np.concatenate([digits.x[digits.y == 3], digits.x[digits.y == 7][:3]])
    hist = fid.class_histogram(collapsed)
    assert hist["mode_coverage"] == pytest.approx(0.1)
    assert hist["missing"] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert hist["normalized_entropy"] < 0.1


def test_plot_class_histogram_writes_png_and_json(fid, digits, tmp_path):
    hist = fid.class_histogram(digits.x[:100])
    path = plot_class_histogram(hist, tmp_path / "hist.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    data = json.loads((tmp_path / "hist.json").read_text())
    assert data["counts"] == hist["counts"].tolist() and data["n"] == 100


def test_bad_images_raise_clear_errors(fid, digits):
    with pytest.raises(ValueError, match=r"`images` must be 8x8.*\(5, 64\)"):
        fid.features(np.zeros((5, 64), "float32"))
    with pytest.raises(ValueError, match=r"`images` must be 8x8.*\(5, 8, 8, 3\)"):
        fid.features(np.zeros((5, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="`images` is empty"):
        fid.features(np.zeros((0, 8, 8, 1), "float32"))
    nan = digits.x[:4].copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="`images` contains NaN"):
        fid.predict(nan)
    tanh_images = digits.x[:4] * 2 - 1
    with pytest.raises(ValueError, match=r"\[-1, 1\].*\(x \+ 1\) / 2"):
        fid.score(digits.x[:4], tanh_images)
    with pytest.raises(ValueError, match=r"values in \[0, 16\]"):
        fid.class_histogram(digits.x[:4] * 16)
    with pytest.raises(ValueError, match="needs at least 2 samples"):
        fid.score(digits.x[:4], digits.x[:1])


@pytest.mark.slow
def test_training_writes_weights_that_load(tmp_path, digits):
    _, metadata = train_digits_classifier(seed=1, epochs=1, out=tmp_path / "w.npz")
    assert metadata["backend"] == keras.backend.backend()
    assert {"accuracy", "seed", "epochs", "kerasdl_version"} <= set(metadata)
    assert json.loads((tmp_path / "w.json").read_text())["epochs"] == 1
    # One epoch already beats chance by far.
    assert metadata["accuracy"] > 0.5
    features = FIDDigits(tmp_path / "w.npz").features(digits.x[:10])
    assert features.shape == (10, FEATURE_DIM)
