"""FTTransformer and TabularMLP: weight counts, contract, dtype, behaviour, learning."""

import keras
import numpy as np
import pytest

from kerasdl.models import FT_TRANSFORMER_SMALL, FTTransformer, TabularMLP
from kerasdl.models.tabular import FTTransformerBlock
from kerasdl.testing import check_layer, check_model

CARDINALITIES = [3, 5]
LOGITS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
TINY_FT = dict(d_token=8, n_blocks=1, n_heads=2)
TINY_MLP = dict(depth=1, width=8, d_embedding=3)


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _table(batch, n_numeric=4, cardinalities=CARDINALITIES, n_dense=3, seed=0):
    rng = np.random.default_rng(seed)
    x = {}
    if n_numeric:
        x["numeric"] = rng.standard_normal((batch, n_numeric)).astype("float32")
    if cardinalities:
        x["categorical"] = np.stack(
            [rng.integers(0, c, batch) for c in cardinalities], axis=1
        ).astype("int32")
    if n_dense:
        x["dense"] = rng.random((batch, n_dense)).astype("float32")
    return x


def ft_transformer_weights(n_numeric, cardinalities, n_dense, d, blocks, factor, out):
    """FT-Transformer's weight count, term by term from the paper's architecture."""
    h = int(d * factor)
    numeric_tokenizer = n_numeric * d + n_numeric * d  # W_j and b_j per column
    categorical_tokenizer = sum(cardinalities) * d + len(cardinalities) * d
    dense_token = n_dense * d + d if n_dense else 0  # this library's extra token
    cls_token = d
    attention = 4 * (d * d + d)  # W_q, W_k, W_v, W_out with biases
    reglu_ffn = d * 2 * h + 2 * h + h * d + d  # Linear(d, 2h), Linear(h, d)
    layer_norms = 2 * d * (2 * blocks - 1)  # block 0 has no attention norm
    head = 2 * d + d * out + out  # LayerNorm, Linear(d, out)
    return (
        numeric_tokenizer
        + categorical_tokenizer
        + dense_token
        + cls_token
        + blocks * (attention + reglu_ffn)
        + layer_norms
        + head
    )


def test_paper_default_weight_count():
    model = FTTransformer(8, CARDINALITIES, 3)  # d=192, 3 blocks, 8 heads, 4/3
    expected = ft_transformer_weights(8, CARDINALITIES, 0, 192, 3, 4 / 3, 3)
    assert expected == 897_219
    assert model.count_params() == expected
    assert model.ffn_hidden == 256
    assert model.get_layer("block_0").ffn_in.units == 2 * 256  # ReGLU halves


def test_small_preset_weight_count_with_periodic_and_dense():
    model = FTTransformer.small(
        5, [2, 7, 4], 1, n_dense=10, numeric_embedding="periodic"
    )
    d, k, h = 64, 16, int(64 * 4 / 3)
    assert model.d_token == d and model.n_blocks == 1 and model.n_heads == 4
    linear_numeric = 2 * 5 * d
    plr_numeric = 5 * k + 5 * 2 * k * d + 5 * d  # frequencies, per-column Linear
    expected = ft_transformer_weights(5, [2, 7, 4], 10, d, 1, 4 / 3, 1)
    expected += plr_numeric - linear_numeric
    assert model.count_params() == expected == 45_947
    assert model.ffn_hidden == h
    assert {k: model.get_config()[k] for k in FT_TRANSFORMER_SMALL} == (
        FT_TRANSFORMER_SMALL
    )


def test_tabular_mlp_weight_count():
    model = TabularMLP(
        4, CARDINALITIES, 3, n_dense=2, depth=2, width=16, numeric_embedding="periodic"
    )
    e, k = 8, 16
    plr = 4 * k + 4 * 2 * k * e + 4 * e
    tables = sum(CARDINALITIES) * e  # no per-column bias before a Dense
    features = 4 * e + 2 * e + 2
    dense = (features * 16 + 16) + (16 * 16 + 16) + (16 * 3 + 3)
    assert model.count_params() == plr + tables + dense == 2_323


INPUT_SETS = {
    "numeric_only": dict(n_numeric=4, cardinalities=[], n_dense=0),
    "categorical_only": dict(n_numeric=0, cardinalities=CARDINALITIES, n_dense=0),
    "all_three": dict(n_numeric=4, cardinalities=CARDINALITIES, n_dense=3),
}


