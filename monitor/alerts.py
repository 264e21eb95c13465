"""Alerts: an outbox of e-mail digests written with the run's decisions, sent by SMTP after the run.

Nothing lost: `enqueue` writes one digest per recipient into `alert_outbox` inside the transaction that
records the run's new figures and revisions, so a decided figure always has its digest queued. Nothing
doubled: `send_pending` sends each pending digest and marks it sent in its own short transaction right
after the server accepts it. Only a crash between the server's "250 accepted" and that mark makes the next
run send a digest again, with the same Message-ID (at least once, with recognisable duplicates).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from monitor import config, history, mail, runs, store
from monitor.errors import AlertError, ConfigError

log = logging.getLogger(__name__)

ANSWERED = ("ok", "not_modified", "unchanged")  # feed_polls statuses of a feed that answered
_COLUMNS = ("alert_id, run_id, recipient, subject, message_id, created_at, topics, items, n_new, "
            "n_revisions, coalesce(n_counterclaims, 0) AS n_counterclaims, status, attempts, last_error")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What `send_pending` did: digests sent, still pending, refused for good, and why."""

    sent: int = 0
    pending: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)
    failed: int = 0


# --- queueing (inside the run's transaction) -------------------------------------------------------------

def enqueue(con: duckdb.DuckDBPyConnection, run_id: str, changes: Sequence[history.Change],
            cfg: config.Config) -> int:
    """Write this run's alerts to the outbox, in the caller's transaction; returns how many digests.

    A topic's first run establishes its baseline (its figures are recorded, not mailed) unless
    [email] send_history is true. Topics no longer in the config are not mailed.
    """
    now = datetime.now(UTC)
    baseline = _baseline(con, run_id, changes, cfg, now)
    if cfg.email is None:
        return 0
    email = cfg.email
    configured = {t.name: t for t in cfg.topics}
    per_recipient: dict[str, list[history.Change]] = defaultdict(list)
    for c in changes:
        topic = configured.get(c.topic)
        if topic is None or (c.topic in baseline and not email.send_history):
            continue
        for address in dict.fromkeys(topic.recipients if topic.recipients is not None else email.recipients):
            per_recipient[address].append(c)
    if not per_recipient:
        return 0
    titles = _titles(con, sorted({c.article_url for cs in per_recipient.values() for c in cs}))
    order = [t.name for t in cfg.topics]
    row = con.execute("SELECT count(*) FROM alert_outbox WHERE run_id = ?", [run_id]).fetchone()
    first = (int(row[0]) if row else 0) + 1  # a second enqueue in one run gets new ids, never a clash
    rows = []
    for n, (recipient, cs) in enumerate(sorted(per_recipient.items()), first):
        items = [item(c, titles.get(c.article_url)) for c in cs]
        d = digest(f"{run_id}-{n}", run_id, recipient, items, order, email, now)
        rows.append(_row(d))
    store.insert_columns(con, "alert_outbox", rows)
    log.info("alerts: %d digest(s) queued for run %s", len(rows), run_id)
    return len(rows)


def _baseline(con: duckdb.DuckDBPyConnection, run_id: str, changes: Sequence[history.Change],
              cfg: config.Config, now: datetime) -> set[str]:
    """Topics whose first run this is; recorded once a run in which feeds answered has seen them.

    A first run whose feeds all failed fetched nothing, so it cannot be the baseline: otherwise the next
    run, the first to fetch the feeds' backlog, would mail all of it.
    """
    known = {r[0] for r in con.execute("SELECT topic FROM topic_baselines").fetchall()}
    fresh = [t.name for t in cfg.topics if t.name not in known]
    if not fresh:
        return set()
    row = con.execute("SELECT count(*) FROM feed_polls WHERE run_id = ? AND status IN (SELECT unnest(?))",
                      [run_id, list(ANSWERED)]).fetchone()
    if row and row[0]:
        mailed = cfg.email is not None and cfg.email.send_history
        skipped = Counter(c.topic for c in changes)
        store.insert_columns(con, "topic_baselines", [
            {"topic": t, "run_id": run_id, "established_at": now,
             "figures_skipped": 0 if mailed else skipped[t]} for t in fresh])
        for t in fresh:
            log.info("alerts: baseline for topic %r: %d figure(s) recorded, %s", t, skipped[t],
                     "mailed (send_history)" if mailed else "not mailed")
    return set(fresh)


