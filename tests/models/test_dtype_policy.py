"""A model's `dtype=` reaches every layer and its config (issue 18, point 5)."""

import keras
import numpy as np
import pytest

from kerasdl.models import UNet
from kerasdl.models.transformers.gpt import GPTLanguageModel


def test_unet_dtype_reaches_its_layers_and_its_config():
    model = UNet((16, 16, 1), 2, depth=1, base_filters=4, dtype="bfloat16")
    assert model.dtype_policy.name == "bfloat16"
    assert {layer.compute_dtype for layer in model.layers[1:]} == {"bfloat16"}
    assert {w.dtype for w in model.weights} == {"bfloat16"}
    config = model.get_config()
    assert keras.dtype_policies.get(config["dtype"]).name == "bfloat16"
    clone = UNet.from_config(config)
    assert clone.get_layer("down0_conv1").dtype_policy.name == "bfloat16"
    out = clone(np.zeros((1, 16, 16, 1), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"


def test_gpt_blocks_compute_in_the_model_policy():
    model = GPTLanguageModel(
        11, 8, num_layers=2, num_heads=2, hidden_dim=8, dtype="mixed_bfloat16"
    )
    model(np.zeros((2, 8), "int32"))
    for block in model.blocks:
        assert block.compute_dtype == "bfloat16", block.name
        assert block.variable_dtype == "float32", block.name
    hidden = model.blocks[0](keras.ops.zeros((2, 8, 8), "bfloat16"))
    assert keras.backend.standardize_dtype(hidden.dtype) == "bfloat16"
    assert {w.dtype for w in model.weights if "float" in w.dtype} == {"float32"}
    from kerasdl.testing import check_precision  # new with the fix

    check_precision(model, np.zeros((2, 8), "int32"))


def test_the_global_policy_is_restored_after_a_build():
    from kerasdl.models.base import dtype_policy_scope

    before = keras.config.dtype_policy().name
    UNet((8, 8, 1), 2, depth=1, base_filters=2, dtype="mixed_bfloat16")
    assert keras.config.dtype_policy().name == before
    with pytest.raises(ValueError, match="boom"):
        with dtype_policy_scope("bfloat16"):
            raise ValueError("boom")
    assert keras.config.dtype_policy().name == before


def test_bad_dtype_names_the_argument():
    from kerasdl.models.base import get_dtype_policy

    with pytest.raises(ValueError, match=r"dtype='float13'"):
        UNet((8, 8, 1), 2, depth=1, dtype="float13")
    assert get_dtype_policy(None) is None