@pytest.mark.parametrize("inputs", INPUT_SETS)
def test_ft_transformer_contract(inputs, tmp_path):
    table = INPUT_SETS[inputs]
    x = _table(8, **table)
    model = FTTransformer(
        table["n_numeric"],
        table["cardinalities"],
        3,
        n_dense=table["n_dense"],
        numeric_embedding="periodic" if inputs == "all_three" else "linear",
        seed=1,
        **TINY_FT,
    )
    assert model.input_widths == {k: v.shape[1] for k, v in x.items()}
    y = np.arange(8) % 3
    out = check_model(model, x, y, loss=LOGITS, tmp_dir=tmp_path)
    assert out.shape == (8, 3)
    assert out.min() < 0 or out.max() > 1  # raw logits, no softmax


@pytest.mark.parametrize("inputs", INPUT_SETS)
def test_tabular_mlp_contract(inputs, tmp_path):
    table = INPUT_SETS[inputs]
    x = _table(8, **table)
    model = TabularMLP(
        table["n_numeric"],
        table["cardinalities"],
        1,
        n_dense=table["n_dense"],
        batch_norm=inputs == "all_three",
        numeric_embedding="periodic" if inputs == "numeric_only" else None,
        seed=1,
        **TINY_MLP,
    )
    out = check_model(model, x, np.ones((8, 1), "float32"), tmp_dir=tmp_path)
    assert out.shape == (8, 1)


def test_ft_transformer_structure_follows_the_paper():
    model = FTTransformer(3, [4], 2, d_token=8, n_blocks=3, n_heads=2)
    blocks = [model.get_layer(f"block_{i}") for i in range(3)]
    assert [b.attention_norm_layer is None for b in blocks] == [True, False, False]
    assert [b.cls_only for b in blocks] == [False, False, True]
    assert blocks[0].output.shape == (None, 1 + 3 + 1, 8)  # [CLS] + columns
    assert blocks[-1].output.shape == (None, 1, 8)
    attention = blocks[0].attention
    assert isinstance(attention, keras.layers.MultiHeadAttention)
    assert attention.num_heads == 2 and attention.key_dim == 4
    kinds = [type(layer).__name__ for layer in model.layers[-3:]]
    assert kinds == ["LayerNormalization", "Activation", "Dense"]
    assert model.get_layer("predictions").activation is keras.activations.linear


