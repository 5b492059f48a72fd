"""kerasdl.models.cnn: parameter counts against the published models, the
small-input rules, save/load and config round trips, errors, registry entries.

Parameter counts are taken on models built inside
`keras.StatelessScope(initialize_variables=False)`: the layers and weight shapes
are real, but the 143M weights of VGG-19 are never allocated or initialized, so
counting all 13 models takes about a second.
"""

import contextlib
import math

import keras
import numpy as np
import pytest

from kerasdl.layers.inception import InceptionModule
from kerasdl.layers.mbconv import MBConv
from kerasdl.layers.residual import ResidualBlock
from kerasdl.models import cnn as convnets
from kerasdl.models.cnn import (
    VGG,
    AlexNet,
    EfficientNet,
    GoogLeNet,
    LeNet5,
    ResNet,
    round_filters,
    round_repeats,
)
from kerasdl.models.cnn.googlenet import GOOGLENET_MODULES
from kerasdl.models.registry import get_model_spec, list_models
from kerasdl.testing import check_model

# Trainable parameters at 224x224x3 and 1000 classes (LeNet-5: 32x32x1, 10
# classes), as published by the reference implementations: torchvision for
# AlexNet, VGG, ResNet (v1.5) and GoogLeNet; keras.applications / torchvision
# for EfficientNet (both 5,288,548 for B0). Batch-norm moving statistics are not
# trainable and not counted (torchvision keeps them as buffers).
REFERENCE = {
    "LeNet5": 61_706,
    "AlexNet": 61_100_840,
    "VGG11": 132_863_336,
    "VGG16": 138_357_544,
    "VGG19": 143_667_240,
    "ResNet18": 11_689_512,
    "ResNet34": 21_797_672,
    "ResNet50": 25_557_032,
    "EfficientNetB0": 5_288_548,
    "EfficientNetB1": 7_794_184,
    "EfficientNetB2": 9_109_994,
    "EfficientNetB3": 12_233_232,
}
# The GoogLeNet paper's Table 1 sums to 6,797.7 "K" parameters; its rows count K as
# 1024 (Inception 3a: 163,328 weights = 159.5K), so the paper's network has about
# 6,797.7 * 1024 = 6.96M weights, the "6.8M" usually quoted.
GOOGLENET_PAPER = 6_797.7 * 1024
# torchvision's GoogLeNet uses 3x3 kernels in the "5x5" branches: 6,624,904.
GOOGLENET_TORCHVISION = 6_624_904

RNG = np.random.default_rng(0)
X8 = RNG.random((6, 8, 8, 1)).astype("float32")
Y8 = RNG.integers(0, 10, 6)


@contextlib.contextmanager
def shapes_only():
    """Build models with real weight shapes but no allocated values."""
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        keras.backend.clear_session()


