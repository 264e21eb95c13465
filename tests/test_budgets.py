"""Hostile feeds cost a bounded amount (issue 17): each break a real `python -m monitor` process against
hostile servers on 127.0.0.1, beside a healthy feed on 127.0.0.2 that must not pay for them.

  drip     a feed of 120 items whose pages trickle in over seconds each: the run ends within its budget,
           stores the healthy feed's articles, and leaves the rest for later runs, which never refetch a page
  sigterm  SIGTERM while pages drip: the run ends within 30 s and its `runs` row counts what it stored
  cpu      a page that takes more CPU than page_cpu_budget to extract: skipped with its reason
  malformed  10 MB of unclosed tags as a feed: parsed under a time and memory budget, failed with its reason

  query    a run started while `monitor sql` runs a hostile query exits 0
  damaged  a half-truncated or overwritten database file: one `error:` line and exit 2 from every command
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from monitor import fetch, store
from tests import hostile_server as hs
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER
from tests.world import Story, page

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
P = "/b17"
DRIP_ITEMS = 120
HEALTHY = ("dispatch", "kursk", "losses", "wounded", "moved")
SENTENCE = "North Korea has sent about {n},000 soldiers to Russia's Kursk region, Seoul said on {slug}."


def news_page(slug: str, n: int = 1) -> bytes:
    story = Story(
        slug=slug,
        title=f"North Korean troops in Russia: {slug}",
        paragraphs=(SENTENCE.format(n=n, slug=slug), FILLER),
        published=datetime(2024, 12, 2, 9, tzinfo=UTC),
    )
    return page(story).encode()


def rss(base: str, paths: list[str], title: str) -> bytes:
    items = "".join(
        f"<item><title>{title} {p.rsplit('/', 1)[-1]}</title><link>{base}{p}</link><guid>{base}{p}</guid>"
        "<pubDate>Mon, 02 Dec 2024 09:00:00 GMT</pubDate>"
        f"<description>North Korean troops in Russia: {title}</description></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>'
        + title
        + f"</title><link>{base}/</link><description>x</description>{items}</channel></rss>"
    ).encode()


@dataclass
class Servers:
    hostile: hs.HostileServer  # 127.0.0.1
    healthy: hs.HostileServer  # 127.0.0.2: another host, so per-host limits tell them apart

    def healthy_feed(self) -> str:
        paths = [f"{P}/ok/{slug}" for slug in HEALTHY]
        for i, path in enumerate(paths):
            self.healthy.route(path, hs.static(news_page(HEALTHY[i], i + 2), content_type="text/html"))
        return self.healthy.route(
            f"{P}/ok.rss", hs.conditional(rss(self.healthy.base_url, paths, "healthy"), etag='"healthy-1"')
        )


@pytest.fixture
def servers(hostile: hs.HostileServer) -> Iterator[Servers]:
    with hs.HostileServer("127.0.0.2") as healthy:
        yield Servers(hostile, healthy)


def monitor(config: Path, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], float]:
    """`python -m monitor -c CONFIG ARGS`, on the session's Prefect test API; its output and wall seconds."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, time.monotonic() - started


def env() -> dict[str, str]:
    from prefect.settings import get_current_settings

    return {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}


def rows(database: Path, sql: str) -> list[dict[str, Any]]:
    with store.connect(database, read_only=True) as con:
        return store.select_dicts(con, sql)


def with_fetch(config: Path, settings: str) -> Path:
    config.write_text(config.read_text().replace("[fetch]\n", f"[fetch]\n{settings}\n"))
    return config


# --- (1) a drip feed beside a healthy one ------------------------------------------------------------------


