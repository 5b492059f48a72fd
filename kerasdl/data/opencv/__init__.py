"""Classical image preprocessing with OpenCV: read, resize, grayscale, blur, edges,
thresholds, and pipelines of them.

OpenCV (`opencv-python-headless`) is imported on first use, so this module imports
without it and says how to install it when a function needs it. Nothing here needs
Keras: the functions take and return NumPy arrays, and `ImagePipelineDataset`
(`kerasdl.data.image_pipeline_dataset`) feeds their output to `model.fit` on any
backend.

Conventions (every function):

- Shapes: `(height, width)` or `(height, width, channels)` with 1, 3 or 4 channels;
  colour images are **RGB** (or RGBA), not OpenCV's BGR: `read_image` converts.
  Sizes are given as `(height, width)`, like Keras (OpenCV's own order is width
  first).
- Dtypes: `uint8` images hold 0..255; float images (`float32`, `float64`; `float16`
  is computed as `float32`) hold intensities in [0, 1]. Other dtypes raise
  `ValueError` (convert with `image.astype("float32")`). Each function returns the
  dtype it received. Canny edges and Otsu's threshold are 8-bit algorithms: a float
  image is scaled to 0..255 for them, and their thresholds are in 0..255 units for
  every dtype (except a fixed `threshold(value=...)`, given in the image's units).
- Single-channel results (`to_grayscale`, `canny`, `threshold`) are `(height,
  width)`, or `(height, width, 1)` with `keepdims=True`; other functions keep the
  channel axis they received.

Example:

```python
from kerasdl.data import opencv

image = opencv.read_image("photo.jpg")                      # uint8 RGB
small = opencv.resize(image, (64, 64))
edges = opencv.canny(opencv.gaussian_blur(small, 5), 50, 150)
pipeline = opencv.OpenCVPipeline(
    [("resize", {"size": (32, 32)}), "to_grayscale", "to_float"]
)
batch = pipeline.transform([image, image])                  # (2, 32, 32) float32
```
"""

from kerasdl.data.opencv.ops import (
    INTERPOLATIONS,
    STEPS,
    canny,
    gaussian_blur,
    read_image,
    resize,
    threshold,
    to_float,
    to_grayscale,
)
from kerasdl.data.opencv.pipeline import OpenCVPipeline, preprocess

__all__ = [
    "INTERPOLATIONS",
    "STEPS",
    "OpenCVPipeline",
    "canny",
    "gaussian_blur",
    "preprocess",
    "read_image",
    "resize",
    "threshold",
    "to_float",
    "to_grayscale",
]
