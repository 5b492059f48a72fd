"""TableEncoder (raw table -> network inputs) and TabularModel (raw-row predictions)."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from kerasdl.models.tabular import FTTransformer, TabularMLP
from kerasdl.models.tabular.encoder import (
    MISSING_TOKEN,
    TableEncoder,
)
from kerasdl.models.tabular.tabular_model import TabularModel
from kerasdl.testing import check_model

ROLES = {
    "age": "numeric",
    "city": "categorical",
    "note": "text",
    "seen": "date",
}


def _train_frame():
    return pd.DataFrame(
        {
            "age": [21.0, 35.0, np.nan, 50.0, 42.0, 28.0, 33.0, 61.0],
            "city": ["oslo", "rome", "oslo", None, "rome", "oslo", None, "rome"],
            "note": [
                "good service",
                "slow service",
                "",
                "good food",
                "bad food slow",
                "good",
                "service good",
                "",
            ],
            "seen": pd.to_datetime(
                [
                    "2020-01-05",
                    "2021-03-10",
                    None,
                    "2019-07-21",
                    "2022-11-30",
                    "2020-06-15",
                    "2021-01-01",
                    "2023-02-28",
                ]
            ),
            "ignored": list("abcdefgh"),
        }
    )


def _test_frame():
    return pd.DataFrame(
        {
            "age": [np.nan, 1e6],
            "city": ["paris", None],  # paris: never seen in training
            "note": ["", "unheard words"],
            "seen": [pd.NaT, pd.Timestamp("2030-01-01")],
        }
    )


@pytest.fixture(scope="module")
def encoder():
    return TableEncoder(max_tokens=16).fit(_train_frame(), ROLES)


def test_transform_follows_the_input_contract(encoder):
    out = encoder.transform(_train_frame())
    assert sorted(out) == ["categorical", "dense", "numeric"]
    # age + its missing indicator; 5 date parts + the date's missing indicator.
    assert encoder.n_numeric == 2 + 6
    assert out["numeric"].shape == (8, 8) and out["numeric"].dtype == np.float32
    assert out["categorical"].shape == (8, 1) and out["categorical"].dtype == np.int32
    assert out["dense"].shape == (8, 16) and out["dense"].dtype == np.float32
    assert encoder.n_dense == 16
    # Standardized on the training rows, except the 0/1 missing indicators
    # (columns 1 and 7: one missing age and one missing date in 8 rows).
    means = out["numeric"].mean(axis=0)
    np.testing.assert_allclose(np.delete(means, [1, 7]), 0.0, atol=1e-5)
    np.testing.assert_allclose(means[[1, 7]], 1 / 8)
    # oslo, rome and (missing, seen twice) learned; index 0 = unseen or rare.
    assert encoder.cardinalities == [4]
    ids = out["categorical"][:, 0]
    assert ids.min() >= 1 and ids.max() < 4
    assert ids[3] == ids[6]  # both missing: the learned "[MISSING]" index
    # TF-IDF rows are unit vectors; an empty text is all zeros.
    norms = np.linalg.norm(out["dense"], axis=1)
    np.testing.assert_allclose(norms[[0, 1, 3, 4, 5, 6]], 1.0, atol=1e-5)
    assert norms[2] == 0.0 and norms[7] == 0.0


def test_fitted_on_training_rows_only(encoder):
    config_before = json.dumps(encoder.get_config())
    out = encoder.transform(_test_frame())
    # The category only in the test rows is index 0; a missing one is the
    # learned missing index (missing twice in training, min_frequency=2).
    assert out["categorical"][0, 0] == 0
    assert (
        out["categorical"][1, 0]
        == encoder.transform(_train_frame())["categorical"][3, 0]
    )
    # A test-only extreme value changes nothing that was learned.
    assert json.dumps(encoder.get_config()) == config_before
    age = encoder.get_config()["columns"][0]
    assert age["median"] == 35.0
    mean = encoder.get_config()["numeric_mean"][0]
    assert mean == pytest.approx(np.mean([21, 35, 35, 50, 42, 28, 33, 61]), rel=1e-6)
    # NaN age is imputed with the training median and flagged.
    age_column, indicator = out["numeric"][0, :2]
    std = np.sqrt(encoder.get_config()["numeric_variance"][0])
    assert age_column == pytest.approx((35.0 - mean) / std, rel=1e-5)
    assert indicator == 1.0 and out["numeric"][1, 1] == 0.0
    assert np.all(np.isfinite(out["numeric"]))
    # NaT: date parts imputed, date indicator set.
    assert out["numeric"][0, -1] == 1.0 and out["numeric"][1, -1] == 0.0


def test_rare_categories_and_missing_cells_map_to_zero():
    frame = pd.DataFrame({"c": ["a", "a", "b", None, "a", "b", "rare"]})
    encoder = TableEncoder().fit(frame, {"c": "categorical"})
    ids = encoder.transform(frame)["categorical"][:, 0]
    assert encoder.cardinalities == [3]  # a, b (+ index 0)
    assert ids[3] == 0 and ids[6] == 0  # one missing cell, one rare level
    vocabulary = encoder.get_config()["columns"][0]["vocabulary"]
    assert vocabulary == ["a", "b"] and MISSING_TOKEN not in vocabulary
    loose = TableEncoder(min_frequency=1).fit(frame, {"c": "categorical"})
    assert loose.cardinalities == [5]
    assert loose.transform(pd.DataFrame({"c": [None]}))["categorical"][0, 0] > 0


def test_config_round_trip_gives_identical_transforms(encoder):
    config = json.loads(json.dumps(encoder.get_config()))  # JSON-able
    rebuilt = TableEncoder.from_config(config)
    for frame in (_train_frame(), _test_frame()):
        a, b = encoder.transform(frame), rebuilt.transform(frame)
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    assert rebuilt.get_config() == config


def test_row_forms_and_raw_strings_give_the_same_encoding(encoder):
    frame = _test_frame()
    expected = encoder.transform(frame)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    by_rows = encoder.transform(rows)
    by_columns = encoder.transform({k: list(v) for k, v in frame.items()})
    # A CSV gives dates as strings and numbers as text cells: both still parse.
    as_text = pd.DataFrame(
        {
            "age": [None, "1000000"],
            "city": ["paris", None],
            "note": [None, "unheard words"],
            "seen": [None, "2030-01-01"],
        }
    )
    by_text = encoder.transform(as_text)
    for got in (by_rows, by_columns, by_text):
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-6)


def test_numeric_array_is_all_numeric():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=(30, 3)).astype("float32")
    x[:, 2] = 7.0  # constant in training
    encoder = TableEncoder().fit(x)
    out = encoder.transform(x)
    assert list(out) == ["numeric"] and out["numeric"].shape == (30, 3)
    np.testing.assert_allclose(out["numeric"][:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out["numeric"][:, :2].std(axis=0), 1.0, atol=1e-4)
    # A value never seen for the constant column stays finite (divided by 1).
    shifted = encoder.transform(np.array([[5.0, 5.0, 9.0]]))["numeric"]
    assert shifted[0, 2] == pytest.approx(2.0)
    assert encoder.cardinalities == [] and encoder.n_dense == 0
    with pytest.raises(ValueError, match=r"3 columns.*\(2, 4\)"):
        encoder.transform(np.zeros((2, 4)))


def test_roles_from_dtypes_when_feature_types_is_none():
    frame = _train_frame()[["age", "city", "seen"]]
    encoder = TableEncoder().fit(frame)
    assert encoder.feature_types == {
        "age": "numeric",
        "city": "categorical",
        "seen": "date",
    }


@pytest.mark.parametrize(
    "column, value, match",
    [
        ("age", "abc", r"Column 'age' is numeric.*'abc'"),
        ("age", np.inf, r"Column 'age' holds an infinite value"),
        ("seen", "not a date", r"Column 'seen' is a date column.*'not a date'"),
        ("city", ["a", "b"], r"Column 'city' is categorical.*list"),
    ],
)
def test_bad_cells_name_the_column_and_value(encoder, column, value, match):
    frame = _test_frame().astype(object)
    frame.at[0, column] = value
    with pytest.raises(ValueError, match=match):
        encoder.transform(frame)


def test_bad_arguments_raise_value_errors(encoder):
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['city'\]"):
        encoder.transform(_test_frame().drop(columns="city"))
    with pytest.raises(ValueError, match=r"roles must be in .*'colour'"):
        TableEncoder().fit(_train_frame(), {"age": "colour"})
    with pytest.raises(ValueError, match=r"names column\(s\) \['height'\]"):
        TableEncoder().fit(_train_frame(), {"height": "numeric"})
    with pytest.raises(ValueError, match="not fitted"):
        TableEncoder().transform(_test_frame())
    with pytest.raises(ValueError, match="min_frequency must be an integer"):
        TableEncoder(min_frequency=0)
    with pytest.raises(ValueError, match="every column is numeric"):
        TableEncoder().fit(np.zeros((4, 2)), {0: "categorical"})


# === TabularModel ===


def _tiny_mlp(encoder, units, dtype=None):
    keras.utils.set_random_seed(1)
    return TabularMLP(
        encoder.n_numeric,
        encoder.cardinalities,
        units,
        n_dense=encoder.n_dense,
        depth=1,
        width=8,
        dtype=dtype,
    )


def _tiny_ft_transformer(encoder, units):
    keras.utils.set_random_seed(1)
    return FTTransformer(
        encoder.n_numeric,
        encoder.cardinalities,
        units,
        n_dense=encoder.n_dense,
        d_token=8,
        n_blocks=1,
        n_heads=2,
    )


@pytest.mark.parametrize(
    "build",
    [
        _tiny_mlp,
        # The first FT-Transformer of a process takes seconds to build on JAX.
        pytest.param(_tiny_ft_transformer, marks=pytest.mark.slow),
    ],
)
def test_saved_model_predicts_raw_csv_rows_identically(encoder, build, tmp_path):
    model = TabularModel(build(encoder, 3), encoder, class_names=["low", "mid", "high"])
    # Raw rows as they come from a CSV: missing cells, an unseen category,
    # dates as strings.
    csv = tmp_path / "rows.csv"
    _test_frame().to_csv(csv, index=False)
    rows = pd.read_csv(csv)
    assert rows["city"].isna().any() and rows["age"].isna().any()
    before = model.predict(rows)
    labels = model.predict_labels(rows)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is TabularModel
    np.testing.assert_array_equal(loaded.predict(rows), before)
    np.testing.assert_array_equal(loaded.predict_labels(rows), labels)
    assert before.shape == (2, 3) and np.all(np.isfinite(before))
    np.testing.assert_allclose(before.sum(axis=1), 1.0, atol=1e-5)
    assert labels.dtype.kind == "U" and set(labels) <= {"low", "mid", "high"}
    # Probabilities are the softmax of the network on the encoded rows.
    logits = keras.ops.convert_to_numpy(model(encoder.transform(rows)))
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
    np.testing.assert_allclose(before, expected, atol=1e-5)


def test_tabular_model_passes_the_model_checks(encoder, tmp_path):
    model = TabularModel(_tiny_mlp(encoder, 2), encoder, class_names=[0, 1])
    x = encoder.transform(_train_frame())
    check_model(model, x, np.array([0, 1] * 4), tmp_dir=tmp_path)


def test_mixed_precision_tabular_model_takes_the_networks_dtype(encoder, tmp_path):
    network = _tiny_mlp(encoder, 2, dtype="mixed_bfloat16")
    model = TabularModel(network, encoder, class_names=[0, 1])
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert {w.dtype for w in model.weights} == {"float32"}
    x = encoder.transform(_train_frame())
    logits = model(x)
    assert keras.backend.standardize_dtype(logits.dtype) == "bfloat16"
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    y = np.array([0, 1] * 4)
    loss = model.compute_loss(x, y, logits)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    probabilities = model.predict(_test_frame())
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    path = tmp_path / "mixed.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.dtype_policy.name == "mixed_bfloat16"
    assert loaded.network.dtype_policy.name == "mixed_bfloat16"
    # The reloaded network is the same (identical weights and eager outputs) ...
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.ops.cast(loaded(x), "float32")),
        keras.ops.convert_to_numpy(keras.ops.cast(model(x), "float32")),
    )
    # ... but its compiled predict function may round bfloat16 intermediates in
    # another place (one bfloat16 step, 2**-7, at logits of size ~1).
    np.testing.assert_allclose(loaded.predict(_test_frame()), probabilities, atol=2**-6)
    with pytest.raises(ValueError, match="`network` computes with"):
        TabularModel(
            _tiny_mlp(encoder, 2), encoder, class_names=[0, 1], dtype="bfloat16"
        )


def test_regression_outputs_are_on_the_target_scale(encoder):
    network = _tiny_mlp(encoder, 1)
    model = TabularModel(
        network, encoder, task="regression", target_mean=100.0, target_std=10.0
    )
    raw = keras.ops.convert_to_numpy(network(encoder.transform(_test_frame())))
    values = model.predict(_test_frame())
    assert values.shape == (2,)
    np.testing.assert_allclose(values, raw[:, 0] * 10.0 + 100.0, rtol=1e-5)
    with pytest.raises(ValueError, match="predict_labels needs a classification"):
        model.predict_labels(_test_frame())


def test_repeated_predictions_do_not_compile_again(encoder):
    model = TabularModel(_tiny_mlp(encoder, 2), encoder, class_names=["n", "y"])
    traces = []
    call = model.network.call

    def counting_call(*args, **kwargs):
        traces.append(1)
        return call(*args, **kwargs)

    model.network.call = counting_call
    frame = _train_frame()
    model.predict(frame)
    first = len(traces)
    assert first >= 1
    model.predict(frame)  # same rows
    model.predict(frame.iloc[:5])  # 5 and 8 rows are both padded to 16
    assert len(traces) == first


def test_tabular_model_rejects_bad_arguments(encoder):
    network = _tiny_mlp(encoder, 2)
    with pytest.raises(ValueError, match="task must be one of"):
        TabularModel(network, encoder, task="ranking")
    with pytest.raises(ValueError, match="class_names must list at least 2"):
        TabularModel(network, encoder, class_names=["only"])
    with pytest.raises(ValueError, match="encoder must be a fitted TableEncoder"):
        TabularModel(network, "encoder", class_names=["a", "b"])
    model = TabularModel(network, encoder, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['note'\]"):
        model.predict(_test_frame().drop(columns="note"))


def test_category_ids_equal_keras_string_lookup():
    """The encoder maps categories as keras.layers.StringLookup(vocabulary,
    num_oov_indices=1) does (it uses a pandas index instead of the layer, which
    would import TensorFlow on JAX and torch)."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"c": rng.choice(list("abcdefg"), size=200).astype(object)})
    train.loc[:5, "c"] = None
    encoder = TableEncoder(min_frequency=3).fit(train, {"c": "categorical"})
    vocabulary = encoder.get_config()["columns"][0]["vocabulary"]
    rows = pd.DataFrame({"c": ["a", "g", "zz", None, "b", "[UNK]", ""]}, dtype=object)
    ours = encoder.transform(rows)["categorical"][:, 0]
    layer = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1)
    tokens = [MISSING_TOKEN if v is None else v for v in rows["c"]]
    theirs = keras.ops.convert_to_numpy(layer(tokens))
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == np.int32 and ours.min() == 0