def test_drip_feed_costs_its_budget_and_the_rest_waits_for_the_next_cycle(servers: Servers, tmp_path: Path) -> None:
    hostile = servers.hostile
    drip_paths = [f"{P}/drip/{i}" for i in range(DRIP_ITEMS)]
    for i, path in enumerate(drip_paths):  # each page takes 3 s to arrive: 120 of them, 4 at a time, take 90 s
        hostile.route(path, hs.paced(news_page(f"drip-{i}", 1), 3.0))
    drip = hostile.route(f"{P}/drip.rss", hs.conditional(rss(hostile.base_url, drip_paths, "drip"), etag='"d1"'))
    healthy = servers.healthy_feed()
    budget = 20
    config = with_fetch(write_config(tmp_path, [drip, healthy]), f"cycle_budget = {budget}\nhost_budget = 8")
    database = tmp_path / "data" / "monitor.duckdb"

    first, seconds = monitor(config, "run", "--json", "-q")
    first_seconds = seconds
    assert first.returncode == 0, first.stderr
    assert seconds <= budget + 60, seconds
    summary = json.loads(first.stdout)
    stored = {r["url"]: r for r in rows(database, "SELECT url, feed_url, text_source FROM articles")}
    healthy_urls = {servers.healthy.url(f"{P}/ok/{slug}") for slug in HEALTHY}
    assert healthy_urls <= set(stored)
    assert all(stored[u]["text_source"] == "extracted" for u in healthy_urls)
    drip_stored = {u for u in stored if "/drip/" in u}
    assert 0 < len(drip_stored) < DRIP_ITEMS
    [run] = rows(database, "SELECT status, new_articles, articles_deferred FROM runs")
    assert run == {"status": "ok", "new_articles": len(stored), "articles_deferred": DRIP_ITEMS - len(drip_stored)}
    assert summary["new_articles"] == len(stored) and summary["articles_deferred"] == run["articles_deferred"]
    assert any("left for the next cycle" in note for note in summary["notes"]), summary["notes"]

    second, seconds = monitor(config, "run", "--json", "-q")
    assert second.returncode == 0, second.stderr
    assert seconds <= budget + 60, seconds
    again = {r["url"] for r in rows(database, "SELECT url FROM articles")}
    more = {u for u in again if "/drip/" in u} - drip_stored
    assert more, "the second run stored none of the pages left over"
    for url in drip_stored | more:  # a stored page is never fetched again
        assert hostile.hits(url.removeprefix(hostile.base_url)) == 1, url
    for slug in HEALTHY:
        assert servers.healthy.hits(f"{P}/ok/{slug}") == 1
    runs = rows(database, "SELECT status, new_articles FROM runs ORDER BY started_at")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[1]["new_articles"] == len(more)
    print(
        f"drip: run 1 {first_seconds:.1f} s, stored {len(stored)} ({len(drip_stored)} drip), "
        f"{run['articles_deferred']} deferred; run 2 {seconds:.1f} s, stored {len(more)} more"
    )


# --- SIGTERM -------------------------------------------------------------------------------------------------


def test_sigterm_ends_the_run_within_30_s_and_keeps_what_was_stored(servers: Servers, tmp_path: Path) -> None:
    hostile = servers.hostile
    drip_paths = [f"{P}/stall/{i}" for i in range(40)]
    for path in drip_paths:  # a byte a second: never done within the 60 s deadline
        hostile.route(path, hs.slow_drip(interval=1.0, length=10_000))
    drip = hostile.route(
        f"{P}/stall.rss", hs.static(rss(hostile.base_url, drip_paths, "stall"), content_type="application/rss+xml")
    )
    healthy = servers.healthy_feed()
    config = with_fetch(write_config(tmp_path, [drip, healthy]), "cycle_budget = 600\nhost_budget = 600")
    database = tmp_path / "data" / "monitor.duckdb"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run", "--json"],
            cwd=ROOT,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while (
            sum(servers.healthy.hits(f"{P}/ok/{slug}") for slug in HEALTHY) < len(HEALTHY)
            or hostile.hits(f"{P}/stall/0") == 0
        ):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(2)  # the healthy pages extracted while the stalled ones drip
        process.send_signal(signal.SIGTERM)  # the run itself, as systemd's stop does first
        began = time.monotonic()
        code = process.wait(timeout=60)
        seconds = time.monotonic() - began
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text()
    assert seconds <= 30, (seconds, output)
    assert code != 0 and "Traceback" not in output, output
    stored = {r["url"] for r in rows(database, "SELECT url FROM articles")}
    assert {servers.healthy.url(f"{P}/ok/{slug}") for slug in HEALTHY} <= stored
    [run] = rows(database, "SELECT status, new_articles FROM runs")
    assert run == {"status": "interrupted", "new_articles": len(stored)}
    print(f"sigterm: exited {seconds:.1f} s after the signal (exit {code}), {len(stored)} articles stored and counted")


