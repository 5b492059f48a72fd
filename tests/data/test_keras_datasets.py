"""The keras.datasets loaders, run against tiny fake files in a temporary KERAS_HOME.

The fake files have the exact on-disk format Keras caches (npz, gzipped IDX, pickled
CIFAR batches), so these tests exercise the real parsing code without a download.
"""

import gzip
import io
import os
import pickle
import re
import tarfile
import zipfile

import numpy as np
import pytest

from kerasdl import data
from kerasdl.data import DatasetUnavailableError, keras_datasets

# --------------------------------------------------------------------------------------
# Fake file writers (same formats as the real cached files)


def _write_mnist(path, n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    arrays["x_train"][0, 0, 0], arrays["x_train"][0, 0, 1] = 0, 255
    np.savez(path, **arrays)
    return arrays


def _idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def _write_fashion(folder, prefix, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(_idx_bytes(x, 2051))
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(_idx_bytes(y, 2049))
    return x, y


def _cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    # Like the real (Python 2) batches: bytes keys, a uint8 (n, 3072) array, a list.
    return {
        b"batch_label": b"fake batch",
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"labels": rng.integers(0, 10, n).tolist(),
        b"filenames": [b"img.png"] * n,
    }


def _write_cifar(folder, n_per_batch=2, protocol=2):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        batches[name] = _cifar_batch(n_per_batch, seed)
        with open(folder / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=protocol)
    return batches


def _write_imdb(path):
    # Raw word ranks (1 = most frequent), ragged, stored as object arrays like Keras's.
    def ragged(seqs):
        out = np.empty(len(seqs), dtype=object)
        out[:] = [list(s) for s in seqs]
        return out

    x_train = ragged([[1, 2, 3], [5], [7, 1], [2, 2, 2, 2], [9, 8]])
    x_test = ragged([[4, 4], [1], [6, 5, 4]])
    y_train = np.array([0, 1, 0, 1, 1])
    y_test = np.array([1, 0, 0])
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------------------
# MNIST


@pytest.mark.usefixtures("no_network")
def test_mnist_reads_the_cached_npz(keras_home):
    raw = _write_mnist(keras_home / "mnist.npz")
    for subset, n in [("train", 6), ("test", 4)]:
        ds = data.load_mnist(subset, download=False)
        assert ds.x.shape == (n, 28, 28, 1) and ds.x.dtype == np.float32
        assert ds.y.dtype == np.int64
        np.testing.assert_allclose(ds.x[..., 0], raw[f"x_{subset}"] / 255.0, rtol=1e-6)
        np.testing.assert_array_equal(ds.y, raw[f"y_{subset}"])
        assert ds.class_names == [str(i) for i in range(10)]
        assert ds.extra["subset"] == subset
    train = data.load_mnist()
    assert train.x.min() == 0.0 and train.x.max() == 1.0


def test_mnist_missing_with_download_false_names_file_and_path(keras_home):
    expected = os.path.join(str(keras_home), "mnist.npz")
    with pytest.raises(DatasetUnavailableError, match=re.escape(expected)) as info:
        data.load_mnist(download=False)
    assert isinstance(info.value, ValueError)
    assert "download=False" in str(info.value)


def test_download_failure_becomes_a_clear_error(keras_home, monkeypatch):
    def fail(**kwargs):
        raise Exception("URL fetch failure on https://...: None -- no network")

    monkeypatch.setattr(keras_datasets, "_get_file", fail)
    expected = os.path.join(str(keras_home), "mnist.npz")
    with pytest.raises(ValueError, match="could not be downloaded") as info:
        data.load_mnist()
    message = str(info.value)
    assert expected in message and "no network" in message
    with pytest.raises(DatasetUnavailableError, match=re.escape("imdb.npz")):
        data.load_imdb()
    with pytest.raises(DatasetUnavailableError, match="train-images-idx3-ubyte.gz"):
        data.load_fashion_mnist()
    with pytest.raises(DatasetUnavailableError, match="data_batch_1"):
        data.load_cifar10()


def test_download_goes_to_the_keras_home_and_is_parsed(keras_home, monkeypatch):
    calls = []

    def fake_get_file(**kwargs):
        calls.append(kwargs)
        target = os.path.join(kwargs["cache_dir"], kwargs["cache_subdir"], "mnist.npz")
        _write_mnist(target)
        return target

    monkeypatch.setattr(keras_datasets, "_get_file", fake_get_file)
    ds = data.load_mnist("test")
    assert ds.x.shape == (4, 28, 28, 1)
    assert calls[0]["cache_dir"] == str(keras_home.parent)
    assert calls[0]["origin"].endswith("/mnist.npz")
    assert len(calls[0]["file_hash"]) == 64
    # The second load finds the cache and does not download again.
    data.load_mnist("train")
    assert len(calls) == 1


def test_real_keras_get_file_from_a_local_url(tmp_path, monkeypatch):
    """End to end through keras.utils.get_file, served from a file:// URL, into a
    KERAS_HOME that does not exist yet (Keras alone would fall back to /tmp/.keras)."""
    home = tmp_path / "fresh_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    source = tmp_path / "served" / "mnist.npz"
    source.parent.mkdir()
    raw = _write_mnist(source, n_train=3, n_test=2)
    monkeypatch.setitem(
        keras_datasets._REMOTE, "mnist", {"origin": source.as_uri(), "file_hash": None}
    )
    ds = data.load_mnist("train")
    assert (home / "datasets" / "mnist.npz").exists()
    assert ds.extra["path"] == str(home / "datasets" / "mnist.npz")
    np.testing.assert_array_equal(ds.y, raw["y_train"])
    assert len(data.load_mnist("test", download=False)) == 2


def test_corrupt_cached_file_says_which(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"mnist\.npz could not be read"):
        data.load_mnist(download=False)


@pytest.mark.parametrize(
    "loader",
    [data.load_mnist, data.load_fashion_mnist, data.load_cifar10, data.load_imdb],
)
def test_bad_subset(loader, keras_home):
    with pytest.raises(ValueError, match=r"subset must be 'train' or 'test'.*'val'"):
        loader("val", download=False)


# --------------------------------------------------------------------------------------
# Fashion-MNIST


@pytest.mark.usefixtures("no_network")
def test_fashion_mnist_reads_the_cached_idx_files(keras_home):
    folder = keras_home / "fashion-mnist"
    x_train, y_train = _write_fashion(folder, "train", 5, seed=1)
    x_test, y_test = _write_fashion(folder, "t10k", 3, seed=2)
    train = data.load_fashion_mnist("train", download=False)
    test = data.load_fashion_mnist("test", download=False)
    assert train.x.shape == (5, 28, 28, 1) and test.x.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(train.x[..., 0], x_train / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(test.y, y_test)
    assert train.y.dtype == np.int64
    assert (
        train.class_names[0] == "T-shirt/top" and train.class_names[9] == "Ankle boot"
    )


def test_fashion_mnist_needs_only_the_requested_subset(keras_home):
    _write_fashion(keras_home / "fashion-mnist", "t10k", 2)
    assert len(data.load_fashion_mnist("test", download=False)) == 2
    with pytest.raises(DatasetUnavailableError, match="train-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist("train", download=False)


def test_fashion_mnist_bad_magic_number(keras_home):
    folder = keras_home / "fashion-mnist"
    _write_fashion(folder, "train", 2)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(_idx_bytes(np.zeros((2, 28, 28)), 1234))
    with pytest.raises(ValueError, match="magic number 1234"):
        data.load_fashion_mnist(download=False)


# --------------------------------------------------------------------------------------
# CIFAR-10


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    "layout",
    [
        os.path.join("cifar-10-batches-py-target", "cifar-10-batches-py"),  # Keras 3
        "cifar-10-batches-py",  # older Keras
    ],
)
def test_cifar10_reads_the_cached_batches(keras_home, layout):
    batches = _write_cifar(keras_home / layout, n_per_batch=2)
    train = data.load_cifar10("train", download=False)
    test = data.load_cifar10("test", download=False)
    assert train.x.shape == (10, 32, 32, 3) and test.x.shape == (2, 32, 32, 3)
    assert train.x.dtype == np.float32 and train.y.dtype == np.int64
    assert train.y.shape == (10,)
    # Channel-major rows: pixel (row, col) of channel c is data[c*1024 + row*32 + col].
    raw = batches["data_batch_1"][b"data"][1]
    for row, col, c in [(0, 0, 0), (3, 7, 1), (31, 30, 2)]:
        expected = raw[c * 1024 + row * 32 + col] / 255.0
        assert train.x[1, row, col, c] == pytest.approx(expected)
    expected_y = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    assert train.y.tolist() == expected_y
    assert test.y.tolist() == batches["test_batch"][b"labels"]
    assert train.class_names[0] == "airplane" and train.class_names[9] == "truck"


def test_cifar10_refuses_a_malicious_pickle(keras_home):
    folder = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    _write_cifar(folder)
    with open(folder / "test_batch", "wb") as f:
        # A pickle that would call os.getcwd() when loaded.
        f.write(b"cos\ngetcwd\n(tR.")
    with pytest.raises(ValueError, match="refusing to unpickle os.getcwd"):
        data.load_cifar10("test", download=False)


def test_cifar10_through_keras_get_file_extraction(keras_home, tmp_path, monkeypatch):
    """The tarball, served from a file:// URL, lands where the loader looks for it."""
    staging = tmp_path / "staging" / "cifar-10-batches-py"
    batches = _write_cifar(staging, n_per_batch=1, protocol=4)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staging, arcname="cifar-10-batches-py")
    monkeypatch.setitem(
        keras_datasets._REMOTE,
        "cifar10",
        {"origin": archive.as_uri(), "file_hash": None},
    )
    test = data.load_cifar10("test")
    assert test.y.tolist() == batches["test_batch"][b"labels"]
    # Now cached in the Keras 3 layout, so download=False finds it.
    assert len(data.load_cifar10("train", download=False)) == 5


# --------------------------------------------------------------------------------------
# IMDB


def _keras_order(n_train, n_test):
    rng = np.random.RandomState(113)
    train, test = np.arange(n_train), np.arange(n_test)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


@pytest.mark.usefixtures("no_network")
def test_imdb_encodes_like_keras(keras_home):
    x_train, y_train, x_test, y_test = _write_imdb(keras_home / "imdb.npz")
    order_train, order_test = _keras_order(len(x_train), len(x_test))
    ds = data.load_imdb("train", download=False)
    assert ds.x.dtype == object and ds.x.shape == (5,)
    assert ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.y, y_train[order_train])
    for got, i in zip(ds.x, order_train):
        assert got == [1] + [w + 3 for w in x_train[i]]
    test = data.load_imdb("test", download=False)
    np.testing.assert_array_equal(test.y, y_test[order_test])
    assert test.x[0] == [1] + [w + 3 for w in x_test[order_test[0]]]
    assert ds.class_names == ["negative", "positive"]


def test_imdb_num_words_maps_rare_words_to_oov(keras_home):
    _write_imdb(keras_home / "imdb.npz")
    ds = data.load_imdb("train", num_words=6, download=False)
    flat = [w for seq in ds.x for w in seq]
    assert max(flat) < 6
    assert 2 in flat  # word ranks >= 3 became the OOV index
    full = data.load_imdb("train", download=False)
    assert [len(s) for s in ds.x] == [len(s) for s in full.x]
    assert max(w for seq in full.x for w in seq) == 9 + 3


@pytest.mark.parametrize("num_words", [0, -5, 2.5, "10"])
def test_imdb_bad_num_words(num_words, keras_home):
    with pytest.raises(ValueError, match="num_words must be a positive integer"):
        data.load_imdb(num_words=num_words, download=False)


def test_imdb_refuses_pickled_code(keras_home):
    # An object-array .npy whose pickle payload would call os.getcwd() when loaded.
    member = io.BytesIO()
    header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
    np.lib.format.write_array_header_1_0(member, header)
    member.write(b"cos\ngetcwd\n(tR.")
    with zipfile.ZipFile(keras_home / "imdb.npz", "w") as z:
        for key in ["x_train", "y_train", "x_test", "y_test"]:
            z.writestr(f"{key}.npy", member.getvalue())
    with pytest.raises(ValueError, match="refusing to unpickle os.getcwd"):
        data.load_imdb(download=False)


def test_keras_cache_dir_follows_keras_home(keras_home, monkeypatch):
    assert data.keras_cache_dir() == str(keras_home)
    monkeypatch.delenv("KERAS_HOME")
    expected = os.path.join(os.path.expanduser("~"), ".keras", "datasets")
    assert data.keras_cache_dir() == expected
