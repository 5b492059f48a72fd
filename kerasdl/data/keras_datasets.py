"""The larger `keras.datasets` sets (MNIST, Fashion-MNIST, CIFAR-10, IMDB), cache first.

Each loader first looks for the file(s) Keras itself caches, under
`$KERAS_HOME/datasets` (or `~/.keras/datasets` when `KERAS_HOME` is unset), and parses
them here, in the same format `keras.datasets` reads. Only when they are missing and
`download=True` does it fetch them with `keras.utils.get_file` (same URLs and hashes as
`keras.datasets`, into the same folder). Any failure becomes a
`DatasetUnavailableError` (a `ValueError`) that names the file needed and the full path
to put it at, so a machine without internet can be prepared by copying files.

Layout looked for (Keras 3.15):

- MNIST: `datasets/mnist.npz`
- Fashion-MNIST: `datasets/fashion-mnist/` with `train-images-idx3-ubyte.gz`,
  `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`
- CIFAR-10: `datasets/cifar-10-batches-py-target/cifar-10-batches-py/` (where Keras 3
  extracts `cifar-10-python.tar.gz`), or the older `datasets/cifar-10-batches-py/`
- IMDB: `datasets/imdb.npz`
"""

from __future__ import annotations

import os

import numpy as np

from kerasdl._keras_home import keras_home
from kerasdl.data.dataset import Dataset
from kerasdl.data.keras_cache import (
    DatasetUnavailableError,
    _check_subset,
    _corrupt,
    _find,
    _images,
    _load_npz,
    _read_cifar_batch,
    _read_idx,
    _unavailable,
    keras_cache_dir,
)

__all__ = [
    "DatasetUnavailableError",
    "keras_cache_dir",
    "load_cifar10",
    "load_fashion_mnist",
    "load_imdb",
    "load_mnist",
]


_TF_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Where keras.datasets downloads from, and the hashes it checks (keras 3.15).
# Module-level so that tests can point them at local `file://` copies.
_REMOTE = {
    "mnist": {
        "origin": _TF_BASE + "mnist.npz",
        "file_hash": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    },
    "fashion_mnist": {"base": _TF_BASE},
    "cifar10": {
        "origin": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "file_hash": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    },
    "imdb": {
        "origin": _TF_BASE + "imdb.npz",
        "file_hash": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    },
}

_CIFAR_TARGET = "cifar-10-batches-py-target"  # Keras 3's extraction folder
_CIFAR_DIR = "cifar-10-batches-py"  # the folder inside the tarball
_CIFAR_HINT = (
    "extract cifar-10-python.tar.gz into "
    "$KERAS_HOME/datasets/cifar-10-batches-py-target/; "
)

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]

# IMDB index conventions of keras.datasets.imdb.load_data's defaults.
IMDB_START_CHAR = 1
IMDB_OOV_CHAR = 2
IMDB_INDEX_FROM = 3
_IMDB_SHUFFLE_SEED = 113


# --------------------------------------------------------------------------------------
# Cache location


def _get_file(**kwargs) -> str:
    # The one place that touches the network; imported lazily so that reading a cached
    # file never imports a backend.
    import keras

    # get_file falls back to /tmp/.keras for a home that does not exist; create it so
    # that the file lands where the error messages and the next lookup say it is.
    try:
        os.makedirs(kwargs["cache_dir"], exist_ok=True)
    except OSError:
        pass
    return keras.utils.get_file(**kwargs)


# --------------------------------------------------------------------------------------
# Safe unpickling (CIFAR batches and IMDB's ragged object arrays are pickles)


# --------------------------------------------------------------------------------------
# MNIST