# --- a page too costly to extract ----------------------------------------------------------------------------


def test_a_page_over_the_cpu_budget_is_skipped_with_its_reason(servers: Servers, tmp_path: Path) -> None:
    hostile = servers.hostile
    cells = "".join(
        f"<tr>{''.join(f'<td>cell {r} {c} North Korean</td>' for c in range(12))}</tr>" for r in range(6000)
    )
    heavy = f"<html><body><article><h1>Tables</h1><table>{cells}</table></article></body></html>".encode()
    hostile.route(f"{P}/heavy", hs.static(heavy, content_type="text/html"))
    feed = hostile.route(
        f"{P}/heavy.rss", hs.static(rss(hostile.base_url, [f"{P}/heavy"], "heavy"), content_type="application/rss+xml")
    )
    healthy = servers.healthy_feed()
    config = with_fetch(write_config(tmp_path, [feed, healthy], workers=2), "page_cpu_budget = 0.5")
    done, _ = monitor(config, "run", "--json", "-q")
    assert done.returncode == 0, done.stderr
    database = tmp_path / "data" / "monitor.duckdb"
    [row] = rows(database, f"SELECT text_source, fetch_error FROM articles WHERE url LIKE '%{P}/heavy'")
    assert row["text_source"] == "summary"
    assert "extraction took more than 0.5 s of CPU" in row["fetch_error"], row
    assert rows(database, "SELECT count(*) AS n FROM articles WHERE text_source = 'extracted'") == [{"n": 5}]


# --- (2) a 10 MB malformed feed ------------------------------------------------------------------------------


