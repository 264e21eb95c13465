"""Pipeline fixtures: a news world on 127.0.0.1, config files, and Prefect's test harness (once per session)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect reads these when it is first imported: a private home, no telemetry, a generous start-up time.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="monitor-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")

from tests.world import World

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness: a temporary API for the whole session (it costs ~15 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    w = World()
    yield w
    w.close()


def write_config(
    directory: Path, feeds: list[str], *, topics: dict[str, str] | None = None, extra: str = "", workers: int = 1
) -> Path:
    """A monitor.toml for a test world: local addresses allowed, one extraction worker unless asked."""
    topics = (
        topics
        if topics is not None
        else {
            "North Korean troops in Russia": (
                '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)'
            )
        }
    )
    lines = [
        'database = "data/monitor.duckdb"',
        "",
        "[fetch]",
        'allow_networks = ["127.0.0.0/8"]',
        f"workers = {workers}",
        "",
    ]
    for url in feeds:
        lines += ["[[feeds]]", f'url = "{url}"', ""]
    for name, query in topics.items():
        lines += ["[[topics]]", f'name = "{name}"', f"query = '{query}'", ""]
    path = directory / "monitor.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path
