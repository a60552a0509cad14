"""Shared test setup: where the test media is, and the running system (tests/system.py)."""

from pathlib import Path

import pytest

pytest_plugins = ["tests.system", "tests.clips", "tests.s3"]

DATA = Path(__file__).parent / "data"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
