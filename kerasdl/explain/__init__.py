"""Explaining image classifiers: Grad-CAM, gradient saliency, heatmap overlays.

Every function works on the TensorFlow and JAX backends: the gradients are taken
through `kerasdl.backend` (Grad-CAM's gradient with respect to an inner layer by
re-running the model's graph with a probe on that layer; see `gradcam`).

Example:

```python
from kerasdl import explain

heatmap = explain.grad_cam(model, image)            # (h, w) in [0, 1]
smooth = explain.saliency(model, image, smooth_samples=16, seed=0)
explain.save_explanation(image, heatmap, "runs/explain/digit.png")
```

Models that take flat rows and reshape them to images (those `kerasdl train` and
`kerasdl compare` save) are explained through `image_input_model`, an image-input
view with the same layers; the functions above do that themselves.
"""

from __future__ import annotations

from kerasdl.explain.gradcam import (
    LayerGradients,
    activations_and_gradients,
    conv_layer_names,
    default_target_layer,
    grad_cam,
)
from kerasdl.explain.image_input import flat_image_reshape, image_input_model
from kerasdl.explain.plots import overlay_heatmap, save_explanation
from kerasdl.explain.saliency import saliency

__all__ = [
    "LayerGradients",
    "activations_and_gradients",
    "conv_layer_names",
    "default_target_layer",
    "flat_image_reshape",
    "grad_cam",
    "image_input_model",
    "overlay_heatmap",
    "saliency",
    "save_explanation",
]
