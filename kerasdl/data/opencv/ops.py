"""OpenCV image operations, one function each: read, resize, grayscale, Gaussian
blur, Canny edges, threshold, to float; the `STEPS` a pipeline may name.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from kerasdl._checks import check_float

__all__ = [
    "INTERPOLATIONS",
    "STEPS",
    "canny",
    "gaussian_blur",
    "read_image",
    "resize",
    "threshold",
    "to_float",
    "to_grayscale",
]

#: Names accepted by `resize(interpolation=...)`.
INTERPOLATIONS = ("area", "linear", "nearest", "cubic")


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - cv2 is a dependency
        raise ImportError(
            "kerasdl.data.opencv needs OpenCV; install it with "
            "`pip install opencv-python-headless`."
        ) from exc
    return cv2


def _check_image(image, name: str = "image") -> np.ndarray:
    """`image` as a NumPy array of an accepted shape and dtype, else ValueError."""
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (
        array.ndim == 3 and array.shape[-1] not in (1, 3, 4)
    ):
        raise ValueError(
            f"Expected `{name}` of shape (height, width) or (height, width, channels) "
            f"with 1, 3 or 4 channels; received shape {array.shape}."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"`{name}` is empty; received shape {array.shape}.")
    if array.dtype == np.float16:
        array = array.astype("float32")
    if array.dtype not in (np.uint8, np.float32, np.float64):
        raise ValueError(
            f"Expected `{name}` of dtype uint8 (0..255) or float32/float64 ([0, 1]); "
            f"received dtype {array.dtype}. Convert it, e.g. "
            f"{name}.astype('float32')."
        )
    if array.dtype != np.uint8 and not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array


def _restore_channels(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing channel axis of length 1: put it back."""
    if like.ndim == 3 and result.ndim == 2:
        return result[..., None]
    return result


