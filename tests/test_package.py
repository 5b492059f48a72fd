"""The top-level package: every name it exports resolves, lazily."""

import subprocess
import sys

import kerasdl


def test_every_exported_name_resolves():
    for name in kerasdl.__all__:
        assert getattr(kerasdl, name) is not None, name
    assert {"VAE", "DCGAN", "WGANGP", "DDPM", "FIDDigits"} <= set(kerasdl.__all__)


def test_importing_kerasdl_does_not_import_keras():
    code = "import sys, kerasdl; print('keras' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
