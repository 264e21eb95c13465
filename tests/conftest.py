"""Shared pytest fixtures. Each section belongs to the module named in its heading; append, don't reorder."""

# --- hostile HTTP server (tests/hostile_server.py; owner: fetch) ------------------------------------
from tests.hostile_server import hostile, hostile_session  # noqa: F401  (fixtures)

# --- pipeline: news world, Prefect harness, config files (tests/pipeline_fixtures.py; owner: lead) --------
from tests.pipeline_fixtures import SHARED, prefect_harness, world, write_config  # noqa: E402, F401

# --- figure history: the dated story through the pipeline (tests/history_story.py; owner: history) ---------
from tests.history_story import history_story  # noqa: F401
