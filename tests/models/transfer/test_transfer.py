"""models/transfer/backbones: feature extraction, blocks, the transfer model,
freezing and loading backbones (the two-phase fit, a recipe, is tested in
tests/recipes/test_transfer_recipe.py).

Numbers are checked on a tiny ResNet. The keras.applications cases use
MobileNetV2 at 32x32 (alpha 1.0: `load_backbone` has no `alpha`), built without
drawing initial values (`without_initial_values`): on the JAX backend each new
weight shape compiles its random initializer, and MobileNetV2's ~40 shapes would
cost 15-30 s. The weights-file round trip reads the loaded values from the scope
instead of running the network.
"""

import contextlib
import socket
import urllib.error

import keras
import numpy as np
import pytest

from kerasdl.models import (
    ResNet,
    application_names,
    backbone_blocks,
    build_transfer_model,
    feature_extractor,
    freeze_backbone,
    get_backbone,
    load_backbone,
    unfreeze_top_blocks,
)

BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")
HEAD = {"head_predictions/kernel", "head_predictions/bias"}


# === Helpers ===


def tiny_resnet(**kwargs):
    """8x8x1 -> stem (8 ch) -> stage1 (8 ch, 8x8) -> stage2 (8 ch, 4x4) [-> head].

    One width and 3 classes, like the new heads: few distinct weight shapes, so
    few initializer compilations on JAX (a truncated normal costs seconds).
    """
    return ResNet(
        (8, 8, 1),
        3,
        stackwise_filters=(8, 8),
        stackwise_depth=(1, 1),
        stem_filters=8,
        **kwargs,
    )


def images(n=32, shape=(8, 8, 1), seed=0):
    # Mean 1, std 2: far from the initial moving statistics (0, 1), so a batch
    # norm in training mode visibly moves them.
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, *shape)) * 2 + 1).astype("float32")


def labels(n=32, num_classes=3, seed=0):
    return np.random.default_rng(seed).integers(0, num_classes, n)


def numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def snapshot(model):
    """`{weight path: value}` of every weight (paths are unique)."""
    values = {w.path: numpy(w.value) for w in model.weights}
    assert len(values) == len(model.weights), "weight paths are not unique"
    return values


def changed(before, after):
    return {path for path in before if not np.array_equal(before[path], after[path])}


def trainable_paths(model):
    return {w.path for w in model.trainable_weights}


def is_bn(path):
    return path.rsplit("/", 1)[-1] in BN_WEIGHTS


def block_paths(backbone, names):
    """Paths of every weight of the named blocks of `backbone`."""
    blocks = dict(backbone_blocks(backbone))
    return {w.path for name in names for layer in blocks[name] for w in layer.weights}


@contextlib.contextmanager
def without_initial_values():
    """Build models whose weight values are never read (structure only).

    Keras defers the initial values inside `StatelessScope(initialize_variables=
    False)` and keeps the deferred variables to initialize at the next
    StatelessScope exit (every JAX train step): drop ours on the way out, as
    tests/training/test_distribute.py does. Yields the scope: values assigned
    inside (e.g. by `load_weights`) are read with `scope.get_current_value`.
    """
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    pending = list(global_state.get_global_attribute(key) or [])
    try:
        with keras.StatelessScope(initialize_variables=False) as scope:
            yield scope
    finally:
        global_state.set_global_attribute(key, pending)


@pytest.fixture(scope="module")
def mobilenet():
    """MobileNetV2 without its top, through `load_backbone` (structure only)."""
    with without_initial_values():
        return load_backbone("MobileNetV2", input_shape=(32, 32, 3), weights=None)


# === feature_extractor ===


