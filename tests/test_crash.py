"""Crash safety: `monitor run` killed (SIGKILL) at three points, an overlapping run, then a clean re-run.

One story, told by the module fixture `crashed` (each step a real `python -m monitor run` process, talking to
the session's Prefect test API so that none starts its own):

  A  killed during fetch: one article page drips a byte at a time, the run waits on it;
     meanwhile B, a second run on the same database, waits for A's run lock and is skipped
  C  killed during a write: run in short slices once its pages are fetched, and killed as soon as the WAL
     of the batch's transaction is on disk (before DuckDB has folded it into the database file)
  D  killed right after mailing: the SMTP server accepts the second digest and, before answering "250",
     takes a read-only connection to the database, so D cannot mark the digest sent; then D is killed
  E  a clean re-run (in this process)

The feed answers conditional GETs (ETag), so a run that forgot the entries a killed run had selected would
get "304 Not Modified" and lose them. Each test asserts what one step left behind; the last asserts the
end state: every article, figure and alert exactly once, no alert lost, and the digest D could not mark
sent again with its Message-ID (an SMTP delivery cannot be taken back, so a retry must be recognisable).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import CliRunner, Result

from monitor import cli, store
from tests import hostile_server as hs
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER
from tests.world import Story, page

pytestmark = pytest.mark.slow  # a story of real `monitor run` processes killed at three points (~1 min)

ROOT = Path(__file__).resolve().parents[1]
P = "/c7"
RECIPIENTS = ("desk@example.org", "field@example.org")
FILLERS = 100  # articles whose text is the feed's long summary: a batch worth megabytes
WAL_MARK = 256 * 1024  # a WAL this big is the batch being committed (view refreshes write a few KB)
STEP_TIMEOUT = 120.0  # no step may take longer, however busy the machine
NEWS = [
    ("dispatch", "North Korea has sent about 1,500 special forces soldiers to Russia, Seoul said."),
    ("kursk", "More than 10,000 North Korean troops have been stationed in Russia's Kursk region."),
    ("losses", "At least 100 North Korean soldiers were killed in Russia's Kursk region, a lawmaker said."),
    ("slow", "About 1,000 North Korean soldiers were wounded in fighting in Kursk, Seoul said."),
]


def news_page(slug: str, sentence: str) -> bytes:
    story = Story(
        slug=slug,
        title=f"North Korean troops in Russia: {slug}",
        paragraphs=(sentence, FILLER),
        published=datetime(2024, 12, 2, 9, tzinfo=UTC),
    )
    return page(story).encode()


def feed_body(url: str) -> bytes:
    items = [
        f"<item><title>North Korean troops: {slug}</title><link>{url}{P}/news/{slug}</link>"
        f"<guid>{slug}</guid><pubDate>Mon, 02 Dec 2024 09:00:00 GMT</pubDate>"
        f"<description>North Korean troops in Russia: {slug}</description></item>"
        for slug, _ in NEWS
    ]
    long_summary = " ".join([FILLER] * 60)  # ~17,000 characters: the text stored for a page that 404s
    items += [
        f"<item><title>Background {i}</title><link>{url}{P}/filler/{i}</link><guid>filler-{i}</guid>"
        f"<description>{long_summary}</description></item>"
        for i in range(FILLERS)
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>crash</title>'
        f"<link>{url}/</link><description>x</description>{''.join(items)}</channel></rss>"
    ).encode()


# --- an SMTP server that can hold the database while it accepts a message --------------------------------


class Inbox:
    """Keeps every message it accepts. With `hold_at(db, n)`, it takes a read-only connection to `db` when
    the n-th message arrives, before it answers "250": the sender cannot mark that message sent."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpts: list[tuple[str, ...]] = []
        self.holding = threading.Event()
        self._hold: tuple[Path, int] | None = None
        self._held = contextlib.ExitStack()

    def hold_at(self, db: Path, n: int) -> None:
        self._hold = (db, n)

    def release(self) -> None:
        self._hold = None
        self._held.close()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.rcpts.append(tuple(envelope.rcpt_tos))
        if self._hold is not None and len(self.messages) == self._hold[1]:
            self._held.enter_context(store.connect(self._hold[0], read_only=True))
            self.holding.set()
        return "250 OK"


# --- the story ---------------------------------------------------------------------------------------------


@dataclass
class Crashed:
    config: Path
    database: Path
    inbox: Inbox
    after: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> what the database held then
    overlapping: Result | None = None
    overlap_seconds: float = 0.0
    rerun: Result | None = None

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with store.connect(self.database, read_only=True) as con:
            return store.select_dicts(con, sql, params or [])

    def snapshot(self, step: str) -> None:
        counts = self.rows(
            "SELECT (SELECT count(*) FROM articles) AS articles, "
            "(SELECT count(*) FROM figure_mentions) AS mentions, "
            "(SELECT count(*) FROM history_articles) AS decided, "
            "(SELECT count(*) FROM alert_outbox) AS digests"
        )[0]
        counts["runs"] = self.rows("SELECT run_id, status FROM runs ORDER BY started_at")
        counts["outbox"] = self.rows("SELECT alert_id, recipient, status, attempts FROM alert_outbox ORDER BY alert_id")
        counts["feeds"] = self.rows("SELECT etag, body_hash FROM feeds")
        counts["mail"] = len(self.inbox.messages)
        self.after[step] = counts


