"""Alerts: an outbox of digests written with the figures, sent by SMTP after the run (issue #5: in progress)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from monitor import config, history


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int = 0
    pending: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)


def enqueue(con: duckdb.DuckDBPyConnection, run_id: str, changes: Sequence[history.Change],
            cfg: config.Config) -> int:
    """Write this run's alerts to the outbox, in the caller's transaction; returns how many."""
    return 0


def send_pending(db_path: Path, cfg: config.Config) -> Delivery:
    """Send every pending alert and mark it sent; SMTP failures leave it pending."""
    return Delivery()
