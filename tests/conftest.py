"""Shared pytest fixtures, each defined in the module named beside it (imported here so pytest finds them)."""

import pytest

from tests.claims_story import claims_story  # noqa: F401  (figure history: claimants, scope, counterclaims)
from tests.history_story import history_story  # noqa: F401  (figure history: the dated story)
from tests.hostile_server import hostile, hostile_session  # noqa: F401  (fetch: the hostile HTTP server)
from tests.pipeline_fixtures import SHARED, prefect_harness, world, write_config  # noqa: F401  (pipeline)
from tests.real_prefect import prefect_server, processes  # noqa: F401  (a standalone Prefect server, child processes)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs Prefect's temporary API (the `prefect_harness` fixture, ~20 s to start once) or a headless
    browser is `slow`: the fast subset (`-m "not slow"`) runs without them; CI runs everything."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "prefect_harness" in names or "chromium" in item.nodeid.lower():
            item.add_marker(pytest.mark.slow)