def _titles(con: duckdb.DuckDBPyConnection, urls: Sequence[str]) -> dict[str, str]:
    if not urls:
        return {}
    rows = con.execute("SELECT url, title FROM articles "
                       "WHERE url IN (SELECT unnest(?)) AND title IS NOT NULL", [list(urls)]).fetchall()
    return {r[0]: r[1] for r in rows}


def item(c: history.Change, title: str | None = None) -> mail.Item:
    """A decided change as the digest shows it."""
    revision = c.kind in ("revision", "counterclaim")  # both replace a value: show it, and whose it was
    return mail.Item(
        topic=c.topic, kind=c.kind, category=c.category, value=runs.format_value(c.low, c.high, c.qualifier),
        # "casualties" or "fatalities" as who names nobody: the category already says it
        who=c.who if c.who and history.groups().label(c.who) else None, claimant=c.claimant,
        # the earlier figure's qualifier is not part of the change: show its bare value or range
        previous=(runs.format_value(c.previous_low, c.previous_high, "range") or None) if revision else None,
        previous_as_of=c.previous_as_of if revision else None, change=c.change if revision else None,
        quote=c.quote, title=title, outlet=c.outlet, published_at=c.published_at, article_url=c.article_url,
        scope=c.scope, claimant_key=c.claimant_key, previous_claimant=c.previous_claimant if revision else None,
        suspect=c.suspect)


def digest(alert_id: str, run_id: str, recipient: str, items: Sequence[mail.Item], topic_order: Sequence[str],
           email: config.EmailConfig, now: datetime) -> mail.Digest:
    """One recipient's digest: at most max_figures items, shared fairly between its topics."""
    topics = tuple(dict.fromkeys([t for t in topic_order if any(i.topic == t for i in items)]
                                 + [i.topic for i in items]))
    shown = fair_share(items, topics, email.max_figures)
    ordered = tuple(i for _, group in mail.grouped(shown, topics) for i in group)
    n_revisions = sum(i.kind == "revision" for i in items)
    n_counterclaims = sum(i.kind == "counterclaim" for i in items)
    n_new = len(items) - n_revisions - n_counterclaims
    headline = ordered[0].title if ordered else None
    return mail.Digest(alert_id=alert_id, run_id=run_id, recipient=recipient,
                       subject=mail.subject(n_new, n_revisions, topics, headline, n_counterclaims),
                       message_id=mail.message_id(alert_id, email.sender), created_at=now, topics=topics,
                       items=ordered, n_new=n_new, n_revisions=n_revisions, n_counterclaims=n_counterclaims)


def fair_share(items: Sequence[mail.Item], topics: Sequence[str], limit: int) -> list[mail.Item]:
    """At most `limit` items, taken in turn from each topic (a busy topic must not push a quiet one out)."""
    queues = [group for _, group in mail.grouped(items, topics)]
    out: list[mail.Item] = []
    while len(out) < limit and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def _row(d: mail.Digest) -> dict[str, Any]:
    return {"alert_id": d.alert_id, "run_id": d.run_id, "created_at": d.created_at, "recipient": d.recipient,
            "subject": d.subject, "message_id": d.message_id, "topics": list(d.topics), "n_new": d.n_new,
            "n_revisions": d.n_revisions, "n_counterclaims": d.n_counterclaims, "figures": [i.line() for i in d.items],
            "items": json.dumps([i.to_json() for i in d.items], ensure_ascii=False),
            "status": "pending", "attempts": 0}


# --- sending (after the run's transaction) ----------------------------------------------------------------

Charts = Callable[[mail.Digest], Sequence[mail.Chart]]


