"""Series: the read side of history — what it decided (new figures, revisions, counterclaims) as one record.

`history` decides and writes `series_values`; everything that shows a decision reads it through here, as a
`Decision`: the run's summary (`runs`), the digest of an alert (`digest`), the report's tables (`report`) and
charts (`charts`). A value and the value it replaced are formatted here, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Literal

import duckdb

Kind = Literal["new", "revision", "counterclaim"]
Scope = Literal["total", "incident"]
MILITARY = "military"  # the default group (history.MILITARY; repeated here so reading needs no deciding code)
MAX_POINTS = 400  # reports drawn per chart (the latest ones): a chart of 40,000 dots says nothing more


@dataclass(frozen=True, slots=True)
class Decision:
    """A new figure, a revision or a counterclaim: the value of a series (topic, category, group, scope) from
    `as_of` on, as the run `run_id` decided it."""

    topic: str
    category: str
    who: str | None
    low: int | None
    high: int | None
    qualifier: str
    kind: Kind
    previous_low: int | None
    previous_high: int | None
    previous_as_of: datetime | None
    change: int | None  # value minus previous value, where both are single numbers
    article_url: str
    outlet: str | None
    published_at: datetime | None
    claimant: str | None
    quote: str
    run_id: str
    group: str = MILITARY  # the series' group: civilians | military | a named other force
    as_of: datetime | None = None  # the first report's publication time (fetch time when it has none)
    scope: Scope = "total"  # total | incident (one event)
    claimant_key: str | None = None  # the source, canonical (monitor.claimants)
    previous_claimant: str | None = None  # the claimant key of the value it replaced
    suspect: bool = False  # a total that fell by more than half from the value it replaced
    decided_at: datetime | None = None  # when the monitor decided it (the run), UTC
    title: str | None = None  # the article's title, where it has one

    @property
    def value(self) -> str:
        """The value as an analyst reads it: ≈4,700 · ≥50 · 10,000–12,000."""
        return format_value(self.low, self.high, self.qualifier)

    @property
    def previous(self) -> str | None:
        """The value this one replaced, bare (its qualifier is not part of the change); None for a new one."""
        if self.kind == "new":
            return None
        return format_value(self.previous_low, self.previous_high, "range") or None

    @property
    def source(self) -> str | None:
        """Who claims the value: its canonical key, else its wording."""
        return self.claimant_key or self.claimant

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _TIMES:
            value = data[name]
            data[name] = value.isoformat() if isinstance(value, datetime) else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        """A decision back from `to_json`, or from a digest item queued by an earlier version (formatted
        `value` and `previous` instead of numbers)."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        if "low" not in data:  # an earlier version's item: its numbers are in the formatted text
            known["low"], known["high"], known["qualifier"] = parse_value(str(data.get("value") or ""))
            known["previous_low"], known["previous_high"], _ = parse_value(str(data.get("previous") or ""))
            known.setdefault("run_id", "")
        for name in _TIMES:
            value = known.get(name)
            known[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
        return cls(**known)


_TIMES = ("previous_as_of", "published_at", "as_of", "decided_at")


def format_value(low: int | None, high: int | None, qualifier: str) -> str:
    """A figure as an analyst reads it: ≈4,700 · ≥50 · ≤180 · 10,000–12,000 · 600."""
    if low is None and high is None:
        return ""
    if qualifier == "at_least" or high is None:
        return f"≥{low:,}"
    if qualifier == "at_most" or low is None:
        return f"≤{high:,}"
    if low != high:
        return f"{low:,}–{high:,}"
    return f"≈{low:,}" if qualifier == "approximate" else f"{low:,}"


def parse_value(text: str) -> tuple[int | None, int | None, str]:
    """`format_value` backwards: "≈4,700" -> (4700, 4700, "approximate"); "" -> (None, None, "exact")."""
    digits = text.lstrip("≈≥≤").replace(",", "")
    low_text, _, high_text = digits.partition("–")
    try:
        low = int(low_text)
        high = int(high_text) if high_text else low
    except ValueError:
        return None, None, "exact"
    if text.startswith("≥"):
        return low, None, "at_least"
    if text.startswith("≤"):
        return None, low, "at_most"
    if high_text:
        return low, high, "range"
    return low, high, "approximate" if text.startswith("≈") else "exact"


def previous_text(d: Decision) -> str:
    """The value a decision replaced, and whose it was when another source gave it: "NIS: 600"; "—" for a
    new figure."""
    if d.previous is None:
        return "—"
    return f"{d.previous_claimant or 'unnamed'}: {d.previous}" if d.kind == "counterclaim" else d.previous


# --- reading ---------------------------------------------------------------------------------------------

_COLUMNS = """
    v.topic, v.category, v.who, v.low, v.high, v.qualifier, v.kind, v.previous_low, v.previous_high,
    v.previous_as_of, v.change, v.article_url, v.outlet, v.published_at, v.claimant,
    coalesce(v.quote, '') AS quote, v.run_id, v.grp AS "group", v.as_of, coalesce(v.scope, 'total') AS scope,
    v.claimant_key, v.previous_claimant, coalesce(v.suspect, false) AS suspect, v.decided_at, a.title"""


def _read(con: duckdb.DuckDBPyConnection, where: str, params: Sequence[Any]) -> list[Decision]:
    cur = con.execute(
        f"SELECT {_COLUMNS} FROM new_figures v LEFT JOIN articles a USING (article_id) {where}", list(params)
    )
    names = [c[0] for c in cur.description or ()]
    out = []
    for r in cur.fetchall():
        row: dict[str, Any] = {n: utc(v) if isinstance(v, datetime) else v for n, v in zip(names, r, strict=True)}
        out.append(Decision(**row))
    return out


def utc(when: datetime) -> datetime:
    """A time in UTC (DuckDB gives TIMESTAMPTZ in the session's zone; a naive time is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def of_run(con: duckdb.DuckDBPyConnection, run_id: str, decided_at: datetime | None = None) -> list[Decision]:
    """What one run decided (one deciding round of it, when `decided_at` is given), in publication order."""
    return _read(
        con,
        "WHERE v.run_id = $1 AND ($2::TIMESTAMPTZ IS NULL OR v.decided_at = $2) "
        "ORDER BY v.as_of, v.article_id, v.seq, v.topic",
        [run_id, decided_at],
    )


def of_topic(con: duckdb.DuckDBPyConnection, topic: str) -> list[Decision]:
    """Every decision of a topic, in publication order (the last of a series is its value in force)."""
    return _read(con, "WHERE v.topic = $1 ORDER BY v.as_of, v.article_id, v.seq", [topic])


@dataclass(frozen=True, slots=True)
class Report:
    """One report of a figure: an article saying the value at a time."""

    when: datetime
    low: int | None
    high: int | None
    qualifier: str
    label: str  # claimant, else outlet: the colour


@dataclass(frozen=True, slots=True)
class Chart:
    """What a chart of one series shows: its reports and its accepted values."""

    topic: str
    category: str
    reports: tuple[Report, ...]  # the latest `max_points`, oldest first
    values: Mapping[str, tuple[Decision, ...]] = field(default_factory=dict)  # accepted values, per group
    total_reports: int = 0  # before the cap


def chart(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    category: str,
    *,
    group: str | None = None,
    max_points: int = MAX_POINTS,
    decisions: Sequence[Decision] | None = None,
) -> Chart:
    """The reports (the latest `max_points`) and the accepted values of one category of a topic (of one group,
    when given); `decisions` are the topic's, when the caller has read them already."""
    rows = con.execute(
        """
        SELECT s.as_of, s.low, s.high, m.qualifier,
               coalesce(m.claimant_key, m.claimant, s.outlet, 'unknown'), count(*) OVER () AS total
        FROM series_mentions s
        JOIN figure_mentions m USING (article_id, seq)
        WHERE s.topic = $1 AND s.category = $2 AND ($3::VARCHAR IS NULL OR s.grp = $3)
        ORDER BY s.as_of DESC, s.article_id, s.seq
        LIMIT $4""",
        [topic, category, group, max_points],
    ).fetchall()
    reports = tuple(Report(utc(r[0]), r[1], r[2], r[3], r[4]) for r in reversed(rows))
    values: dict[str, list[Decision]] = {}
    for d in of_topic(con, topic) if decisions is None else decisions:
        # the accepted value is the running total: incidents are dots, not steps
        if d.category == category and (group is None or d.group == group) and d.scope == "total":
            values.setdefault(d.group, []).append(d)
    if len(values) == 1:  # one group: no need to name it on the chart
        values = {"": next(iter(values.values()))}
    return Chart(
        topic, category, reports, {k: tuple(v) for k, v in values.items()}, total_reports=int(rows[0][5]) if rows else 0
    )


Corroboration = dict[tuple[str, str, str, int | None, int | None], tuple[int, int]]


def corroboration(con: duckdb.DuckDBPyConnection, topic: str) -> Corroboration:
    """(category, group, scope, low, high) -> (outlets, reports) that carried the value (`figure_series`)."""
    rows = con.execute(
        "SELECT category, grp, scope, low, high, n_outlets, n_mentions FROM figure_series WHERE topic = ?", [topic]
    ).fetchall()
    return {(r[0], r[1], r[2], r[3], r[4]): (int(r[5]), int(r[6])) for r in rows}


def volume(con: duckdb.DuckDBPyConnection, topic: str, max_days: int) -> list[tuple[date, int]]:
    """Matched articles per day (publication day, fetch day when unknown), the latest `max_days` days."""
    rows = con.execute(
        """
        SELECT CAST(timezone('UTC', coalesce(a.published_at, a.fetched_at)) AS DATE) AS day,
               count(DISTINCT a.article_id) AS n
        FROM topic_matches t JOIN articles a USING (article_id)
        WHERE t.topic = ?
        GROUP BY day ORDER BY day DESC LIMIT ?""",
        [topic, max_days],
    ).fetchall()
    return [(r[0], int(r[1])) for r in reversed(rows)]
