"""Runs: what one polling cycle found new, and its honest summary (terminal, Prefect artifact, `runs`)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from monitor import feeds, series, store

log = logging.getLogger(__name__)

# The start of every error fetch gives for a failed name lookup or connection (fetch.client._reason).
CONNECT_FAILED = "could not connect"
# Runs that failed before they could write their `runs` row (the database could not be opened) wait here,
# one JSON line each, beside the database; the next run that opens it records them.
UNRECORDED_SUFFIX = ".unrecorded-runs.jsonl"


RunStatus = Literal["running", "ok", "partial", "failed", "interrupted", "skipped"]


@dataclass(slots=True)
class Summary:
    run_id: str
    status: RunStatus = "running"
    feeds_total: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0
    new_entries: int = 0
    new_articles: int = 0
    articles_failed: int = 0
    articles_deferred: int = 0  # pages the time budget left for the next cycle
    topic_matches: int = 0
    figures: int = 0
    new_figures: int = 0
    revisions: int = 0
    alerts_sent: int = 0
    alerts_pending: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    new_figure_rows: list[dict[str, str | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0  # the cycle itself, from the flow's start
    headline: str = ""  # one line that explains the run before its counts (every feed unreachable)
    waited_seconds: float | None = None  # what the user waited, start-up included (set by the CLI)
    startup_seconds: float | None = None  # of it, starting Prefect (its local API) and the process

    COUNTS = (
        "feeds_total",
        "feeds_ok",
        "feeds_not_modified",
        "feeds_failed",
        "feeds_skipped",
        "new_entries",
        "new_articles",
        "articles_failed",
        "articles_deferred",
        "topic_matches",
        "figures",
        "new_figures",
        "revisions",
        "alerts_sent",
        "alerts_pending",
    )

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.COUNTS}

    def add_polls(self, polls: Sequence[feeds.Poll]) -> None:
        self.feeds_total = len(polls)
        self.feeds_ok = sum(p.ok for p in polls)
        self.feeds_not_modified = sum(p.status in ("not_modified", "unchanged") for p in polls)
        self.feeds_failed = sum(p.status == "failed" for p in polls)
        self.feeds_skipped = sum(p.status == "backoff" for p in polls)
        self.errors = [{"feed_url": p.feed_url, "error": p.error or ""} for p in polls if p.status == "failed"]
        if self.polled_none and all(CONNECT_FAILED in (p.error or "") for p in polls):
            # not N broken feeds but one broken connection: say that, once, with what to try
            self.headline = (
                f"no feed could be reached: all {self.feeds_total} failed to connect (name lookup "
                "or connection). Is this machine offline, or does it reach the web only through "
                "a proxy? (news-monitor connects directly.) Check the network, or try "
                "`monitor demo`, which needs none."
            )
        if self.polled_none and self.feeds_skipped:
            # every feed failing or held back: a run that monitored nothing says so, with each back-off's cause
            self.notes.append(
                f"no feed polled: 0 of {self.feeds_total} ({self.feeds_failed} failed, "
                f"{self.feeds_skipped} backing off after repeated failures); "
                "`monitor run --strict` exits 1 on such a run"
            )
            self.notes += [f"{p.feed_url}: {p.error}" for p in polls if p.status == "backoff"][:20]

    def add_articles(self, stored: Sequence[Any], *, deferred: int = 0) -> None:
        """Count a batch of stored articles (articles.Article) and the pages left for the next cycle."""
        self.new_articles += len(stored)
        self.articles_failed += sum(1 for a in stored if a.fetch_error)
        self.topic_matches += sum(len(a.matches) for a in stored)
        self.figures += sum(len(a.figures) for a in stored)
        self.articles_deferred += deferred

    @property
    def polled_none(self) -> bool:
        """No feed could be polled: every one failed or is backing off (`monitor run --strict` exits 1)."""
        return self.feeds_total > 0 and self.feeds_ok == 0

    def finish(self) -> None:
        self.seconds = (datetime.now(UTC) - self.started_at).total_seconds()
        if self.status == "running":
            self.status = "partial" if self.feeds_failed or self.alerts_pending or self.polled_none else "ok"
            if self.feeds_total and self.feeds_failed == self.feeds_total:
                self.status = "failed"

    def state_message(self) -> str:
        """One short line for the Prefect state: the outcome and why, never the whole failure list."""
        if self.status == "skipped":
            return f"skipped: {self.notes[0] if self.notes else 'another run is in progress'}"
        if self.status == "failed" and self.feeds_total and self.feeds_failed == self.feeds_total:
            if self.headline:  # none could be reached: the network more likely than the feeds
                return f"failed: all {self.feeds_total} feeds failed to connect (offline? a proxy?)"
            return f"failed: all {self.feeds_total} feeds failed"  # which and why: the summary, once
        if self.status == "failed":
            return f"failed: {_first_failure(self.errors)}"
        if self.status == "partial":
            parts = [f"{self.feeds_failed} of {self.feeds_total} feeds failed"] if self.feeds_failed else []
            if self.alerts_pending:
                parts.append(f"{self.alerts_pending} alerts pending")
            return f"partial: {', '.join(parts)}; {self.new_articles} new articles"
        return f"ok: {self.feeds_ok}/{self.feeds_total} feeds, {self.new_articles} new articles"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    def text(self) -> str:
        """The few lines `monitor run` prints."""
        took = f"{self.seconds:.1f}s"
        if self.waited_seconds is not None and self.startup_seconds is not None:
            took = (
                f"{self.waited_seconds:.1f}s ({self.startup_seconds:.1f}s of it starting Prefect, "
                f"{self.seconds:.1f}s the cycle)"
            )
        lines = [
            f"run {self.run_id}: {self.status} in {took}",
            *([self.headline] if self.headline else []),
            f"feeds: {self.feeds_ok}/{self.feeds_total} ok ({self.feeds_not_modified} unchanged), "
            f"{self.feeds_failed} failed, {self.feeds_skipped} backing off",
            f"articles: {self.new_articles} new ({self.articles_failed} without a fetched body), "
            f"{self.topic_matches} topic matches"
            + (f", {self.articles_deferred} left for the next cycle" if self.articles_deferred else ""),
            f"figures: {self.figures} found, {self.new_figures} new, {self.revisions} revised",
        ]
        if self.alerts_sent or self.alerts_pending:
            lines.append(f"alerts: {self.alerts_sent} sent, {self.alerts_pending} pending")
        lines += [f"  {line}" for line in self.failure_lines()]
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def failure_lines(self, limit: int = 20) -> list[str]:
        """`failed: URL: reason`, one line per failed feed (the first `limit`), as `monitor run` prints them."""
        lines = [
            f"failed: {e['feed_url']}: {e['error']}" if e.get("feed_url") else f"failed: {e['error']}"
            for e in self.errors[:limit]
        ]
        if len(self.errors) > limit:
            lines.append(f"… and {len(self.errors) - limit} more failures (see `monitor sql` on runs/feed_polls)")
        return lines

    def markdown(self) -> str:
        """The Prefect artifact: counts, failures, and a table of new figures and revisions."""
        out = [
            f"# news-monitor run `{self.run_id}` — {self.status}",
            "",
            *([_md(self.headline), ""] if self.headline else []),
            "| what | count |",
            "|---|---:|",
        ]
        out += [f"| {k.replace('_', ' ')} | {v} |" for k, v in self.counts().items()]
        if self.errors:
            out += ["", "## Failed feeds", "", "| feed | error |", "|---|---|"]
            out += [f"| {_md(e['feed_url'])} | {_md(e['error'])} |" for e in self.errors]
        if self.new_figure_rows:
            out += [
                "",
                "## New figures and revisions",
                "",
                "| topic | category | value | previous | kind | claimant | article |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in self.new_figure_rows:
                out.append(
                    f"| {_md(r.get('topic'))} | {r.get('category')} | {_md(r.get('value'))} | "
                    f"{_md(r.get('previous'))} | {r.get('kind')} | {_md(r.get('claimant'))} | "
                    f"{_md(r.get('article_url'))} |"
                )
        return "\n".join(out)


def _first_failure(errors: Sequence[Mapping[str, str]]) -> str:
    if not errors:
        return "no reason recorded"
    e = errors[0]
    text = f"{e['feed_url']}: {e['error']}" if e.get("feed_url") else e.get("error", "")
    return text[:200] + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")


def unrecorded_path(database: Path) -> Path:
    return database.with_name(database.name + UNRECORDED_SUFFIX)


def defer(database: Path, summary: Summary, config_path: str, flow_run_id: str | None) -> Path:
    """Keep the `runs` row of a run that could not open its database, for the next run to record."""
    row = {
        "run_id": summary.run_id,
        "started_at": summary.started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "status": summary.status,
        "config_path": config_path,
        "flow_run_id": flow_run_id,
        "errors": summary.errors,
        **summary.counts(),
    }
    path = unrecorded_path(database)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    return path


def record_deferred(con: duckdb.DuckDBPyConnection, database: Path) -> int:
    """Record the runs `defer()` kept, then forget them; how many."""
    path = unrecorded_path(database)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash while it was written
        row["started_at"] = datetime.fromisoformat(row["started_at"])
        row["finished_at"] = datetime.fromisoformat(row["finished_at"])
        row["errors"] = json.dumps(row["errors"])
        rows.append(row)
    with store.transaction(con):
        store.insert_columns(con, "runs", rows)
    path.unlink()
    log.info("recorded %d earlier runs that could not open the database", len(rows))
    return len(rows)


@dataclass(frozen=True, slots=True)
class Selection:
    """The entries worth fetching, and the routes to articles already stored."""

    new: tuple[feeds.Entry, ...]
    known_links: tuple[store.ArticleLink, ...]  # rows for article_links
    new_per_feed: dict[str, int]


def select_new(
    polls: Sequence[feeds.Poll],
    by_url: Mapping[str, str],
    by_guid: Mapping[str, str],
    known_pairs: set[tuple[str, str]],
    now: datetime | None = None,
) -> Selection:
    """Entries whose canonical URL and GUID were never seen (in any feed), each once.

    `by_guid` is keyed by store.guid_key, as store.known_entries returns it."""
    now = now or datetime.now(UTC)
    new: list[feeds.Entry] = []
    taken: dict[str, feeds.Entry] = {}
    guids: dict[str, feeds.Entry] = {}
    links: list[store.ArticleLink] = []
    per_feed: Counter[str] = Counter()
    for p in polls:
        for e in p.entries:
            key = store.guid_key(e.feed_url, e.guid)  # "1" in two feeds is two stories
            aid = by_url.get(e.link) or by_guid.get(key)
            if aid is not None:
                if (e.feed_url, e.link) not in known_pairs:
                    known_pairs.add((e.feed_url, e.link))
                    links.append(
                        {"article_id": aid, "feed_url": e.feed_url, "url": e.link, "guid": e.guid, "first_seen_at": now}
                    )
                continue
            first = taken.get(e.link) or guids.get(key)
            if first is not None:
                # the same story through a second feed in this run: fetched once, the route recorded
                if first.feed_url != e.feed_url and (e.feed_url, e.link) not in known_pairs:
                    known_pairs.add((e.feed_url, e.link))
                    links.append(
                        {
                            "article_id": store.article_id(first.link),
                            "feed_url": e.feed_url,
                            "url": e.link,
                            "guid": e.guid,
                            "first_seen_at": now,
                        }
                    )
                continue
            taken[e.link] = e
            guids[key] = e
            new.append(e)
            per_feed[e.feed_url] += 1
    counts = {p.feed_url: per_feed.get(p.feed_url, 0) for p in polls if p.status == "ok"}
    return Selection(new=tuple(new), known_links=tuple(links), new_per_feed=counts)


def change_row(c: series.Decision) -> dict[str, str | None]:
    """A decision as a row of the summary's figures table."""
    return {
        "topic": c.topic,
        "category": c.category,
        "value": c.value,
        "previous": c.previous or "",
        "kind": c.kind,
        "claimant": c.source,
        "article_url": c.article_url,
    }


def _md(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def from_dict(data: Mapping[str, Any]) -> Summary:
    """A Summary back from the dict a flow run returned."""
    known = {k: v for k, v in data.items() if k in Summary.__dataclass_fields__}
    if isinstance(known.get("started_at"), str):
        known["started_at"] = datetime.fromisoformat(known["started_at"])
    return Summary(**known)
