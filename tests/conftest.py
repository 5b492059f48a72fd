"""Suite-wide settings: headless plots, quiet TensorFlow, the backend in the header."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The CLI keeps JAX compilations on disk for users; tests stay hermetic without it.
os.environ.setdefault("KERASDL_JAX_CACHE", "0")


def pytest_report_header(config):
    import keras

    return f"kerasdl tests on KERAS_BACKEND={keras.backend.backend()}"
