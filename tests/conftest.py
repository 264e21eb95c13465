"""Shared pytest fixtures. Each section belongs to the module named in its heading; append, don't reorder."""

from __future__ import annotations

# --- hostile HTTP server (tests/hostile_server.py; owner: fetch) ------------------------------------
from collections.abc import Iterator

import pytest
from hostile_server import HostileServer, loopback_only


@pytest.fixture(scope="session")
def hostile_session() -> Iterator[HostileServer]:
    """One hostile server on 127.0.0.1 for the whole test session (routes persist across tests)."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def hostile(hostile_session: HostileServer) -> Iterator[HostileServer]:
    """The session's hostile server with no routes, counters or recorded requests; connecting
    outside loopback raises during the test."""
    hostile_session.reset()
    with loopback_only():
        yield hostile_session
