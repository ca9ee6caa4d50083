"""Shared pytest fixtures. Other fixtures join this file as the project grows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mock_model import MockModelServer


@pytest.fixture
def mock_model() -> Iterator[MockModelServer]:
    """A started scripted model server on 127.0.0.1 (see tests/support/mock_model.py)."""
    with MockModelServer() as server:
        yield server