def test_missing_indicators_stay_zero_or_one():
    """A rare missing cell must not become a huge standardised input."""
    values = np.arange(300, dtype="float64")
    values[[5, 9]] = np.nan
    frame = pd.DataFrame({"v": values})
    encoder = TableEncoder(missing_indicators="all").fit(frame, {"v": "numeric"})
    encoded = encoder.transform(pd.DataFrame({"v": [np.nan, 150.0]}))["numeric"]
    assert encoded.shape == (2, 2)
    np.testing.assert_allclose(encoded[:, 1], [1.0, 0.0])
    assert abs(encoded[1, 0]) < 0.1  # the value column is standardised
    complete = TableEncoder(missing_indicators="all").fit(
        pd.DataFrame({"v": np.arange(10.0)}), {"v": "numeric"}
    )
    np.testing.assert_allclose(
        complete.transform(pd.DataFrame({"v": [np.nan]}))["numeric"][0, 1], 1.0
    )
    seen = TableEncoder().fit(pd.DataFrame({"v": np.arange(10.0)}), {"v": "numeric"})
    assert seen.n_numeric == 1 and complete.n_numeric == 2


def test_text_idf_weights_reproduce_keras_tf_idf():
    """The stored vocabulary and IDF weights (read through the layer's public call,
    not its private lookup layer) rebuild a layer that vectorizes new texts,
    out-of-vocabulary words included, exactly as the adapted Keras layer does."""
    texts = [
        "good service",
        "slow service",
        "",
        "good food",
        "bad food slow",
        "good",
        "service good",
        "Good, good FOOD!",
    ]
    frame = pd.DataFrame({"note": texts})
    encoder = TableEncoder(max_tokens=12).fit(frame, {"note": "text"})
    column = encoder.get_config()["columns"][0]
    adapted = keras.layers.TextVectorization(
        max_tokens=12, output_mode="tf_idf", pad_to_max_tokens=True
    )
    adapted.adapt(texts)
    assert column["vocabulary"] == adapted.get_vocabulary()
    weights = np.asarray(column["idf_weights"])
    # Keras's IDF: log(1 + documents / (1 + document frequency)); the
    # out-of-vocabulary slot holds the mean of the others.
    assert weights[1] == pytest.approx(np.log(1 + 8 / (1 + 5)), rel=1e-6)  # "good"
    assert weights[0] == pytest.approx(weights[1:].mean(), rel=1e-6)
    rebuilt = keras.layers.TextVectorization(
        max_tokens=12,
        output_mode="tf_idf",
        pad_to_max_tokens=True,
        vocabulary=column["vocabulary"],
        idf_weights=column["idf_weights"],
    )
    new = ["good good unseen words", "food", "", "slow bad service zebra"]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(rebuilt(new)),
        keras.ops.convert_to_numpy(adapted(new)),
        rtol=1e-6,
    )
