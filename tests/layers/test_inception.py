"""kerasdl.layers.inception.InceptionModule: contract, branches, errors."""

import keras
import numpy as np
import pytest

from kerasdl.layers.inception import InceptionModule
from kerasdl.testing import check_layer

FILTERS = (2, 3, 4, 1, 2, 3)  # 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("batch_norm", [True, False])
def test_inception_contract(batch_norm, tmp_path):
    module = InceptionModule(*FILTERS, batch_norm=batch_norm)
    out = check_layer(
        module, (2, 6, 5, 3), expected_output_shape=(2, 6, 5, 11), tmp_dir=tmp_path
    )
    assert np.all(out >= 0.0)  # every branch ends in a ReLU


def test_output_channels_are_the_branches_concatenated():
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype("float32")
    module = InceptionModule(*FILTERS)
    out = _np(module(x, training=False))
    assert out.shape[-1] == module.output_channels == 2 + 4 + 2 + 3
    one = _np(module.branch_1x1(x, training=False))
    three = _np(module.branch_3x3[1](module.branch_3x3[0](x, training=False)))
    five = _np(module.branch_5x5[1](module.branch_5x5[0](x, training=False)))
    pool = _np(module.pool_proj(module.pool(x), training=False))
    np.testing.assert_allclose(out, np.concatenate([one, three, five, pool], -1))
    # The kernels are 1x1, 3x3 and 5x5 as in the paper (torchvision uses 3x3).
    assert tuple(module.branch_3x3[1].conv.kernel.shape) == (3, 3, 3, 4)
    assert tuple(module.branch_5x5[1].conv.kernel.shape) == (5, 5, 1, 2)
    # The pool branch is a stride-1 3x3 max-pool: a spike spreads to 3x3 pixels.
    spike = np.zeros((1, 6, 6, 3), "float32")
    spike[0, 2, 2, :] = 10.0
    pooled = _np(module.pool(spike))[0, :, :, 0]
    assert (pooled == 10.0).sum() == 9 and pooled[1:4, 1:4].min() == 10.0


def test_googlenet_3a_parameter_count():
    """3a of the paper: 163,328 weights (its table's 159K counts K as 1024)."""
    module = InceptionModule(64, 96, 128, 16, 32, 32, batch_norm=False)
    # Shapes only: skip initializing the weights (slow on JAX for new shapes).
    with keras.StatelessScope(initialize_variables=False):
        module.build((None, 28, 28, 192))
    keras.backend.clear_session()
    kernels = sum(int(np.prod(w.shape)) for w in module.weights if "kernel" in w.path)
    assert kernels == 163_328 and round(kernels / 1024, 1) == 159.5
    assert module.compute_output_shape((None, 28, 28, 192)) == (None, 28, 28, 256)


@pytest.mark.parametrize("index", range(6))
def test_bad_filters(index):
    filters = list(FILTERS)
    filters[index] = 0
    with pytest.raises(ValueError, match="filters_"):
        InceptionModule(*filters)


def test_bad_inputs_and_arguments():
    with pytest.raises(ValueError, match="rank 4"):
        InceptionModule(*FILTERS)(np.zeros((2, 8, 3), "float32"))
    with pytest.raises(ValueError, match="batch_norm"):
        InceptionModule(*FILTERS, batch_norm="no")
    with pytest.raises(ValueError, match="activation"):
        InceptionModule(*FILTERS, activation=3)