def test_feature_extractor_cuts_a_classifier_at_its_last_feature_map():
    source = tiny_resnet(head_activation=None)
    features = feature_extractor(source)
    assert tuple(features.output.shape) == (None, 4, 4, 8)
    assert features.layers[-1].name == "stage2_block1"
    x = images(4)
    maps = numpy(features(x))
    # Computed another way: the layers one by one...
    h = x
    for name in ("stem_conv", "stage1_block1", "stage2_block1"):
        h = source.get_layer(name)(h, training=False)
    np.testing.assert_allclose(maps, numpy(h), atol=1e-6)
    # ...and the source's own head applied to the cut gives the source's logits,
    # so the cut is exactly the input of its global pooling.
    dense = source.get_layer("predictions")
    logits = maps.mean(axis=(1, 2)) @ numpy(dense.kernel) + numpy(dense.bias)
    np.testing.assert_allclose(logits, numpy(source(x)), atol=1e-5)
    # Shared layers, not copies.
    assert features.get_layer("stem_conv") is source.get_layer("stem_conv")


def test_feature_extractor_keeps_pooled_feature_models_as_they_are():
    source = tiny_resnet(include_top=False, pooling="avg")
    features = feature_extractor(source)
    assert features.layers[-1].name == "avg_pool"
    x = images(4)
    np.testing.assert_allclose(numpy(features(x)), numpy(source(x)), atol=1e-6)

    with without_initial_values():
        pooled = keras.applications.MobileNetV2(
            input_shape=(32, 32, 3), weights=None, include_top=False, pooling="avg"
        )
    features = feature_extractor(pooled)
    assert tuple(features.output.shape) == (None, 1280)
    assert features.layers[-1] is pooled.layers[-1]
    assert len(features.layers) == len(pooled.layers)


def test_feature_extractor_cuts_at_layer_name():
    source = tiny_resnet()
    features = feature_extractor(source, layer_name="stage1_block1")
    assert tuple(features.output.shape) == (None, 8, 8, 8)
    x = images(4)
    h = source.get_layer("stem_conv")(x, training=False)
    h = source.get_layer("stage1_block1")(h, training=False)
    np.testing.assert_allclose(numpy(features(x)), numpy(h), atol=1e-6)


def test_feature_extractor_errors():
    source = tiny_resnet()
    with pytest.raises(ValueError, match="layer_name='no_such_layer'"):
        feature_extractor(source, layer_name="no_such_layer")

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="functional"):
        feature_extractor(Subclassed())

    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    with without_initial_values():
        conv = keras.layers.Conv2D(2, 3)(keras.layers.Concatenate()([a, b]))
    with pytest.raises(ValueError, match="one input and one output"):
        feature_extractor(keras.Model([a, b], conv))
    with pytest.raises(ValueError, match="one input and one output"):
        build_transfer_model(keras.Model([a, b], conv), 3)


# === backbone_blocks ===


def test_blocks_of_our_convnet_are_its_top_level_weighted_layers():
    source = tiny_resnet()
    blocks = backbone_blocks(source)
    assert [name for name, _ in blocks] == [
        "stem_conv",
        "stage1_block1",
        "stage2_block1",
        "predictions",
    ]
    assert all([layer.name for layer in layers] == [name] for name, layers in blocks)
    model = build_transfer_model(source, 3)
    names = [name for name, _ in backbone_blocks(get_backbone(model))]
    assert names == ["stem_conv", "stage1_block1", "stage2_block1"]


def test_blocks_of_mobilenet_v2(mobilenet):
    blocks = backbone_blocks(mobilenet)
    names = [name for name, _ in blocks]
    assert names[:3] == ["Conv1", "expanded_conv", "block_1"]
    assert names[-2:] == ["block_16", "Conv_1"]
    assert len(names) == len(set(names)) == 19
    grouped = {name: [layer.name for layer in layers] for name, layers in blocks}
    # A batch norm outside a named block joins the layer before it.
    assert grouped["Conv1"] == ["Conv1", "bn_Conv1"]
    assert grouped["Conv_1"] == ["Conv_1", "Conv_1_bn"]
    assert "Conv_1_bn" not in grouped
    assert grouped["block_16"] == [
        "block_16_expand",
        "block_16_expand_BN",
        "block_16_depthwise",
        "block_16_depthwise_BN",
        "block_16_project",
        "block_16_project_BN",
    ]
    # Every layer with weights is in exactly one block.
    in_blocks = [layer for _, layers in blocks for layer in layers]
    assert len(in_blocks) == len({id(layer) for layer in in_blocks})
    assert {id(layer) for layer in in_blocks} == {
        id(layer) for layer in mobilenet.layers if layer.weights
    }