def settle_prefect() -> None:
    """Collect the API client Prefect 3.9 leaves behind after each flow run (see tests/test_hostile.py)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"unclosed <socket\.socket", ResourceWarning)
        gc.collect()


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`python -m monitor run` in its own session, on the session's Prefect test API."""
    from prefect.settings import get_current_settings

    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)  # the run and anything it started: its own session
    process.wait(timeout=30)


def wait_for(what: str, condition: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended (exit {process.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            kill(process)
            raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")
        time.sleep(0.01)


def step_until(what: str, condition: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    """Let the process run only in short slices (SIGSTOP/SIGCONT) until `condition` holds between two
    slices: a moment shorter than this busy machine's scheduling delays cannot slip by unseen."""
    deadline = time.monotonic() + STEP_TIMEOUT
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        while not condition():
            if process.poll() is not None:
                raise AssertionError(f"the run ended (exit {process.returncode}) before {what}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")
            os.killpg(process.pid, signal.SIGCONT)
            time.sleep(0.001)
            os.killpg(process.pid, signal.SIGSTOP)
    except BaseException:
        kill(process)
        raise


def wal_size(database: Path) -> int:
    try:
        return database.with_name(database.name + ".wal").stat().st_size
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="module")
def crashed(
    hostile_session: hs.HostileServer, tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> Iterator[Crashed]:
    server = hostile_session
    server.reset()
    directory = tmp_path_factory.mktemp("crash")
    inbox = Inbox()
    with socket.socket() as probe:  # a free port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    started: list[subprocess.Popen[bytes]] = []
    try:
        with hs.loopback_only():
            yield run_story(server, directory, inbox, port, started)
    finally:
        for process in started:  # a step that failed half-way leaves no run behind
            if process.poll() is None:
                kill(process)
        controller.stop()
        inbox.release()
        server.reset()


def run_story(
    server: hs.HostileServer, directory: Path, inbox: Inbox, smtp_port: int, started: list[subprocess.Popen[bytes]]
) -> Crashed:
    for slug, sentence in NEWS:
        server.route(f"{P}/news/{slug}", hs.static(news_page(slug, sentence), content_type="text/html"))
    server.route(f"{P}/news/slow", hs.slow_drip(interval=0.2, length=2000))  # until A is killed
    feed = server.route(f"{P}/feed.rss", hs.conditional(feed_body(server.base_url), etag='"crash-1"'))
    recipients = ", ".join(f'"{r}"' for r in RECIPIENTS)
    email = (
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsender = "monitor@example.org"\n'
        f"recipients = [{recipients}]\ntimeout = 10\nsend_history = true\n"
    )
    config = write_config(directory, [feed], extra=email)
    config.write_text(
        config.read_text().replace(
            'allow_networks = ["127.0.0.0/8"]', 'allow_networks = ["127.0.0.1/32"]\nbatch_size = 500'
        )
    )
    story = Crashed(config=config, database=directory / "data" / "monitor.duckdb", inbox=inbox)
    logs = {step: directory / f"{step}.log" for step in "ACD"}

    # A: killed during fetch, while B overlaps it
    a = start(config, logs["A"])
    started.append(a)
    wait_for("the slow page to be requested", lambda: server.hits(f"{P}/news/slow") >= 1, a, logs["A"])
    began = time.monotonic()
    story.overlapping = CliRunner().invoke(cli.main, ["-c", str(config), "run"])
    story.overlap_seconds = time.monotonic() - began
    settle_prefect()
    assert a.poll() is None, f"A ended before it was killed:\n{logs['A'].read_text()}"
    kill(a)
    story.snapshot("A")

    # C: killed while the batch's transaction is being written
    server.route(f"{P}/news/slow", hs.static(news_page("slow", NEWS[-1][1]), content_type="text/html"))
    pages = [f"{P}/news/{slug}" for slug, _ in NEWS] + [f"{P}/filler/{i}" for i in range(FILLERS)]
    fetched = sum(server.hits(path) for path in pages)
    c = start(config, logs["C"])
    started.append(c)
    wait_for(
        "the articles to be fetched", lambda: sum(server.hits(p) for p in pages) >= fetched + len(pages), c, logs["C"]
    )
    step_until("the batch's WAL", lambda: wal_size(story.database) >= WAL_MARK, c, logs["C"])
    kill(c)
    story.after["C-wal"] = {"bytes": wal_size(story.database)}
    story.snapshot("C")

    # D: killed after the SMTP server accepted the second digest, before D could mark it sent
    inbox.hold_at(story.database, 2)
    d = start(config, logs["D"])
    started.append(d)
    wait_for("the second digest", inbox.holding.is_set, d, logs["D"])
    time.sleep(0.5)  # D has its "250" and is retrying to open the database to mark the digest sent
    kill(d)
    inbox.release()
    story.snapshot("D")

    # E: a clean re-run
    story.rerun = CliRunner().invoke(cli.main, ["-c", str(config), "run"])
    settle_prefect()
    story.snapshot("E")
    return story


# --- the tests ---------------------------------------------------------------------------------------------


def test_an_overlapping_run_waits_for_the_lock_then_skips_and_writes_nothing(crashed: Crashed) -> None:
    result = crashed.overlapping
    assert result is not None and result.exit_code == 0, result.output if result else None
    assert "Traceback" not in result.output
    assert ": skipped in" in result.output
    assert "another run is in progress (pid " in result.output and "this one is skipped" in result.output
    assert store.RUN_LOCK_WAIT <= crashed.overlap_seconds < store.RUN_LOCK_WAIT + 30
    # the skipped run left no trace in the database: A's row is the only one
    assert [r["status"] for r in crashed.after["A"]["runs"]] == ["running"]


def test_killed_during_fetch_leaves_a_consistent_database(crashed: Crashed) -> None:
    a = crashed.after["A"]
    assert (a["articles"], a["mentions"], a["digests"]) == (0, 0, 0)  # the batch was never written
    assert a["feeds"][0]["etag"] == '"crash-1"'  # the feed's validators were saved: a trap for the next run


def test_killed_during_the_batch_write_is_all_or_nothing(crashed: Crashed) -> None:
    c = crashed.after["C"]
    wal = crashed.after["C-wal"]["bytes"]
    print(f"C killed with {wal:,} bytes of WAL on disk: {c['articles']} articles survived")  # pytest -s
    assert crashed.after["C-wal"]["bytes"] >= WAL_MARK  # killed with the batch's WAL on disk
    assert c["articles"] in (0, len(NEWS) + FILLERS)  # one transaction: whole or not at all
    assert [r["status"] for r in c["runs"]] == ["interrupted", "running"]  # A marked by C's start
    assert (c["decided"], c["digests"]) == (0, 0)  # killed before the figures were decided
    if c["articles"]:
        assert c["mentions"] >= len(NEWS)  # the articles' figures came with them
    else:
        assert c["mentions"] == 0


def test_killed_after_mail_then_the_digest_is_resent_with_the_same_message_id(crashed: Crashed) -> None:
    d = crashed.after["D"]
    assert d["mail"] == 2
    first, second = d["outbox"]
    assert (first["status"], second["status"]) == ("sent", "pending")  # the 250 came, the mark did not
    assert second["attempts"] == 1
    e = crashed.after["E"]
    assert [r["status"] for r in e["outbox"]] == ["sent", "sent"]
    assert [r["attempts"] for r in e["outbox"]] == [1, 2]  # the sent one was never sent again
    messages = crashed.inbox.messages
    assert len(messages) == 3
    assert messages[1]["Message-ID"] == messages[2]["Message-ID"] != messages[0]["Message-ID"]
    assert messages[1]["Subject"] == messages[2]["Subject"]
    assert crashed.inbox.rcpts[1] == crashed.inbox.rcpts[2] == (second["recipient"],)
    ids = {r["message_id"] for r in crashed.rows("SELECT message_id FROM alert_outbox")}
    assert {m["Message-ID"] for m in messages} == ids


def test_clean_rerun_has_every_article_figure_and_alert_once(crashed: Crashed) -> None:
    result = crashed.rerun
    assert result is not None and result.exit_code == 0, result.output if result else None
    assert "alerts: 1 sent, 0 pending" in result.output
    assert [r["status"] for r in crashed.after["E"]["runs"]] == ["interrupted"] * 3 + ["ok"]
    articles = crashed.rows("SELECT url, count(*) AS n FROM articles GROUP BY url")
    assert len(articles) == len(NEWS) + FILLERS and {r["n"] for r in articles} == {1}
    for table, key in (
        ("figure_mentions", "article_id, seq"),
        ("article_links", "feed_url, url"),
        ("topic_matches", "article_id, topic"),
        ("history_articles", "article_id"),
        ("series_values", "topic, category, grp, low, high"),
        ("series_mentions", "topic, article_id, seq"),
    ):
        doubled = crashed.rows(f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1")
        assert doubled == [], (table, doubled)
    mentions = crashed.rows("SELECT a.url FROM figure_mentions f JOIN articles a USING (article_id)")
    assert {r["url"].rsplit("/", 1)[1] for r in mentions} == {slug for slug, _ in NEWS}
    # no alert lost: each recipient's one digest reports every decided figure
    values = crashed.rows("SELECT count(*) AS n FROM series_values")[0]["n"]
    assert values >= 1
    digests = crashed.rows(
        "SELECT recipient, n_new + n_revisions + n_counterclaims AS n, status FROM alert_outbox ORDER BY recipient"
    )
    assert digests == [{"recipient": r, "n": values, "status": "sent"} for r in sorted(RECIPIENTS)]
    got = sorted(r for rcpts in crashed.inbox.rcpts for r in rcpts)
    assert sorted(set(got)) == sorted(RECIPIENTS)