def send_pending(db_path: Path, cfg: config.Config, *, charts: Charts | None = None) -> Delivery:
    """Send every pending digest, oldest first, and mark each sent as soon as the server accepts it.

    SMTP down, silent or refusing login: the digests stay pending with the error recorded, and the next
    run sends them. `charts`, when given, returns the images to show inline in a digest's HTML part.
    """
    if cfg.email is None:
        return Delivery()
    with store.open_for_write(db_path) as con, store.transaction(con):
        left = _digests(con, "WHERE status = 'pending' ORDER BY created_at, alert_id")
        # counted before the session opens: from here on a crash may leave a digest sent but not marked,
        # and last_attempt_at says when that could have happened
        con.execute("UPDATE alert_outbox SET attempts = attempts + 1, last_attempt_at = ? "
                    "WHERE alert_id IN (SELECT unnest(?))", [datetime.now(UTC), [d.alert_id for d in left]])
    total = len(left)
    if not left:
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
    pending = total - sent - failed  # the run lock keeps every other writer out meanwhile
    log.info("alerts: %d sent, %d pending, %d failed", sent, pending, failed)
    return Delivery(sent=sent, pending=pending, errors=tuple(errors), failed=failed)


def _charts(charts: Charts | None, d: mail.Digest) -> Sequence[mail.Chart]:
    """The digest's inline images; a chart that cannot be drawn must not hold back the figures."""
    if charts is None:
        return ()
    try:
        return charts(d)
    except Exception as e:  # any failure: charts are illustration, the digest goes out without them
        log.warning("alerts: digest %s goes without charts: %s: %s", d.alert_id, type(e).__name__, e)
        return ()


def _settle(db_path: Path, alert_ids: Sequence[str], status: str | None, error: str | None) -> None:
    """One short transaction per outcome (the schema is in place: no migration check on these opens)."""
    now = datetime.now(UTC)
    with store.connect(db_path) as con, store.transaction(con):
        if status == "sent":
            con.execute("UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_error = NULL "
                        "WHERE alert_id IN (SELECT unnest(?))", [now, list(alert_ids)])
        else:
            con.execute("UPDATE alert_outbox SET status = coalesce(?, status), last_error = ? "
                        "WHERE alert_id IN (SELECT unnest(?))", [status, error, list(alert_ids)])


def _digests(con: duckdb.DuckDBPyConnection, where: str, params: Sequence[Any] = ()) -> list[mail.Digest]:
    out = []
    for r in store.select_dicts(con, f"SELECT {_COLUMNS} FROM alert_outbox {where}", params):
        items = tuple(mail.Item.from_json(x) for x in json.loads(r["items"]))
        out.append(mail.Digest(alert_id=r["alert_id"], run_id=r["run_id"], recipient=r["recipient"],
                               subject=r["subject"], message_id=r["message_id"], created_at=r["created_at"],
                               topics=tuple(r["topics"]), items=items, n_new=r["n_new"],
                               n_revisions=r["n_revisions"], n_counterclaims=r["n_counterclaims"]))
    return out


# --- what the CLI shows and checks -------------------------------------------------------------------------

def pending(db_path: Path) -> list[mail.Digest]:
    """The digests the next run will send (read-only: safe while a run is writing)."""
    with store.connect(db_path, read_only=True) as con:
        try:
            return _digests(con, "WHERE status = 'pending' ORDER BY created_at, alert_id")
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


def send_test(cfg: config.Config, to: Sequence[str] = ()) -> list[str]:
    """Send a test message through the configured server; returns the addresses it went to."""
    email = require_email(cfg)
    targets = list(to) or recipients(cfg)
    if not targets:
        raise ConfigError(f"{cfg.path}: no recipients: set [email] recipients (or a topic's recipients), "
                          "or give --to ADDRESS.")
    msg = mail.check_message(email, targets, str(cfg.path))
    with mail.Transport(email) as smtp:
        for address in targets:
            smtp.send(msg, address)
    return targets


def require_email(cfg: config.Config) -> config.EmailConfig:
    if cfg.email is None:
        raise ConfigError(f"{cfg.path}: no [email] table, so no alerts are sent. Add one with smtp_host, "
                          "sender and recipients (see docs/alerts.md).")
    return cfg.email
