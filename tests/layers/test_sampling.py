"""kerasdl.layers.Sampling: the reparameterisation z = mean + exp(lv / 2) * eps."""

import keras
import numpy as np
import pytest

from kerasdl import backend
from kerasdl.layers import Sampling
from kerasdl.testing import check_layer

MEAN = np.array([1.0, -2.0, 0.5], "float32")
LOG_VAR = np.array([0.0, 1.0, -2.0], "float32")


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_layer_contract(tmp_path):
    rng = np.random.default_rng(0)
    z_mean = rng.standard_normal((4, 3)).astype("float32")
    # With a tiny variance the draw is (up to 1e-13) the mean, so the contract's
    # "same output" checks hold whatever noise each copy of the layer draws.
    z_log_var = np.full((4, 3), -60.0, "float32")
    output = check_layer(
        Sampling(seed=0),
        [z_mean, z_log_var],
        expected_output_shape=(4, 3),
        tmp_dir=tmp_path,
    )
    np.testing.assert_allclose(output, z_mean, atol=1e-6)


def test_draws_have_the_posterior_mean_and_std():
    n = 20_000
    z = _np(Sampling(seed=1)([np.tile(MEAN, (n, 1)), np.tile(LOG_VAR, (n, 1))]))
    std = np.exp(0.5 * LOG_VAR)
    # Standard errors: std / sqrt(n) for the mean, ~std / sqrt(2n) for the std.
    assert np.all(np.abs(z.mean(axis=0) - MEAN) < 5 * std / np.sqrt(n))
    np.testing.assert_allclose(z.std(axis=0), std, rtol=0.03)


def test_samples_at_inference_too_and_is_seeded():
    layer, twin = Sampling(seed=3), Sampling(seed=3)
    inputs = [np.zeros((5, 2), "float32"), np.zeros((5, 2), "float32")]
    first = _np(layer(inputs, training=False))
    np.testing.assert_array_equal(first, _np(twin(inputs)))
    assert not np.allclose(first, _np(layer(inputs, training=False)))
    assert np.abs(first).max() > 0  # noise, not the mean


def test_gradient_flows_to_mean_and_log_var():
    # The point of the trick: z is differentiable in both parameters, with
    # dz/dmean = 1 and dz/dlog_var = 0.5 * exp(0.5 * log_var) * eps = 0.5 * (z - mean).
    params = np.array([[0.3, -0.1, 0.2, -0.4]], "float32")  # [mean | log_var]
    z = _np(Sampling(seed=5)([params[:, :2], params[:, 2:]]))  # the same eps
    layer = Sampling(seed=5)
    _, grad = backend.value_and_input_gradient(
        lambda p: keras.ops.sum(layer([p[:, :2], p[:, 2:]])), params
    )
    grad = _np(grad)
    np.testing.assert_allclose(grad[:, :2], 1.0, atol=1e-6)
    np.testing.assert_allclose(grad[:, 2:], 0.5 * (z - params[:, :2]), atol=1e-6)
    assert np.abs(grad[:, 2:]).min() > 0


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match=r"same shape.*\(4, 3\).*\(4, 2\)"):
        Sampling()([np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32")])
    with pytest.raises(ValueError, match=r"same shape"):
        Sampling().compute_output_shape([(None, 3), (None, 2)])


@pytest.mark.parametrize("count", [1, 3])
def test_wrong_number_of_inputs_raises(count):
    inputs = [np.zeros((4, 3), "float32")] * count
    with pytest.raises(ValueError, match=r"two inputs \[z_mean, z_log_var\]"):
        Sampling()(inputs)
    with pytest.raises(ValueError, match=r"two inputs"):
        Sampling()(np.zeros((4, 3), "float32"))