def _single_channel(result: np.ndarray, keepdims: bool) -> np.ndarray:
    if not isinstance(keepdims, bool):
        raise ValueError(f"`keepdims` must be True or False; received {keepdims!r}.")
    return result[..., None] if keepdims else result


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] as uint8 0..255 (values outside are clipped)."""
    if array.dtype == np.uint8:
        return array
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def _binary(mask: np.ndarray, dtype) -> np.ndarray:
    """A boolean mask as 0/255 (uint8) or 0/1 (float)."""
    if dtype == np.uint8:
        return mask.astype(np.uint8) * np.uint8(255)
    return mask.astype(dtype)


def read_image(path, grayscale: bool = False) -> np.ndarray:
    """Read an image file (PNG, JPEG, BMP, TIFF, ...) as an RGB uint8 array.

    Args:
        path: The file.
        grayscale: If True, return `(height, width)` luma (OpenCV's grayscale
            conversion); else `(height, width, 3)` RGB (an alpha channel is
            dropped; 16-bit files are reduced to 8 bits).

    Returns:
        A `uint8` array.

    Raises:
        ValueError: the file does not exist or OpenCV cannot decode it; the
            message names the path.
    """
    cv2 = _cv2()
    if not isinstance(grayscale, bool):
        raise ValueError(f"`grayscale` must be True or False; received {grayscale!r}.")
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`path` must be a file path; received {path!r}.")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No image file at path {path!r}.")
    # imdecode of the bytes, not imread: imread cannot open non-ASCII paths on
    # Windows and fails silently (returns None) for every problem.
    data = np.fromfile(path, dtype=np.uint8)
    flag = cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR
    image = cv2.imdecode(data, flag) if data.size else None
    if image is None:
        raise ValueError(
            f"Could not decode the image file {path!r}: OpenCV does not read this "
            "format, or the file is damaged."
        )
    if grayscale:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _check_size(size) -> tuple[int, int]:
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
            for d in size
        )
    ):
        raise ValueError(
            "`size` must be (height, width), two integers >= 1; "
            f"received size={size!r}."
        )
    return int(size[0]), int(size[1])


def resize(image, size, interpolation: str = "area") -> np.ndarray:
    """Resize an image to `size = (height, width)`.

    Args:
        image: `(h, w)` or `(h, w, c)`, uint8 or float.
        size: `(height, width)` of the result.
        interpolation: `"area"` (pixel-area averaging: the right choice to shrink,
            no aliasing), `"linear"` (bilinear), `"nearest"` (keeps the exact
            values: label masks) or `"cubic"` (bicubic, sharper when enlarging;
            may overshoot the input range slightly).

    Returns:
        The resized image, same dtype and channel axis as `image`.
    """
    cv2 = _cv2()
    array = _check_image(image)
    height, width = _check_size(size)
    flags = {
        "area": cv2.INTER_AREA,
        "linear": cv2.INTER_LINEAR,
        "nearest": cv2.INTER_NEAREST,
        "cubic": cv2.INTER_CUBIC,
    }
    if interpolation not in flags:
        raise ValueError(
            f"`interpolation` must be one of {INTERPOLATIONS}; received "
            f"interpolation={interpolation!r}."
        )
    result = cv2.resize(array, (width, height), interpolation=flags[interpolation])
    return _restore_channels(result, array)


def to_grayscale(image, keepdims: bool = False) -> np.ndarray:
    """Convert an RGB(A) image to grayscale luma, `0.299 R + 0.587 G + 0.114 B`.

    Args:
        image: `(h, w, 3)` RGB or `(h, w, 4)` RGBA; a grayscale `(h, w)` or
            `(h, w, 1)` image is returned as it is (reshaped by `keepdims`).
        keepdims: If True return `(h, w, 1)`, else `(h, w)`.

    Returns:
        The grayscale image, same dtype as `image` (uint8 values rounded).
    """
    cv2 = _cv2()
    array = _check_image(image)
    if array.ndim == 2 or array.shape[-1] == 1:
        return _single_channel(array.reshape(array.shape[:2]), keepdims)
    code = cv2.COLOR_RGB2GRAY if array.shape[-1] == 3 else cv2.COLOR_RGBA2GRAY
    if array.dtype == np.float64:  # OpenCV converts colours in 8, 16 or 32 bits
        gray = cv2.cvtColor(array.astype(np.float32), code).astype(np.float64)
    else:
        gray = cv2.cvtColor(array, code)
    return _single_channel(gray, keepdims)


def _check_ksize(ksize) -> tuple[int, int]:
    sizes = ksize if isinstance(ksize, (tuple, list)) else (ksize, ksize)
    if len(sizes) != 2 or not all(
        isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1 and k % 2
        for k in sizes
    ):
        raise ValueError(
            "`ksize` must be an odd integer >= 1 or a pair (height, width) of them; "
            f"received ksize={ksize!r}."
        )
    return int(sizes[0]), int(sizes[1])


def gaussian_blur(image, ksize=3, sigma: float = 0.0) -> np.ndarray:
    """Smooth an image with a Gaussian kernel.

    Args:
        image: `(h, w)` or `(h, w, c)`, uint8 or float.
        ksize: Kernel size, an odd integer or `(height, width)` of odd integers.
        sigma: Standard deviation in pixels (both axes); 0 derives it from `ksize`
            as OpenCV does (`0.3 * ((ksize - 1) * 0.5 - 1) + 0.8`).

    Returns:
        The blurred image, same dtype and shape. Borders are reflected.
    """
    cv2 = _cv2()
    array = _check_image(image)
    kh, kw = _check_ksize(ksize)
    sigma = check_float("sigma", sigma, low=0.0)
    result = cv2.GaussianBlur(array, (kw, kh), sigmaX=sigma, sigmaY=sigma)
    return _restore_channels(result, array)


def canny(
    image,
    low: float,
    high: float,
    aperture_size: int = 3,
    l2_gradient: bool = False,
    keepdims: bool = False,
) -> np.ndarray:
    """Canny edges: thin, connected lines where the intensity changes sharply.

    Colour images are converted to grayscale first; float images are scaled to
    0..255 (the thresholds are in those units for every dtype).

    Args:
        image: `(h, w)` or `(h, w, c)`, uint8 or float in [0, 1].
        low: Hysteresis low threshold on the gradient magnitude (>= 0): weaker
            pixels are never edges; pixels between `low` and `high` are edges only
            when connected to a strong one.
        high: High threshold (>= `low`): stronger pixels are always edges.
        aperture_size: Sobel kernel size, 3, 5 or 7.
        l2_gradient: Use the exact L2 gradient norm instead of L1.
        keepdims: If True return `(h, w, 1)`, else `(h, w)`.

    Returns:
        A binary edge map: uint8 0/255 for a uint8 image, else 0.0/1.0 in the
        image's float dtype.
    """
    cv2 = _cv2()
    array = _check_image(image)
    low = check_float("low", low, low=0.0)
    high = check_float("high", high, low=0.0)
    if low > high:
        raise ValueError(
            f"`low` must not exceed `high`; received low={low!r}, high={high!r}."
        )
    if not isinstance(aperture_size, int) or aperture_size not in (3, 5, 7):
        raise ValueError(
            "`aperture_size` must be 3, 5 or 7; received "
            f"aperture_size={aperture_size!r}."
        )
    if not isinstance(l2_gradient, bool):
        raise ValueError(
            f"`l2_gradient` must be True or False; received {l2_gradient!r}."
        )
    gray = _to_uint8(to_grayscale(array))
    edges = cv2.Canny(
        gray, low, high, apertureSize=aperture_size, L2gradient=l2_gradient
    )
    return _single_channel(_binary(edges > 0, array.dtype), keepdims)


def threshold(
    image,
    value="otsu",
    inverse: bool = False,
    return_value: bool = False,
    keepdims: bool = False,
):
    """Binarize an image: 1 (or 255) where it is brighter than a threshold.

    Colour images are converted to grayscale first.

    Args:
        image: `(h, w)` or `(h, w, c)`, uint8 or float in [0, 1].
        value: A number in the image's units (0..255 for uint8, [0, 1] for
            float), or `"otsu"` (or None): the threshold that best separates the
            two modes of the histogram (Otsu's method, computed on 8 bits).
        inverse: If True, 1 (or 255) where the image is *not* brighter.
        return_value: If True, also return the threshold used, in the image's
            units.
        keepdims: If True return `(h, w, 1)`, else `(h, w)`.

    Returns:
        The binary image (uint8 0/255 for uint8, 0.0/1.0 in the image's float
        dtype), or `(binary, threshold)` with `return_value=True`. A pixel equal
        to the threshold is not brighter.
    """
    cv2 = _cv2()
    array = _check_image(image)
    for name, flag in (("inverse", inverse), ("return_value", return_value)):
        if not isinstance(flag, bool):
            raise ValueError(f"`{name}` must be True or False; received {flag!r}.")
    gray = to_grayscale(array)
    if value is None or (isinstance(value, str) and value == "otsu"):
        level, _ = cv2.threshold(
            _to_uint8(gray), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU
        )
        level = float(level) if gray.dtype == np.uint8 else float(level) / 255.0
        mask = gray > level  # the image itself, against the level in its units
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        level = check_float("value", value)
        mask = gray > level
    else:
        raise ValueError(
            f'`value` must be a number or "otsu"; received value={value!r}.'
        )
    binary = _single_channel(_binary(mask != inverse, array.dtype), keepdims)
    return (binary, level) if return_value else binary


def to_float(image) -> np.ndarray:
    """A uint8 image as float32 in [0, 1] (divided by 255); float images as float32.

    The usual last step before a network.
    """
    array = _check_image(image)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    return array.astype(np.float32)


#: The named steps `OpenCVPipeline` accepts.
STEPS = {
    "resize": resize,
    "to_grayscale": to_grayscale,
    "gaussian_blur": gaussian_blur,
    "canny": canny,
    "threshold": threshold,
    "to_float": to_float,
}
