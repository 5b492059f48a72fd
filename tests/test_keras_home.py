"""`kerasdl._keras_home.keras_home`: the one place the Keras cache folder is found."""

import os

from kerasdl._keras_home import keras_home


def test_keras_home_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert keras_home() == str(tmp_path / "kh")
    monkeypatch.delenv("KERAS_HOME")
    assert keras_home() == os.path.expanduser(os.path.join("~", ".keras"))


def test_keras_home_agrees_with_keras_itself():
    """Keras's own (private) accessor, read at its import: the same folder, unless
    the home is not writable (then Keras and its get_file use /tmp/.keras)."""
    from keras.src.backend.config import keras_home as keras_own

    ours, theirs = keras_home(), os.path.expanduser(keras_own())
    if os.access(os.path.expanduser("~"), os.W_OK) or "KERAS_HOME" in os.environ:
        assert ours == theirs
    else:  # pragma: no cover - a read-only home directory
        assert theirs.endswith(os.path.join("tmp", ".keras"))
