"""The top-level package: every name it exports resolves, lazily."""

import subprocess
import sys

import kerasdl


def test_every_exported_name_resolves():
    for name in kerasdl.__all__:
        assert getattr(kerasdl, name) is not None, name
    assert {"VAE", "DCGAN", "WGANGP", "DDPM", "FIDDigits"} <= set(kerasdl.__all__)
    assert {"DQNAgent", "QLearningAgent", "REINFORCEAgent", "A2CAgent"} <= set(
        kerasdl.__all__
    )


def test_rl_names_resolve_and_tabular_rl_needs_no_keras():
    import kerasdl.rl

    for name in kerasdl.rl.__all__:
        assert getattr(kerasdl.rl, name) is not None, name
    code = (
        "import sys; from kerasdl.rl import QLearningAgent; "
        "QLearningAgent('FrozenLake-v1').learn(total_episodes=10, progress=False); "
        "print('keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_importing_kerasdl_does_not_import_keras():
    code = "import sys, kerasdl; print('keras' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
