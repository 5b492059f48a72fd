"""The Fréchet distance between two Gaussians fitted to feature vectors (Heusel et
al., 2017): feature statistics, a checked matrix square root, and the distance from
statistics or from features.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

_SQRTM_EPS = 1e-6


_SQRTM_RESIDUAL = 1e-4


_IMAG_TOLERANCE = 1e-3


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
