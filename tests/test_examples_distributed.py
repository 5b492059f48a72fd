"""The distributed-training example, with tiny settings.

The backend of this test process has already started with one device, so the
script runs itself again in a fresh process with the CPU split in four (as it
does in a notebook); that restart is part of what is tested.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from test_examples import run_example


@pytest.mark.slow
def test_distributed_training(tmp_path):
    # Start the backend here if no test did yet, so that the script must restart.
    keras.ops.convert_to_numpy(keras.ops.zeros(()))
    summary = run_example(
        "distributed_training",
        *("--devices", "4", "--model-axis", "2", "--epochs", "1"),
        *("--samples", "128", "--batch-size", "32", "--text-chars", "2000"),
        *("--seq-len", "16", "--hidden-dim", "16", "--num-layers", "1"),
        *("--out", str(tmp_path)),
    )
    if keras.backend.backend() == "torch":  # no keras.distribution: said, not run
        assert summary == {"backend": "torch", "skipped": "no keras.distribution"}
        return
    assert summary["devices"] == 4
    dp = summary["data_parallel"]
    assert len(dp["single_device"]) == len(dp["distributed"]) == 4  # 128 / 32
    np.testing.assert_allclose(dp["distributed"], dp["single_device"], rtol=1e-5)
    for entry in dp["shard_shapes"].values():  # a whole copy on each device
        assert entry["per_device"] == [entry["shape"]] * 4
    mp = summary["model_parallel"]
    if keras.backend.backend() == "jax":
        assert mp["mesh"] == [2, 2]
        np.testing.assert_allclose(mp["distributed"], mp["single_device"], rtol=1e-5)
        query = next(v for k, v in mp["shard_shapes"].items() if "query_kernel" in k)
        hidden, heads, size = query["shape"]
        assert query["per_device"] == [[hidden, heads // 2, size]] * 4
        embedding = next(v for k, v in mp["shard_shapes"].items() if "embed" in k)
        assert embedding["per_device"] == [embedding["shape"]] * 4
    else:
        assert mp == {"skipped": "JAX only"}
    assert (tmp_path / "loss_curves.png").stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
