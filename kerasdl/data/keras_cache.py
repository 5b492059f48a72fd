"""Reading what `keras.datasets` caches, without Keras: where the cache is
(`keras_cache_dir`), finding a file in it, the clear `DatasetUnavailableError` that
names the file and the path to put it at, and safe readers of the cached formats
(`.npz`, IDX, pickled CIFAR batches).
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tempfile
import zipfile

import numpy as np

from kerasdl._keras_home import keras_home

SUBSETS = ("train", "test")

_ALLOWED_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        # Python 3 pickles bytes this way under protocol 2; it only builds bytes.
        ("_codecs", "encode"),
    }
)


class DatasetUnavailableError(ValueError):
    """A dataset's files are neither cached nor downloadable.

    The message names each file needed and the full path to put it at.
    """


def keras_cache_dir() -> str:
    """Return the folder Keras caches datasets in.

    `$KERAS_HOME/datasets` when the `KERAS_HOME` environment variable is set, else
    `~/.keras/datasets`; read at call time, so a changed `KERAS_HOME` is honoured.

    Returns:
        The absolute path (it may not exist yet).
    """
    return os.path.join(keras_home(), "datasets")


def _search_dirs() -> list[str]:
    # keras.utils.get_file falls back to /tmp/.keras when the home is not writable.
    # (os.access is also False for a home that does not exist yet.)
    dirs = [keras_cache_dir()]
    if not os.access(keras_home(), os.W_OK):
        tmp = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        dirs.append(os.path.join(tmp, ".keras", "datasets"))
    return dirs


def _find(*relpaths: str) -> str | None:
    """The first cache folder holding every one of `relpaths`, or None."""
    for folder in _search_dirs():
        if all(os.path.exists(os.path.join(folder, rel)) for rel in relpaths):
            return folder
    return None


def _check_subset(subset) -> str:
    if subset not in SUBSETS:
        raise ValueError(f"subset must be 'train' or 'test'; received {subset!r}.")
    return subset


def _unavailable(
    title: str,
    loader: str,
    needed: list[str],
    origin: str,
    cause: BaseException | None = None,
    hint: str = "",
) -> DatasetUnavailableError:
    folder = keras_cache_dir()
    groups: dict[str, list[str]] = {}
    for rel in needed:
        groups.setdefault(os.path.dirname(rel), []).append(os.path.basename(rel))
    places = []
    for sub, names in groups.items():
        target = os.path.join(folder, sub)
        if len(names) == 1:
            places.append(f"{names[0]} at {os.path.join(target, names[0])}")
        else:
            places.append(f"{', '.join(names)} in {os.path.join(target, '')}")
    where = "; ".join(places)
    if cause is None:
        head = f"{title} is not cached and download=False"
        tail = f"Or call {loader}(download=True) on a machine with internet access."
    else:
        head = f"{title} is not cached and could not be downloaded"
        tail = f"Download error: {type(cause).__name__}: {cause}"
    return DatasetUnavailableError(
        f"{head}: put {where} ({hint}source: {origin}; the cache folder is "
        f"$KERAS_HOME/datasets, or ~/.keras/datasets when KERAS_HOME is unset). {tail}"
    )


def _corrupt(title: str, path: str, cause: BaseException) -> ValueError:
    return ValueError(
        f"The cached {title} file {path} could not be read "
        f"({type(cause).__name__}: {cause}); delete it and load again to re-download, "
        "or replace it with a good copy."
    )


def _images(x: np.ndarray) -> np.ndarray:
    """uint8 (n, h, w[, c]) -> float32 (n, h, w, c) in [0, 1]."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    return x.astype(np.float32) / 255.0


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and plain Python values, refuses everything else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: the file may be corrupt or "
            "malicious"
        )


def _load_npz(path: str) -> dict:
    """Read an `.npz`, allowing only NumPy arrays inside pickled object arrays."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buffer = io.BytesIO(archive.read(member))
            try:
                value = np.lib.format.read_array(buffer, allow_pickle=False)
            except ValueError:  # an object array: its payload is a pickle
                buffer.seek(0)
                major, _ = np.lib.format.read_magic(buffer)
                if major == 1:
                    np.lib.format.read_array_header_1_0(buffer)
                else:
                    np.lib.format.read_array_header_2_0(buffer)
                value = _RestrictedUnpickler(buffer).load()
            arrays[member[: -len(".npy")]] = value
    return arrays


def _read_idx(path: str, magic: int, ndim: int) -> np.ndarray:
    """Read a gzipped IDX file (unsigned bytes) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"file is {len(raw)} bytes, shorter than its header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"bad IDX magic number {found} (expected {magic})")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"header says shape {tuple(dims)} but found {data.size} bytes")
    return data.reshape(dims)


def _read_cifar_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = _RestrictedUnpickler(f, encoding="bytes").load()
    batch = {
        k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()
    }
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise ValueError(
            f"expected data (n, 3072) and labels (n,); got {data.shape}, {labels.shape}"
        )
    # Rows are channel-major (1024 red, 1024 green, 1024 blue): to (n, 32, 32, 3).
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
