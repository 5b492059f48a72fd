"""The classic-CNN and transfer-learning example scripts, with tiny settings (the
full comparisons are `kerasdl compare --deep ...` and bench_transfer)."""

from __future__ import annotations

import json

import pytest
from test_examples import run_example

# Both tests are compile-bound on JAX (every new weight shape and train step is an
# XLA compile): 10-55 s each on JAX, 10-20 s on TensorFlow (2-core CPU).


@pytest.mark.slow
def test_convnets(tmp_path, capsys):
    results = run_example(
        "convnets",
        *("--table-models", "lenet5,vgg16,googlenet"),
        *("--models", "lenet5", "--epochs", "1", "--train-limit", "64"),
        *("--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    table = {row["model"]: row for row in results["parameter_table"]}
    assert list(table) == ["lenet5", "vgg16", "googlenet"]
    for name in ("lenet5", "vgg16"):
        assert table[name]["params"] == table[name]["published"], name
    assert 0 < table["googlenet"]["relative_difference"] < 0.02
    # A flatten head shrinks with the image, a pooled one keeps its convolutions.
    assert table["vgg16"]["params_32x32x3_10_classes"] < 0.3 * table["vgg16"]["params"]
    assert table["vgg16"]["input_shape"] == [224, 224, 3]

    small = results["small_input"]
    assert small["resnet18_8x8x1"]["small_input_layout"] is True
    assert small["resnet18_224x224x3"]["small_input_layout"] is False
    assert small["resnet18_8x8x1"]["stages"]["stage4"] == [1, 1, 512]
    assert small["resnet18_224x224x3"]["stages"]["stage4"] == [7, 7, 512]
    assert small["resnet18_8x8x1"]["stages"]["stem"] == [8, 8, 64]

    errors = results["too_small_errors"]
    assert len(errors) == 2
    assert "at least 32x32" in errors[0]["message"]
    assert "(16, 16, 3)" in errors[0]["message"]
    assert "at least 5x5" in errors[1]["message"]

    digits = results["digits"]
    assert digits["sizes"]["train"] == 64 and digits["epochs"] == 1
    row = digits["models"]["lenet5"]
    assert row["small_input_layout"] is True
    assert 0.0 <= row["test_accuracy"] <= 1.0 and row["seconds"] > 0
    for text in (
        "(a) Trainable",
        "(b) small_input",
        "ValueError: `input_shape`",
        "(d)",
    ):
        assert text in printed
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["digits"]["models"]["lenet5"] == row
    assert written["parameter_table"] == results["parameter_table"]
    assert (tmp_path / "convnets.png").stat().st_size > 0


@pytest.mark.slow
def test_transfer_learning(tmp_path, capsys):
    summary = run_example(
        "transfer_learning",
        *("--stage-depth", "1", "--width-multiplier", "0.125"),
        *("--source-epochs", "1", "--source-limit", "64", "--epochs", "2"),
        *("--fine-tune-blocks", "1", "--labels-per-class", "4"),
        *("--out", str(tmp_path)),
    )
    printed = capsys.readouterr().out
    assert summary["source"]["train_images"] == 64
    assert summary["target"] == {
        "labels_per_class": 4,
        "train_images": 20,
        "test_images": 896 - 20,
        "epochs": 2,
    }
    blocks = [row["block"] for row in summary["blocks"]]
    assert blocks == ["stem_conv"] + [f"stage{i}_block1" for i in range(1, 5)]

    results = summary["results"]
    assert list(results) == ["scratch", "frozen_top", "frozen_cut", "fine_tuned", "svm"]
    for row in results.values():
        assert 0.0 <= row["test_accuracy"] <= 1.0
    # New heads: Dense(5) on the 64 pooled channels of stage 4 (512 / 8), or on
    # the flattened 4x4x16 map after stage 2.
    assert results["frozen_top"]["trainable_params"] == {"head": 64 * 5 + 5}
    head = 4 * 4 * 16 * 5 + 5
    assert results["frozen_cut"]["trainable_params"] == {"head": head}
    assert results["fine_tuned"]["trainable_params"]["head"] == head
    assert results["fine_tuned"]["unfrozen_blocks"] == ["stage2_block1"]
    # Fine-tuning trains the head and the top block's weights, batch norm excluded.
    block = {row["block"]: row["params"] for row in summary["blocks"]}["stage2_block1"]
    tuned = results["fine_tuned"]["trainable_params"]["fine_tune"]
    assert head < tuned < head + block
    assert results["scratch"]["trainable_params"]["all"] > tuned
    assert len(summary["curves"]["fine_tuned"]) == 2
    assert "cut: unfreeze_top_blocks(model, 1) -> ['stage2_block1']" in printed

    # The keras.applications part is off by default (building one costs tens of
    # seconds on JAX); load_backbone's offline error is tested in
    # tests/models/transfer/test_transfer.py.
    assert summary["application"] is None

    written = json.loads((tmp_path / "results.json").read_text())
    assert written["results"] == results
    assert (tmp_path / "transfer.png").stat().st_size > 0
    assert (tmp_path / "source_digits_0-4.keras").is_file()
