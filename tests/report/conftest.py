"""Fixtures of the report tests: the daemon tests' collision-free dataset names."""

from tests.daemon.conftest import fresh_dataset

__all__ = ["fresh_dataset"]
