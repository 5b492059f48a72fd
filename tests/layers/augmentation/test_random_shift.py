"""kerasdl.layers.augmentation.shift: `RandomShift`'s home and registered name."""

import keras

from kerasdl.layers.augmentation import RandomShift


def test_random_shift_lives_here_and_keeps_its_name():
    from kerasdl import layers
    from kerasdl.layers.augmentation import shift
    from kerasdl.models.transformers import vit

    assert vit.RandomShift is RandomShift is shift.RandomShift is layers.RandomShift
    assert keras.saving.get_registered_name(RandomShift) == "kerasdl>RandomShift"
