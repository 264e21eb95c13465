"""Reprocess: recompute the topic matches and figures of stored articles, then replay the figure history.

Nothing is fetched: titles and texts come from the articles table. Batches are read, analysed (on a
process pool when there are many) and written in short transactions, so queries keep working; the run
lock keeps scheduled runs out meanwhile (they skip a cycle). The history replay sends no alert: values
first reported long ago are not news again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor import articles, figures, history, store, topics
from monitor.errors import StoreError

BATCH_ARTICLES = 500  # articles read, analysed and written per transaction
IN_FLIGHT = 4  # batches analysed ahead of the writer, per extraction process

Analysed = list[tuple[str, list[topics.Match], list[figures.Figure]]]


@dataclass(frozen=True, slots=True)
class Result:
    """What `monitor reprocess` did."""

    topic: str | None
    articles: int
    topic_matches: int
    figures: int | None  # None when only a topic was reprocessed (figures untouched)
    history: history.Replay

    def text(self) -> str:
        what = f"topic {self.topic!r}" if self.topic else "all topics and figures"
        figs = "" if self.figures is None else f", {self.figures} figures ({figures.VERSION})"
        return (
            f"reprocessed {self.articles} articles ({what}): {self.topic_matches} topic matches{figs}\n"
            f"history replayed: {self.history.mentions} mentions, {self.history.new} new figures, "
            f"{self.history.revisions} revisions, {self.history.counterclaims} counterclaims (no alerts sent)"
        )


def analyse(
    rows: Sequence[tuple[str, str | None, str | None, str | None]], specs: Sequence[tuple[str, str]], with_figures: bool
) -> Analysed:
    """Topic matches and figures of stored (article_id, title, text, language) rows, as articles.analyse finds
    them (an article stored without a language has it detected)."""
    queries = [(name, topics.parse(q)) for name, q in specs]
    out: Analysed = []
    for article_id, title, text, language in rows:
        matches = topics.match_all(queries, title or "", text or "")
        found = figures.find(text, language) if with_figures and text else []
        out.append((article_id, matches, found))
    return out


def run(
    db_path: Path,
    topic_specs: Sequence[tuple[str, str]],
    *,
    topic: str | None = None,
    workers: int = 0,
    batch_size: int = BATCH_ARTICLES,
    progress: Callable[[str], None] | None = None,
    subjects: Mapping[str, str | None] | None = None,
) -> Result:
    """Recompute topic matches (of `topic`, or all) and figures (all only: with their scope and claimant
    keys) of every stored article with the current queries and extractor, then replay the history of the
    topics concerned (`subjects`: each topic's declared subject, as `history.update` takes them)."""
    try:
        with store.run_lock(db_path):
            return _run(db_path, topic_specs, topic, workers, batch_size, progress or (lambda _: None), subjects)
    except store.RunInProgress:
        raise StoreError(
            f"{db_path}: a run is in progress; run `monitor reprocess` again when it has finished."
        ) from None


def _run(
    db_path: Path,
    topic_specs: Sequence[tuple[str, str]],
    topic: str | None,
    workers: int,
    batch_size: int,
    progress: Callable[[str], None],
    subjects: Mapping[str, str | None] | None,
) -> Result:
    version = topics.version(topic_specs)  # the version a run with this config writes
    specs = [s for s in topic_specs if topic is None or s[0] == topic]
    with_figures = topic is None
    with store.open_for_write(db_path) as con:
        ids = [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]
    batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    done = n_matches = n_figures = 0
    for batch, analysed in _analysed(db_path, batches, specs, with_figures, workers):
        now = datetime.now(UTC)
        matches = [row for aid, ms, _ in analysed for row in store.match_rows(aid, ms, version, now)]
        found = [row for aid, _, fs in analysed for row in store.figure_rows(aid, fs, figures.VERSION, now)]
        with store.open_for_write(db_path) as con, store.transaction(con):
            if topic is None:
                con.execute("DELETE FROM topic_matches WHERE article_id IN (SELECT unnest($1))", [batch])
                con.execute("DELETE FROM figure_mentions WHERE article_id IN (SELECT unnest($1))", [batch])
                store.insert_columns(con, "figure_mentions", found)
            else:
                con.execute(
                    "DELETE FROM topic_matches WHERE topic = $2 AND article_id IN (SELECT unnest($1))", [batch, topic]
                )
            store.insert_columns(con, "topic_matches", matches)
        done += len(batch)
        n_matches += len(matches)
        n_figures += len(found)
        progress(f"articles: {done:,}/{len(ids):,}")
    with store.open_for_write(db_path) as con, store.transaction(con):
        replay = history.rebuild(
            con,
            None if topic is None else [topic],
            progress=lambda n: progress(f"history: {n:,} mentions decided"),
            subjects=subjects,
        )
    return Result(
        topic=topic,
        articles=len(ids),
        topic_matches=n_matches,
        figures=n_figures if with_figures else None,
        history=replay,
    )


def _read(db_path: Path, batch: Sequence[str]) -> list[tuple[str, str | None, str | None, str | None]]:
    with store.open_for_write(db_path) as con:
        rows = con.execute(
            "SELECT article_id, title, text, language FROM articles WHERE article_id IN (SELECT unnest($1))",
            [list(batch)],
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _analysed(
    db_path: Path, batches: Sequence[Sequence[str]], specs: Sequence[tuple[str, str]], with_figures: bool, workers: int
) -> Iterator[tuple[Sequence[str], Analysed]]:
    """Each batch with its analysis, in order; on a process pool when there is more than one batch."""
    if workers == 1 or len(batches) < 2:
        for batch in batches:
            yield batch, analyse(_read(db_path, batch), specs, with_figures)
        return
    with articles.Pools(workers=workers) as pools:
        pool = pools.process_pool()
        ahead = IN_FLIGHT * (workers or 2)
        pending: list[tuple[Sequence[str], Future[Analysed]]] = []
        for batch in batches:
            pending.append((batch, pool.submit(analyse, _read(db_path, batch), list(specs), with_figures)))
            while len(pending) >= ahead:
                first, future = pending.pop(0)
                yield first, future.result()
        for batch, future in pending:
            yield batch, future.result()
