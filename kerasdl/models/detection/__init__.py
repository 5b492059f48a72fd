"""Object detection: CenterNet (a heatmap and box-size head on a small backbone), and
the box maths it needs (target encoding, decoding, IoU, non-max suppression,
average precision).
"""

from kerasdl.models.detection.boxes import (
    Detections,
    average_precision,
    box_iou,
    decode_predictions,
    encode_targets,
    gaussian_radius,
    mean_average_precision,
    non_max_suppression,
)
from kerasdl.models.detection.centernet import (
    CenterNet,
    CenterNetLoss,
    centernet_focal_loss,
)

__all__ = [
    "CenterNet",
    "CenterNetLoss",
    "Detections",
    "average_precision",
    "box_iou",
    "centernet_focal_loss",
    "decode_predictions",
    "encode_targets",
    "gaussian_radius",
    "mean_average_precision",
    "non_max_suppression",
]
