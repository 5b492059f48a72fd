"""TensorBoard summaries written with `tf.summary`, on every Keras backend.

TensorFlow is a kerasdl dependency on every backend, so this file serves JAX runs too.
It is imported lazily by `kerasdl.backend.write_scalars` / `write_histograms`, so a
JAX process that writes no summaries never pays TensorFlow's import time.
"""

from __future__ import annotations

import os
import re

import keras
import numpy as np
import tensorflow as tf

if keras.backend.backend() != "tensorflow":
    # Writing event files needs no accelerator: keep TensorFlow off the GPU that the
    # real backend (JAX) is using. Fails harmlessly if TensorFlow already started.
    try:
        tf.config.set_visible_devices([], "GPU")
    except (RuntimeError, ValueError):  # pragma: no cover - depends on the machine
        pass

_WRITERS: dict[str, tf.summary.SummaryWriter] = {}
_BAD_TAG_CHARS = re.compile(r"[^A-Za-z0-9_./-]")


def _writer(log_dir) -> tf.summary.SummaryWriter:
    key = os.path.abspath(os.fspath(log_dir))
    writer = _WRITERS.get(key)
    if writer is None:
        writer = tf.summary.create_file_writer(key)
        _WRITERS[key] = writer
    return writer


def _tag(name: str) -> str:
    return _BAD_TAG_CHARS.sub("_", str(name))


def write_scalars(log_dir, step: int, values: dict) -> None:
    writer = _writer(log_dir)
    with writer.as_default(step=int(step)):
        for name, value in values.items():
            value = float(value)
            if np.isfinite(value):
                tf.summary.scalar(_tag(name), value)
    writer.flush()


def write_histograms(log_dir, step: int, values: dict, buckets: int) -> None:
    writer = _writer(log_dir)
    with writer.as_default(step=int(step)):
        for name, array in values.items():
            array = np.asarray(array, dtype="float64").ravel()
            array = array[np.isfinite(array)]
            if array.size:
                tf.summary.histogram(_tag(name), array, buckets=buckets)
    writer.flush()


def close(log_dir) -> None:
    writer = _WRITERS.pop(os.path.abspath(os.fspath(log_dir)), None)
    if writer is not None:
        writer.close()
