from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


def pytest_configure(config: pytest.Config) -> None:
    """`slow` is the policy's marker; registered here until the pytest plugin registers it."""
    config.addinivalue_line("markers", "slow: tests known to be slow (30 s)")