def test_block_contract_and_cls_only_equals_full_block(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype("float32")
    full = FTTransformerBlock(2, 6, attention_dropout=0.1, ffn_dropout=0.1)
    out = check_layer(full, x, expected_output_shape=(3, 5, 8), tmp_dir=tmp_path)
    cls_only = FTTransformerBlock(2, 6, cls_only=True)
    cls_out = check_layer(cls_only, x, expected_output_shape=(3, 1, 8))
    cls_only.set_weights(full.get_weights())
    np.testing.assert_allclose(_np(cls_only(x)), out[:, :1], atol=1e-5)
    assert not np.allclose(cls_out, out[:, :1])  # before copying: other weights
    for activation, width in (("geglu", 12), ("relu", 6), ("gelu", 6)):
        block = FTTransformerBlock(2, 6, activation=activation)
        assert _np(block(x)).shape == (3, 5, 8) and block.ffn_in.units == width


def test_reglu_feed_forward_by_hand():
    """Block without attention: x + W2 (a * relu(b)) + c, with [a, b] = LN(x) W1."""
    block = FTTransformerBlock(1, 3, attention_norm=False)
    x = np.random.default_rng(1).standard_normal((2, 4, 6)).astype("float32")
    block(x)
    attention = _np(block.attention(x, x))
    h = x + attention
    mean, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
    gamma, beta = (_np(w) for w in block.ffn_norm.weights)
    normed = (h - mean) / np.sqrt(var + 1e-5) * gamma + beta
    w1, b1 = (_np(w) for w in block.ffn_in.weights)
    w2, b2 = (_np(w) for w in block.ffn_out.weights)
    a, b = np.split(normed @ w1 + b1, 2, axis=-1)
    expected = h + (a * np.maximum(b, 0)) @ w2 + b2
    np.testing.assert_allclose(_np(block(x)), expected, atol=1e-5)


@pytest.mark.parametrize(
    "family, policy", [("ft_transformer", "mixed_bfloat16"), ("mlp", "bfloat16")]
)
def test_dtype_reaches_every_sublayer(family, policy):
    if family == "ft_transformer":
        model = FTTransformer(4, CARDINALITIES, 2, n_dense=3, dtype=policy, **TINY_FT)
    else:
        model = TabularMLP(
            4,
            CARDINALITIES,
            2,
            n_dense=3,
            batch_norm=True,
            numeric_embedding="periodic",
            dtype=policy,
            **TINY_MLP,
        )
    layers = [
        layer
        for layer in model._flatten_layers(include_self=True, recursive=True)
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    assert len(layers) > 10
    assert {layer.dtype_policy.name for layer in layers} == {policy}
    variable_dtype = "float32" if policy.startswith("mixed") else "bfloat16"
    assert {v.dtype for v in model.weights} == {variable_dtype}
    assert keras.dtype_policies.get(model.get_config()["dtype"]).name == policy
    clone = type(model).from_config(model.get_config())
    assert clone.get_layer("predictions").dtype_policy.name == policy
    out = model(_table(8), training=False)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert np.isfinite(_np(keras.ops.cast(out, "float32"))).all()


def test_numeric_column_order_matters():
    """Tokens are column-specific: permuting numeric columns changes the output
    (a bag of shared-weight tokens would be permutation invariant)."""
    keras.utils.set_random_seed(0)
    x = _table(8, n_dense=0)
    permuted = dict(x, numeric=x["numeric"][:, [2, 0, 3, 1]])
    for model in (
        FTTransformer(4, CARDINALITIES, 2, **TINY_FT),
        FTTransformer(4, CARDINALITIES, 2, numeric_embedding="periodic", **TINY_FT),
    ):
        out = _np(model(x, training=False))
        assert np.abs(out - _np(model(permuted, training=False))).max() > 1e-3


@pytest.mark.parametrize("family", ["ft_transformer", "mlp"])
def test_no_batch_leakage_in_inference(family):
    keras.utils.set_random_seed(0)
    if family == "ft_transformer":
        model = FTTransformer(4, CARDINALITIES, 2, n_dense=3, **TINY_FT)
    else:
        model = TabularMLP(4, CARDINALITIES, 2, n_dense=3, batch_norm=True, **TINY_MLP)
    x = _table(8)
    together = _np(model(x, training=False))
    other = _table(8, seed=1)
    for i in (0, 5):
        alone = _np(model({k: v[i : i + 1] for k, v in x.items()}, training=False))
        np.testing.assert_allclose(alone[0], together[i], atol=1e-5)
        mixed = {k: np.concatenate([other[k][:7], v[i : i + 1]]) for k, v in x.items()}
        np.testing.assert_allclose(
            _np(model(mixed, training=False))[7], together[i], atol=1e-5
        )


def _loss(model, x, y, task):
    out = _np(model(x, training=False)).astype("float64")
    if task == "regression":
        return float(np.mean((out - y) ** 2))
    out = out - out.max(axis=1, keepdims=True)
    log_p = out - np.log(np.exp(out).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


@pytest.mark.parametrize("family", ["ft_transformer", "mlp"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_few_fit_steps_lower_the_loss(family, task):
    keras.utils.set_random_seed(0)
    x = _table(64)
    signal = x["numeric"][:, 0] - x["numeric"][:, 1] + (x["categorical"][:, 1] >= 3)
    signal = signal + 2 * x["dense"][:, 0]
    if task == "classification":
        y, units, loss = (signal > np.median(signal)).astype("int32"), 2, LOGITS
    else:
        y, units, loss = signal[:, None].astype("float32"), 1, "mse"
    if family == "ft_transformer":
        model = FTTransformer(4, CARDINALITIES, units, n_dense=3, **TINY_FT)
    else:
        model = TabularMLP(4, CARDINALITIES, units, n_dense=3, **TINY_MLP)
    model.compile(keras.optimizers.Adam(1e-2), loss)
    before = _loss(model, x, y, task)
    # 30 copies, no shuffling: 30 full-batch steps in one epoch.
    tiled = {k: np.concatenate([v] * 30) for k, v in x.items()}
    model.fit(tiled, np.concatenate([y] * 30), batch_size=64, shuffle=False, verbose=0)
    after = _loss(model, x, y, task)
    assert after < 0.7 * before, (before, after)


@pytest.mark.parametrize("family", ["ft_transformer", "mlp"])
def test_bad_inputs_are_rejected_before_the_backend(family):
    if family == "ft_transformer":
        model = FTTransformer(4, CARDINALITIES, 2, n_dense=3, **TINY_FT)
    else:
        model = TabularMLP(4, CARDINALITIES, 2, n_dense=3, **TINY_MLP)
    x = _table(8)
    good = _np(model.predict(x, verbose=0))

    def changed(key, value):
        return dict(x, **{key: value})

    too_big = x["categorical"].copy()
    too_big[3, 1] = 5
    negative = x["categorical"].copy()
    negative[0, 0] = -1
    nan = x["numeric"].copy()
    nan[1, 2] = np.nan
    cases = [
        (changed("categorical", too_big), ValueError, r"column 1 holds id 5 \(row 3\)"),
        (changed("categorical", negative), ValueError, r"column 0 holds id -1"),
        (
            changed("categorical", x["categorical"].astype("float32")),
            TypeError,
            "integer category ids",
        ),
        (changed("numeric", nan), ValueError, r"`numeric` holds NaN"),
        (changed("numeric", x["numeric"][:, :3]), ValueError, r"\(batch, 4\)"),
        (changed("dense", x["dense"][:4]), ValueError, "same batch size"),
        ({k: v for k, v in x.items() if k != "dense"}, ValueError, r"missing \['dense"),
        (changed("text", x["dense"]), ValueError, r"unexpected \['text'\]"),
        (x["numeric"], TypeError, "expects a dict"),
    ]
    for bad, error, match in cases:
        with pytest.raises(error, match=match):
            model(bad)
        with pytest.raises(error, match=match):
            model.predict(bad, verbose=0)
    model.compile("adam", LOGITS)
    with pytest.raises(ValueError, match="column 1 holds id 5"):
        model.fit(changed("categorical", too_big), np.zeros(8), verbose=0)
    with pytest.raises(ValueError, match="column 1 holds id 5"):
        model.evaluate(changed("categorical", too_big), np.zeros(8), verbose=0)
    # The model still predicts after the rejected batches (JAX's compiled predict).
    np.testing.assert_allclose(_np(model.predict(x, verbose=0)), good, atol=1e-6)


def test_out_of_range_ids_in_backend_tensors_give_nan_not_garbage():
    """Tensors skip the NumPy check; the embedding then yields NaN, never a
    neighbouring column's row."""
    model = FTTransformer(0, CARDINALITIES, 2, **TINY_FT)
    ids = keras.ops.convert_to_tensor(np.array([[0, 1], [1, 5]], "int32"))
    out = _np(model({"categorical": ids}, training=False))
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


@pytest.mark.parametrize(
    "family, kwargs, match",
    [
        ("ft", {"n_numeric": -1}, r"n_numeric=-1"),
        ("ft", {"n_numeric": 0, "cardinalities": []}, r"at least one input column"),
        ("ft", {"cardinalities": [3, 0]}, r"cardinalities=\[3, 0\]"),
        ("ft", {"cardinalities": None}, r"cardinalities=None"),
        ("ft", {"output_units": 0}, r"output_units=0"),
        ("ft", {"d_token": 10, "n_heads": 4}, r"d_token=10 and n_heads=4"),
        ("ft", {"attention_dropout": 1.0}, r"attention_dropout=1.0"),
        ("ft", {"ffn_factor": 0.0}, r"ffn_factor=0.0"),
        ("ft", {"numeric_embedding": "ple"}, r"numeric_embedding='ple'"),
        ("ft", {"activation": "swiglu"}, r"activation='swiglu'"),
        ("ft", {"dtype": "float13"}, r"dtype='float13'"),
        ("mlp", {"depth": -1}, r"depth=-1"),
        ("mlp", {"dropout": -0.1}, r"dropout=-0.1"),
        ("mlp", {"numeric_embedding": "linear"}, r"numeric_embedding='linear'"),
        ("mlp", {"d_embedding": 0}, r"d_embedding=0"),
        ("mlp", {"sigma": 0}, r"sigma=0"),
    ],
)
def test_bad_arguments_raise(family, kwargs, match):
    arguments = {"n_numeric": 3, "cardinalities": [2], "output_units": 2, **kwargs}
    cls = FTTransformer if family == "ft" else TabularMLP
    with pytest.raises(ValueError, match=match):
        cls(**arguments)
