"""Fixtures of the daemon's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def fresh_dataset(request: pytest.FixtureRequest, fo: Any) -> Iterator[str]:
    """A dataset name no other test run uses at the same time (they may share one database)."""
    name = f"test-{request.node.name[:60]}-{uuid.uuid4().hex[:8]}"
    yield name
    if fo.dataset_exists(name):
        fo.delete_dataset(name)
