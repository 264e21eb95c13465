"""History: figure series over time — new figures, corroborations and revisions (issue #4: in progress)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True, slots=True)
class Change:
    """A new figure or a revision decided in this run."""

    topic: str
    category: str
    who: str | None
    low: int | None
    high: int | None
    qualifier: str
    kind: str                      # new | revision
    previous_low: int | None
    previous_high: int | None
    previous_as_of: datetime | None
    change: int | None             # value minus previous value, where both are single numbers
    article_url: str
    outlet: str | None
    published_at: datetime | None
    claimant: str | None
    quote: str
    run_id: str


def update(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Change]:
    """Decide new figures and revisions for every mention not yet decided; idempotent."""
    return []
