"""The polling flow under Prefect's test harness: retries, one writer per database, the artifact, logs."""

from __future__ import annotations

import ipaddress
import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest

import flows
from flows import poll
from monitor import config, query, store
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World, page, rss_feed

pytestmark = pytest.mark.usefixtures("prefect_harness")

T = TypeVar("T")


def cycle(config_path: Path) -> tuple[dict[str, Any], UUID]:
    """One run of the real flow: its summary and its Prefect flow run id."""
    state = poll.run_state(str(config_path))
    summary: dict[str, Any] = state.result(raise_on_failure=False)  # a Failed run's summary too
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return summary, flow_run_id


def rows(config_path: Path, sql: str) -> list[dict[str, Any]]:
    columns, found = query.run_sql(config.load(config_path).database, sql)
    return [dict(zip(columns, r, strict=True)) for r in found]


def eventually(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 15.0) -> T:
    """Task runs and logs reach the API through background workers: wait until they are there."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def task_runs(flow_run_id: UUID) -> dict[str, list[Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()  # task run states travel as events
    with get_client(sync_client=True) as client:
        found = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    by_name: dict[str, list[Any]] = {}
    for tr in found:
        by_name.setdefault(tr.name.rsplit("-", 1)[0], []).append(tr)
    return by_name


def run_logs(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.instance().drain()
    with get_client(sync_client=True) as client:
        return [
            log.message
            for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        ]


def flaky_feed(world: World, path: str, fail_times: int) -> str:
    """A feed with one story that answers 503 `fail_times` times before it answers."""
    story = stories.DISPATCH
    world.add(f"/news/{story.slug}", page(story))
    body = rss_feed(path, [(story, world.url(f"/news/{story.slug}"))])
    return world.add(path, body, "application/rss+xml", fail_times=fail_times)


def test_flaky_feed_is_retried_within_the_run(world: World, tmp_path: Path) -> None:
    path = f"/{tmp_path.name}/flaky.rss"
    url = flaky_feed(world, path, fail_times=2)  # 503, 503 (first retry), then 200 on the second retry
    summary, flow_run_id = cycle(write_config(tmp_path, [url]))

    assert world.hits[path] == 3
    assert (summary["feeds_ok"], summary["feeds_failed"], summary["new_articles"]) == (1, 0, 1)
    polls = rows(tmp_path / "monitor.toml", "SELECT status, http_status FROM feed_polls")
    assert polls == [{"status": "ok", "http_status": 200}]
    runs = eventually(
        lambda: task_runs(flow_run_id),
        lambda r: any(t.state_name == "Completed" for t in r.get("retry failed feeds", [])),
    )
    [retry] = runs["retry failed feeds"]
    assert retry.run_count == 2 and retry.state_name == "Completed"  # the first retry, then Prefect's one retry
    assert [t.run_count for t in runs["poll feeds"]] == [1]  # only the network-bound retry task retries
    logs = eventually(lambda: run_logs(flow_run_id), lambda m: any(url in line for line in m))
    assert any(f"feed {url} failed: HTTP 503" in line for line in logs), logs  # in the run's log, by URL


@pytest.mark.slow
def test_feed_failing_past_the_retries_is_recorded_failed(world: World, tmp_path: Path) -> None:
    path = f"/{tmp_path.name}/down.rss"
    url = flaky_feed(world, path, fail_times=10)
    summary, flow_run_id = cycle(write_config(tmp_path, [url]))

    assert world.hits[path] == 1 + len(poll.RETRY_DELAYS) == 3  # the poll and one try after each pause: as said
    assert (summary["feeds_ok"], summary["feeds_failed"], summary["status"]) == (0, 1, "failed")
    assert "503" in summary["errors"][0]["error"] and summary["errors"][0]["feed_url"] == url
    runs = eventually(
        lambda: task_runs(flow_run_id),
        lambda r: any(t.state_name == "Completed" for t in r.get("retry failed feeds", [])),
    )
    [retry] = runs["retry failed feeds"]
    # out of retries, the task returns the last polls: the failure is the feed's, not a task crash
    assert (retry.run_count, retry.state_name) == (len(poll.RETRY_DELAYS), "Completed")
    # every feed failed: the flow run is Failed, for Prefect's automations and notifications
    state = flow_run_state(flow_run_id)
    assert state.type.value == "FAILED" and state.message == "failed: all 1 feeds failed"
    logs = eventually(lambda: run_logs(flow_run_id), lambda m: any("after 2 retries" in line for line in m))
    assert any(f"feed {url} failed after 2 retries: HTTP 503" in line for line in logs), logs


def test_missing_feed_is_not_retried(world: World, tmp_path: Path) -> None:
    path = f"/{tmp_path.name}/gone.rss"  # no route: 404
    url = world.url(path)
    summary, flow_run_id = cycle(write_config(tmp_path, [url]))

    assert world.hits[path] == 1
    assert summary["feeds_failed"] == 1 and "404" in summary["errors"][0]["error"]
    # the cycle's last task is recorded after any retry would have been
    runs = eventually(lambda: task_runs(flow_run_id), lambda r: "record new figures" in r)
    assert "poll feeds" in runs and "record new figures" in runs
    assert "retry failed feeds" not in runs


def flow_run_state(flow_run_id: UUID) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def test_artifact_has_the_run_numbers(world: World, tmp_path: Path) -> None:
    prefix = f"/{tmp_path.name}"
    feeds = [
        world.publish(f"{prefix}/world.rss", [stories.DISPATCH, stories.FLOOD]),
        world.publish(f"{prefix}/korea.atom", [stories.KURSK, stories.CASUALTIES], atom=True),
        world.url(f"{prefix}/missing.rss"),
    ]
    config_path = write_config(tmp_path, feeds)
    summary, flow_run_id = cycle(config_path)

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    assert artifact.key == "news-monitor-run" and artifact.type == "markdown"
    markdown = str(artifact.data)
    [run] = rows(config_path, "SELECT * FROM runs")
    assert run["flow_run_id"] == str(flow_run_id)
    assert f"`{run['run_id']}` — partial" in markdown
    # every count in the table is the one stored for the run
    for key in (
        "feeds_total",
        "feeds_ok",
        "feeds_failed",
        "new_articles",
        "topic_matches",
        "figures",
        "new_figures",
        "revisions",
    ):
        assert f"| {key.replace('_', ' ')} | {run[key]} |" in markdown, key
    assert (run["feeds_ok"], run["feeds_failed"], run["new_articles"]) == (2, 1, 4)
    assert run["new_figures"] > 0
    assert f"| {feeds[2]} |" in markdown and "404" in markdown  # the failed feed, with its reason
    figures_table = markdown.split("## New figures and revisions", 1)[1]
    for value in ("15,000", "4,700", "600"):  # the reference article's figures
        assert value in figures_table
    assert summary["new_figures"] == run["new_figures"]
    # some feeds failed: Completed, and the state says partial
    state = flow_run_state(flow_run_id)
    assert state.type.value == "COMPLETED"
    assert state.message == "partial: 1 of 3 feeds failed; 4 new articles"


def test_a_run_that_cannot_open_its_database_is_failed_and_recorded(world: World, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH])
    config_path = write_config(tmp_path, [feed])
    database = config.load(config_path).database
    database.mkdir(parents=True)  # a directory where the file should be: the first open fails
    state = poll.run_state(str(config_path))
    assert state.is_failed() and "is a directory" in str(state.message)
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    [artifact] = [a for a in found if a.key == poll.ARTIFACT_KEY]  # beside it, Prefect's record of the error
    markdown = str(artifact.data)
    assert "— failed" in markdown and "— ok" not in markdown and "is a directory" in markdown
    assert "failed" in str(artifact.description)

    database.rmdir()  # fixed: the next run records the failed one beside its own
    summary, _ = cycle(config_path)
    recorded = rows(config_path, "SELECT run_id, status, flow_run_id, errors FROM runs ORDER BY started_at")
    assert [r["status"] for r in recorded] == ["failed", "ok"]
    assert recorded[0]["flow_run_id"] == str(flow_run_id)
    assert "is a directory" in recorded[0]["errors"] and recorded[1]["run_id"] == summary["run_id"]


@pytest.fixture
def news_config(world: World, tmp_path: Path) -> Path:
    prefix = f"/{tmp_path.name}"
    feeds = [
        world.publish(f"{prefix}/world.rss", [stories.DISPATCH, stories.FLOOD]),
        world.publish(f"{prefix}/korea.atom", [stories.KURSK, stories.CASUALTIES], atom=True),
    ]
    return write_config(tmp_path, feeds)


@pytest.mark.slow
def test_run_while_another_holds_the_database_is_skipped(news_config: Path) -> None:
    database = config.load(news_config).database
    started = time.monotonic()
    with store.run_lock(database):  # another run, in the middle of its cycle
        summary, flow_run_id = cycle(news_config)
    waited = time.monotonic() - started

    assert summary["status"] == "skipped"
    assert waited >= store.RUN_LOCK_WAIT  # it waited for the other run first
    assert "another run is in progress" in summary["notes"][0]
    assert not database.exists() or rows(news_config, "SELECT * FROM runs") == []  # wrote nothing
    logs = eventually(lambda: run_logs(flow_run_id), lambda m: any("another run" in line for line in m))
    assert any(f"{database}: another run is in progress" in line and "skipped" in line for line in logs), logs
    # the lock released, the next run goes ahead
    assert cycle(news_config)[0]["status"] == "ok"


def test_two_runs_at_once_never_interleave(news_config: Path) -> None:
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        results.append(cycle(news_config)[0])

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2
    assert sorted(r["status"] for r in results) in (["ok", "ok"], ["ok", "skipped"])
    done = rows(news_config, "SELECT started_at, finished_at, new_articles FROM runs ORDER BY started_at")
    assert len(done) == sum(r["status"] == "ok" for r in results)
    for first, second in itertools.pairwise(done):  # one after the other, never side by side
        assert first["finished_at"] <= second["started_at"]
    assert sum(r["new_articles"] for r in done) == 4  # each article stored once
    assert rows(news_config, "SELECT count(*) AS n FROM articles") == [{"n": 4}]


def test_prepare_environment_keeps_prefect_local_and_quiet(tmp_path: Path) -> None:
    env: dict[str, str] = {"PREFECT_LOGGING_LEVEL": "DEBUG"}
    flows.prepare_environment(tmp_path / "data", env)
    assert env["PREFECT_HOME"] == str(tmp_path / "data" / "prefect") and Path(env["PREFECT_HOME"]).is_dir()
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["DO_NOT_TRACK"] == "1"
    assert env["PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT"] == "false"
    assert env["PREFECT_LOGGING_LEVEL"] == "DEBUG"  # what the user set wins
    assert "PREFECT_API_URL" not in env  # no server to set up: Prefect's temporary API


@pytest.fixture
def outside_connections() -> Iterator[list[str]]:
    """Every connection or name lookup this process makes outside loopback while the test runs."""
    seen: list[str] = []
    active = True

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if not active:
            return
        if event == "socket.connect":
            address = args[1]
            host = str(address[0]) if isinstance(address, tuple) else str(address)
        elif event == "socket.getaddrinfo":
            host = str(args[0])
        else:
            return
        try:
            if ipaddress.ip_address(host.split("%")[0]).is_loopback:
                return
        except ValueError:
            if host in ("localhost", "None") or host.startswith("/"):
                return
        seen.append(f"{event} {host}")

    sys.addaudithook(audit)  # cannot be removed: inert once the test ends
    yield seen
    active = False


def test_a_run_talks_to_nothing_outside_this_machine(news_config: Path, outside_connections: list[str]) -> None:
    summary, _ = cycle(news_config)
    assert summary["status"] == "ok" and summary["new_articles"] == 4
    assert outside_connections == []