def test_blocks_leave_out_input_normalization():
    inputs = keras.Input((8, 8, 1))
    with without_initial_values():
        x = keras.layers.Normalization(name="normalization")(inputs)
        x = keras.layers.Conv2D(4, 3, name="block1_conv1")(x)
        x = keras.layers.BatchNormalization(name="block1_bn")(x)
        x = keras.layers.Conv2D(4, 3, name="top_conv")(x)
        x = keras.layers.BatchNormalization(name="top_bn")(x)
    model = keras.Model(inputs, x)
    assert model.get_layer("normalization").weights  # it would count otherwise
    grouped = {
        name: [layer.name for layer in layers]
        for name, layers in backbone_blocks(model)
    }
    assert grouped == {
        "block1": ["block1_conv1", "block1_bn"],
        "top_conv": ["top_conv", "top_bn"],
    }


# === build_transfer_model ===


def test_transfer_model_starts_with_a_frozen_shared_backbone():
    source = tiny_resnet()
    model = build_transfer_model(source, 3)
    assert trainable_paths(model) == HEAD
    backbone = get_backbone(model)
    assert not backbone.trainable
    # The weights are the source's own variables: changing them changes the
    # transfer model.
    kernel = source.get_layer("stem_conv").weights[0]
    assert any(w is kernel for w in backbone.weights)
    x = images(4)
    out = numpy(model(x))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    kernel.assign(numpy(kernel.value) * 2 + 0.1)
    assert not np.allclose(numpy(model(x)), out, atol=1e-4)


def test_transfer_model_head_shapes_and_logits(mobilenet):
    with without_initial_values():
        model = build_transfer_model(mobilenet, 7)
    assert tuple(model.output.shape) == (None, 7)
    assert model.get_layer("head_pool") is not None  # feature map -> pooled
    assert model.get_layer("head_dropout").rate == 0.2
    assert trainable_paths(model) == HEAD
    assert model.name == f"transfer_{mobilenet.name}"

    model = build_transfer_model(
        tiny_resnet(), 4, head_activation=None, dropout=0.0, name="logits"
    )
    assert model.name == "logits"
    assert "head_dropout" not in [layer.name for layer in model.layers]
    logits = numpy(model(images(8)))
    assert logits.shape == (8, 4)
    assert not np.allclose(logits.sum(axis=1), 1.0, atol=1e-3)
    # Pooled features get no second pooling.
    pooled = build_transfer_model(tiny_resnet(include_top=False, pooling="avg"), 3)
    assert "head_pool" not in [layer.name for layer in pooled.layers]
    assert tuple(pooled.output.shape) == (None, 3)


def test_transfer_model_save_load_keeps_predictions_and_inference_mode(tmp_path):
    model = build_transfer_model(tiny_resnet(), 3, dropout=0.0, name="transfer")
    x = images(8)
    expected = numpy(model(x))
    path = tmp_path / "transfer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(numpy(loaded(x)), expected, atol=1e-6)
    assert trainable_paths(loaded) == HEAD
    # Loaded, the backbone still runs in inference mode, even with its batch
    # norms unfrozen and the model called with training=True.
    unfreeze_top_blocks(loaded, 3, train_batchnorm=True)
    assert any(name.endswith("gamma") for name in trainable_paths(loaded))
    before = snapshot(loaded)
    np.testing.assert_allclose(numpy(loaded(x, training=True)), expected, atol=1e-6)
    assert changed(before, snapshot(loaded)) == set()


