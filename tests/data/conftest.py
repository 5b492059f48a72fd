"""Shared fixtures for the data tests."""

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a network connection fail loudly.

    Loading the embedded sets, or a Keras set from its cache, must not touch the
    network; under this fixture any attempt raises instead of silently working.
    """

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during a test that must be offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras home in a temporary folder; returns its `datasets/` folder."""
    home = tmp_path / "keras_home"
    datasets = home / "datasets"
    datasets.mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return datasets
