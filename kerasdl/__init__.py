"""kerasdl: applied deep learning as reusable, tested Keras 3 components.

Public names are re-exported here explicitly, but loaded on first use: importing
`kerasdl` does not import Keras, so `kerasdl --backend jax ...` (and any script) can
still choose the backend after `import kerasdl`.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "backend",
    "baselines",
    "data",
    "doctor",
    "evaluation",
    "explain",
    "layers",
    "models",
    "plotting",
    "rl",
    "testing",
    "training",
)

# name -> module that defines it
_EXPORTS = {
    "Dataset": "kerasdl.data",
    "load_dataset": "kerasdl.data",
    "list_datasets": "kerasdl.data",
    "MLP": "kerasdl.models",
    "SmallCNN": "kerasdl.models",
    "Perceptron": "kerasdl.models",
    "Autoencoder": "kerasdl.models",
    "VAE": "kerasdl.models",
    "DCGAN": "kerasdl.models",
    "ConditionalGAN": "kerasdl.models",
    "WGAN": "kerasdl.models",
    "WGANGP": "kerasdl.models",
    "DDPM": "kerasdl.models",
    "FIDDigits": "kerasdl.evaluation",
    "DQNAgent": "kerasdl.rl",
    "QLearningAgent": "kerasdl.rl",
    "REINFORCEAgent": "kerasdl.rl",
    "A2CAgent": "kerasdl.rl",
    "TrainingConfig": "kerasdl.training",
    "GPTLanguageModel": "kerasdl.models.transformers",
    "TransformerSeq2Seq": "kerasdl.models.transformers",
    "ViTClassifier": "kerasdl.models.transformers",
    "BertMaskedLM": "kerasdl.models.transformers",
    "BertClassifier": "kerasdl.models.transformers",
    "UNet": "kerasdl.models",
    "CenterNet": "kerasdl.models",
    "MLPHyperModel": "kerasdl.hypermodels",
    "CNNHyperModel": "kerasdl.hypermodels",
    "RecurrentHyperModel": "kerasdl.hypermodels",
    "TransformerHyperModel": "kerasdl.hypermodels",
    "get_hypermodel": "kerasdl.hypermodels",
    "run_search": "kerasdl.hypermodels",
    "train": "kerasdl.training",
    "compare": "kerasdl.baselines",
    "make_classical": "kerasdl.baselines",
    "make_deep_estimator": "kerasdl.baselines",
}

__all__ = ["__version__", *_SUBMODULES, *_EXPORTS]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"kerasdl.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kerasdl' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
