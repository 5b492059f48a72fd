"""Classical image preprocessing with OpenCV, before (or instead of) a network.

Shows, on the two real photos that ship with scikit-learn (a Chinese temple and a
flower, read from their JPEG files with `kerasdl.data.opencv.read_image`, in RGB
order):

- resizing with pixel-area averaging (the right interpolation to shrink);
- grayscale luma, `0.299 R + 0.587 G + 0.114 B`;
- Gaussian blur, which removes fine texture (the pixel variance drops);
- Canny edges, on the raw photo and after the blur (fewer, cleaner edges);
- Otsu's threshold, which picks the gray level that best splits the histogram;
- the same steps as an `OpenCVPipeline`, and `ImagePipelineDataset`, which runs
  them batch by batch for `model.fit` on any backend (here: the batches' shapes).

Writes, under `--out`: `opencv_grid.png` (one row per photo, one column per step)
and `results.json` (the numbers behind it).

Run:

    python examples/opencv_preprocessing.py
    python examples/opencv_preprocessing.py --height 120 --low 50 --high 150
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_sample_images

from kerasdl import plotting
from kerasdl.data import ImagePipelineDataset, opencv

NAME = "opencv_preprocessing"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--height", type=int, default=240, help="resize the photos to this height"
    )
    parser.add_argument("--blur-ksize", type=int, default=7)
    parser.add_argument("--low", type=float, default=100.0, help="Canny low threshold")
    parser.add_argument("--high", type=float, default=200.0, help="Canny high")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--out", default=f"runs/examples/{NAME}")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    paths = load_sample_images().filenames
    rows, panels = [], []
    for path in paths:
        photo = opencv.read_image(path)
        height = args.height
        width = round(photo.shape[1] * height / photo.shape[0])
        start = time.perf_counter()
        small = opencv.resize(photo, (height, width), interpolation="area")
        gray = opencv.to_grayscale(small)
        blurred = opencv.gaussian_blur(gray, args.blur_ksize)
        edges = opencv.canny(gray, args.low, args.high)
        edges_blurred = opencv.canny(blurred, args.low, args.high)
        binary, level = opencv.threshold(blurred, "otsu", return_value=True)
        milliseconds = 1000 * (time.perf_counter() - start)
        panels.append(
            [
                ("photo (RGB)", small),
                ("grayscale", gray),
                (f"Gaussian blur {args.blur_ksize}", blurred),
                ("Canny edges", edges),
                ("Canny after blur", edges_blurred),
                (f"Otsu threshold ({level:.0f})", binary),
            ]
        )
        rows.append(
            {
                "file": Path(path).name,
                "original_shape": list(photo.shape),
                "resized_shape": list(small.shape),
                "gray_variance": round(float(gray.astype(np.float64).var()), 1),
                "blurred_variance": round(float(blurred.astype(np.float64).var()), 1),
                "edge_fraction": round(float((edges > 0).mean()), 4),
                "edge_fraction_after_blur": round(float((edges_blurred > 0).mean()), 4),
                "otsu_level": float(level),
                "bright_fraction": round(float((binary > 0).mean()), 4),
                "milliseconds": round(milliseconds, 2),
            }
        )
        print(
            f"{rows[-1]['file']}: {photo.shape} -> {small.shape}; blur variance "
            f"{rows[-1]['gray_variance']:.0f} -> {rows[-1]['blurred_variance']:.0f}; "
            f"edges {rows[-1]['edge_fraction']:.1%} -> "
            f"{rows[-1]['edge_fraction_after_blur']:.1%} after blur; Otsu level "
            f"{level:.0f}; {milliseconds:.1f} ms"
        )

    fig, axes = plotting.plt.subplots(
        len(panels), len(panels[0]), figsize=(2.6 * len(panels[0]), 2.0 * len(panels))
    )
    axes = np.asarray(axes).reshape(len(panels), len(panels[0]))
    for r, row in enumerate(panels):
        for c, (title, image) in enumerate(row):
            axes[r, c].imshow(image, cmap=None if image.ndim == 3 else "gray")
            axes[r, c].set_title(title, fontsize="small")
            axes[r, c].set_axis_off()
    fig.tight_layout()
    grid = plotting.save_figure(fig, out / "opencv_grid.png")

    # The same preprocessing as a pipeline, batch by batch, ready for model.fit.
    steps = [
        ("resize", {"size": (64, 96)}),
        "to_grayscale",
        ("gaussian_blur", {"ksize": 3}),
        "to_float",
    ]
    dataset = ImagePipelineDataset(
        list(paths), np.arange(len(paths)), steps, batch_size=args.batch_size
    )
    x, y = dataset[0]
    print(
        f"ImagePipelineDataset: {len(dataset)} batch(es); the first holds images "
        f"{x.shape} {x.dtype} in [{x.min():.2f}, {x.max():.2f}] and labels {y.shape}"
    )
    results = {
        "photos": rows,
        "pipeline": repr(dataset.pipeline),
        "pipeline_batch_shape": list(x.shape),
        "pipeline_batches": len(dataset),
        "figure": grid.name,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"Wrote {grid}")
    return results


if __name__ == "__main__":
    main()