class TreePeak:
    """The peak memory of a process and all its descendants, sampled every 50 ms: the sum of their
    proportional set sizes (PSS: a page shared by n processes counts 1/n in each, so the extraction
    processes forked from one server are not counted as copies), and the sum of their RSS for the record."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = rss = 0
            try:
                for p in [self.root, *self.root.children(recursive=True)]:
                    try:
                        info = p.memory_full_info()
                    except psutil.Error:
                        continue
                    total += info.pss
                    rss += info.rss
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def test_a_10_mb_malformed_feed_is_parsed_within_a_budget(servers: Servers, tmp_path: Path) -> None:
    hostile = servers.hostile
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>bad</title>' + b"<a>" * (10_200_000 // 3)
    assert 10_000_000 < len(body) < fetch.FEED_MAX_BYTES  # 10.2 MB of unclosed tags: under the size cap
    bad = hostile.route(f"{P}/malformed.rss", hs.static(body, content_type="application/rss+xml"))
    healthy = servers.healthy_feed()
    config = write_config(tmp_path, [bad, healthy], workers=2)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "run", "--json", "-q"],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = TreePeak(process.pid)
    out, err = process.communicate(timeout=300)
    seconds = time.monotonic() - started
    most = peak.stop()
    assert process.returncode == 0, err
    assert seconds <= 60, seconds
    assert most <= 800 * 2**20, f"{most / 2**20:.0f} MiB"
    summary = json.loads(out)
    assert summary["feeds_ok"] == 1 and summary["feeds_failed"] == 1
    [error] = summary["errors"]
    assert error["feed_url"] == bad and "not well-formed" in error["error"], error
    assert any(w in error["error"] for w in ("s to parse", "MiB to parse")), error
    database = tmp_path / "data" / "monitor.duckdb"
    assert rows(database, "SELECT count(*) AS n FROM articles") == [{"n": len(HEALTHY)}]
    print(
        f"malformed feed: {seconds:.1f} s wall, peak tree PSS {most / 2**20:.0f} MiB "
        f"(RSS summed {peak.peak_rss / 2**20:.0f} MiB)"
    )


# --- (3) a hostile read-only query while a run starts ---------------------------------------------------------


def test_a_run_started_during_a_hostile_query_succeeds(servers: Servers, tmp_path: Path) -> None:
    from monitor import query

    assert store.LOCK_WAIT >= 2 * query.QUERY_TIMEOUT  # a writer waits out the longest query, with room to spare
    healthy = servers.healthy_feed()
    config = write_config(tmp_path, [healthy])
    first, _ = monitor(config, "run", "-q")
    assert first.returncode == 0, first.stderr
    servers.healthy.route(
        f"{P}/ok.rss",
        hs.static(
            rss(servers.healthy.base_url, [f"{P}/ok/{s}" for s in HEALTHY] + [f"{P}/ok/later"], "healthy"),
            content_type="application/rss+xml",
        ),
    )
    servers.healthy.route(f"{P}/ok/later", hs.static(news_page("later", 7), content_type="text/html"))
    started = time.monotonic()
    reader = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "sql", "SELECT list(range(0, 50000000))"],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = TreePeak(reader.pid)
    time.sleep(0.5)  # the query holds the file now
    run, _ = monitor(config, "run", "--json", "-q")
    _, err = reader.communicate(timeout=120)
    query_seconds = time.monotonic() - started
    most = peak.stop()
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["new_articles"] == 1
    assert reader.returncode == 2 and "Traceback" not in err, err
    assert err.startswith("error: query stopped") and len(err.strip().splitlines()) == 1, err
    assert query_seconds < query.QUERY_TIMEOUT, query_seconds
    print(f"hostile query: ended in {query_seconds:.1f} s, peak PSS {most / 2**20:.0f} MiB; the run exited 0")


# --- (4) a damaged database file -------------------------------------------------------------------------------

COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["report", "-o", "{dir}/report.html"],
    ["run", "-q"],
    ["run", "--json"],
    ["sql", "SELECT count(*), sum(length(text)) FROM articles"],
    ["query", "latest_figures"],
    ["alerts", "preview"],
    ["reprocess"],
]


def damaged_database(tmp_path: Path) -> tuple[Path, Path]:
    config = write_config(tmp_path, ["http://127.0.0.1:9/feed.rss"])
    database = tmp_path / "data" / "monitor.duckdb"
    with store.open_for_write(database) as con:  # 60,000 articles: a file of ~10 MB, many blocks
        con.execute(
            "INSERT INTO articles (article_id, url, feed_url, fetched_at, text, text_source, run_id, "
            "first_seen_at, title) SELECT md5(i::VARCHAR), 'http://x.org/' || i, 'http://x.org/f', now(), "
            "repeat('North Korean troops in Russia ', 40) || i, 'extracted', 'r', now(), 'T' || i "
            "FROM range(60000) t(i)"
        )
    return config, database


@pytest.mark.parametrize("damage", ["half-truncated", "overwritten-middle"])
def test_a_damaged_database_is_one_line_and_exit_2_from_every_command(tmp_path: Path, damage: str) -> None:
    config, database = damaged_database(tmp_path)
    size = database.stat().st_size
    if damage == "half-truncated":
        os.truncate(database, size // 2)
    else:  # 4 MB of zeros from the first MB on: the file opens, reading those blocks fails
        with database.open("r+b") as f:
            f.seek(2**20)
            f.write(bytes(4 * 2**20))
    failed = []
    for args in COMMANDS:
        done, _ = monitor(config, *(a.format(dir=tmp_path) for a in args), timeout=120)
        assert "Traceback" not in done.stderr + done.stdout, (args, done.stderr)
        if damage == "half-truncated" or done.returncode != 0:
            assert done.returncode == 2, (args, done.returncode, done.stderr)
            lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
            assert lines == [done.stderr.strip().splitlines()[-1]] and len(lines) == 1, (args, done.stderr)
            assert f"{database}: the database file is damaged" in lines[0], lines
            assert "Restore it from a backup, or move it away" in lines[0], lines
            failed.append(args[0])
            if args == ["run", "--json"]:
                assert json.loads(done.stdout)["status"] == "failed"
    if damage == "half-truncated":
        assert len(failed) == len(COMMANDS)
    else:  # commands that read only the intact blocks may work; the ones reading articles cannot
        assert {"report", "sql", "run", "reprocess"} <= set(failed), failed


# --- the smaller items --------------------------------------------------------------------------------------


def test_a_stalled_feed_is_tried_as_often_as_the_code_says_and_oversized_headers_once(
    servers: Servers, tmp_path: Path
) -> None:
    from flows import poll

    hostile = servers.hostile
    stalled = hostile.route(f"{P}/stalled.rss", hs.hang(max_seconds=10))
    big = {"X-Big": "a" * 200_000}
    headers = hostile.route(
        f"{P}/headers.rss", hs.static(rss(hostile.base_url, [], "h"), headers=big, content_type="application/rss+xml")
    )
    config = with_fetch(write_config(tmp_path, [stalled, headers, servers.healthy_feed()]), "read_timeout = 1")
    done, _ = monitor(config, "run", "--json", "-q")
    assert done.returncode == 0, done.stderr
    assert hostile.hits(f"{P}/stalled.rss") == 1 + len(poll.RETRY_DELAYS) == 3  # "two more tries within the cycle"
    assert hostile.hits(f"{P}/headers.rss") == 1  # the same headers every time: never retried
    errors = {e["feed_url"]: e["error"] for e in json.loads(done.stdout)["errors"]}
    assert "response headers longer than 100 KiB" in errors[headers], errors
    assert "no data from the server for 1 s" in errors[stalled], errors


def test_an_smtp_password_sent_in_clear_is_warned_about(tmp_path: Path) -> None:
    email = '[email]\nsmtp_host = "mail.example.org"\nusername = "monitor"\nrecipients = ["desk@example.org"]\n'
    config = write_config(tmp_path, [], extra=email + 'security = "none"\n')
    done, _ = monitor(config, "status")
    assert (
        "warning: " in done.stderr
        and 'security = "none": the SMTP password goes to mail.example.org:25 unencrypted' in done.stderr
    ), done.stderr
    config.write_text(config.read_text().replace('security = "none"', 'security = "starttls"'))
    done, _ = monitor(config, "status")
    assert "warning:" not in done.stderr, done.stderr


def test_two_first_ever_runs_at_once_one_is_skipped_with_the_documented_line(servers: Servers, tmp_path: Path) -> None:
    from tests.real_prefect import clean_env

    config = write_config(tmp_path, [servers.healthy_feed()])
    # no PREFECT_API_URL: each starts Prefect's temporary API on the new data directory, as a user's would
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert "Traceback" not in out + err, err
        assert p.returncode == 0, err
    skipped = [out for out, _ in outputs if ": skipped in " in out]
    assert len(skipped) == 1, outputs
    assert "another run is in progress (pid" in skipped[0] and "this one is skipped" in skipped[0], skipped
    database = tmp_path / "data" / "monitor.duckdb"
    assert rows(database, "SELECT count(*) AS n FROM articles") == [{"n": len(HEALTHY)}]


def test_bidi_overrides_in_titles_are_neutralised_in_the_html_report(servers: Servers, tmp_path: Path) -> None:
    healthy = servers.healthy
    healthy.route(f"{P}/bidi/page", hs.static(news_page("bidi", 9), content_type="text/html"))
    title = "North Korean troops \u202egnp.exe\u202c in \u2067Kursk\u2069"
    body = rss(healthy.base_url, [f"{P}/bidi/page"], "x").replace(
        b"<title>x page</title>", f"<title>{title}</title>".encode()
    )
    feed = healthy.route(f"{P}/bidi.rss", hs.static(body, content_type="application/rss+xml"))
    config = write_config(tmp_path, [feed])
    done, _ = monitor(config, "run", "-q")
    assert done.returncode == 0, done.stderr
    assert rows(tmp_path / "data" / "monitor.duckdb", "SELECT title FROM articles") == [{"title": title}]  # kept
    report = tmp_path / "report.html"
    done, _ = monitor(config, "report", "-o", str(report))
    assert done.returncode == 0, done.stderr
    text = report.read_text()
    assert "North Korean troops gnp.exe in Kursk" in text
    assert not any(chr(c) in text for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def test_sql_on_a_file_that_is_not_duckdb_leaves_nothing_beside_it(tmp_path: Path) -> None:
    notes = tmp_path / "NOT_A_DUCKDB_FILE"
    notes.write_text("my notes\n")
    done, _ = monitor(tmp_path / "none.toml", "sql", "--db", str(notes), "SELECT 1")
    assert done.returncode == 2 and done.stderr.startswith(f"error: {notes}: not a news-monitor DuckDB"), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NOT_A_DUCKDB_FILE"]