def test_transfer_model_config_round_trip():
    model = build_transfer_model(tiny_resnet(), 3)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = images(8)
    np.testing.assert_allclose(numpy(clone(x)), numpy(model(x)), atol=1e-6)
    assert [layer.name for layer in clone.layers] == [
        layer.name for layer in model.layers
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.5}, "num_classes"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"head_activation": "relu"}, "head_activation"),
        ({"layer_name": "nope"}, "layer_name"),
        ({"pooling": "mean"}, "pooling"),
    ],
)
def test_transfer_model_bad_arguments(kwargs, match):
    kwargs = {"num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_transfer_model(tiny_resnet(), **kwargs)


@pytest.mark.parametrize("pooling", ["avg", "max", "flatten"])
def test_transfer_model_pooling_of_a_lower_cut(pooling):
    # Cut after stage 1 (8x8x8 maps): the head sees 8 features pooled, or all
    # 8*8*8 with "flatten", and the outputs follow that vector exactly.
    source = tiny_resnet()
    model = build_transfer_model(
        source, 3, layer_name="stage1_block1", pooling=pooling, dropout=0.0
    )
    head = model.get_layer("head_predictions")
    assert head.kernel.shape == ((512, 3) if pooling == "flatten" else (8, 3))
    x = images(4)
    features = keras.ops.convert_to_numpy(
        feature_extractor(source, "stage1_block1")(x, training=False)
    )
    vector = {
        "avg": features.mean(axis=(1, 2)),
        "max": features.max(axis=(1, 2)),
        "flatten": features.reshape(4, -1),
    }[pooling]
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in head.weights)
    logits = vector @ kernel + bias
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)


def test_transfer_model_needs_a_model():
    with pytest.raises(ValueError, match="`backbone` must be a keras.Model"):
        build_transfer_model("ResNet50", 3)


# === unfreeze_top_blocks ===


def test_unfreeze_top_blocks_trains_their_non_bn_weights_only():
    model = build_transfer_model(tiny_resnet(), 3)
    backbone = get_backbone(model)
    assert unfreeze_top_blocks(model, 2) == ["stage1_block1", "stage2_block1"]
    top = block_paths(backbone, ["stage1_block1", "stage2_block1"])
    expected = {path for path in top if not is_bn(path)}
    assert expected and any(is_bn(path) for path in top)
    assert trainable_paths(model) == expected | HEAD

    unfreeze_top_blocks(model, 2, train_batchnorm=True)
    expected = {path for path in top if not path.endswith(BN_WEIGHTS[2:])}
    assert any(path.endswith("gamma") for path in expected)
    assert trainable_paths(model) == expected | HEAD  # stem stays frozen

    assert unfreeze_top_blocks(model, 0) == []
    assert trainable_paths(model) == HEAD

    assert unfreeze_top_blocks(model, 1) == ["stage2_block1"]
    top = block_paths(backbone, ["stage2_block1"])
    assert trainable_paths(model) == {p for p in top if not is_bn(p)} | HEAD
    freeze_backbone(model)
    assert trainable_paths(model) == HEAD


def test_unfreeze_top_blocks_of_mobilenet(mobilenet):
    with without_initial_values():
        model = build_transfer_model(mobilenet, 3)
    assert unfreeze_top_blocks(model, 2) == ["block_16", "Conv_1"]
    assert trainable_paths(model) == HEAD | {
        "block_16_expand/kernel",
        "block_16_depthwise/kernel",
        "block_16_project/kernel",
        "Conv_1/kernel",
    }


def test_unfreeze_too_many_blocks():
    model = build_transfer_model(tiny_resnet(), 3)
    with pytest.raises(ValueError, match=r"`num_blocks` must be at most 3.*=4"):
        unfreeze_top_blocks(model, 4)
    with pytest.raises(ValueError, match="num_blocks"):
        unfreeze_top_blocks(model, -1)
    with pytest.raises(ValueError, match="build_transfer_model"):
        unfreeze_top_blocks(tiny_resnet(), 1)


