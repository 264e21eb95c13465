"""Shared pytest fixtures, each defined in the module named beside it (imported here so pytest finds them)."""

from tests.claims_story import claims_story  # noqa: F401  (figure history: claimants, scope, counterclaims)
from tests.history_story import history_story  # noqa: F401  (figure history: the dated story)
from tests.hostile_server import hostile, hostile_session  # noqa: F401  (fetch: the hostile HTTP server)
from tests.pipeline_fixtures import SHARED, prefect_harness, world, write_config  # noqa: F401  (pipeline)
from tests.real_prefect import prefect_server, processes  # noqa: F401  (a standalone Prefect server, child processes)