def _read_mnist_npz(path: str, subset: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y = f[f"x_{subset}"], f[f"y_{subset}"]
    except Exception as exc:
        raise _corrupt("MNIST", path, exc) from exc
    if x.ndim != 3 or len(x) != len(y):
        raise _corrupt(
            "MNIST",
            path,
            ValueError(f"expected x (n, 28, 28) and y (n,); got {x.shape}, {y.shape}"),
        )
    return x, y


def _cached_or_downloaded_npz(key: str, label: str, loader: str, download: bool) -> str:
    """Path of `<key>.npz`: from the Keras cache, else downloaded into it."""
    fname = f"{key}.npz"
    remote = _REMOTE[key]
    folder = _find(fname)
    if folder is not None:
        return os.path.join(folder, fname)
    if not download:
        raise _unavailable(label, loader, [fname], remote["origin"])
    try:
        return _get_file(
            fname=fname,
            origin=remote["origin"],
            file_hash=remote["file_hash"],
            cache_dir=keras_home(),
            cache_subdir="datasets",
        )
    except Exception as exc:
        raise _unavailable(label, loader, [fname], remote["origin"], exc) from exc


def load_mnist(subset: str = "train", *, download: bool = True) -> Dataset:
    """Load MNIST handwritten digits from the Keras cache (or download them).

    Args:
        subset: `"train"` (60,000 images) or `"test"` (10,000 images).
        download: When the file is not cached, fetch it with `keras.utils.get_file`
            (`True`) or fail at once (`False`).

    Returns:
        A classification `Dataset`: `x` float32 `(n, 28, 28, 1)` in [0, 1], `y` int64
        0..9, `class_names` `"0"`..`"9"`.

    Raises:
        ValueError: `subset` is not `"train"` or `"test"`, or the cached file is
            unreadable.
        DatasetUnavailableError: `mnist.npz` is not cached and could not be (or was not
            to be) downloaded; the message gives the path to put it at.
    """
    subset = _check_subset(subset)
    path = _cached_or_downloaded_npz("mnist", "MNIST", "load_mnist", download)
    x, y = _read_mnist_npz(path, subset)
    return Dataset(
        x=_images(x),
        y=y.astype(np.int64),
        name="mnist",
        task="classification",
        description=(
            f"MNIST handwritten digits (LeCun, Cortes and Burges), the {subset} split "
            f"via the Keras cache ({path}): {len(x):,} real 28x28 grey-level images of "
            "the digits 0-9 (60,000 train / 10,000 test in all), pixels scaled to "
            "[0, 1]. License CC BY-SA 3.0."
        ),
        class_names=[str(i) for i in range(10)],
        extra={"subset": subset, "path": path},
    )


# --------------------------------------------------------------------------------------
# Fashion-MNIST


def load_fashion_mnist(subset: str = "train", *, download: bool = True) -> Dataset:
    """Load Fashion-MNIST (Zalando article images) from the Keras cache.

    Args:
        subset: `"train"` (60,000 images) or `"test"` (10,000 images).
        download: When the files are not cached, fetch them with
            `keras.utils.get_file` (`True`) or fail at once (`False`).

    Returns:
        A classification `Dataset`: `x` float32 `(n, 28, 28, 1)` in [0, 1], `y` int64
        0..9, `class_names` `"T-shirt/top"`..`"Ankle boot"`.

    Raises:
        ValueError: `subset` is not `"train"` or `"test"`, or a cached file is
            unreadable.
        DatasetUnavailableError: the two `.gz` files of the subset are not cached and
            could not be (or were not to be) downloaded.
    """
    subset = _check_subset(subset)
    prefix = "train" if subset == "train" else "t10k"
    names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
    rel = [os.path.join("fashion-mnist", n) for n in names]
    base = _REMOTE["fashion_mnist"]["base"]
    folder = _find(*rel)
    if folder is not None:
        paths = [os.path.join(folder, r) for r in rel]
    elif not download:
        raise _unavailable("Fashion-MNIST", "load_fashion_mnist", rel, base)
    else:
        try:
            paths = [
                _get_file(
                    fname=n,
                    origin=base + n,
                    cache_dir=keras_home(),
                    cache_subdir=os.path.join("datasets", "fashion-mnist"),
                )
                for n in names
            ]
        except Exception as exc:
            raise _unavailable(
                "Fashion-MNIST", "load_fashion_mnist", rel, base, exc
            ) from exc
    arrays = []
    for path, (magic, ndim) in zip(paths, [(2051, 3), (2049, 1)]):
        try:
            arrays.append(_read_idx(path, magic, ndim))
        except Exception as exc:
            raise _corrupt("Fashion-MNIST", path, exc) from exc
    x, y = arrays
    if len(x) != len(y):
        raise _corrupt(
            "Fashion-MNIST",
            paths[0],
            ValueError(f"{len(x)} images but {len(y)} labels in {paths[1]}"),
        )
    return Dataset(
        x=_images(x),
        y=y.astype(np.int64),
        name="fashion_mnist",
        task="classification",
        description=(
            f"Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando 2017), the {subset} "
            f"split via the Keras cache ({os.path.dirname(paths[0])}): {len(x):,} real "
            "28x28 grey-level photos of clothing articles in 10 classes (60,000 train "
            "/ 10,000 test in all), pixels scaled to [0, 1]. A harder drop-in for "
            "MNIST. "
            "License MIT."
        ),
        class_names=list(FASHION_MNIST_CLASSES),
        extra={"subset": subset, "paths": paths},
    )


# --------------------------------------------------------------------------------------
# CIFAR-10


def load_cifar10(subset: str = "train", *, download: bool = True) -> Dataset:
    """Load CIFAR-10 small colour images from the Keras cache (or download them).

    Args:
        subset: `"train"` (50,000 images in `data_batch_1`..`data_batch_5`) or
            `"test"` (10,000 images in `test_batch`).
        download: When the batches are not cached, fetch and extract
            `cifar-10-python.tar.gz` with `keras.utils.get_file` (`True`) or fail at
            once (`False`).

    Returns:
        A classification `Dataset`: `x` float32 `(n, 32, 32, 3)` in [0, 1]
        (channels last, whatever Keras's `image_data_format`), `y` int64 0..9 (flat,
        not `(n, 1)` as in `keras.datasets`), `class_names` `"airplane"`..`"truck"`.

    Raises:
        ValueError: `subset` is not `"train"` or `"test"`, or a cached batch is
            unreadable.
        DatasetUnavailableError: the batches are not cached and could not be (or were
            not to be) downloaded.
    """
    subset = _check_subset(subset)
    if subset == "train":
        files = [f"data_batch_{i}" for i in range(1, 6)]
    else:
        files = ["test_batch"]
    origin = _REMOTE["cifar10"]["origin"]
    layouts = [os.path.join(_CIFAR_TARGET, _CIFAR_DIR), _CIFAR_DIR]  # Keras 3, older
    batch_dir = None
    for layout in layouts:
        folder = _find(*(os.path.join(layout, f) for f in files))
        if folder is not None:
            batch_dir = os.path.join(folder, layout)
            break
    needed = [os.path.join(layouts[0], f) for f in files]
    if batch_dir is None and not download:
        raise _unavailable("CIFAR-10", "load_cifar10", needed, origin, hint=_CIFAR_HINT)
    if batch_dir is None:
        try:
            extracted = _get_file(
                fname=_CIFAR_TARGET,
                origin=origin,
                extract=True,
                file_hash=_REMOTE["cifar10"]["file_hash"],
                cache_dir=keras_home(),
                cache_subdir="datasets",
            )
            batch_dir = os.path.join(extracted, _CIFAR_DIR)
            missing = [
                f for f in files if not os.path.exists(os.path.join(batch_dir, f))
            ]
            if missing:
                raise FileNotFoundError(f"{missing} not found in {batch_dir}")
        except Exception as exc:
            raise _unavailable(
                "CIFAR-10", "load_cifar10", needed, origin, exc, hint=_CIFAR_HINT
            ) from exc
    xs, ys = [], []
    for name in files:
        path = os.path.join(batch_dir, name)
        try:
            x, y = _read_cifar_batch(path)
        except Exception as exc:
            raise _corrupt("CIFAR-10", path, exc) from exc
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return Dataset(
        x=_images(x),
        y=y,
        name="cifar10",
        task="classification",
        description=(
            f"CIFAR-10 (Krizhevsky 2009), the {subset} split via the Keras cache "
            f"({batch_dir}): {len(x):,} real 32x32 colour photos in 10 classes "
            "(airplane ... truck; 50,000 train / 10,000 test in all), pixels scaled to "
            "[0, 1]. A small fraction of labels is known to be wrong."
        ),
        class_names=list(CIFAR10_CLASSES),
        extra={"subset": subset, "path": batch_dir},
    )


# --------------------------------------------------------------------------------------
# IMDB


def load_imdb(
    subset: str = "train", num_words: int | None = None, *, download: bool = True
) -> Dataset:
    """Load the IMDB movie review sentiment set (word indices) from the Keras cache.

    Reviews are encoded exactly as `keras.datasets.imdb.load_data` does by default:
    shuffled with seed 113, each review starts with 1 (start), words are their
    frequency rank plus 3 (so 4 is the most frequent word), 0 is left for padding, and
    with `num_words` every index `>= num_words` becomes 2 (out of vocabulary).
    One difference: with `num_words=None` every word is kept (Keras also turns the
    single largest index into 2).

    Args:
        subset: `"train"` or `"test"` (25,000 reviews each).
        num_words: Keep only indices below this (the `num_words - 4` most frequent
            words); `None` keeps all.
        download: When `imdb.npz` is not cached, fetch it with `keras.utils.get_file`
            (`True`) or fail at once (`False`).

    Returns:
        A classification `Dataset`: `x` a `(n,)` object array of `list[int]`, `y`
        int64 (0 negative, 1 positive), `class_names` `["negative", "positive"]`.

    Raises:
        ValueError: bad `subset` or `num_words`, or the cached file is unreadable.
        DatasetUnavailableError: `imdb.npz` is not cached and could not be (or was not
            to be) downloaded.
    """
    subset = _check_subset(subset)
    if num_words is not None and (
        isinstance(num_words, bool)
        or not isinstance(num_words, (int, np.integer))
        or num_words < 1
    ):
        raise ValueError(
            f"num_words must be a positive integer or None; received {num_words!r}."
        )
    path = _cached_or_downloaded_npz("imdb", "IMDB", "load_imdb", download)
    try:
        arrays = _load_npz(path)
        x_train, y_train = arrays["x_train"], arrays["y_train"]
        x_test, y_test = arrays["x_test"], arrays["y_test"]
    except Exception as exc:
        raise _corrupt("IMDB", path, exc) from exc
    # Same shuffles as keras.datasets.imdb: one RandomState, train first, then test.
    rng = np.random.RandomState(_IMDB_SHUFFLE_SEED)
    order_train = np.arange(len(x_train))
    rng.shuffle(order_train)
    order_test = np.arange(len(x_test))
    rng.shuffle(order_test)
    if subset == "train":
        seqs, labels = x_train[order_train], y_train[order_train]
    else:
        seqs, labels = x_test[order_test], y_test[order_test]
    limit = np.inf if num_words is None else int(num_words)
    encoded = []
    for seq in seqs:
        ids = [IMDB_START_CHAR] + [int(w) + IMDB_INDEX_FROM for w in seq]
        encoded.append([w if w < limit else IMDB_OOV_CHAR for w in ids])
    x = np.empty(len(encoded), dtype=object)
    x[:] = encoded
    return Dataset(
        x=x,
        y=np.asarray(labels).astype(np.int64),
        name="imdb",
        task="classification",
        description=(
            f"IMDB movie reviews (Maas et al. 2011), the {subset} split via the Keras "
            f"cache ({path}): {len(x):,} real reviews (25,000 train / 25,000 test in "
            "all, half positive), each a list of word indices by frequency rank as "
            "keras.datasets.imdb encodes them (1 = start, 2 = out of vocabulary, words "
            "from 4), labelled negative (0) or positive (1)."
            + (
                ""
                if num_words is None
                else f" Vocabulary cut at num_words={num_words}."
            )
        ),
        class_names=["negative", "positive"],
        extra={
            "subset": subset,
            "path": path,
            "num_words": num_words,
            "start_char": IMDB_START_CHAR,
            "oov_char": IMDB_OOV_CHAR,
            "index_from": IMDB_INDEX_FROM,
        },
    )