def _trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def _layers(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


def _spatial_sizes(model):
    return [
        tuple(layer.output.shape[1:3])
        for layer in model.layers
        if len(layer.output.shape) == 4
    ]


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


FAMILY = {
    "VGG": (VGG, ("VGG11", "VGG16", "VGG19")),
    "ResNet": (ResNet, ("ResNet18", "ResNet34", "ResNet50")),
    "EfficientNet": (EfficientNet, tuple(f"EfficientNetB{b}" for b in range(4))),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_parameter_count_matches_the_reference(name):
    with shapes_only():
        if name == "LeNet5":
            model = LeNet5((32, 32, 1), 10)
        else:
            model = getattr(convnets, name)()
        count = _trainable(model)
        assert model.output_shape == (None, 10 if name == "LeNet5" else 1000)
        # Families differ by config: a builder returns its family's class.
        for cls, members in FAMILY.values():
            if name in members:
                assert type(model) is cls
        config = model.get_config()
    assert abs(count / REFERENCE[name] - 1) < 0.02
    assert count == REFERENCE[name]  # in fact the same architecture, exactly
    assert config["name"] == name.lower().replace("efficientnetb", "efficientnet_b")


def test_googlenet_parameter_count():
    with shapes_only():
        model = GoogLeNet()
        count = _trainable(model)
        no_bn = _trainable(GoogLeNet(batch_norm=False))
    assert abs(count / GOOGLENET_PAPER - 1) < 0.02
    assert abs(no_bn / GOOGLENET_PAPER - 1) < 0.02
    # With 3x3 instead of 5x5 kernels we would have torchvision's count exactly.
    five_by_five = sum(
        (25 - 9) * f[3] * f[4] for _, f in GOOGLENET_MODULES if f is not None
    )
    assert count - five_by_five == GOOGLENET_TORCHVISION


def test_efficientnet_compound_scaling():
    assert [round_filters(32, w) for w in (1.0, 1.1, 1.2)] == [32, 32, 40]
    assert [round_filters(1280, w) for w in (1.0, 1.1, 1.2)] == [1280, 1408, 1536]
    assert round_filters(10, 0.25) == 8  # never below the divisor
    assert [round_repeats(4, d) for d in (1.0, 1.1, 1.2, 1.4)] == [4, 5, 5, 6]
    with shapes_only():
        blocks = [
            len(_layers(getattr(convnets, f"EfficientNetB{b}")(), MBConv))
            for b in range(4)
        ]
    assert blocks == [16, 23, 23, 26]


# ---------------------------------------------------------------------------
# Small inputs
# ---------------------------------------------------------------------------

FAMILIES = {
    "LeNet5": LeNet5,
    "AlexNet": AlexNet,
    "VGG16": convnets.VGG16,
    "GoogLeNet": GoogLeNet,
    "ResNet18": convnets.ResNet18,
    "ResNet50": convnets.ResNet50,
    "EfficientNetB0": convnets.EfficientNetB0,
}


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_builder_takes_small_images(name, shape):
    with shapes_only():
        model = FAMILIES[name](shape, 10)
        assert model.output_shape == (None, 10)
        # 'auto' picks the small layout below 64 pixels (LeNet-5: below 32).
        assert model.small_input_layout is (
            min(shape[:2]) < (32 if name == "LeNet5" else 64)
        )
        assert min(min(s) for s in _spatial_sizes(model)) >= 1


@pytest.mark.parametrize(
    "shape, small, stem, pooled, last",
    [
        ((8, 8, 1), True, (3, 1), False, (1, 1)),
        ((32, 32, 3), True, (3, 1), False, (4, 4)),  # the CIFAR ResNet
        ((32, 32, 3), False, (7, 2), True, (1, 1)),
        ((64, 64, 3), "auto", (7, 2), True, (2, 2)),
    ],
)
def test_resnet_stem_rule(shape, small, stem, pooled, last):
    with shapes_only():
        model = convnets.ResNet18(shape, 10, small_input=small)
        conv = model.get_layer("stem_conv").conv
        assert (conv.kernel_size[0], conv.strides[0]) == stem
        assert any(layer.name == "stem_pool" for layer in model.layers) is pooled
        assert tuple(model.get_layer("stage4_block2").output.shape[1:3]) == last


@pytest.mark.parametrize(
    "builder, shape, pools, last",
    [
        (convnets.VGG11, (8, 8, 1), 3, (1, 1)),  # 8 -> 4 -> 2 -> 1, then no pool
        (convnets.VGG11, (32, 32, 3), 5, (1, 1)),
        (convnets.VGG11, (224, 224, 3), 5, (7, 7)),
        (AlexNet, (8, 8, 1), 2, (1, 1)),  # 8 -> 3 -> 1, then no 3x3 pool
        (AlexNet, (32, 32, 3), 3, (3, 3)),
        (AlexNet, (224, 224, 3), 3, (6, 6)),
        (GoogLeNet, (8, 8, 1), 2, (2, 2)),  # pools before 4a and 5a only
        (GoogLeNet, (224, 224, 3), 4, (7, 7)),
    ],
)
def test_pools_are_skipped_only_on_tiny_maps(builder, shape, pools, last):
    with shapes_only():
        model = builder(shape, 10)
        count = len(_layers(model, keras.layers.MaxPooling2D))
        assert count == pools
        assert _spatial_sizes(model)[-1] == last


@pytest.mark.parametrize(
    "shape, flat",
    [((32, 32, 1), 400), ((28, 28, 1), 400), ((8, 8, 1), 64), ((5, 5, 1), 16)],
)
def test_lenet_padding_rule(shape, flat):
    """28x28 pads only the first conv (-> the paper's 5x5x16 map); 8x8 both."""
    with shapes_only():
        model = LeNet5(shape, 10)
        assert model.get_layer("flatten").output.shape[-1] == flat


def test_efficientnet_small_stem_and_strides():
    with shapes_only():
        small = EfficientNet((8, 8, 1), 10)
        large = EfficientNet((64, 64, 3), 10)
        assert small.get_layer("stem_conv").strides == 1
        assert large.get_layer("stem_conv").strides == 2
        assert tuple(small.get_layer("top_conv").output.shape[1:3]) == (1, 1)
        assert tuple(large.get_layer("top_conv").output.shape[1:3]) == (2, 2)
        # Stride-2 blocks keep their stride only while the map is >= 2x2.
        strides = [b.strides for b in _layers(small, MBConv)]
        assert strides.count(2) == 3


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LeNet5((4, 4, 1), 10), "at least 5x5"),
        (lambda: LeNet5((15, 15, 1), 10, small_input=False), "at least 16x16"),
        (lambda: AlexNet((62, 62, 3), 10, small_input=False), "at least 63x63"),
        (lambda: AlexNet((2, 8, 1), 10), "at least 3x3"),
        (lambda: VGG((16, 16, 3), 10, small_input=False), "at least 32x32"),
        (
            lambda: convnets.ResNet18((31, 31, 3), 10, small_input=False),
            "at least 32x32",
        ),
        (lambda: GoogLeNet((16, 16, 3), 10, small_input=False), "at least 32x32"),
        (lambda: convnets.EfficientNetB0((2, 2, 3), 10), "at least 3x3"),
    ],
)
def test_too_small_images_say_the_minimum(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# ---------------------------------------------------------------------------
# Save/load and config round trips (tiny widths, 8x8 digits-sized images)
# ---------------------------------------------------------------------------

# Tiny widths (and depths) keep the number of distinct weight shapes low: on JAX
# each new shape costs an XLA compile of its initializer. ResNet18/34/50 differ
# from these only by config (see test_builders_are_configs_of_one_class). The fit
# step (check_model with `y`) runs on the two cheapest graphs; the others check
# outputs, config round trip and .keras save/load.
TINY = {
    "LeNet5": (lambda: LeNet5((8, 8, 1), 10, filters=(2, 4), dense_units=(8,)), True),
    "AlexNet": (
        lambda: AlexNet(
            (8, 8, 1), 10, width_multiplier=1 / 64, dense_units=(8,), batch_norm=True
        ),
        False,
    ),
    "VGG11": (
        lambda: convnets.VGG11(
            (8, 8, 1), 10, width_multiplier=1 / 64, dense_units=(8,), batch_norm=True
        ),
        False,
    ),
    "GoogLeNet": (lambda: GoogLeNet((8, 8, 1), 10, width_multiplier=1 / 128), False),
    "ResNet-basic": (
        lambda: ResNet(
            (8, 8, 1),
            10,
            stackwise_filters=(2, 4),
            stackwise_depth=(1, 1),
            stem_filters=2,
            dropout=0.2,
        ),
        True,
    ),
    "ResNet-bottleneck": (
        lambda: ResNet(
            (8, 8, 1),
            10,
            stackwise_filters=(2, 4),
            stackwise_depth=(2, 1),
            stem_filters=2,
            block_kind="bottleneck",
            zero_init_residual=True,
        ),
        False,
    ),
    # Divisor 16 and width 0.05: every stage has 16 channels (96 expanded).
    "EfficientNet": (
        lambda: EfficientNet(
            (8, 8, 1),
            10,
            width_coefficient=0.05,
            depth_coefficient=0.1,
            depth_divisor=16,
        ),
        False,
    ),
}


@pytest.mark.slow  # 6-12 s each on JAX (initializer and train-step compiles)
@pytest.mark.parametrize("name", sorted(TINY))
def test_save_load_and_config_round_trip(name, tmp_path):
    build, fit = TINY[name]
    out = check_model(build(), X8, Y8 if fit else None, tmp_dir=tmp_path)
    assert out.shape == (6, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_include_top_false_and_pooling():
    with shapes_only():
        features = convnets.ResNet50((32, 32, 3), include_top=False)
        assert features.output_shape == (None, 4, 4, 2048)
        pooled = convnets.ResNet50((32, 32, 3), include_top=False, pooling="avg")
        assert pooled.output_shape == (None, 2048)
        vgg = VGG((32, 32, 3), include_top=False, pooling="max", width_multiplier=0.5)
        assert vgg.output_shape == (None, 256)
        logits = LeNet5(head_activation=None)
        assert logits.get_layer("predictions").activation is keras.activations.linear


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LeNet5(small_input="yes"), "small_input"),
        (lambda: LeNet5(num_classes=1), "num_classes"),
        (lambda: LeNet5(pooling="avg"), "include_top=False"),
        (lambda: LeNet5(filters=(6,)), "filters"),
        (lambda: LeNet5(subsampling="sum"), "subsampling"),
        (lambda: LeNet5((32, 32)), "input_shape"),
        (lambda: AlexNet(dropout=1.0), "dropout"),
        (lambda: VGG(stackwise_depth=(2, 2)), "stackwise_depth"),
        (lambda: VGG(width_multiplier=0), "width_multiplier"),
        (lambda: ResNet(block_kind="wide"), "block_kind"),
        (lambda: ResNet(stackwise_filters=()), "stackwise_filters"),
        (lambda: GoogLeNet(head_activation="relu"), "head_activation"),
        (lambda: EfficientNet(depth_coefficient=-1.0), "depth_coefficient"),
        (lambda: EfficientNet(drop_connect_rate=1.0), "drop_connect_rate"),
    ],
)
def test_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# ---------------------------------------------------------------------------
# Registry (`kerasdl compare --deep resnet18,lenet5`)
# ---------------------------------------------------------------------------


