"""Suite-wide settings: headless plots, quiet TensorFlow, the backend in the header."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The CLI keeps JAX compilations on disk for users; tests stay hermetic without it.
os.environ.setdefault("KERASDL_JAX_CACHE", "0")


def _compile_like_the_cli() -> None:
    """JAX compiles here as under `kerasdl` on a CPU: XLA's backend optimisation
    level 1 (`kerasdl.cli.environment.use_fast_xla_compilation`), and one
    compilation cache per test run, in a temporary folder shared by the xdist
    workers (they inherit this process's environment) and removed at the end, so
    that the many tests that build the same small model compile it once.
    Together they cut a JAX pass by about a quarter (README, "Tests")."""
    from kerasdl.cli.environment import use_fast_xla_compilation

    use_fast_xla_compilation()
    if os.environ.get("KERAS_BACKEND") == "jax" and not os.environ.get(
        "JAX_COMPILATION_CACHE_DIR"
    ):
        import tempfile

        os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(
            prefix="kerasdl-tests-jax-cache-"
        )
        os.environ["KERASDL_TESTS_OWN_JAX_CACHE"] = "1"
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")


_compile_like_the_cli()


def pytest_unconfigure(config):
    """The run's JAX cache goes with the run (removed by the process that made it,
    not by an xdist worker)."""
    if hasattr(config, "workerinput"):
        return
    if os.environ.pop("KERASDL_TESTS_OWN_JAX_CACHE", None) == "1":
        import shutil

        shutil.rmtree(os.environ.pop("JAX_COMPILATION_CACHE_DIR"), ignore_errors=True)


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
