"""Bad input to the GPT language model and the GANs fails at once, naming the
argument and the value received.

Silent before: token ids >= vocab_size gave all-NaN logits on JAX (negative ids
finite wrong logits, float ids were cast); a discriminator ending in a sigmoid had
the sigmoid applied twice by the from-logits loss; images in 0..255 trained a GAN
on the wrong scale.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from kerasdl.models.gans import (
    DCGAN,
    WGAN,
    WGANGP,
    ConditionalGAN,
    dcgan_discriminator,
    dcgan_generator,
)
from kerasdl.models.transformers.gpt import GPTLanguageModel

VOCAB, MAX_LEN, LATENT = 11, 8, 4


# -- GPTLanguageModel --------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt():
    model = GPTLanguageModel(
        VOCAB, MAX_LEN, num_layers=1, num_heads=2, hidden_dim=8, dropout=0.0, seed=0
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


GOOD = np.arange(6).reshape(2, 3) % VOCAB

BAD_TOKENS = [
    (np.array([[1, 2, VOCAB]]), r"\[0, 11\).*received.*from 1 to 11"),
    (np.array([[1, -1, 2]]), r"\[0, 11\).*received.*from -1 to 2"),
    (np.array([[1.0, 2.0]], "float32"), r"integer.*received dtype float32"),
    (np.array([[True, False]]), r"integer.*received dtype bool"),
]


@pytest.mark.parametrize("tokens,message", BAD_TOKENS, ids=["high", "neg", "f", "b"])
def test_gpt_call_refuses_bad_token_ids(gpt, tokens, message):
    with pytest.raises(ValueError, match="`tokens` must hold .*" + message):
        gpt(tokens)


@pytest.mark.parametrize("tokens,message", BAD_TOKENS, ids=["high", "neg", "f", "b"])
def test_gpt_predict_refuses_bad_token_ids(gpt, tokens, message):
    with pytest.raises(ValueError, match="`x` must hold .*" + message):
        gpt.predict(tokens, verbose=0)


def test_gpt_fit_refuses_bad_inputs_and_targets(gpt):
    with pytest.raises(ValueError, match=r"x.*\[0, 11\).*received.*to 11"):
        gpt.fit(np.array([[1, VOCAB, 2]]), GOOD[:1], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y.*\[0, 11\).*received.*to 12"):
        gpt.fit(GOOD, GOOD + 7, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x.*integer.*received dtype float64"):
        gpt.evaluate(GOOD.astype("float64"), GOOD, verbose=0)


def test_gpt_good_ids_still_give_finite_logits(gpt):
    logits = keras.ops.convert_to_numpy(gpt(GOOD))
    assert logits.shape == (2, 3, VOCAB) and np.isfinite(logits).all()
    assert np.isfinite(gpt.predict(GOOD, verbose=0)).all()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"prompt": [[1.5, 2.0]]}, r"prompt.*integer.*received float64"),
        ({"prompt": [1, VOCAB]}, r"prompt.*\[0, 11\).*received.*to 11"),
        ({"prompt": [-3, 1]}, r"prompt.*\[0, 11\).*received.*from -3"),
        ({"prompt": np.zeros((1, 0), int)}, r"prompt.*received shape \(1, 0\)"),
        ({"max_new_tokens": MAX_LEN}, r"max_new_tokens=8.*max_len=8"),
        ({"max_new_tokens": -1}, r"max_new_tokens.*received max_new_tokens=-1"),
        ({"method": "beam"}, r"method.*received method='beam'"),
        ({"method": "temperature", "temperature": 0.0}, r"temperature=0\.0"),
        ({"method": "top_k", "top_k": VOCAB + 1}, r"top_k.*received top_k=12"),
        ({"method": "top_p", "top_p": 1.5}, r"top_p.*received top_p=1\.5"),
        ({"suppress_tokens": [VOCAB]}, r"suppress_tokens.*received \[11\]"),
    ],
)
def test_gpt_generate_checks_its_arguments(gpt, kwargs, message):
    args = {"prompt": [1, 2], "max_new_tokens": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        gpt.generate(**args)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"vocab_size": 1}, r"vocab_size.*received vocab_size=1"),
        ({"max_len": 0}, r"max_len.*received max_len=0"),
        ({"num_layers": -2}, r"num_layers.*received num_layers=-2"),
        ({"hidden_dim": 10, "num_heads": 4}, r"hidden_dim=10 and num_heads=4"),
        ({"dropout": 1.0}, r"dropout.*received dropout=1\.0"),
        ({"intermediate_dim": 0}, r"intermediate_dim.*received intermediate_dim=0"),
    ],
)
def test_gpt_impossible_hyperparameters(kwargs, message):
    args = {"vocab_size": VOCAB, "max_len": MAX_LEN, "hidden_dim": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        GPTLanguageModel(**args)


def test_gpt_refuses_wrong_rank_and_length(gpt):
    with pytest.raises(ValueError, match=r"rank 2.*received shape \(1, 2, 3\)"):
        gpt(np.zeros((1, 2, 3), "int32"))
    with pytest.raises(ValueError, match=r"max_len=8; received.*length 9"):
        gpt(np.zeros((1, MAX_LEN + 1), "int32"))


# -- GANs --------------------------------------------------------------------------


def generator(activation="sigmoid", num_classes=None):
    return dcgan_generator(
        LATENT,
        base_filters=4,
        stages=1,
        image_shape=(4, 4, 1),
        num_classes=num_classes,
        output_activation=activation,
    )


def critic_ending_in(kind, num_classes=None):
    """A 4x4 critic whose output is a sigmoid, in each way Keras allows."""
    images = keras.Input((4, 4, 1))
    inputs = [images]
    h = keras.layers.Flatten()(images)
    if num_classes:
        label = keras.Input((1,), dtype="int32")
        inputs.append(label)
        h = keras.layers.Concatenate()(
            [h, keras.layers.Flatten()(keras.layers.Embedding(num_classes, 2)(label))]
        )
    if kind == "dense":  # the published Keras DCGAN example's last layer
        out = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    elif kind == "activation":
        out = keras.layers.Activation("sigmoid", name="out")(keras.layers.Dense(1)(h))
    else:  # a Sequential discriminator
        return keras.Sequential(
            [
                keras.Input((4, 4, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
                keras.layers.Activation(keras.activations.sigmoid, name="out"),
            ]
        )
    return keras.Model(inputs if num_classes else images, out)


SIGMOID_CASES = [
    (gan, kind)
    for gan in ("dcgan", "cgan", "wgan", "wgan_gp")
    for kind in ("dense", "activation", "sequential")
    # A Sequential model has one input; a cGAN discriminator needs two.
    if not (gan == "cgan" and kind == "sequential")
]


@pytest.mark.parametrize("gan,kind", SIGMOID_CASES)
def test_gan_refuses_a_discriminator_that_ends_in_a_sigmoid(gan, kind):
    classes = 3 if gan == "cgan" else None
    gen, disc = generator(num_classes=classes), critic_ending_in(kind, classes)
    arg = "critic" if gan.startswith("wgan") else "discriminator"
    message = rf"`{arg}`.*sigmoid.*received.*'out'.*[Rr]emove"
    with pytest.raises(ValueError, match=message):
        if gan == "dcgan":
            DCGAN(gen, disc, LATENT)
        elif gan == "cgan":
            ConditionalGAN(gen, disc, LATENT, classes)
        elif gan == "wgan":
            WGAN(gen, disc, LATENT)
        else:
            WGANGP(gen, disc, LATENT)


@pytest.fixture(scope="module")
def dcgan():
    disc = dcgan_discriminator((4, 4, 1), base_filters=4, stages=1)
    gan = DCGAN(generator(), disc, LATENT)
    gan.compile()
    return gan


def images(low, high, n=8):
    return np.random.default_rng(0).uniform(low, high, (n, 4, 4, 1)).astype("float32")


@pytest.mark.parametrize(
    "x,message",
    [
        (images(0, 255), r"`x`.*\[0, 1\].*received values in \[\d.*, 25\d"),
        (images(-1, 1), r"`x`.*\[0, 1\].*received values in \[-0\.9"),
    ],
    ids=["0..255", "-1..1"],
)
def test_dcgan_fit_refuses_images_outside_the_generators_range(dcgan, x, message):
    with pytest.raises(ValueError, match=message):
        dcgan.fit(x, epochs=1, verbose=0)


def test_tanh_generator_expects_minus_one_to_one():
    disc = dcgan_discriminator((4, 4, 1), base_filters=4, stages=1)
    gan = DCGAN(generator("tanh"), disc, LATENT)
    gan.compile()
    with pytest.raises(ValueError, match=r"`x`.*\[-1, 1\].*tanh.*received.*25\d"):
        gan.fit(images(0, 255), epochs=1, verbose=0)
    history = gan.fit(images(-1, 1), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["generator_loss"][0])


@pytest.mark.parametrize(
    "build,message",
    [
        (
            lambda: DCGAN(generator(), "disc", LATENT),
            r"`discriminator` must be a keras.Model; received str",
        ),
        (
            lambda: DCGAN(generator(), dcgan_discriminator((4, 4, 1), stages=1), 3),
            r"`latent_dim`=3 does not match.*4",
        ),
        (
            lambda: DCGAN(generator(), dcgan_discriminator((8, 8, 1)), LATENT),
            r"generator makes images of shape \(4, 4, 1\).*takes \(8, 8, 1\)",
        ),
        (
            lambda: DCGAN(
                generator(),
                dcgan_discriminator((4, 4, 1), stages=1),
                LATENT,
                label_smoothing=0.7,
            ),
            r"label_smoothing.*received label_smoothing=0\.7",
        ),
        (
            lambda: WGAN(
                generator(),
                dcgan_discriminator((4, 4, 1), stages=1),
                LATENT,
                clip_value=-1,
            ),
            r"clip_value.*received clip_value=-1",
        ),
        (
            lambda: WGANGP(
                generator(),
                dcgan_discriminator((4, 4, 1), stages=1, normalization=None),
                LATENT,
                gp_weight=-5.0,
            ),
            r"gp_weight.*received gp_weight=-5\.0",
        ),
        (
            lambda: dcgan_discriminator((4, 4, 1), stages=1, normalization="group"),
            r"normalization.*received normalization='group'",
        ),
        (
            lambda: dcgan_generator(LATENT, image_shape=(6, 6, 1), stages=2),
            r"multiples of 4; received image_shape=\(6, 6, 1\)",
        ),
        (
            lambda: dcgan_generator(0),
            r"latent_dim.*received latent_dim=0",
        ),
    ],
    ids=[
        "not-a-model",
        "latent-mismatch",
        "shape-mismatch",
        "smoothing",
        "clip",
        "gp-weight",
        "normalization",
        "image-shape",
        "latent-zero",
    ],
)
def test_gan_impossible_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_gan_fit_and_generate_check_their_arrays(dcgan):
    with pytest.raises(ValueError, match=r"`x` must be images.*received shape"):
        dcgan.fit(images(0, 1)[:, :2], epochs=1, verbose=0)
    with pytest.raises(
        ValueError, match=r"`x` is empty.*received shape \(0, 4, 4, 1\)"
    ):
        dcgan.fit(images(0, 1)[:0], epochs=1, verbose=0)
    nan = images(0, 1)
    nan[2, 1, 1, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"`x` holds 1 NaN or inf.*index \(2, 1, 1, 0\)"
    ):
        dcgan.fit(nan, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`noise`.*\(n, 4\).*received shape \(2, 3\)"):
        dcgan.generate(2, noise=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`n`.*received n=0"):
        dcgan.generate(0)


def test_conditional_gan_checks_labels():
    disc = dcgan_discriminator((4, 4, 1), base_filters=4, stages=1, num_classes=3)
    gan = ConditionalGAN(generator(num_classes=3), disc, LATENT, 3)
    gan.compile()
    with pytest.raises(ValueError, match=r"`y` labels.*\[0, 3\).*received.*to 3"):
        gan.fit(images(0, 1), np.arange(8) % 4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`y`.*integer.*received dtype float"):
        gan.fit(images(0, 1), np.zeros(8), epochs=1, verbose=0)
