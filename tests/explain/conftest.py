"""Fixtures of the explain tests: the CNN trained once on the region task."""

import pytest
from explain_region_task import train_region_cnn


@pytest.fixture(scope="session")
def region_task():
    """See `explain_region_task.train_region_cnn`."""
    return train_region_cnn()
