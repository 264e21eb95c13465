"""Alerts: an outbox of digests written with the run's decisions, delivered after the run by e-mail (`mail`)
and to Apprise channels (`channels`).

Nothing lost: `enqueue` writes one digest per recipient and one per channel into `alert_outbox` inside the
transaction that records the run's new figures and revisions, so a decided figure always has its digests
queued. Nothing doubled: `send_pending` delivers each pending digest and marks it sent in its own short
transaction right after the server or service accepts it. Only a crash between that acceptance and the mark
makes the next run deliver a digest again, with the same id (the Message-ID of a mail, the alert id a channel
message ends with): at least once, with recognisable duplicates.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from monitor import channels, config, digest, mail, series, store
from monitor.errors import AlertError, ConfigError

log = logging.getLogger(__name__)

ANSWERED = ("ok", "not_modified", "unchanged")  # feed_polls statuses of a feed that answered
_COLUMNS = (
    "alert_id, run_id, recipient, subject, message_id, created_at, topics, items, n_new, "
    "n_revisions, coalesce(n_counterclaims, 0) AS n_counterclaims, status, attempts, last_error, "
    "coalesce(transport, 'email') AS transport"
)
Status = Literal["pending", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What `send_pending` did: digests sent, still pending, refused for good, and why."""

    sent: int = 0
    pending: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)
    failed: int = 0


# --- queueing (inside the run's transaction) -------------------------------------------------------------


def enqueue(con: duckdb.DuckDBPyConnection, run_id: str, changes: Sequence[series.Decision], cfg: config.Config) -> int:
    """Write this run's alerts to the outbox, in the caller's transaction; returns how many digests.

    One digest per e-mail recipient and one per channel ([[alerts.channels]]) told about a topic with news.
    A topic's first run establishes its baseline (its figures are recorded, not sent) unless [email]
    send_history is true. Topics no longer in the config are not sent.
    """
    now = datetime.now(UTC)
    baseline = _baseline(con, run_id, changes, cfg, now)
    send_history = cfg.email is not None and cfg.email.send_history
    configured = {t.name: t for t in cfg.topics}
    wanted = [c for c in changes if c.topic in configured and (c.topic not in baseline or send_history)]
    per_recipient: dict[str, list[series.Decision]] = defaultdict(list)
    if cfg.email is not None:
        for c in wanted:
            topic = configured[c.topic]
            for address in dict.fromkeys(topic.recipients if topic.recipients is not None else cfg.email.recipients):
                per_recipient[address].append(c)
    per_channel = {ch.name: [c for c in wanted if ch.topics is None or c.topic in ch.topics] for ch in cfg.channels}
    if not per_recipient and not any(per_channel.values()):
        return 0
    titles = _titles(con, sorted({c.article_url for c in wanted}))
    order = [t.name for t in cfg.topics]
    row = con.execute("SELECT count(*) FROM alert_outbox WHERE run_id = ?", [run_id]).fetchone()
    n = int(row[0]) if row else 0  # a second enqueue in one run gets new ids, never a clash
    rows = []
    for recipient, cs in sorted(per_recipient.items()):
        assert cfg.email is not None
        n += 1
        alert_id = f"{run_id}-{n}"
        items = [digest.shown(c, titles.get(c.article_url)) for c in cs]
        rows.append(
            _row(
                digest.compose(
                    alert_id,
                    run_id,
                    recipient,
                    items,
                    order,
                    cfg.email.max_figures,
                    mail.message_id(alert_id, cfg.email.sender),
                    now,
                )
            )
        )
    for ch in cfg.channels:
        cs = per_channel[ch.name]
        if not cs:
            continue
        n += 1
        alert_id = f"{run_id}-{n}"
        items = [digest.shown(c, titles.get(c.article_url)) for c in cs]
        # a channel message carries its alert id in its text (and a webhook's header): that is its message id
        d = digest.compose(alert_id, run_id, ch.name, items, order, ch.max_figures, alert_id, now)
        rows.append(_row(replace(d, transport="apprise")))
    store.insert_columns(con, "alert_outbox", rows)
    log.info("alerts: %d digest(s) queued for run %s", len(rows), run_id)
    return len(rows)