def test_convnets_are_registered_for_images():
    names = {"lenet5", "alexnet", "vgg11", "vgg16", "vgg19", "googlenet"}
    names |= {"resnet18", "resnet34", "resnet50"}
    names |= {f"efficientnet_b{b}" for b in range(4)}
    assert names <= set(list_models("image"))
    assert not names & set(list_models("tabular"))
    for name in names:
        spec = get_model_spec(name)
        assert not spec.standardize and spec.epochs >= 20


def test_registry_builder_takes_flat_inputs():
    spec = get_model_spec("lenet5")
    flat = spec.builder((8, 8, 1), 10, filters=(2, 4), dense_units=(8,))
    assert flat.input_shape == (None, 64) and flat.output_shape == (None, 10)
    inner = flat.layers[-1]
    assert isinstance(inner, LeNet5) and inner.small_input_layout
    expected = keras.ops.convert_to_numpy(inner(X8, training=False))
    got = keras.ops.convert_to_numpy(flat(X8.reshape(6, 64), training=False))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    with shapes_only():
        resnet = get_model_spec("resnet18").builder((8, 8, 1), 10).layers[-1]
        assert isinstance(resnet, ResNet) and resnet.small_input_layout
        assert len(_layers(resnet, ResidualBlock)) == 8
        google = get_model_spec("googlenet").builder((8, 8, 1), 10).layers[-1]
        assert isinstance(google, GoogLeNet)
        assert len(_layers(google, InceptionModule)) == 9
