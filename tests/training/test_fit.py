"""`train`: reproducible, resumable, precision-checked fits."""

import keras
import numpy as np
import pytest

from kerasdl.training import BACKUP_DIR, CSV_LOG_FILE, TrainingConfig, set_seed, train


def weights_close(a, b, atol=1e-6):
    return all(np.allclose(p, q, atol=atol, rtol=0) for p, q in zip(a, b))


def test_same_seed_same_run(regression_data, make_model):
    """Seeds fix the initial weights, dropout masks and fit's shuffling."""
    x, y = regression_data
    config = TrainingConfig(
        learning_rate=0.01, epochs=2, batch_size=16, seed=7, verbose=0
    )

    def run(cfg):
        cfg.setup()
        model = make_model(dropout=0.3)
        history = train(model, x, y, config=cfg, loss="mse", shuffle=True)
        return history.history["loss"], model.get_weights()

    loss_a, weights_a = run(config)
    loss_b, weights_b = run(config)
    np.testing.assert_allclose(loss_a, loss_b, atol=1e-6, rtol=0)
    assert weights_close(weights_a, weights_b)
    # The control: another seed gives another run.
    loss_c, weights_c = run(TrainingConfig.from_dict({**config.to_dict(), "seed": 8}))
    assert not weights_close(weights_a, weights_c, atol=1e-4)


class Interrupt(Exception):
    pass


class InterruptAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupt(f"simulated crash at the start of epoch {epoch}")


def test_interrupted_run_resumes_from_backup(tmp_path, regression_data, make_model):
    x, y = regression_data
    config = TrainingConfig(
        optimizer="adam",
        learning_rate=0.01,
        epochs=4,
        batch_size=16,
        seed=0,
        checkpoint=False,
        verbose=0,
    )
    config.setup()
    uninterrupted = make_model()
    initial = uninterrupted.get_weights()
    train(
        uninterrupted,
        x,
        y,
        config=config,
        loss="mse",
        shuffle=False,
        out_dir=tmp_path / "full",
    )

    crashed = make_model()
    crashed.set_weights(initial)
    with pytest.raises(Interrupt):
        train(
            crashed,
            x,
            y,
            config=config,
            loss="mse",
            shuffle=False,
            out_dir=tmp_path / "run",
            callbacks=[InterruptAtEpoch(2)],
        )
    assert (tmp_path / "run" / BACKUP_DIR).is_dir()

    # A fresh process would build a fresh model: other initial weights, new optimizer.
    set_seed(99, deterministic=False)
    resumed = make_model()
    assert not weights_close(resumed.get_weights(), initial, atol=1e-3)
    history = train(
        resumed,
        x,
        y,
        config=config,
        loss="mse",
        shuffle=False,
        out_dir=tmp_path / "run",
    )

    assert history.epoch == [2, 3]  # only the missing epochs ran
    assert weights_close(resumed.get_weights(), uninterrupted.get_weights())
    assert int(keras.ops.convert_to_numpy(resumed.optimizer.iterations)) == 4 * 4
    assert not (tmp_path / "run" / BACKUP_DIR).exists()  # removed once finished
    rows = (tmp_path / "run" / CSV_LOG_FILE).read_text().strip().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "2", "3"]  # appended


class TestPrecision:
    def test_mixed_bfloat16_trains(self, regression_data, make_model):
        x, y = regression_data
        config = TrainingConfig(
            precision="mixed_bfloat16",
            epochs=1,
            batch_size=64,
            learning_rate=0.01,
            verbose=0,
        )
        config.setup()
        model = make_model()
        dense = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Dense)
        ]
        assert dense and all(layer.compute_dtype == "bfloat16" for layer in dense)
        assert all(layer.variable_dtype == "float32" for layer in dense)
        assert keras.ops.convert_to_numpy(model(x[:2])).dtype.name == "bfloat16"
        before = model.get_weights()
        history = train(model, x, y, config=config, loss="mse")
        assert np.isfinite(history.history["loss"]).all()
        after = model.get_weights()
        assert all(np.isfinite(w).all() for w in after)
        assert not weights_close(before, after, atol=1e-5)  # the step changed them

    def test_mixed_float16_gets_a_loss_scale_optimizer(
        self, regression_data, make_model
    ):
        """Keras's compile wraps the optimizer for mixed_float16; train relies on it."""
        x, y = regression_data
        config = TrainingConfig(
            precision="mixed_float16", epochs=1, batch_size=64, verbose=0
        )
        config.setup()
        model = make_model()
        history = train(model, x, y, config=config, loss="mse")
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.Adam)
        assert np.isfinite(history.history["loss"]).all()

    @pytest.mark.parametrize(
        "built_under, config_precision",
        [("float32", "mixed_bfloat16"), ("mixed_bfloat16", "float32")],
    )
    def test_mismatch_raises(
        self, regression_data, make_model, built_under, config_precision
    ):
        x, y = regression_data
        TrainingConfig(precision=built_under).setup()
        model = make_model()
        config = TrainingConfig(precision=config_precision, epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"config\.setup\(\) before building"):
            train(model, x, y, config=config, loss="mse")


def test_schedule_spans_the_training(regression_data, make_model):
    x, y = regression_data
    config = TrainingConfig(
        learning_rate=0.1, schedule="cosine", epochs=2, batch_size=10, verbose=0
    )
    model = make_model()
    train(model, x, y, config=config, loss="mse", validation_split=0.25)
    # 48 training samples (64 * 0.75) in batches of 10 -> 5 per epoch, 2 epochs.
    assert model.optimizer._learning_rate.decay_steps == 10
    # float32: compile leaves the optimizer as it is.
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == (
        pytest.approx(0.0, abs=1e-7)  # the end of the cosine
    )


def test_wrong_argument_types(regression_data, make_model):
    x, y = regression_data
    with pytest.raises(TypeError, match="config"):
        train(make_model(), x, y, config={"epochs": 1}, loss="mse")
    with pytest.raises(TypeError, match="model"):
        train(lambda t: t, x, y, config=TrainingConfig(), loss="mse")
    with pytest.raises(ValueError, match="validation_split"):
        train(
            make_model(),
            x,
            y,
            config=TrainingConfig(),
            loss="mse",
            validation_split=1.0,
        )


class Batches(keras.utils.PyDataset):
    """Four batches of 16 from arrays, as a sized `keras.utils.PyDataset`."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return self.x[16 * index : 16 * (index + 1)], self.y[
            16 * index : 16 * (index + 1)
        ]


def test_dataset_input_sizes_the_schedule_by_its_length(regression_data, make_model):
    x, y = regression_data
    config = TrainingConfig(
        learning_rate=0.1, schedule="cosine", epochs=2, batch_size=5, verbose=0
    )
    model = make_model()
    history = train(model, Batches(x, y), config=config, loss="mse", shuffle=False)
    assert model.optimizer._learning_rate.decay_steps == 2 * 4  # len(), not batch_size
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 8
    assert len(history.epoch) == 2
