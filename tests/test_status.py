"""`monitor status`: runs, feed health and pending alerts, read from a database the real pipeline wrote."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World

pytestmark = pytest.mark.usefixtures("prefect_harness")


def monitor(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.output


@pytest.fixture(scope="module")
def watched(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """Two runs: one feed answers, one is gone (404), and the mail server is down (digests stay pending)."""
    tmp = tmp_path_factory.mktemp("status")
    ok = world.publish(f"/{tmp.name}/korea.rss", [stories.DISPATCH, stories.KURSK])
    gone = world.url(f"/{tmp.name}/gone.rss")
    with socket.socket() as s:  # a port nobody listens on: the SMTP server is down
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    extra = (
        f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {dead}\nsend_history = true\ntimeout = 2\n'
        'recipients = ["analyst@example.org"]\n'
    )
    config = write_config(tmp, [ok, gone], extra=extra)
    for _ in range(2):
        code, _out, text = monitor("-c", str(config), "run")
        assert code == 0, text
    yield config, ok, gone


def test_status_json_has_runs_feed_health_and_pending_alerts(watched: tuple[Path, str, str]) -> None:
    config, ok, gone = watched
    code, out, text = monitor("-c", str(config), "status", "--json")
    assert code == 0, text
    status = json.loads(out)
    assert [r["status"] for r in status["runs"]] == ["partial", "partial"]  # a feed failed, alerts pending
    first, second = status["runs"][1], status["runs"][0]
    assert first["new_articles"] == 2 and first["new_figures"] >= 1 and second["new_articles"] == 0
    assert first["seconds"] > 0 and [e["feed_url"] for e in first["errors"]] == [gone]
    assert "404" in first["errors"][0]["error"]
    feeds = {f["url"]: f for f in status["feeds"]}
    assert feeds[ok]["health"] == "ok" and feeds[ok]["consecutive_failures"] == 0
    assert feeds[ok]["polls"] == 2 and feeds[ok]["median_latency_ms"] > 0
    assert feeds[ok]["items_per_day"] == 2.0  # two new items within the first day of polling
    assert feeds[ok]["last_success_at"] is not None
    assert feeds[gone]["health"] == "failing" and feeds[gone]["consecutive_failures"] == 2
    assert feeds[gone]["last_success_at"] is None and "404" in feeds[gone]["last_error"]
    assert feeds[gone]["median_latency_ms"] is None  # it never answered with a feed
    assert status["alerts"]["pending"] == 1 and status["alerts"]["oldest_pending"] is not None


def test_status_text_names_the_failing_feed_and_the_pending_alerts(watched: tuple[Path, str, str]) -> None:
    config, ok, gone = watched
    code, out, text = monitor("-c", str(config), "status", "-n", "1")
    assert code == 0, text
    assert "last 1 run:" in out and "partial" in out
    failing = next(line for line in out.splitlines() if line.startswith(gone))
    assert " failing " in failing and " 2 " in failing and "404" in failing
    healthy = next(line for line in out.splitlines() if line.startswith(ok))
    assert " ok " in healthy and " ms " in healthy
    assert "alerts: 1 pending, 0 failed; oldest pending since" in out


def test_feeds_no_longer_configured_are_marked(watched: tuple[Path, str, str], tmp_path: Path) -> None:
    config, ok, gone = watched
    database = config.parent / "data" / "monitor.duckdb"
    other = tmp_path / "monitor.toml"
    other.write_text(f'database = "{database}"\n\n[[feeds]]\nurl = "{ok}"\n')
    code, out, text = monitor("-c", str(other), "status", "--json")
    assert code == 0, text
    health = {f["url"]: f["health"] for f in json.loads(out)["feeds"]}
    assert health == {ok: "ok", gone: "not in config"}
    code, out, text = monitor("status", "--db", str(database), "--json")  # --db: no config needed
    assert code == 0 and {f["health"] for f in json.loads(out)["feeds"]} == {"ok", "failing"}


def test_status_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    code, _out, text = monitor("status", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2
    path = tmp_path / "none.duckdb"
    assert text.strip() == f"error: {path}: no database yet. Run `monitor run` first to create it."


# --- back-off: the cause stays, a run that polled nothing says so -------------------------------------------


def test_backing_off_keeps_the_error_and_a_run_that_polled_nothing_says_so(world: World, tmp_path: Path) -> None:
    from monitor import feeds, store

    gone = [world.url(f"/backoff-{n}.rss") for n in range(2)]  # 404: never published
    config = write_config(tmp_path, gone)
    for _ in range(feeds.BACKOFF_AFTER):  # every feed fails: the run failed, exit 1 with or without --strict
        code, _out, text = monitor("-c", str(config), "run")
        assert code == 1 and "failed" in text, text
    code, out, text = monitor("-c", str(config), "run")  # both feeds back off now: nothing is polled
    assert code == 0, text
    assert "run " in out and ": partial " in out and "0/2 ok" in out and "2 backing off" in out
    assert "no feed polled: 0 of 2 (0 failed, 2 backing off after repeated failures)" in out
    for url in gone:
        line = next(line for line in out.splitlines() if f"note: {url}: backing off until " in line)
        assert "UTC after: " in line and "404" in line, line  # the reason beside the back-off
    code, out, text = monitor("-c", str(config), "run", "--strict", "-q")  # for cron: exit 1, quietly
    assert code == 1 and out == "", text

    database = config.parent / "data" / "monitor.duckdb"
    with store.connect(database, read_only=True) as con:
        rows = con.execute("SELECT last_status, last_error, backoff_until, consecutive_failures FROM feeds").fetchall()
        polls = con.execute("SELECT status, error FROM feed_polls WHERE status = 'backoff'").fetchall()
        statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    assert statuses == ["failed"] * feeds.BACKOFF_AFTER + ["partial", "partial"]
    for last_status, last_error, backoff_until, failures in rows:
        assert last_status == "backoff" and backoff_until is not None and failures == feeds.BACKOFF_AFTER
        assert "404" in last_error and "backing off" not in last_error  # the cause, not the back-off
    assert len(polls) == 4 and all("after: " in e and "404" in e for _, e in polls)

    code, out, text = monitor("-c", str(config), "status", "--json")
    assert code == 0, text
    for f in json.loads(out)["feeds"]:
        assert f["health"] == "backing off" and f["backoff_until"] is not None and "404" in f["last_error"]
    code, out, text = monitor("-c", str(config), "status")
    for url in gone:
        line = next(line for line in out.splitlines() if line.startswith(url))
        assert "backing off until " in line and "404" in line, out
