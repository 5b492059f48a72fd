"""Fixtures of the doctor's data-check tests: embedded datasets and a findings map."""

import pytest
from sklearn.model_selection import train_test_split

from kerasdl.data import load_breast_cancer, load_wine
from kerasdl.doctor import DATA_CHECKS, SEVERITIES


def _by_check(findings):
    """{check: Finding}; at most one finding per check."""
    checks = [f.check for f in findings]
    assert len(checks) == len(set(checks)), checks
    assert set(checks) <= set(DATA_CHECKS)
    assert all(f.severity in SEVERITIES and f.message and f.fix for f in findings)
    return {f.check: f for f in findings}


def _split(ds, seed=0):
    return train_test_split(ds.x, ds.y, test_size=0.2, random_state=seed, stratify=ds.y)


@pytest.fixture
def by_check():
    """`by_check(findings)`: {check: Finding}, asserting one finding per check."""
    return _by_check


@pytest.fixture
def split():
    """`split(dataset, seed=0)`: a stratified 80/20 split of `(x, y)`."""
    return _split


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer()


@pytest.fixture(scope="module")
def wine():
    return load_wine()
