"""Alert channels (Apprise), against a real receiver: an HTTP server on 127.0.0.1 taking Apprise's `json://`
and `form://` webhook posts, the way a chat service's incoming webhook does.

The flow tests run the real `monitor run` on feeds from tests/alert_stories.py; the crash test kills a real
sending process between the receiver taking a message and the process marking it sent.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import alerts, cli, config, store
from tests import alert_stories
from tests.pipeline_fixtures import write_config
from tests.test_alerts import KILLED, REVISION, Inbox, alerts_line, email_toml, queue, smtp_server
from tests.world import World

NK = "North Korean troops in Russia"
FLOOD = "River floods"
TOPICS = {
    NK: '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)',
    FLOOD: "flood OR floods",
}
SECRET = "s3cr3t-7f1c9e2a-hook-token"  # what $HOOK_TOKEN holds: it must reach the receiver and nothing else


# --- a real webhook receiver -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def alert_id(self) -> str | None:
        return self.headers.get("x-news-monitor-alert")


@dataclass
class Receiver:
    """Takes every POST and keeps it; `kill_on` (a pid) is SIGKILLed after a post is taken, before the answer."""

    port: int
    posts: list[Post] = field(default_factory=list)
    kill_on: int | None = None
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urllib.parse.urlsplit(self.path)
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw)
                else:
                    body = dict(urllib.parse.parse_qsl(raw.decode()))
                receiver.posts.append(
                    Post(
                        url.path,
                        dict(urllib.parse.parse_qsl(url.query)),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                if receiver.kill_on is not None:
                    os.kill(receiver.kill_on, signal.SIGKILL)  # taken, and the sender never hears "200"
                    receiver.kill_on = None
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def to(self, path: str) -> list[Post]:
        return [p for p in self.posts if p.path == path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    r.start()
    yield r
    r.stop()


@pytest.fixture
def hook_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    return SECRET


def channels_toml(port: int, *channels: tuple[str, str, list[str] | None]) -> str:
    """[[alerts.channels]] tables: (name, scheme://…path, topics)."""
    out = []
    for name, where, topics in channels:
        scheme, _, path = where.partition("://")
        out += [
            "[[alerts.channels]]",
            f'name = "{name}"',
            f'url = "{scheme}://127.0.0.1:{port}{path}?-token=${{HOOK_TOKEN}}"',
        ]
        if topics is not None:
            out.append(f"topics = {json.dumps(topics)}")
        out.append("")
    return "\n".join(out)


LOUD = ("apprise", "urllib3", "urllib3.connectionpool", "urllib3.connection", "requests", "monitor")


class Logs(logging.Handler):
    """Every record anything logs, down to the HTTP libraries' debug lines (re-enabled before each command:
    Prefect's logging setup quiets them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def loud(self) -> None:
        for name in LOUD:
            lg = logging.getLogger(name)
            lg.disabled = False
            lg.setLevel(logging.DEBUG)
        if self not in logging.getLogger().handlers:
            logging.getLogger().addHandler(self)


@pytest.fixture
def logs() -> Iterator[Logs]:
    handler = Logs()
    levels = {name: logging.getLogger(name).level for name in LOUD}
    yield handler
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().removeHandler(handler)


def monitor(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["-c", str(config_path), *args], catch_exceptions=False)
    return result.exit_code, result.output


# --- the flow: one message per channel per run with news ---------------------------------------------------


@pytest.mark.usefixtures("prefect_harness")
def test_each_channel_gets_one_message_per_run_with_news_for_its_topics(
    world: World, tmp_path: Path, receiver: Receiver, hook_token: str
) -> None:
    feed_path = f"/{tmp_path.name}/korea.rss"
    feed = world.publish(feed_path, [alert_stories.EARLY_LOSSES])
    extra = channels_toml(
        receiver.port,
        ("ops", "json:///ops", None),
        ("desk", "form:///desk", [NK]),
        ("floods", "json:///floods", [FLOOD]),
    )
    path = write_config(tmp_path, [feed], topics=TOPICS, extra=extra)

    code, out = monitor(path, "run")  # the baseline: recorded, not sent
    assert code == 0, out
    assert "3 new" in out and alerts_line(out) is None and receiver.posts == []

    world.publish(feed_path, [alert_stories.EARLY_LOSSES, alert_stories.LATER_LOSSES])
    code, out = monitor(path, "run")
    assert code == 0, out
    assert "0 new, 3 revised" in out and alerts_line(out) == "alerts: 2 sent, 0 pending"
    [ops], [desk] = receiver.to("/ops"), receiver.to("/desk")
    assert receiver.to("/floods") == []  # a channel hears only of its topics
    assert ops.query == {"token": hook_token} and desk.query == {"token": hook_token}
    assert ops.body["title"].startswith(f"news-monitor: 3 revisions — {NK} · “{alert_stories.LATER_LOSSES.title}")
    text = ops.body["message"]
    assert "  REVISED  casualties: ≈4,700\n    was 3,000 on 2025-01-10 (+1,700)\n" in text
    assert "claimed by: Seoul's intelligence services" in text
    assert desk.alert_id is not None and ops.alert_id is not None and desk.alert_id != ops.alert_id
    # the same digest, addressed to its channel under its own id
    assert desk.body["message"].replace("desk", "ops").replace(desk.alert_id, ops.alert_id) == text
    rows = sql_rows(
        path, "SELECT recipient, transport, status, message_id, alert_id, n_revisions FROM alerts ORDER BY recipient"
    )
    assert [(r["recipient"], r["transport"], r["status"], r["n_revisions"]) for r in rows] == [
        ("desk", "apprise", "sent", 3),
        ("ops", "apprise", "sent", 3),
    ]
    # each message is identifiable: its alert id in a header and at the end of its text
    assert {desk.alert_id, ops.alert_id} == {r["alert_id"] for r in rows} == {r["message_id"] for r in rows}
    assert text.rstrip().endswith(f'Alert {ops.alert_id}; see `monitor sql "SELECT * FROM alerts"`.')

    code, out = monitor(path, "run")  # nothing new: nothing sent
    assert code == 0 and alerts_line(out) is None and len(receiver.posts) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_channel_down_keeps_the_alert_pending_then_delivers_it_once_and_the_secret_stays_out(
    world: World, tmp_path: Path, hook_token: str, logs: Logs
) -> None:
    receiver = Receiver(free_port())  # not started: connections are refused
    feed_path = f"/{tmp_path.name}/korea.rss"
    feed = world.publish(feed_path, [alert_stories.EARLY_LOSSES])
    path = write_config(tmp_path, [feed], extra=channels_toml(receiver.port, ("ops", "json:///ops", None)))
    outputs: list[str] = []

    def run() -> tuple[int, str]:
        logs.loud()
        return monitor(path, "run")

    try:
        code, out = run()  # the baseline
        assert code == 0, out

        world.publish(feed_path, [alert_stories.EARLY_LOSSES, alert_stories.LATER_LOSSES])
        code, out = run()  # the channel is down: the alert waits
        outputs.append(out)
        assert code == 0, out
        assert alerts_line(out) == "alerts: 0 sent, 1 pending"
        assert "note: digest " in out and "to channel ops: channel ops: " in out and "next run tries again" in out
        [row] = sql_rows(path, "SELECT status, attempts, error FROM alerts")
        assert row["status"] == "pending" and row["attempts"] == 1 and "channel ops" in row["error"]
        code, status = monitor(path, "status")
        outputs.append(status)
        assert code == 0 and "1 pending" in status, status
        code, preview = monitor(path, "alerts", "preview")
        outputs.append(preview)
        assert "To: channel ops\nTitle: news-monitor: 3 revisions" in preview
        assert "REVISED  casualties: ≈4,700" in preview

        receiver.start()
        code, out = run()  # back: the next run delivers it
        outputs.append(out)
        assert code == 0 and alerts_line(out) == "alerts: 1 sent, 0 pending", out
        code, out = run()
        outputs.append(out)
        assert alerts_line(out) is None
    finally:
        receiver.stop()
    [post] = receiver.posts  # once
    [row] = sql_rows(path, "SELECT status, attempts, error, alert_id FROM alerts")
    assert row == {"status": "sent", "attempts": 2, "error": None, "alert_id": post.alert_id}
    assert post.query == {"token": hook_token}  # the receiver got the secret: it is how it checks the sender

    # …and nothing else did: not the database, the logs, the status output, the Prefect artifacts or logs
    database = config.load(path).database
    assert hook_token not in dump(database)
    assert hook_token.encode() not in b"".join(p.read_bytes() for p in database.parent.iterdir() if p.is_file())
    assert any(f"127.0.0.1:{receiver.port}" in r.getMessage() for r in logs.records)  # the HTTP libraries did log
    assert not [r.getMessage() for r in logs.records if hook_token in r.getMessage()]
    assert not [o for o in outputs if hook_token in o]
    # Prefect ships run logs from a background worker: they reach the API a moment after the run returns
    deadline = time.monotonic() + 20
    prefect_text = prefect_records(database)
    while not ("news-monitor run" in prefect_text and "channel ops" in prefect_text) and time.monotonic() < deadline:
        time.sleep(0.5)
        prefect_text = prefect_records(database)
    assert "news-monitor run" in prefect_text and "channel ops" in prefect_text  # artifacts and logs were read
    assert hook_token not in prefect_text


def dump(database: Path) -> str:
    """Every value of every table, as text."""
    with store.connect(database, read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return "\n".join(str(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def prefect_records(database: Path) -> str:
    """The Prefect artifacts and logs of every run recorded in the database."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId

    with store.connect(database, read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT flow_run_id FROM runs WHERE flow_run_id IS NOT NULL").fetchall()]
    assert ids
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
    return "\n".join([str(a.data) for a in artifacts] + [f"{x.message}" for x in logs])


def sql_rows(path: Path, query: str) -> list[dict[str, Any]]:
    code, out = monitor(path, "sql", "-f", "json", query)
    assert code == 0, out
    result: list[dict[str, Any]] = json.loads(out)
    return result


# --- the outbox: a crash between delivery and the mark ------------------------------------------------------


def channel_config(tmp_path: Path, port: int) -> Path:
    path = write_config(tmp_path, [], extra=channels_toml(port, ("ops", "json:///ops", None)))
    return path


SEND = (
    "import sys; from monitor import alerts, config; c = config.load(sys.argv[1]); "
    "print(alerts.send_pending(c.database, c))"
)


def test_a_crash_between_delivery_and_the_mark_resends_with_the_same_id(
    tmp_path: Path, receiver: Receiver, hook_token: str
) -> None:
    path = channel_config(tmp_path, receiver.port)
    cfg = config.load(path)
    queue(cfg, [])  # the topic's first run: its baseline
    _, n = queue(cfg, [REVISION, KILLED])
    assert n == 1  # one digest for the one channel
    sender = subprocess.Popen(
        [sys.executable, "-c", SEND, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    receiver.kill_on = sender.pid  # the receiver takes the message, then the sender dies before its mark
    out, _ = sender.communicate(timeout=60)
    assert sender.returncode == -signal.SIGKILL, out
    [first] = receiver.posts
    [row] = rows(cfg, "SELECT status, attempts FROM alert_outbox")
    assert row == {"status": "pending", "attempts": 1}  # delivered, but nobody could say so

    delivery = alerts.send_pending(cfg.database, cfg)  # the next run sends it again…
    assert (delivery.sent, delivery.pending) == (1, 0)
    first_again, second = receiver.posts
    assert first_again is first and second.alert_id == first.alert_id is not None  # …recognisably the same
    assert second.body == first.body
    assert rows(cfg, "SELECT status, attempts FROM alert_outbox") == [{"status": "sent", "attempts": 2}]
    assert alerts.send_pending(cfg.database, cfg).sent == 0 and len(receiver.posts) == 2  # and never again


def rows(cfg: config.Config, sql: str) -> list[dict[str, Any]]:
    with store.connect(cfg.database, read_only=True) as con:
        return store.select_dicts(con, sql)


# --- checking channels, and what a user gets wrong -----------------------------------------------------------


def test_alerts_test_posts_to_every_channel_and_names_the_one_that_failed(
    tmp_path: Path, receiver: Receiver, hook_token: str
) -> None:
    dead = free_port()
    extra = channels_toml(receiver.port, ("ops", "json:///ops", None)) + channels_toml(
        dead, ("backup", "json:///backup", None)
    )
    path = write_config(tmp_path, [], extra=extra)
    code, out = monitor(path, "alerts", "test")
    assert code == 2, out
    assert "channel ops: test message sent" in out
    assert "error: channel backup: " in out
    [error] = [line for line in out.splitlines() if line.startswith("error: channel backup: ")]
    assert error.endswith("; fix it, then try again.") and "monitor alerts test" not in error  # it was just run
    assert "Traceback" not in out and hook_token not in out
    [post] = receiver.posts
    assert post.body["title"] == "news-monitor: test message" and "channel ops" in post.body["message"]

    path.write_text(path.read_text().replace(channels_toml(dead, ("backup", "json:///backup", None)), ""))
    code, out = monitor(path, "alerts", "test")
    assert code == 0 and out.strip() == "channel ops: test message sent", out


def test_an_unset_variable_keeps_the_alert_pending_and_says_which(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    cfg = config.load(channel_config(tmp_path, receiver.port))
    queue(cfg, [])  # the baseline
    queue(cfg, [REVISION])
    delivery = alerts.send_pending(cfg.database, cfg)
    assert (delivery.sent, delivery.pending) == (0, 1) and receiver.posts == []
    [error] = delivery.errors
    assert "$HOOK_TOKEN is not set. Set it in the environment of `monitor run`" in error
    delivery = alerts.send_pending(cfg.database, cfg, environ={"HOOK_TOKEN": SECRET})
    assert delivery.sent == 1 and receiver.posts[0].query == {"token": SECRET}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('url = "nosuchservice://x"', "alerts.channels[0].url: nosuchservice:// is not a service Apprise knows"),
        ('url = "hooks.example.org/x"', 'alerts.channels[0].url: expected an Apprise URL like "ntfy://host/topic"'),
        ('url = "json://h/x?t=${1TOKEN}"', "alerts.channels[0].url: ${1TOKEN} is not an environment variable name"),
        ('url = "json://h/x"\ntopics = ["Nope"]', "alerts.channels[0].topics[0]: no topic named 'Nope'"),
        (
            'url = "json://h/x"\nname = "a"\n[[alerts.channels]]\nurl = "json://h/y"\nname = "A"',
            "alerts.channels[1].name: channel 'A' is defined twice",
        ),
        ('url = "json://h/x"\nsecret = "x"', "alerts.channels[0].secret: unknown key."),
    ],
)
def test_channel_config_errors_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    path = write_config(tmp_path, [], extra=f"[[alerts.channels]]\n{table}\n")
    code, out = monitor(path, "alerts", "test")
    assert code == 2 and f"error: {path}: {message}" in out, out
    assert "Traceback" not in out


def test_queued_channel_rows_keep_the_url_out(tmp_path: Path, receiver: Receiver, hook_token: str) -> None:
    cfg = config.load(channel_config(tmp_path, receiver.port))
    queue(cfg, [])  # the baseline
    queue(cfg, [REVISION])
    [row] = rows(cfg, "SELECT recipient, transport, message_id, alert_id FROM alert_outbox")
    assert row["recipient"] == "ops" and row["transport"] == "apprise" and row["message_id"] == row["alert_id"]
    assert f"127.0.0.1:{receiver.port}" not in dump(cfg.database) and "HOOK_TOKEN" not in dump(cfg.database)


@pytest.fixture
def mailbox() -> Iterator[Inbox]:
    with smtp_server(Inbox()) as box:
        yield box


def test_mail_and_channels_share_one_outbox_and_one_delivery(
    tmp_path: Path, receiver: Receiver, mailbox: Inbox, hook_token: str
) -> None:
    inbox = mailbox
    path = write_config(
        tmp_path,
        [],
        extra=email_toml(inbox.port, ("a@example.org", "b@example.org"))
        + channels_toml(receiver.port, ("ops", "json:///ops", None)),
    )
    cfg = config.load(path)
    queue(cfg, [])  # the baseline
    _, n = queue(cfg, [REVISION, KILLED])
    assert n == 3  # one digest per address, one per channel
    delivery = alerts.send_pending(cfg.database, cfg)
    assert (delivery.sent, delivery.pending, delivery.errors) == (3, 0, ())
    assert sorted(r for m in inbox.received for r in m.rcpt_tos) == ["a@example.org", "b@example.org"]
    [post] = receiver.posts
    assert rows(cfg, "SELECT recipient, transport, status FROM alerts ORDER BY alert_id") == [
        {"recipient": "a@example.org", "transport": "email", "status": "sent"},
        {"recipient": "b@example.org", "transport": "email", "status": "sent"},
        {"recipient": "ops", "transport": "apprise", "status": "sent"},
    ]
    mail_text = inbox.received[0].part("plain")
    # the same digest whatever carries it: the channel's text is the mail's plain part, addressed to the channel
    assert post.body["message"].split("\n-- \n")[0] == mail_text.split("\n-- \n")[0].replace(
        inbox.received[0].message["X-News-Monitor-Alert"], str(post.alert_id)
    )
