"""Transfer learning: pretrained Keras Applications backbones, feature extraction, a
classifier head on a frozen backbone, and unfreezing its top blocks.
"""

from kerasdl.models.transfer.backbones import (
    InferenceModeModel,
    application_names,
    backbone_blocks,
    build_transfer_model,
    feature_extractor,
    freeze_backbone,
    get_backbone,
    load_backbone,
    unfreeze_top_blocks,
)

__all__ = [
    "InferenceModeModel",
    "application_names",
    "backbone_blocks",
    "build_transfer_model",
    "feature_extractor",
    "freeze_backbone",
    "get_backbone",
    "load_backbone",
    "unfreeze_top_blocks",
]
