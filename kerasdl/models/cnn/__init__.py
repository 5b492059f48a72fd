"""Convolutional networks: the small CNN of the main job, and the classic families
from LeNet-5 to EfficientNet.

Each family is one class (a functional Keras model); the published variants are
builders named like `keras.applications` that only pick a configuration:

* `LeNet5`, `AlexNet`, `GoogLeNet`;
* `VGG` -> `VGG11`, `VGG16`, `VGG19`;
* `ResNet` -> `ResNet18`, `ResNet34`, `ResNet50`;
* `EfficientNet` -> `EfficientNetB0` ... `EfficientNetB3`.

All take `input_shape`, `num_classes`, width options, `include_top`, `dropout` and
`small_input="auto"`, which adapts the stem and the downsampling to small images
(8x8 digits, 28x28 MNIST, 32x32 CIFAR); each class's docstring gives its rule.
"""

from kerasdl.models.cnn.alexnet import AlexNet
from kerasdl.models.cnn.efficientnet import (
    EfficientNet,
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    round_filters,
    round_repeats,
)
from kerasdl.models.cnn.googlenet import GoogLeNet
from kerasdl.models.cnn.lenet import LeNet5
from kerasdl.models.cnn.resnet import ResNet, ResNet18, ResNet34, ResNet50
from kerasdl.models.cnn.small_cnn import SmallCNN
from kerasdl.models.cnn.vgg import VGG, VGG11, VGG16, VGG19

__all__ = [
    "SmallCNN",
    "AlexNet",
    "EfficientNet",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "GoogLeNet",
    "LeNet5",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "VGG",
    "VGG11",
    "VGG16",
    "VGG19",
    "round_filters",
    "round_repeats",
]