# === load_backbone ===


def test_load_backbone_from_models_and_files(tmp_path):
    source = tiny_resnet()
    assert load_backbone(source) is source
    x = images(4)
    expected = numpy(source(x))

    weights = tmp_path / "source.weights.h5"
    source.save_weights(weights)
    fresh = tiny_resnet()
    assert not np.allclose(numpy(fresh(x)), expected, atol=1e-4)
    assert load_backbone(fresh, weights=weights) is fresh
    np.testing.assert_allclose(numpy(fresh(x)), expected, atol=1e-6)

    path = tmp_path / "source.keras"
    source.save(path)
    for given in (path, str(path)):
        loaded = load_backbone(given)
        assert isinstance(loaded, ResNet)
        np.testing.assert_allclose(numpy(loaded(x)), expected, atol=1e-6)

    with pytest.raises(ValueError, match="`source`.*missing.keras"):
        load_backbone(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="`weights`.*missing.weights.h5"):
        load_backbone(source, weights=tmp_path / "missing.weights.h5")
    with pytest.raises(ValueError, match="`weights`.*missing.h5"):
        load_backbone("MobileNetV2", weights=str(tmp_path / "missing.h5"))


@pytest.mark.parametrize("source", ["ResNet999", "mobilenetv2", 42])
def test_load_backbone_unknown_source_lists_the_names(source):
    names = application_names()
    assert {"MobileNetV2", "ResNet50", "EfficientNetB0", "VGG16"} <= set(names)
    assert names == sorted(names)
    with pytest.raises(ValueError, match="MobileNetV2, .*ResNet50") as info:
        load_backbone(source)
    assert repr(source) in str(info.value)


def test_load_backbone_application_without_top_and_from_a_weights_file(
    mobilenet, tmp_path
):
    assert tuple(mobilenet.input_shape) == (None, 32, 32, 3)
    assert tuple(mobilenet.output_shape) == (None, 1, 1, 1280)
    assert not any(isinstance(layer, keras.layers.Dense) for layer in mobilenet.layers)

    # A weights file holding known values (no initializer runs)...
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(w.shape).astype("float32") for w in mobilenet.weights]
    path = tmp_path / "mobilenet.weights.h5"
    mapping = list(zip(mobilenet.weights, values))
    with keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
        mobilenet.save_weights(path)
    # ...is what a new backbone loaded with weights=path holds: every variable.
    with without_initial_values() as scope:
        reloaded = load_backbone("MobileNetV2", input_shape=(32, 32, 3), weights=path)
    assert reloaded is not mobilenet
    assert [w.path for w in reloaded.weights] == [w.path for w in mobilenet.weights]
    for weight, value in zip(reloaded.weights, values):
        loaded = scope.get_current_value(weight)
        assert loaded is not None, f"{weight.path} was not loaded"
        np.testing.assert_array_equal(numpy(loaded), value, err_msg=weight.path)


def test_load_backbone_imagenet_offline_says_where_to_put_the_file(
    monkeypatch, tmp_path
):
    import keras.src.backend.config as keras_config
    import keras.src.utils.file_utils as file_utils

    downloads, connections = [], []

    def offline(url, *args, **kwargs):
        downloads.append(url)
        raise urllib.error.URLError("offline")

    def no_connect(self, *args, **kwargs):
        connections.append(args)
        raise OSError("no network in tests")

    home = tmp_path / "keras_home"
    home.mkdir()  # get_file falls back to /tmp/.keras for a folder it cannot write
    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home))
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    with pytest.raises(ValueError, match="imagenet") as info:
        with without_initial_values():
            load_backbone("MobileNetV2", input_shape=(96, 96, 3), weights="imagenet")
    assert str(home / "models") in str(info.value)
    assert "weights=PATH" in str(info.value)
    assert len(downloads) == 1 and downloads[0].startswith("https://")
    assert connections == []
