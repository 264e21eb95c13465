"""Queries: ad-hoc read-only SQL, locked down, on a short-lived connection that never blocks a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from monitor import store
from monitor.errors import QueryError

MAX_ROWS = 100_000  # an accidental cross join must not fill the terminal or the memory


def run_sql(path: Path, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
            max_rows: int = MAX_ROWS, wait: float = store.LOCK_WAIT) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement; returns column names and rows. Raises QueryError on bad SQL."""
    if not sql.strip():
        raise QueryError("empty SQL; give a statement such as SELECT * FROM runs")
    with store.connect(path, read_only=True, wait=wait) as con:
        try:
            cur = con.execute(sql, params or None)
        except duckdb.Error as e:
            raise QueryError(_sql_message(e)) from None
        if cur.description is None:
            return [], []
        columns = [d[0] for d in cur.description]
        rows = cur.fetchmany(max_rows)
    return columns, rows


def _sql_message(e: duckdb.Error) -> str:
    text = str(e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    if isinstance(e, duckdb.PermissionException) or "read-only" in text or "read only" in text:
        return f"{first}. `monitor sql` is read-only: writes, file and network access are disabled."
    if "enable_external_access" in text or "external access" in text.lower():
        return f"{first}. File and network access from SQL are disabled in `monitor sql`."
    return f"SQL error: {text}"