def _baseline(
    con: duckdb.DuckDBPyConnection, run_id: str, changes: Sequence[series.Decision], cfg: config.Config, now: datetime
) -> set[str]:
    """Topics whose first run this is; recorded once a run in which feeds answered has seen them.

    A first run whose feeds all failed fetched nothing, so it cannot be the baseline: otherwise the next
    run, the first to fetch the feeds' backlog, would mail all of it.
    """
    known = {r[0] for r in con.execute("SELECT topic FROM topic_baselines").fetchall()}
    fresh = [t.name for t in cfg.topics if t.name not in known]
    if not fresh:
        return set()
    row = con.execute(
        "SELECT count(*) FROM feed_polls WHERE run_id = ? AND status IN (SELECT unnest(?))", [run_id, list(ANSWERED)]
    ).fetchone()
    if row and row[0]:
        mailed = cfg.email is not None and cfg.email.send_history
        skipped = Counter(c.topic for c in changes)
        store.insert_columns(
            con,
            "topic_baselines",
            [
                {"topic": t, "run_id": run_id, "established_at": now, "figures_skipped": 0 if mailed else skipped[t]}
                for t in fresh
            ],
        )
        for t in fresh:
            log.info(
                "alerts: baseline for topic %r: %d figure(s) recorded, %s",
                t,
                skipped[t],
                "sent (send_history)" if mailed else "not sent",
            )
    return set(fresh)


