"""Shared test setup: where the test media is, and the running system (tests/support/system.py)."""

from pathlib import Path

import pytest

from tests.support.processes import TEST_PREFIX
from transcoder.records import redis_keys

pytest_plugins = ["tests.support.system", "tests.support.clips", "tests.support.s3", "tests.support.brokers"]

DATA = Path(__file__).parent / "data"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True, scope="session")
def one_redis_prefix():
    """Settings made in this process name keys as the processes the suite starts do."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redis_keys, "default_prefix", lambda redis_url: TEST_PREFIX)
        redis_keys.use(TEST_PREFIX)
        yield
