"""What `monitor run` prints, run as cron runs it (a subprocess) against a standalone Prefect server
(PREFECT_API_URL set): no traceback after a good run, and failed feeds as one clean line each (issue 16,
items 8 and 9)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from monitor import config, query
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.real_prefect import BIN, PrefectServer, free_port
from tests.world import World

pytestmark = pytest.mark.slow

LONGEST_LINE = 400  # a line on the terminal, a log line: a failure list on one line is thousands


def monitor_run(server: PrefectServer, config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "monitor"), "-c", str(config_path), "run", *args],
        env=server.env(),
        cwd=config_path.parent,
        capture_output=True,
        text=True,
        timeout=180,
    )


def rows(config_path: Path, sql: str) -> list[dict[str, Any]]:
    columns, found = query.run_sql(config.load(config_path).database, sql)
    return [dict(zip(columns, r, strict=True)) for r in found]


def test_a_run_with_new_articles_ends_without_a_traceback(
    prefect_server: PrefectServer, world: World, tmp_path: Path
) -> None:
    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH, stories.KURSK, stories.FLOOD])
    config_path = write_config(tmp_path, [feed], workers=2)  # extraction processes, as by default
    done = monitor_run(prefect_server, config_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "articles: 3 new" in done.stdout
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr[-3000:]


@pytest.fixture
def failing_feeds(world: World, tmp_path: Path) -> tuple[Path, list[str]]:
    """Two feeds that fail past the retries: one refuses connections, one answers 500."""
    refused = f"http://127.0.0.1:{free_port()}/{tmp_path.name}/refused.rss"  # nothing listens there
    broken = world.add(f"/{tmp_path.name}/broken.rss", "<h1>Internal Server Error</h1>", status=500)
    return write_config(tmp_path, [refused, broken]), [refused, broken]


def test_failed_feeds_with_q_are_clean_lines_only(
    prefect_server: PrefectServer, failing_feeds: tuple[Path, list[str]]
) -> None:
    config_path, urls = failing_feeds
    done = monitor_run(prefect_server, config_path, "-q")
    assert done.returncode == 1  # every feed failed
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    for url in urls:  # each failure once, as `failed: URL: reason`
        assert sum(url in line for line in lines) == 1, done.stderr[-3000:]
        assert any(line.startswith(f"failed: {url}: ") for line in lines), done.stderr[-3000:]
    assert all(len(line) <= LONGEST_LINE for line in lines), done.stderr[-3000:]

    # the flow run's log on the server (what a worker's log shows): each failure named, no traceback
    [run] = rows(config_path, "SELECT flow_run_id, status FROM runs")
    assert run["status"] == "failed"
    logs = prefect_server.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run["flow_run_id"]]}}})
    messages = [entry["message"] for entry in logs]
    assert not [m for m in messages if "Traceback" in m], messages
    assert all(len(line) <= LONGEST_LINE for m in messages for line in m.splitlines()), messages
    assert all(m.count(url) <= 1 for m in messages for url in urls), messages  # never the list twice
    flow_run = prefect_server.get(f"/flow_runs/{run['flow_run_id']}")
    assert flow_run["state"]["type"] == "FAILED"


def test_failed_feeds_are_listed_once_in_the_summary(
    prefect_server: PrefectServer, failing_feeds: tuple[Path, list[str]]
) -> None:
    config_path, urls = failing_feeds
    done = monitor_run(prefect_server, config_path, "--json")
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert [e["feed_url"] for e in summary["errors"]] == urls
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    plain = monitor_run(prefect_server, config_path)
    assert "Traceback" not in plain.stderr, plain.stderr[-3000:]
    output = (plain.stdout + plain.stderr).splitlines()
    # the failure list once (the summary's lines); the log names each feed on a line of its own
    for url in urls:
        assert sum(line.strip().startswith(f"failed: {url}: ") for line in output) == 1, output
    assert all(sum(url in line for url in urls) <= 1 for line in output), output
    assert all(len(line) <= LONGEST_LINE for line in output), output
