"""History at scale: a database grown to 1M figure mentions over 200k articles, and the history queries on it.

The rows are synthetic but go into the tables the pipeline writes (articles, article_links, topic_matches,
figure_mentions, runs), created by store.open_for_write, so the schema, migrations and views are the real
ones. They are inserted with `INSERT … SELECT … FROM range(…)` (seconds, not hours); the article texts are
the corpus's true bodies with a unique suffix, so the database size per article is not flattered by
identical strings. Then history.update decides the backlog (timed), one more ordinary run is added and
decided (timed), and the named history queries are timed on the result.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ARTICLES_PER_RUN = 100
TOPICS = 8
OUTLETS = 300
QUERY_REPEAT = 5


def measure(
    folder: Path, n_articles: int, n_mentions: int, pages: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    from monitor import figures, history, store

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "monitor.duckdb"
    texts = [p.read_text(errors="replace") for p in sorted(pages.glob("*.txt"))] or ["A news story. " * 250]
    started = time.perf_counter()
    with store.open_for_write(db) as con:
        _fill(con, n_articles, n_mentions, texts, figures.VERSION)
    build = time.perf_counter() - started
    out: dict[str, Any] = {"articles": n_articles, "mentions": n_mentions, "build_seconds": build}
    log(f"history: built in {build:.1f} s; deciding the backlog with history.update")

    updates: dict[str, float] = {}
    last_run = _run_id(n_articles // ARTICLES_PER_RUN - 1)
    with store.open_for_write(db) as con, store.transaction(con):
        t = time.perf_counter()
        changes = history.update(con, last_run)
        updates[f"backlog ({n_mentions:,} mentions, first decision)"] = time.perf_counter() - t
    out["backlog_changes"] = len(changes)
    # One more ordinary cycle: 500 new articles with their figures, decided against the whole history.
    extra = 500
    with store.open_for_write(db) as con:
        _fill(con, extra, extra * max(1, n_mentions // n_articles), texts, figures.VERSION, first=n_articles)
        run = _run_id((n_articles + extra) // ARTICLES_PER_RUN)
        with store.transaction(con):
            t = time.perf_counter()
            changes = history.update(con, run)
            updates[f"one cycle ({extra} new articles) on top of the history"] = time.perf_counter() - t
    out["cycle_changes"] = len(changes)
    out["updates"] = updates
    with store.open_for_write(db) as con:
        con.execute("CHECKPOINT")
    out["db_bytes"] = db.stat().st_size
    last = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=2 * (n_articles + extra))
    out["queries"], out["query_rows"] = _queries(db, last - timedelta(days=7), log)
    with store.connect(db, read_only=True) as con:
        out["tables"] = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("articles", "figure_mentions", "series_mentions", "series_values")
        }
    return out


def _run_id(r: int) -> str:
    return f"2025{r:06d}T000000Z-{r % 65536:04x}"


def _execute(con: Any, sql: str, params: dict[str, Any]) -> None:
    """DuckDB wants exactly the $names a statement uses."""
    used = set(re.findall(r"\$(\w+)", sql))
    con.execute(sql, {k: v for k, v in params.items() if k in used} or None)


def _fill(con: Any, n_articles: int, n_mentions: int, texts: list[str], version: str, first: int = 0) -> None:
    """Insert articles [first, first + n_articles) and their links, topic matches, mentions and runs."""
    per = max(1, n_mentions // n_articles)
    params = {
        "first": first,
        "n": n_articles,
        "per": per,
        "texts": texts,
        "ntexts": len(texts),
        "version": version,
        "apr": ARTICLES_PER_RUN,
        "topics": TOPICS,
        "outlets": OUTLETS,
        "t0": datetime(2025, 1, 1, tzinfo=UTC),
    }
    con.execute("BEGIN")
    _execute(
        con,
        """
        CREATE OR REPLACE TEMP TABLE bench_a AS
        SELECT i,
               'https://outlet' || (i % $outlets) || '.example/news/' || i AS url,
               substr(md5('https://outlet' || (i % $outlets) || '.example/news/' || i), 1, 16) AS article_id,
               'https://outlet' || (i % $outlets) || '.example/feed.xml' AS feed_url,
               'outlet' || (i % $outlets) || '.example' AS outlet,
               $t0::TIMESTAMPTZ + to_minutes(i * 2) AS published_at,
               '2025' || lpad((i // $apr)::VARCHAR, 6, '0') || 'T000000Z-'
                   || lpad(lower(to_hex((i // $apr) % 65536)), 4, '0') AS run_id
        FROM range($first, $first + $n) r(i)""",
        params,
    )
    _execute(
        con,
        """
        INSERT INTO articles (article_id, url, guid, feed_url, source_url, final_url, outlet, title, author,
                              published_at, fetched_at, site_name, language, text, text_source, summary,
                              fingerprint, fetch_error, run_id, first_seen_at)
        SELECT article_id, url, url, feed_url, url, url, outlet, 'Story ' || i, 'Staff reporter',
               published_at, published_at + INTERVAL 5 MINUTE, outlet, 'en',
               list_extract($texts, (i % $ntexts) + 1) || ' [story ' || i || ']', 'extracted',
               left(list_extract($texts, (i % $ntexts) + 1), 200), md5(i::VARCHAR), NULL, run_id,
               published_at + INTERVAL 5 MINUTE
        FROM bench_a""",
        params,
    )
    _execute(
        con,
        """
        INSERT INTO article_links (article_id, feed_url, url, guid, first_seen_at, run_id)
        SELECT article_id, feed_url, url, url, published_at + INTERVAL 5 MINUTE, run_id
        FROM bench_a""",
        params,
    )
    # every article matches one topic; every third a second one (the figures view then has more rows)
    _execute(
        con,
        """
        INSERT INTO topic_matches (article_id, topic, terms, topic_version, matched_at)
        SELECT article_id, 'topic ' || ((i + k) % $topics), ['troops', 'killed'], 'bench',
               published_at + INTERVAL 5 MINUTE
        FROM bench_a, range(2) t(k) WHERE k = 0 OR i % 3 = 0""",
        params,
    )
    _execute(
        con,
        """
        INSERT INTO figure_mentions (article_id, seq, category, low, high, qualifier, who, quote,
                                     start_offset, end_offset, claimant, extractor_version, found_at)
        SELECT article_id, s, ['killed', 'wounded', 'casualties', 'captured', 'missing', 'deployed'][c + 1],
               v, CASE WHEN (i + s) % 5 = 0 THEN v + 500 ELSE v END,
               CASE WHEN (i + s) % 5 = 0 THEN 'range'
                    ELSE ['exact', 'approximate', 'at_least', 'at_most'][((i + s) % 4) + 1] END,
               ['North Korean soldiers', 'civilians', 'Russian troops', NULL][((i + 3 * s) % 4) + 1],
               'about ' || v || ' were reported', 100 * s, 100 * s + 30,
               ['the Ukrainian military', 'Seoul''s spy agency', 'the Pentagon', NULL][((i + s) % 4) + 1],
               $version, published_at + INTERVAL 5 MINUTE
        -- A series' value moves slowly (a step every 5,000 articles, about a week) and three sources
        -- disagree at any time: mostly repeats, some revisions, as in the news.
        FROM (SELECT *, (i * 7 + s) % 6 AS c,
                     1000 * ((i * 7 + s) % 6 + 1) + (i // 5000) * 50 + ((i + s) % 3) * 10 AS v
              FROM bench_a, range($per) m(s))""",
        params,
    )
    _execute(
        con,
        """
        INSERT INTO runs (run_id, started_at, finished_at, status, config_path, feeds_total, feeds_ok,
                          new_entries, new_articles, figures)
        SELECT run_id, min(published_at), min(published_at) + INTERVAL 1 MINUTE, 'ok', 'bench.toml', 100, 100,
               count(*), count(*), count(*) * $per
        FROM bench_a GROUP BY run_id""",
        params,
    )
    con.execute("DROP TABLE bench_a")
    con.execute("COMMIT")


def _queries(db: Path, since: datetime, log: Callable[[str], None]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Median time of each named history query, run as `monitor query` runs it (own read-only connection)."""
    from monitor import query

    names = {q.name for q in query.named_queries()}
    out: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for label, name, params in (
        ("latest_figures (all topics)", "latest_figures", {}),
        ("latest_figures (one topic)", "latest_figures", {"topic": "topic 1"}),
        ("new_figures_since (last 7 days)", "new_figures_since", {"since": since.isoformat()}),
    ):
        if name not in names:
            log(f"history: no named query {name!r} in this news-monitor")
            out[label] = None
            continue
        _, rows = query.run_named(db, name, params)  # first run: cold file cache and plan; not reported
        times = []
        for _ in range(QUERY_REPEAT):
            t = time.perf_counter()
            query.run_named(db, name, params)
            times.append(time.perf_counter() - t)
        out[label] = statistics.median(times)
        counts[label] = len(rows)
        log(f"history: {label}: {len(rows)} rows, median {out[label] * 1000:.0f} ms")
    return out, counts
