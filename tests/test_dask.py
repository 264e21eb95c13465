"""Scaling out: fetching and extraction on a local Dask cluster, against a local Prefect server.

The server is the session's test harness: a real API server process on 127.0.0.1 (PREFECT_API_URL points
at it), which the Dask workers report to; `monitor serve` and `monitor run` start `prefect server start`
for the same purpose (tests/test_serve.py covers that server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows import poll
from monitor import config, query
from monitor.errors import ConfigError
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World

# Everything the cycle decides, without what differs by run: timestamps, run ids.
TABLES = {
    "articles": "SELECT * EXCLUDE (fetched_at, first_seen_at, run_id) FROM articles ORDER BY article_id",
    "article_links": "SELECT * EXCLUDE (first_seen_at, run_id) FROM article_links ORDER BY article_id, feed_url",
    "topic_matches": "SELECT * EXCLUDE (matched_at) FROM topic_matches ORDER BY article_id, topic",
    "figure_mentions": "SELECT * EXCLUDE (found_at) FROM figure_mentions ORDER BY article_id, seq",
    "figures": "SELECT topic, category, low, high, qualifier, claimant, quote, article_url FROM figures "
    "ORDER BY article_url, start_offset, topic",
}


def snapshot(config_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    database = config.load(config_path).database
    return {name: query.run_sql(database, sql)[1] for name, sql in TABLES.items()}


def task_run_names(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return sorted(r.name.rsplit("-", 1)[0] for r in runs if r.state_name == "Completed")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_cycle_on_dask_stores_what_the_default_runner_stores(world: World, tmp_path: Path) -> None:
    from prefect.settings import get_current_settings

    assert str(get_current_settings().api.url).startswith("http://127.0.0.1:")  # a server the workers reach
    prefix = f"/{tmp_path.name}"
    feeds = [
        world.publish(f"{prefix}/world.rss", [stories.DISPATCH, stories.FLOOD]),
        world.publish(f"{prefix}/korea.atom", [stories.KURSK, stories.CASUALTIES, stories.DISPATCH], atom=True),
    ]
    (tmp_path / "default").mkdir()
    (tmp_path / "dask").mkdir()
    default = write_config(tmp_path / "default", feeds)
    on_dask = write_config(tmp_path / "dask", feeds, extra='[scale]\ndask_address = "local"\ndask_workers = 2\n')

    expected = poll.run_state(str(default)).result()
    state = poll.run_state(str(on_dask))
    summary = state.result()

    assert summary["status"] == "ok" and summary["new_articles"] == 4
    for key in ("feeds_ok", "new_articles", "topic_matches", "figures", "new_figures", "revisions"):
        assert summary[key] == expected[key], key
    got, want = snapshot(on_dask), snapshot(default)
    assert all(want.values())  # something of each kind was stored
    for name in TABLES:
        assert got[name] == want[name], name

    # the 4 new articles went to the cluster's 2 worker threads as 2 task runs; the writes stayed here
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    names = task_run_names(flow_run_id)
    assert names.count("fetch and extract articles on dask") == 2
    assert "fetch and extract articles" not in names and "store articles" in names


def test_dask_without_a_prefect_server_is_a_clear_error(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    on_dask = write_config(tmp_path, [], extra='[scale]\ndask_address = "tcp://127.0.0.1:9"\n')
    with (
        temporary_settings(updates={PREFECT_API_URL: None}),
        pytest.raises(ConfigError, match=r"dask_address needs a Prefect server"),
    ):
        poll.run(str(on_dask))
