"""Alerts: the outbox, digests and SMTP delivery, against a real SMTP server (aiosmtpd) on 127.0.0.1.

The library tests queue decided changes (history.Change records written here) into a real DuckDB file
and send them; the end-to-end tests at the bottom run the real flow on feeds from tests/alert_stories.py.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner

from monitor import alerts, cli, config, digest, history, store
from monitor.config import EmailConfig, TopicConfig
from monitor.errors import ConfigError
from tests import alert_stories
from tests.pipeline_fixtures import write_config
from tests.world import World

UTC = dt.UTC
NK = "North Korean troops in Russia"
FLOOD = "River floods"
# the headers a digest carries, in order: anything else in a received message was injected
DIGEST_HEADERS = [
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "auto-submitted",
    "x-news-monitor-alert",
    "mime-version",
    "content-type",
]


# --- a real SMTP server, and two that are not -------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(msg, EmailMessage)
        return msg

    def inline_images(self) -> dict[str, EmailMessage]:
        """The parts the HTML part shows (cid:…), each checked as mail clients read it: inline, not attached."""
        msg = self.message
        by_cid = {str(p["Content-ID"]).strip("<>"): p for p in msg.walk() if p["Content-ID"] is not None}
        out = {}
        for cid in re.findall(r'src="cid:([^"]+)"', self.part("html")):
            image = by_cid[cid]
            assert isinstance(image, EmailMessage)
            assert image.get_content_disposition() == "inline", (cid, image["Content-Disposition"])
            assert str(image["Content-Disposition"]).startswith("inline"), image["Content-Disposition"]
            assert b"\nContent-Disposition: inline" in self.raw.replace(b"\r\n", b"\n")
            out[cid] = image
        assert len(out) == len(by_cid)  # no image the HTML does not show
        return out

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content.replace("\r\n", "\n")  # the wire's line ends


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts and refuses the addresses in `refuse`."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextlib.contextmanager
def smtp_server(inbox: Inbox, **kw: Any) -> Iterator[Inbox]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kw)
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server(Inbox()) as box:
        yield box


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that takes connections (the kernel completes them into the backlog) and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture
def dead_port() -> int:
    """A port nothing listens on: connections are refused."""
    return free_port()


# --- building blocks: a config, runs, changes -------------------------------------------------------------


def make_config(
    tmp_path: Path,
    port: int,
    *,
    recipients: Sequence[str] = ("analyst@example.org",),
    topics: Sequence[TopicConfig] = (),
    **email: Any,
) -> config.Config:
    email.setdefault("timeout", 5.0)
    return config.Config(
        path=tmp_path / "monitor.toml",
        database=tmp_path / "monitor.duckdb",
        topics=tuple(topics) or (TopicConfig(NK, '"North Korean"'),),
        email=EmailConfig(
            smtp_host="127.0.0.1", smtp_port=port, sender="monitor@example.org", recipients=tuple(recipients), **email
        ),
    )


def change(**kw: Any) -> history.Change:
    """A decided change as history.update returns it: by default a new casualty figure."""
    values: dict[str, Any] = {
        "topic": NK,
        "category": "casualties",
        "who": "North Korean troops",
        "low": 4700,
        "high": 4700,
        "qualifier": "approximate",
        "kind": "new",
        "previous_low": None,
        "previous_high": None,
        "previous_as_of": None,
        "change": None,
        "article_url": "https://news.test/nk-casualties",
        "outlet": "news.test",
        "published_at": dt.datetime(2025, 4, 30, 9, 0, tzinfo=UTC),
        "claimant": "South Korea's National Intelligence Service",
        "quote": "an estimated 4,700 casualties, including around 600 fatalities",
        "run_id": "",
    }
    values.update(kw)
    return history.Change(**values)


REVISION = change(
    kind="revision",
    previous_low=3000,
    previous_high=3000,
    previous_as_of=dt.datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
    change=1700,
)
KILLED = change(category="killed", low=600, high=600, claimant=None, who=None)
DEPLOYED = change(
    category="deployed",
    low=10_000,
    high=12_000,
    qualifier="range",
    kind="new",
    quote="between 10,000 and 12,000 soldiers",
    article_url="https://news.test/nk-deployed",
)


def queue(cfg: config.Config, changes: Sequence[history.Change], *, answered: bool = True) -> tuple[str, int]:
    """A run: its feed poll (answered or not), then its changes queued in one transaction, like the flow."""
    run_id = store.new_run_id()
    with store.open_for_write(cfg.database) as con:
        store.start_run(con, run_id, str(cfg.path), None)
        store.insert_columns(
            con,
            "feed_polls",
            [
                {
                    "run_id": run_id,
                    "feed_url": "http://127.0.0.1:9/feed.xml",
                    "polled_at": dt.datetime.now(UTC),
                    "status": "ok" if answered else "failed",
                }
            ],
        )
    with store.open_for_write(cfg.database) as con, store.transaction(con):
        n = alerts.enqueue(con, run_id, [replace(c, run_id=run_id) for c in changes], cfg)
    return run_id, n


def add_article(cfg: config.Config, url: str, title: str) -> None:
    now = dt.datetime.now(UTC)
    with store.open_for_write(cfg.database) as con:
        store.insert_columns(
            con,
            "articles",
            [
                {
                    "article_id": store.article_id(url),
                    "url": url,
                    "feed_url": "http://127.0.0.1:9/feed.xml",
                    "title": title,
                    "fetched_at": now,
                    "text_source": "extracted",
                    "run_id": "test",
                    "first_seen_at": now,
                }
            ],
        )


def rows(cfg: config.Config, sql: str) -> list[dict[str, Any]]:
    with store.connect(cfg.database, read_only=True) as con:
        return store.select_dicts(con, sql)


# --- baseline ---------------------------------------------------------------------------------------------


def test_first_run_establishes_a_baseline_and_mails_nothing(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port)
    run_id, queued = queue(cfg, [REVISION, KILLED])
    assert queued == 0
    assert rows(cfg, "SELECT topic, run_id, figures_skipped FROM topic_baselines") == [
        {"topic": NK, "run_id": run_id, "figures_skipped": 2}
    ]
    assert alerts.send_pending(cfg.database, cfg) == alerts.Delivery()
    assert inbox.received == []

    assert queue(cfg, [DEPLOYED])[1] == 1  # later runs mail what is new


def test_baseline_waits_for_a_run_in_which_feeds_answered(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port)
    assert queue(cfg, [], answered=False)[1] == 0  # every feed failed: nothing was fetched, no baseline yet
    assert rows(cfg, "SELECT * FROM topic_baselines") == []
    run_id, queued = queue(cfg, [REVISION, KILLED])  # the backlog arrives: this is the baseline
    assert queued == 0
    assert [r["run_id"] for r in rows(cfg, "SELECT run_id FROM topic_baselines")] == [run_id]
    assert queue(cfg, [DEPLOYED])[1] == 1


def test_send_history_mails_the_first_run(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port, send_history=True)
    assert queue(cfg, [REVISION, KILLED])[1] == 1
    assert rows(cfg, "SELECT figures_skipped FROM topic_baselines") == [{"figures_skipped": 0}]
    assert alerts.send_pending(cfg.database, cfg).sent == 1
    assert len(inbox.received) == 1


def flood_killed() -> history.Change:
    """A first report in a second topic: at least 12 killed in a river flood."""
    return change(
        topic=FLOOD,
        category="killed",
        low=12,
        high=12,
        qualifier="at_least",
        who=None,
        article_url="https://news.test/river-flood",
        quote="At least 12 people were killed",
    )


def test_a_new_topic_starts_with_its_own_baseline(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port)
    queue(cfg, [])
    both = replace(cfg, topics=(*cfg.topics, TopicConfig(FLOOD, "flood")))
    flood = flood_killed()
    assert queue(both, [KILLED, flood])[1] == 1
    assert queue(both, [replace(flood, low=14, high=14)])[1] == 1
    alerts.send_pending(both.database, both)
    first, second = inbox.received
    assert "killed: ≈600" in first.part("plain") and FLOOD not in first.part("plain")
    assert f"{FLOOD} (1)" in second.part("plain") and "≥14" in second.part("plain")


# --- digests: content, recipients, cap --------------------------------------------------------------------


def test_one_digest_per_recipient_with_the_figures_as_analysts_read_them(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port, recipients=("a@example.org", "b@example.org"))
    add_article(cfg, REVISION.article_url, "Seoul: North Korean losses mount in Russia's war")
    queue(cfg, [])
    run_id, queued = queue(cfg, [REVISION, KILLED, DEPLOYED])
    assert queued == 2

    delivery = alerts.send_pending(cfg.database, cfg)
    assert (delivery.sent, delivery.pending, delivery.errors) == (2, 0, ())
    assert [len(inbox.to(a)) for a in ("a@example.org", "b@example.org")] == [1, 1]
    got = inbox.to("a@example.org")[0]
    msg = got.message
    assert got.mail_from == "monitor@example.org" and got.rcpt_tos == ("a@example.org",)
    assert msg["To"] == "a@example.org"
    assert msg["From"] == "news-monitor <monitor@example.org>"
    assert msg["Subject"] == (
        "news-monitor: 2 new figures, 1 revision — North Korean troops in Russia · "
        "“Seoul: North Korean losses mount in Russia's war”"
    )
    assert msg["Auto-Submitted"] == "auto-generated"
    text = got.part("plain")
    # the revision first, with what it was, when, and by how much it moved
    assert (
        "  REVISED  casualties: ≈4,700 — North Korean troops\n"
        "    was 3,000 on 2025-01-10 (+1,700)\n"
        "    claimed by: South Korea's National Intelligence Service\n"
        "    “an estimated 4,700 casualties, including around 600 fatalities”\n"
        "    Seoul: North Korean losses mount in Russia's war\n"
        "    news.test, 2025-04-30 09:00 UTC\n"
        "    https://news.test/nk-casualties\n"
    ) in text
    assert "  NEW  killed: ≈600\n" in text
    assert "  NEW  deployed: 10,000\N{EN DASH}12,000 — North Korean troops\n" in text
    assert text.index("REVISED") < text.index("NEW  killed") < text.index("NEW  deployed")
    html = got.part("html")
    assert "≈4,700" in html and "was 3,000 on 2025-01-10 · <b>+1,700</b>" in html
    assert (
        '<a href="https://news.test/nk-casualties" style="color:#0969da;text-decoration:none;">'
        "Seoul: North Korean losses mount in Russia&#x27;s war</a>"
    ) in html

    [row] = rows(cfg, "SELECT * FROM alerts WHERE recipient = 'a@example.org'")
    assert row["run_id"] == run_id and row["status"] == "sent" and row["attempts"] == 1
    assert row["error"] is None and row["sent_at"] is not None
    assert row["message_id"] == msg["Message-ID"] == f"<{run_id}-1.alert@example.org>"
    assert row["n_figures"] == 3 and row["topics"] == [NK]
    assert row["figures"][0] == (
        f"{NK}: casualties ≈4,700 (North Korean troops), revised from 3,000 "
        "(+1,700); claimed by South Korea's National Intelligence Service — news.test"
    )

    assert alerts.send_pending(cfg.database, cfg) == alerts.Delivery()  # nothing new: nothing sent
    assert len(inbox.received) == 2


def test_per_topic_recipients_get_only_their_topics(tmp_path: Path, inbox: Inbox) -> None:
    topics = (
        TopicConfig(NK, '"North Korean"'),
        TopicConfig(FLOOD, "flood", recipients=("hydro@example.org", "both@example.org")),
    )
    cfg = make_config(tmp_path, inbox.port, recipients=("desk@example.org", "both@example.org"), topics=topics)
    flood = flood_killed()
    queue(cfg, [])
    assert queue(cfg, [KILLED, flood])[1] == 3
    assert alerts.send_pending(cfg.database, cfg).sent == 3
    assert len(inbox.received) == 3
    assert [len(inbox.to(f"{a}@example.org")) for a in ("desk", "hydro", "both")] == [1, 1, 1]
    desk, hydro = inbox.to("desk@example.org")[0].message, inbox.to("hydro@example.org")[0].message
    assert desk["Subject"].startswith(f"news-monitor: 1 new figure — {NK}")
    assert hydro["Subject"].startswith(f"news-monitor: 1 new figure — {FLOOD}")
    both = inbox.to("both@example.org")[0]
    assert both.message["Subject"].startswith(f"news-monitor: 2 new figures — {NK}, {FLOOD}")
    assert f"{NK} (1)" in both.part("plain") and f"{FLOOD} (1)" in both.part("plain")


def test_a_long_digest_is_capped_fairly_with_a_pointer_to_the_rest(tmp_path: Path, inbox: Inbox) -> None:
    topics = (TopicConfig(NK, '"North Korean"'), TopicConfig(FLOOD, "flood"))
    cfg = make_config(tmp_path, inbox.port, topics=topics, max_figures=3)
    many = [change(low=n, high=n, article_url=f"https://news.test/nk-{n}") for n in range(100, 105)]
    flood = change(topic=FLOOD, category="killed", low=12, high=12, article_url="https://news.test/flood")
    queue(cfg, [])
    run_id, _ = queue(cfg, [*many, flood])
    alerts.send_pending(cfg.database, cfg)
    [got] = inbox.received
    assert got.message["Subject"].startswith(f"news-monitor: 6 new figures — {NK}, {FLOOD}")
    text = got.part("plain")
    assert text.count("  NEW  ") == 3
    assert f"{FLOOD} (1)" in text  # the busy topic did not push the quiet one out
    assert "… and 3 more not shown here. List them all with:" in text
    assert f"WHERE run_id = '{run_id}'" in text
    assert "<b>3 more</b>" in got.part("html")
    [row] = rows(cfg, "SELECT n_figures, figures FROM alerts")
    assert row["n_figures"] == 6 and len(row["figures"]) == 3


# --- safe headers -----------------------------------------------------------------------------------------

HOSTILE_TITLES = {
    NK: "Troops killed\r\nBcc: evil@attacker.example\r\nX-Injected: yes",
    FLOOD: "=?utf-8?q?Floods=0D=0ABcc:_evil@attacker.example=0D=0AX-Injected:_yes?= rise",
}


def test_titles_and_quotes_from_the_web_cannot_add_headers(tmp_path: Path, inbox: Inbox) -> None:
    topics = (
        TopicConfig(NK, '"North Korean"', recipients=("a@example.org",)),
        TopicConfig(FLOOD, "flood", recipients=("b@example.org",)),
    )
    cfg = make_config(tmp_path, inbox.port, topics=topics)
    for topic, title in HOSTILE_TITLES.items():
        add_article(cfg, f"https://news.test/{len(topic)}", title)
    hostile = {
        "quote": "600 killed\r\nBcc: evil@attacker.example <script>alert(1)</script>",
        "outlet": "<img src=x onerror=alert(1)>",
        "claimant": "=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=",
    }
    queue(cfg, [])
    queue(
        cfg,
        [change(topic=t, article_url=f"https://news.test/{len(t)}", **hostile) for t in HOSTILE_TITLES]
        + [change(article_url="javascript:alert(1)", category="deployed")],
    )
    assert alerts.send_pending(cfg.database, cfg).sent == 2

    assert len(inbox.received) == 2
    for got in inbox.received:
        msg = got.message
        assert [k.lower() for k in msg] == DIGEST_HEADERS
        assert len(got.rcpt_tos) == 1 and "evil@attacker.example" not in got.rcpt_tos
        head = got.raw.split(b"\r\n\r\n", 1)[0]
        assert b"\nBcc:" not in head and b"\nX-Injected:" not in head
        subject = str(msg["Subject"])
        assert "\r" not in subject and "\n" not in subject and len(subject) <= digest.SUBJECT_MAX
        assert "=?" not in subject  # the encoded word was broken up before the header was set
        html = got.part("html")
        assert "<script>" not in html and "<img src=x" not in html and "&lt;script&gt;" in html
        assert 'href="javascript:' not in html
    assert "“Troops killed Bcc: evil@attacker.example X-Injected: yes”" in str(
        inbox.to("a@example.org")[0].message["Subject"]
    )


def test_header_text_is_one_line_without_encoded_words() -> None:
    assert digest.header_text("a\r\nBcc: x\u2028y\x00z\u202e") == "a Bcc: x y z"
    assert digest.header_text("=?utf-8?b?QmNjOiBldmls?= ==?x") == "= ?utf-8?b?QmNjOiBldmls?= == ?x"
    assert digest.header_text("x" * 400) == "x" * 149 + "…"


# --- delivery: down, silent, refused ----------------------------------------------------------------------


def test_smtp_down_keeps_alerts_pending_until_a_run_can_send_them(tmp_path: Path, inbox: Inbox, dead_port: int) -> None:
    down = make_config(tmp_path, dead_port)
    queue(down, [])
    run_id, _ = queue(down, [REVISION])
    for attempt in (1, 2):
        delivery = alerts.send_pending(down.database, down)
        assert (delivery.sent, delivery.pending) == (0, 1)
        assert f"127.0.0.1:{dead_port}: connection refused" in delivery.errors[0]
        assert "1 digest(s) stay pending; the next run sends them" in delivery.errors[0]
        [row] = rows(down, "SELECT status, attempts, error, sent_at FROM alerts")
        assert row["status"] == "pending" and row["attempts"] == attempt and row["sent_at"] is None
        assert "connection refused" in row["error"]
    assert inbox.received == []

    assert down.email is not None
    up = replace(down, email=replace(down.email, smtp_port=inbox.port))
    assert alerts.send_pending(up.database, up) == alerts.Delivery(sent=1, pending=0)
    assert alerts.send_pending(up.database, up) == alerts.Delivery()
    [got] = inbox.received
    assert got.message["Message-ID"] == f"<{run_id}-1.alert@example.org>"
    [row] = rows(up, "SELECT status, attempts, error FROM alerts")
    assert row == {"status": "sent", "attempts": 3, "error": None}


def test_a_silent_smtp_server_times_out_quickly(tmp_path: Path, silent_port: int) -> None:
    cfg = make_config(tmp_path, silent_port, timeout=1.0)
    queue(cfg, [])
    queue(cfg, [REVISION])
    started = time.monotonic()
    delivery = alerts.send_pending(cfg.database, cfg)
    assert time.monotonic() - started < 5
    assert (delivery.sent, delivery.pending) == (0, 1)
    assert f"127.0.0.1:{silent_port}: no answer within 1 s" in delivery.errors[0]
    [row] = rows(cfg, "SELECT status, error FROM alerts")
    assert row["status"] == "pending" and "no answer within 1 s" in row["error"]


def test_a_recipient_refused_for_good_fails_alone(tmp_path: Path, inbox: Inbox) -> None:
    inbox.refuse.add("gone@example.org")
    cfg = make_config(tmp_path, inbox.port, recipients=("gone@example.org", "here@example.org"))
    queue(cfg, [])
    queue(cfg, [KILLED])
    delivery = alerts.send_pending(cfg.database, cfg)
    assert (delivery.sent, delivery.pending, delivery.failed) == (1, 0, 1)
    assert "recipient gone@example.org refused (550" in delivery.errors[0]
    assert [r.rcpt_tos for r in inbox.received] == [("here@example.org",)]
    status = {r["recipient"]: (r["status"], r["error"]) for r in rows(cfg, "SELECT * FROM alerts")}
    assert status["here@example.org"] == ("sent", None)
    assert status["gone@example.org"][0] == "failed" and "550" in status["gone@example.org"][1]
    assert alerts.send_pending(cfg.database, cfg) == alerts.Delivery()  # a failed digest is not retried


def test_charts_are_attached_inline_under_their_topic(tmp_path: Path, inbox: Inbox) -> None:
    cfg = make_config(tmp_path, inbox.port)
    queue(cfg, [])
    queue(cfg, [KILLED])
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

    def charts(d: digest.Digest) -> list[digest.Chart]:
        return [digest.Chart(cid="nk-killed.1", png=png, alt="killed over time", topic=NK)]

    assert alerts.send_pending(cfg.database, cfg, charts=charts).sent == 1
    msg = inbox.received[0].message
    assert '<img src="cid:nk-killed.1" alt="killed over time"' in inbox.received[0].part("html")
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<nk-killed.1>" and image.get_content() == png
    assert list(inbox.received[0].inline_images()) == ["nk-killed.1"]  # Content-Disposition: inline
    assert image.get_filename() == "nk-killed.1.png"


# --- the commands -----------------------------------------------------------------------------------------


def write_toml(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'database = "monitor.duckdb"\n\n'
        f'[[topics]]\nname = "{NK}"\nquery = \'"North Korean"\'\n\n'
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsender = "monitor@example.org"\n'
        f'recipients = ["analyst@example.org"]\ntimeout = 1\n{extra}'
    )
    return path


def monitor(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["-c", str(config_path), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_alerts_test_sends_a_message_or_names_what_to_fix(
    tmp_path: Path, inbox: Inbox, dead_port: int, silent_port: int
) -> None:
    code, out = monitor(write_toml(tmp_path, inbox.port), "alerts", "test")
    assert code == 0, out
    assert out == f"sent a test message to analyst@example.org via 127.0.0.1:{inbox.port} (security: none)\n"
    [got] = inbox.received
    assert got.rcpt_tos == ("analyst@example.org",)
    assert got.message["Subject"] == "news-monitor: test message"

    code, out = monitor(write_toml(tmp_path, inbox.port), "alerts", "test", "--to", "me@example.org")
    assert code == 0 and inbox.received[-1].rcpt_tos == ("me@example.org",)

    code, out = monitor(write_toml(tmp_path, dead_port), "alerts", "test")
    assert code == 2
    assert out.startswith(
        f"error: 127.0.0.1:{dead_port}: connection refused (no SMTP server listening). "
        "Check smtp_host and smtp_port in [email]"
    )
    assert out.rstrip().endswith("then try again.") and "Traceback" not in out
    assert "monitor alerts test" not in out  # it was just run: "run `monitor alerts test`" would be no help

    started = time.monotonic()
    code, out = monitor(write_toml(tmp_path, silent_port), "alerts", "test")
    assert code == 2 and time.monotonic() - started < 5
    assert out.startswith(f"error: 127.0.0.1:{silent_port}: no answer within 1 s.")

    (tmp_path / "plain.toml").write_text('database = "monitor.duckdb"\n')
    code, out = monitor(tmp_path / "plain.toml", "alerts", "test")
    assert code == 2 and "no [email] table" in out


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, which is its own CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news-monitor test relay")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_alerts_test_over_starttls_and_tls_with_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = make_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"monitor", b"right")
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    login = 'username = "monitor"\n'
    with smtp_server(
        Inbox(), tls_context=server_tls, require_starttls=True, authenticator=authenticator, auth_required=True
    ) as box:
        path = write_toml(tmp_path, box.port, f'security = "starttls"\nca_file = "{cert.name}"\n{login}')
        monkeypatch.delenv(config.ENV_SMTP_PASSWORD, raising=False)
        code, out = monitor(path, "alerts", "test")
        assert code == 2 and "$MONITOR_SMTP_PASSWORD is not set" in out

        monkeypatch.setenv(config.ENV_SMTP_PASSWORD, "wrong")
        code, out = monitor(path, "alerts", "test")
        assert code == 2
        assert f"127.0.0.1:{box.port}: login as 'monitor' refused (535" in out
        assert "Check [email] username and $MONITOR_SMTP_PASSWORD" in out

        monkeypatch.setenv(config.ENV_SMTP_PASSWORD, "right")
        code, out = monitor(path, "alerts", "test")
        assert code == 0, out
        assert len(box.received) == 1

        untrusted = write_toml(tmp_path, box.port, f'security = "starttls"\n{login}')
        code, out = monitor(untrusted, "alerts", "test")
        assert code == 2 and "the server's TLS certificate is not trusted" in out and "ca_file" in out

    with smtp_server(Inbox(), ssl_context=server_tls) as box:
        code, out = monitor(
            write_toml(tmp_path, box.port, f'security = "tls"\nca_file = "{cert.name}"\n'), "alerts", "test"
        )
        assert code == 0, out
        assert "(security: tls)" in out and len(box.received) == 1


def test_alerts_preview_shows_pending_digests_without_sending(tmp_path: Path, dead_port: int) -> None:
    path = write_toml(tmp_path, dead_port)
    code, out = monitor(path, "alerts", "preview")
    assert code == 2 and "no database yet" in out

    cfg = config.load(path, environ={})
    queue(cfg, [])
    run_id, _ = queue(cfg, [REVISION])
    code, out = monitor(path, "alerts", "preview")
    assert code == 0, out
    assert out.startswith(
        f"1 digest pending\n\nTo: analyst@example.org\n"
        f"Subject: news-monitor: 1 revision — {NK}\n"
        f"Message-ID: <{run_id}-1.alert@example.org>\n\n"
    )
    assert "was 3,000 on 2025-01-10 (+1,700)" in out

    code, out = monitor(path, "alerts", "preview", "--raw")
    assert code == 0, out
    assert f"Message-ID: <{run_id}-1.alert@example.org>\n" in out
    assert "Content-Type: multipart/alternative" in out and "Content-Type: text/html" in out

    code, out = monitor(path, "alerts", "preview", "--html")
    assert code == 0 and "<!DOCTYPE html>" in out
    [row] = rows(cfg, "SELECT status, attempts FROM alerts")
    assert row == {"status": "pending", "attempts": 0}  # previewing sends nothing


def test_config_checks_ca_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 25, 'security = "tls"\nca_file = "missing.pem"\n')
    with pytest.raises(ConfigError, match=r"email\.ca_file: .*missing\.pem: no such file"):
        config.load(path, environ={})


# --- end to end: feeds on 127.0.0.1 -> `monitor run` (the real Prefect flow) -> mail ---------------------


def email_toml(port: int, recipients: Sequence[str] = ("analyst@example.org",), more: str = "") -> str:
    listed = ", ".join(f'"{r}"' for r in recipients)
    return (
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsender = "monitor@example.org"\n'
        f"recipients = [{listed}]\ntimeout = 2\n{more}"
    )


@pytest.mark.usefixtures("prefect_harness")
def test_flow_mails_new_figures_then_the_revision_with_its_previous_value(
    world: World, tmp_path: Path, inbox: Inbox
) -> None:
    feed_path = f"/{tmp_path.name}/korea.rss"
    feed = world.publish(feed_path, [alert_stories.EARLY_LOSSES])
    analysts = ("a@example.org", "b@example.org")
    path = write_config(tmp_path, [feed], extra=email_toml(inbox.port, analysts, "send_history = true\n"))

    code, out = monitor(path, "run")
    assert code == 0, out
    assert "figures: 3 found, 3 new, 0 revised" in out and alerts_line(out) == "alerts: 2 sent, 0 pending"
    assert [len(inbox.to(a)) for a in analysts] == [1, 1]
    first = inbox.to("a@example.org")[0]
    assert first.message["Subject"] == (f"news-monitor: 3 new figures — {NK} · “{alert_stories.EARLY_LOSSES.title}”")
    text = first.part("plain")
    assert "  NEW  casualties: ≈3,000" in text
    assert f"    {world.url('/news/' + alert_stories.EARLY_LOSSES.slug)}\n" in text
    assert "claimed by: Seoul's intelligence services" in text
    images = first.inline_images()  # the charts the run drew, each inline under its cid
    assert images and all(p.get_content_type() == "image/png" for p in images.values())

    code, out = monitor(path, "run")  # nothing new: no mail
    assert code == 0 and alerts_line(out) is None
    assert len(inbox.received) == 2

    world.publish(feed_path, [alert_stories.EARLY_LOSSES, alert_stories.LATER_LOSSES])
    code, out = monitor(path, "run")
    assert code == 0, out
    assert "0 new, 3 revised" in out and alerts_line(out) == "alerts: 2 sent, 0 pending"
    assert [len(inbox.to(a)) for a in analysts] == [2, 2]
    second = inbox.to("b@example.org")[1]
    assert second.message["Subject"].startswith(f"news-monitor: 3 revisions — {NK}")
    text = second.part("plain")
    assert "  REVISED  casualties: ≈4,700\n    was 3,000 on 2025-01-10 (+1,700)\n" in text
    assert "  REVISED  killed: ≈600" in text and "    was 300 on 2025-01-10 (+300)\n" in text
    assert "was 3,000 on 2025-01-10 · <b>+1,700</b>" in second.part("html")
    sent = sql_rows(path, "SELECT recipient, status, n_new, n_revisions FROM alerts ORDER BY queued_at, recipient")
    assert sent == [
        {"recipient": a, "status": "sent", "n_new": n, "n_revisions": r} for n, r in ((3, 0), (0, 3)) for a in analysts
    ]


@pytest.mark.usefixtures("prefect_harness")
def test_flow_baseline_then_smtp_down_then_delivered_exactly_once(
    world: World, tmp_path: Path, inbox: Inbox, dead_port: int
) -> None:
    feed_path = f"/{tmp_path.name}/korea.rss"
    feed = world.publish(feed_path, [alert_stories.EARLY_LOSSES])
    path = write_config(tmp_path, [feed], extra=email_toml(dead_port))

    code, out = monitor(path, "run")  # the first run is the baseline: its figures are not mailed
    assert code == 0, out
    assert "3 new" in out and alerts_line(out) is None
    assert sql_rows(path, "SELECT topic, figures_skipped FROM topic_baselines") == [{"topic": NK, "figures_skipped": 3}]

    world.publish(feed_path, [alert_stories.EARLY_LOSSES, alert_stories.HOSTILE_HEADLINE])
    code, out = monitor(path, "run")  # the mail server is down: the digest waits
    assert alerts_line(out) == "alerts: 0 sent, 1 pending"
    assert f"note: 127.0.0.1:{dead_port}: connection refused" in out
    assert sql_rows(path, "SELECT r.status, a.attempts FROM runs r JOIN alerts a USING (run_id)") == [
        {"status": "partial", "attempts": 1}
    ]
    code, preview = monitor(path, "alerts", "preview", "--html")  # the page with the charts the mail will have
    assert code == 0, preview
    shown = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', preview)
    code, raw = monitor(path, "alerts", "preview", "--raw")
    assert code == 0 and raw.count("Content-Disposition: inline") == len(shown) > 0, raw

    write_config(tmp_path, [feed], extra=email_toml(inbox.port))
    code, out = monitor(path, "run")  # the server is back: the next run sends it
    assert code == 0, out
    assert "articles: 0 new" in out and alerts_line(out) == "alerts: 1 sent, 0 pending"
    code, out = monitor(path, "run")
    assert alerts_line(out) is None

    [got] = inbox.received
    msg = got.message
    assert [k.lower() for k in msg] == DIGEST_HEADERS and got.rcpt_tos == ("analyst@example.org",)
    assert "=?" not in str(msg["Subject"]) and "\n" not in str(msg["Subject"])
    assert msg["Subject"].startswith(f"news-monitor: 3 revisions — {NK} · “Losses rise Bcc: evil@")
    assert "was 3,000 on 2025-01-10 (+1,000)" in got.part("plain")
    images = got.inline_images()  # the mail carries the charts the preview showed, in the same places
    alts = re.findall(r'<img src="cid:[^"]+" alt="([^"]+)"', got.part("html"))
    assert alts == [alt for _, alt in shown] and len(images) == len(shown)
    assert [base64.b64decode(data)[:8] for data, _ in shown] == [b"\x89PNG\r\n\x1a\n"] * len(shown)
    [row] = sql_rows(path, "SELECT status, attempts, error, message_id FROM alerts")
    assert row == {"status": "sent", "attempts": 2, "error": None, "message_id": msg["Message-ID"]}


def alerts_line(out: str) -> str | None:
    """The run summary's `alerts: N sent, M pending` line (progress lines start with a time)."""
    return next((line for line in out.splitlines() if line.startswith("alerts: ")), None)


def sql_rows(path: Path, query: str) -> list[dict[str, Any]]:
    code, out = monitor(path, "sql", "-f", "json", query)
    assert code == 0, out
    result: list[dict[str, Any]] = json.loads(out)
    return result
