"""A callback that draws what the generator makes, epoch by epoch."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np


class GANSampleGrid(keras.callbacks.Callback):
    """Saves a grid of generated images as a PNG at the end of every `every` epochs.

    The noise is drawn once (seeded), so the grids show the same latent points
    evolving. For a conditional GAN each row is one class.

    Args:
        out_dir: Folder of the PNGs (`samples_epoch_001.png`, ...); created.
        n: Images per grid (conditional GAN: rounded up to whole rows of
            `num_classes`).
        every: Save every `every` epochs (and always after the last epoch seen).
        seed: Seed of the fixed noise.

    Example:

    ```python
    gan.fit(x, epochs=50, callbacks=[GANSampleGrid("runs/gan/samples", every=5)])
    ```
    """

    def __init__(self, out_dir, n=64, every=1, seed=0):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` must be an integer >= 1; received n={n!r}.")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be an integer >= 1; received {every!r}.")
        self.out_dir = Path(out_dir)
        self.n = n
        self.every = every
        self.seed = seed
        self.paths: list[Path] = []

    def _images(self):
        gan = self.model
        if getattr(gan, "conditional", False):
            k = gan.num_classes
            per_class = -(-self.n // k)
            labels = np.repeat(np.arange(k), per_class)
            # Row i holds class i: noise is shared across rows.
            noise = np.tile(
                np.random.default_rng(self.seed).standard_normal(
                    (per_class, gan.latent_dim)
                ),
                (k, 1),
            ).astype("float32")
            return gan.generate(len(labels), labels=labels, noise=noise), per_class
        noise = np.random.default_rng(self.seed).standard_normal(
            (self.n, gan.latent_dim)
        )
        return gan.generate(self.n, noise=noise.astype("float32")), None

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        self.save(epoch)

    def save(self, epoch):
        """Draw the grid for `epoch` (0-based) and return its path."""
        from kerasdl.plotting import save_image_grid

        images, ncols = self._images()
        path = self.out_dir / f"samples_epoch_{epoch + 1:03d}.png"
        save_image_grid(
            images,
            path,
            ncols=ncols,
            title=f"{type(self.model).__name__}, epoch {epoch + 1}",
        )
        self.paths.append(path)
        return path
