"""Where Keras caches downloads: the one function kerasdl finds that folder with.

Keras has no public accessor for it (`keras.src.backend.config.keras_home` is
private), so its documented rule is applied here: `$KERAS_HOME`, else `~/.keras`.
Imports nothing heavy, so the data loaders can use it without importing Keras.
"""

from __future__ import annotations

import os


def keras_home() -> str:
    """The folder Keras caches downloads in: `$KERAS_HOME`, else `~/.keras`.

    Read at call time, so a changed `KERAS_HOME` is honoured. `keras.utils.get_file`
    writes under `/tmp/.keras` instead when this folder is not writable.

    Returns:
        The absolute path (it may not exist yet).
    """
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.expanduser(home)
