"""Semantic segmentation: U-Net, and the per-pixel metrics and losses it is trained
and scored with (Dice, IoU).
"""

from kerasdl.models.segmentation.metrics import (
    DiceCoefficient,
    DiceCrossEntropyLoss,
    IoUScore,
    dice_score,
    iou_score,
    segmentation_confusion_matrix,
    segmentation_report,
)
from kerasdl.models.segmentation.unet import (
    UNet,
)

__all__ = [
    "DiceCoefficient",
    "DiceCrossEntropyLoss",
    "IoUScore",
    "UNet",
    "dice_score",
    "iou_score",
    "segmentation_confusion_matrix",
    "segmentation_report",
]
