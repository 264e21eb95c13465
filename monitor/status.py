"""Status: the monitor's health from its own tables — recent runs, each feed's health, pending alerts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from monitor import store

RUNS_SHOWN = 10
HEALTH_WINDOW = timedelta(days=7)  # latency and items per day are measured over the last week of polls
STALE_AFTER = timedelta(days=1)  # a feed without a success for a day is worth a look


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    status: str
    feeds_total: int
    feeds_ok: int
    feeds_failed: int
    new_articles: int
    figures: int
    new_figures: int
    revisions: int
    alerts_sent: int
    alerts_pending: int
    errors: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class FeedHealth:
    url: str
    name: str | None
    health: str  # ok | failing | backing off | stale | never polled | not in config
    last_status: str | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    backoff_until: datetime | None
    median_latency_ms: float | None  # over the polls of the last HEALTH_WINDOW that reached the server
    items_per_day: float | None  # new items per day over the same window
    polls: int  # polls in the window


@dataclass(frozen=True, slots=True)
class AlertsInfo:
    pending: int
    failed: int
    oldest_pending: datetime | None


@dataclass(frozen=True, slots=True)
class Status:
    database: str
    schema_version: int
    checked_at: datetime
    runs: tuple[RunInfo, ...]
    feeds: tuple[FeedHealth, ...]
    alerts: AlertsInfo | None = None  # None: this database has no alert outbox
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(
    db_path: Path, *, configured: Sequence[str] | None = None, runs: int = RUNS_SHOWN, now: datetime | None = None
) -> Status:
    """Read the status from the database (read-only); with `configured` feed URLs, feeds that are no
    longer configured are marked."""
    now = now or datetime.now(UTC)
    with store.connect(db_path, read_only=True) as con:
        version_row = con.execute("SELECT max(version) FROM schema_info").fetchone()
        return Status(
            database=str(db_path),
            schema_version=int(version_row[0]) if version_row and version_row[0] is not None else 0,
            checked_at=now,
            runs=tuple(_runs(con, runs)),
            feeds=tuple(_feeds(con, now, configured)),
            alerts=_alerts(con),
        )


def _runs(con: duckdb.DuckDBPyConnection, limit: int) -> list[RunInfo]:
    rows = store.select_dicts(
        con,
        """
        SELECT run_id, started_at, finished_at, epoch(finished_at) - epoch(started_at) AS seconds, status,
               feeds_total, feeds_ok, feeds_failed, new_articles, figures, new_figures, revisions,
               alerts_sent, alerts_pending, errors
        FROM runs ORDER BY started_at DESC LIMIT ?""",
        [limit],
    )
    out = []
    for r in rows:
        errors = json.loads(r.pop("errors") or "[]")
        counts = {
            k: int(v or 0)
            for k, v in r.items()
            if k not in ("run_id", "started_at", "finished_at", "seconds", "status")
        }
        out.append(
            RunInfo(
                r["run_id"],
                r["started_at"],
                r["finished_at"],
                float(r["seconds"]) if r["seconds"] is not None else None,
                r["status"],
                errors=tuple(errors),
                **counts,
            )
        )
    return out


def _feeds(con: duckdb.DuckDBPyConnection, now: datetime, configured: Sequence[str] | None) -> list[FeedHealth]:
    rows = store.select_dicts(
        con,
        """
        SELECT f.url, f.name, f.last_status, f.last_polled_at, f.last_success_at, f.consecutive_failures,
               f.last_error, f.backoff_until,
               p.median_latency_ms, p.new_items, p.polls, p.first_poll
        FROM feeds f
        LEFT JOIN (
            SELECT feed_url,
                   median(latency_ms) FILTER (WHERE status IN ('ok', 'not_modified', 'unchanged'))
                       AS median_latency_ms,
                   sum(new_items) AS new_items, count(*) AS polls, min(polled_at) AS first_poll
            FROM feed_polls WHERE polled_at >= ? GROUP BY feed_url
        ) p ON p.feed_url = f.url
        ORDER BY f.consecutive_failures DESC, f.url""",
        [now - HEALTH_WINDOW],
    )
    known = set(configured) if configured is not None else None
    out = []
    for r in rows:
        span_days = max(1.0, (now - r["first_poll"]).total_seconds() / 86400) if r["first_poll"] else None
        per_day = round(float(r["new_items"] or 0) / span_days, 1) if span_days else None
        out.append(
            FeedHealth(
                url=r["url"],
                name=r["name"],
                health=_health(r, now, known),
                last_status=r["last_status"],
                last_polled_at=r["last_polled_at"],
                last_success_at=r["last_success_at"],
                consecutive_failures=int(r["consecutive_failures"] or 0),
                last_error=r["last_error"],
                backoff_until=r["backoff_until"],
                median_latency_ms=round(float(r["median_latency_ms"]), 1)
                if r["median_latency_ms"] is not None
                else None,
                items_per_day=per_day,
                polls=int(r["polls"] or 0),
            )
        )
    return out


def _health(r: dict[str, Any], now: datetime, configured: set[str] | None) -> str:
    if configured is not None and r["url"] not in configured:
        return "not in config"
    if r["last_polled_at"] is None:
        return "never polled"
    if r["backoff_until"] is not None and r["backoff_until"] > now:
        return "backing off"
    if r["consecutive_failures"]:
        return "failing"
    if r["last_success_at"] is None or now - r["last_success_at"] > STALE_AFTER:
        return "stale"
    return "ok"


def _alerts(con: duckdb.DuckDBPyConnection) -> AlertsInfo | None:
    """Pending and failed alerts, when this database has the alert outbox (schema from the alerts stage)."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'alerts'"
        ).fetchall()
    }
    if "status" not in columns:
        return None
    created = next((c for c in ("created_at", "queued_at", "enqueued_at") if c in columns), None)
    oldest = f"min({created}) FILTER (WHERE status = 'pending')" if created else "NULL"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE status = 'pending'), "
        f"count(*) FILTER (WHERE status = 'failed'), {oldest} FROM alerts"
    ).fetchone()
    if row is None:
        return AlertsInfo(0, 0, None)
    return AlertsInfo(int(row[0]), int(row[1]), row[2])


def when_text(when: datetime | None) -> str:
    """A time as the status shows it: UTC to the minute."""
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M}" if when is not None else ""