def _titles(con: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> dict[str, str]:
    if not urls:
        return {}
    rows = con.execute(
        "SELECT url, title FROM articles WHERE url IN (SELECT unnest(?)) AND title IS NOT NULL", [list(urls)]
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _row(d: digest.Digest) -> dict[str, Any]:
    return {
        "alert_id": d.alert_id,
        "run_id": d.run_id,
        "created_at": d.created_at,
        "recipient": d.recipient,
        "subject": d.subject,
        "message_id": d.message_id,
        "topics": list(d.topics),
        "n_new": d.n_new,
        "n_revisions": d.n_revisions,
        "n_counterclaims": d.n_counterclaims,
        "figures": [digest.line(i) for i in d.items],
        "items": json.dumps([i.to_json() for i in d.items], ensure_ascii=False),
        "status": "pending",
        "attempts": 0,
        "transport": d.transport,
    }


# --- sending (after the run's transaction) ----------------------------------------------------------------

Charts = Callable[[digest.Digest], Sequence[digest.Chart]]


def send_pending(
    db_path: Path, cfg: config.Config, *, charts: Charts | None = None, environ: Mapping[str, str] | None = None
) -> Delivery:
    """Deliver every pending digest, oldest first, and mark each sent as soon as it is accepted.

    SMTP or a channel down, silent or refusing: the digests stay pending with the error recorded, and the
    next run sends them. `charts`, when given, returns the images to show inline in a digest's HTML part.
    `environ` (default: the process environment) fills in the ${VARIABLES} of channel URLs, at send time only.
    """
    names = {ch.name for ch in cfg.channels}
    with store.open_for_write(db_path) as con, store.transaction(con):
        left = [
            d
            for d in _digests(con, "WHERE status = 'pending' ORDER BY created_at, alert_id")
            if (d.transport == "email" and cfg.email is not None) or (d.transport == "apprise" and d.recipient in names)
        ]
        # counted before delivery starts: from here on a crash may leave a digest sent but not marked,
        # and last_attempt_at says when that could have happened
        con.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE alert_id IN (SELECT unnest(?))",
            [datetime.now(UTC), [d.alert_id for d in left]],
        )
    if not left:
        return Delivery()
    by_mail = _send_mail(db_path, cfg, [d for d in left if d.transport == "email"], charts)
    by_channel = _send_channels(
        db_path, cfg, [d for d in left if d.transport == "apprise"], os.environ if environ is None else environ
    )
    sent, failed = by_mail.sent + by_channel.sent, by_mail.failed + by_channel.failed
    pending = len(left) - sent - failed  # the run lock keeps every other writer out meanwhile
    log.info("alerts: %d sent, %d pending, %d failed", sent, pending, failed)
    return Delivery(sent=sent, pending=pending, errors=by_mail.errors + by_channel.errors, failed=failed)


def _send_mail(db_path: Path, cfg: config.Config, left: list[digest.Digest], charts: Charts | None) -> Delivery:
    if not left or cfg.email is None:
        return Delivery()
    sent = failed = 0
    errors: list[str] = []
    try:
        with mail.Transport(cfg.email) as smtp:
            while left:
                d = left[0]
                try:
                    smtp.send(mail.build(d, cfg.email, _charts(charts, d)), d.recipient)
                except (mail.MessageRejected, mail.MessageDeferred) as e:
                    rejected = isinstance(e, mail.MessageRejected)
                    _settle(db_path, [d.alert_id], "failed" if rejected else None, str(e))
                    failed += rejected
                    errors.append(f"digest {d.alert_id} to {d.recipient}: {e}")
                except AlertError as e:
                    if not isinstance(e, mail.Unbuildable):
                        raise  # the session broke: handled below with the rest
                    _settle(db_path, [d.alert_id], "failed", str(e))  # would never build: out of the way
                    failed += 1
                    errors.append(f"digest {d.alert_id} to {d.recipient}: {e}")
                else:
                    _settle(db_path, [d.alert_id], "sent", None)
                    sent += 1
                left.pop(0)
    except AlertError as e:
        # the session could not be opened or broke: every digest not yet handled waits for the next run
        _settle(db_path, [d.alert_id for d in left], None, str(e))
        errors.append(f"{e} ({len(left)} digest(s) stay pending; the next run sends them)")
    return Delivery(sent=sent, errors=tuple(errors), failed=failed)


def _send_channels(
    db_path: Path, cfg: config.Config, left: Sequence[digest.Digest], environ: Mapping[str, str]
) -> Delivery:
    """Each digest to its channel; a channel that failed once in this run is not tried again in it."""
    by_name = {ch.name: ch for ch in cfg.channels}
    down: dict[str, str] = {}
    sent = 0
    errors: list[str] = []
    for d in left:
        if d.recipient in down:
            _settle(db_path, [d.alert_id], None, down[d.recipient])
            continue
        try:
            channels.send(by_name[d.recipient], d, environ)
        except channels.ChannelDown as e:
            down[d.recipient] = str(e)
            _settle(db_path, [d.alert_id], None, str(e))
            errors.append(f"digest {d.alert_id} to channel {d.recipient}: {e}")
        else:
            _settle(db_path, [d.alert_id], "sent", None)
            sent += 1
    return Delivery(sent=sent, errors=tuple(errors))


def _charts(charts: Charts | None, d: digest.Digest) -> Sequence[digest.Chart]:
    """The digest's inline images; a chart that cannot be drawn must not hold back the figures."""
    if charts is None:
        return ()
    try:
        return charts(d)
    except Exception as e:  # any failure: charts are illustration, the digest goes out without them
        log.warning("alerts: digest %s goes without charts: %s: %s", d.alert_id, type(e).__name__, e)
        return ()


def _settle(db_path: Path, alert_ids: Sequence[str], status: Status | None, error: str | None) -> None:
    """One short transaction per outcome (the schema is in place: no migration check on these opens)."""
    now = datetime.now(UTC)
    with store.connect(db_path) as con, store.transaction(con):
        if status == "sent":
            con.execute(
                "UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_error = NULL "
                "WHERE alert_id IN (SELECT unnest(?))",
                [now, list(alert_ids)],
            )
        else:
            con.execute(
                "UPDATE alert_outbox SET status = coalesce(?, status), last_error = ? "
                "WHERE alert_id IN (SELECT unnest(?))",
                [status, error, list(alert_ids)],
            )


def _digests(
    con: duckdb.DuckDBPyConnection, where: str, params: Sequence[Any] = (), columns: str = _COLUMNS
) -> list[digest.Digest]:
    out = []
    for r in store.select_dicts(con, f"SELECT {columns} FROM alert_outbox {where}", params):
        items = tuple(series.Decision.from_json(x) for x in json.loads(r["items"]))
        out.append(
            digest.Digest(
                alert_id=r["alert_id"],
                run_id=r["run_id"],
                recipient=r["recipient"],
                subject=r["subject"],
                message_id=r["message_id"],
                created_at=r["created_at"],
                topics=tuple(r["topics"]),
                items=items,
                n_new=r["n_new"],
                n_revisions=r["n_revisions"],
                n_counterclaims=r["n_counterclaims"],
                transport=r["transport"],
            )
        )
    return out


# --- what the CLI shows and checks -------------------------------------------------------------------------


def pending(db_path: Path) -> list[digest.Digest]:
    """The digests the next run will send (read-only: safe while a run is writing)."""
    with store.connect(db_path, read_only=True) as con:
        try:
            return _digests(con, "WHERE status = 'pending' ORDER BY created_at, alert_id")
        except duckdb.BinderException:  # a database from before channels: the next run upgrades it
            return _digests(
                con,
                "WHERE status = 'pending' ORDER BY created_at, alert_id",
                columns=_COLUMNS.replace("coalesce(transport, 'email')", "'email'"),
            )
        except duckdb.CatalogException:  # a database from before alerts existed: nothing queued
            return []


def recipients(cfg: config.Config) -> list[str]:
    """Every address some digest may go to: [email] recipients and each topic's own list."""
    if cfg.email is None:
        return []
    found = list(cfg.email.recipients)
    for t in cfg.topics:
        found += t.recipients or []
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Check:
    """What `monitor alerts test` did on one way out (e-mail, or one channel): what went out, or why not."""

    sent: str | None  # "sent a test message to a@x.org via host:25 (security: none)" | "channel ops: …"
    error: str | None = None


def test_all(cfg: config.Config, to: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> list[Check]:
    """Send a test message through [email] (when configured, or when `to` is given) and to every channel."""
    if cfg.email is None and not cfg.channels:
        raise ConfigError(
            f"{cfg.path}: no [email] table and no [[alerts.channels]], so no alerts are sent. "
            "Add one (see docs/alerts.md)."
        )
    out: list[Check] = []
    if cfg.email is not None or to:
        email = require_email(cfg)
        try:
            sent = send_test(cfg, to)
        except AlertError as e:
            out.append(Check(None, str(e)))
        else:
            out.append(
                Check(
                    f"sent a test message to {', '.join(sent)} via {email.smtp_host}:{email.smtp_port} "
                    f"(security: {email.security})"
                )
            )
    env = os.environ if environ is None else environ
    for ch in cfg.channels:
        try:
            channels.check(ch, str(cfg.path), env)
        except AlertError as e:
            out.append(Check(None, _for_test(str(e))))
        else:
            out.append(Check(f"channel {ch.name}: test message sent"))
    return out


# How a channel's error ends when a run meets it; `monitor alerts test` was just run, so it says "try again"
RUN_HINTS = (
    " The next run tries again; `monitor alerts test` checks the channel.",
    "; the next run tries again.",
    ", then run `monitor alerts test`.",
)


def _for_test(message: str) -> str:
    for hint in RUN_HINTS:
        if message.endswith(hint):
            return message[: -len(hint)].rstrip(";,. ") + "; fix it, then try again."
    return message


def send_test(cfg: config.Config, to: Sequence[str] = ()) -> list[str]:
    """Send a test message through the configured server; returns the addresses it went to."""
    email = require_email(cfg)
    targets = list(to) or recipients(cfg)
    if not targets:
        raise ConfigError(
            f"{cfg.path}: no recipients: set [email] recipients (or a topic's recipients), or give --to ADDRESS."
        )
    msg = mail.check_message(email, targets, str(cfg.path))
    with mail.Transport(email, then="then try again.") as smtp:
        for address in targets:
            smtp.send(msg, address)
    return targets


def require_email(cfg: config.Config) -> config.EmailConfig:
    if cfg.email is None:
        raise ConfigError(
            f"{cfg.path}: no [email] table, so no alerts are sent. Add one with smtp_host, "
            "sender and recipients (see docs/alerts.md)."
        )
    return cfg.email
