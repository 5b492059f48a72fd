"""Q-networks and actor-critics: shapes, dueling identity, CNN stem, the contract."""

import numpy as np
import pytest

from kerasdl.rl import DuelingCombine, build_actor_critic, build_q_network
from kerasdl.testing import check_layer


def check_functional(model, x, tmp_path):
    """Config round trip and `.keras` save/load give the same outputs (the builders
    return plain functional models)."""
    import keras

    expected = keras.tree.map_structure(
        keras.ops.convert_to_numpy, model(x, training=False)
    )
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for other in (clone, loaded):
        got = keras.tree.map_structure(
            keras.ops.convert_to_numpy, other(x, training=False)
        )
        for a, b in zip(keras.tree.flatten(expected), keras.tree.flatten(got)):
            np.testing.assert_allclose(a, b, atol=1e-6)
    return expected


def test_dueling_combine_is_value_plus_centred_advantages(tmp_path):
    value = np.array([[1.0], [-2.0]], "float32")
    adv = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]], "float32")
    out = check_layer(
        DuelingCombine(), [value, adv], expected_output_shape=(2, 3), tmp_dir=tmp_path
    )
    np.testing.assert_allclose(out, [[0.0, 1.0, 2.0], [-3.0, -3.0, 0.0]])


@pytest.mark.parametrize("dueling", [False, True])
def test_mlp_q_network_contract(dueling, tmp_path):
    model = build_q_network((4,), 3, hidden_units=(8, 8), dueling=dueling)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    out = check_functional(model, x, tmp_path)
    assert out.shape == (5, 3)


def test_image_observations_get_the_nature_cnn(tmp_path):
    model = build_q_network((40, 40, 2), 4, hidden_units=(16,))
    assert [layer.name for layer in model.layers if "conv" in layer.name] == [
        "q_conv1",
        "q_conv2",
        "q_conv3",
    ]
    x = np.random.default_rng(0).integers(0, 255, size=(2, 40, 40, 2)).astype("uint8")
    out = check_functional(model, x.astype("float32"), tmp_path)
    assert out.shape == (2, 4)
    with pytest.raises(ValueError, match="at least 36x36"):
        build_q_network((20, 20, 1), 2)
    with pytest.raises(ValueError, match="architecture='cnn' needs image"):
        build_q_network((4,), 2, architecture="cnn")
    with pytest.raises(ValueError, match="architecture must be one of"):
        build_q_network((4,), 2, architecture="rnn")


@pytest.mark.parametrize("shared", [True, False])
def test_actor_critic_heads(shared, tmp_path):
    model = build_actor_critic((4,), 2, hidden_units=(8,), shared=shared)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    out = check_functional(model, x, tmp_path)
    assert out["logits"].shape == (3, 2) and out["value"].shape == (3,)
    dense = sorted(layer.name for layer in model.layers if "dense" in layer.name)
    assert dense == (["policy_dense1"] if shared else ["policy_dense1", "value_dense1"])


def test_bad_network_arguments():
    with pytest.raises(ValueError, match="hidden_units"):
        build_q_network((4,), 2, hidden_units=64)
    with pytest.raises(ValueError, match="n_actions"):
        build_q_network((4,), 0)
    with pytest.raises(ValueError, match="observation_shape"):
        build_q_network((), 2)
