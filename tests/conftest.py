"""Suite-wide settings: headless plots, quiet TensorFlow, the backend in the header."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The CLI keeps JAX compilations on disk for users; tests stay hermetic without it.
os.environ.setdefault("KERASDL_JAX_CACHE", "0")


def pytest_report_header(config):
    import keras

    return f"kerasdl tests on KERAS_BACKEND={keras.backend.backend()}"


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.torch_skip("why")`: skipped on KERAS_BACKEND=torch, with the
    reason in the report (a reason is required)."""
    import keras
    import pytest

    on_torch = keras.backend.backend() == "torch"
    for item in items:
        marker = item.get_closest_marker("torch_skip")
        if marker is None:
            continue
        if not marker.args or not str(marker.args[0]).strip():
            raise pytest.UsageError(f"{item.nodeid}: torch_skip needs a reason")
        if on_torch:
            item.add_marker(pytest.mark.skip(reason=f"torch: {marker.args[0]}"))
