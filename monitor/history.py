"""History: figure series over time — new figures, corroborations and revisions, decided in publication order.

A series is (topic, category, group, scope). A mention whose value (low, high) the series has never had is
the first report of that value: `new` when the series had no value published before it (and always for an
incident count), else a `revision` of the latest value published before it when that came from the same
claimant key, a `counterclaim` when it came from another source. A known value is a `repeat`: it only adds
corroboration. A total falling by more than half is `suspect`.
Decisions are facts appended in the run's transaction (series_values, series_mentions, topic_groups,
history_articles) and never re-announced; docs/history.md explains every rule.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, NamedTuple

import duckdb

from monitor import series, store
from monitor.figures import scope as scopes

CIVILIANS = "civilians"
MILITARY = "military"  # combatants of the topic's own force, or of no named side
GROUPS_FILE = "lexicon/history_groups.toml"
FLUSH_ROWS = 200_000  # mention decisions buffered per write, when replaying a large database
FETCH_ROWS = 20_000  # mentions read per fetchmany while replaying

Value = tuple[int | None, int | None]
Order = tuple[int, str, int]  # (as_of µs, article_id, seq): publication order, ties broken stably
SeriesKey = tuple[str, str, str, str]  # (topic, category, group, scope)
LEAD_CHARS = 160  # text read before a figure to find the force its clause is about
Change = series.Decision  # what `update` returns: the decided record, as every reader of the history sees it


# --- groups ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Groups:
    """The word lists of lexicon/history_groups.toml, compiled."""

    civilians: re.Pattern[str]
    military: re.Pattern[str]
    forces: tuple[tuple[str, re.Pattern[str]], ...]
    # the same few hundred wordings recur across a million mentions: each is sorted once
    seen: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def label(self, who: str | None) -> str:
        """civilians | military | a force's name | "" when `who` names nobody ("casualties", None)."""
        if not who:
            return ""
        found = self.seen.get(who)
        if found is None:
            found = self.seen[who] = self._label(who)
        return found

    def _label(self, who: str) -> str:
        text = re.sub(r"['\u2019]s\b", "", who.casefold())  # possessive: "North Korea's troops"
        if self.civilians.search(text):
            return CIVILIANS
        named = [name for name, pattern in self.forces if pattern.search(text)]
        if len(named) == 1:
            return named[0]
        if named or self.military.search(text):
            return MILITARY
        return ""


def _words(phrases: Iterable[str]) -> re.Pattern[str]:
    parts = sorted((r"\s+".join(re.escape(w) for w in p.casefold().split()) for p in phrases), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)")


@functools.cache
def groups() -> Groups:
    """The group word lists shipped with the package."""
    data = tomllib.loads((resources.files("monitor") / GROUPS_FILE).read_text(encoding="utf-8"))
    return Groups(
        civilians=_words(data["civilians"]["words"]),
        military=_words(data["military"]["words"]),
        forces=tuple((name, _words(words)) for name, words in data["forces"].items()),
    )


def subject_force(subject: str, lexicon: Groups | None = None) -> str | None:
    """The force a topic's declared subject names ("North Korean", "DPRK troops" -> "North Korean"); None when
    it names no single force."""
    label = (lexicon or groups()).label(subject)
    return label if label not in ("", CIVILIANS, MILITARY) else None


def own_forces(subjects: Mapping[str, str | None] | None) -> dict[str, str]:
    """Topic -> own force, for the topics whose declared subject names one."""
    out = {}
    for topic, subject in (subjects or {}).items():
        force = subject_force(subject) if subject else None
        if force:
            out[topic] = force
    return out


def article_labels(
    whos: Sequence[str | None], lexicon: Groups | None = None, forces: Sequence[str] | None = None
) -> list[str]:
    """Labels of one article's figures in text order; a figure naming nobody takes the label of the people
    named last before it, else first after it ("15,000 soldiers … 4,700 casualties" are both military).
    `forces` are the forces the figures' clauses are about (`clause_force`, "" for none): a figure whose
    `who` names no side counts the force that is its clause's subject ("Russia has lost 700,000 troops")."""
    lexicon = lexicon or groups()
    labels = [lexicon.label(w) for w in whos]
    if forces is not None:
        labels = [force if force and lab in (MILITARY, "") else lab for lab, force in zip(labels, forces, strict=True)]
    known = [(i, lab) for i, lab in enumerate(labels) if lab]
    if not known:
        return labels
    out = []
    for i, lab in enumerate(labels):
        if not lab:
            before = [k for k in known if k[0] < i]
            lab = before[-1][1] if before else next(k[1] for k in known if k[0] > i)
        out.append(lab)
    return out


# The clause before a figure ends at punctuation or a joining word: "…, and that 400 Russian soldiers".
_CLAUSE_START = re.compile(
    r"[,;:.!?()\u2014\u2013\"“”]|\b(?:that|and|but|while|whereas|which|who|as|after|"
    r"before|when|if|because|although|though)\b",
    re.IGNORECASE,
)
# Between a force and the count it is the subject of, a verb — not a claim ("Seoul says 300 …" is Seoul's
# claim about someone else's losses) — and a few words at most.
_CLAIM_VERBS = re.compile(
    r"\b(?:said|says|say|told|tells|reported|reports|report|claimed|claims|claim|estimated|"
    r"estimates|estimate|believes|believe|thinks|think|according|indicated|indicates|"
    r"indicate|suggested|suggests|assessed|assesses|confirmed|confirms|announced|"
    r"announces|stated|states|noted|notes|added|adds|put|puts|counted|counts)\b",
    re.IGNORECASE,
)
_PREPOSITION = re.compile(
    r"\b(?:by|against|from|to|with|of|in|into|for|on|at|near|inside|within|toward|towards|"
    r"over|across|through)\s*$",
    re.IGNORECASE,
)
CLAUSE_WORDS = 5  # words at most between a force and its count ("Russia has already lost more than")


def clause_force(lead: str, lexicon: Groups | None = None) -> str:
    """The named force that is the subject of the clause ending just before a figure, "" when none:
    "Ukraine's general staff said Russia has lost more than" -> "Russian"."""
    lexicon = lexicon or groups()
    starts = [m.end() for m in _CLAUSE_START.finditer(lead)]
    segment = lead[starts[-1] :] if starts else lead
    if not segment.strip():
        return ""
    folded = segment.casefold()
    found: tuple[int, int, str] | None = None
    for name, pattern in lexicon.forces:
        for m in pattern.finditer(folded):
            if found is None or m.start() > found[0]:
                found = (m.start(), m.end(), name)
    if found is None:
        return ""
    start, end, name = found
    rest = segment[end:]
    if re.match(r"['\u2019]s?\b", rest):  # "Seoul's spy agency", "Ukraine's army": a possessor, not a subject
        return ""
    if _PREPOSITION.search(segment[:start]) or _CLAIM_VERBS.search(rest) or len(rest.split()) > CLAUSE_WORDS:
        return ""
    return name


# --- the book: what each series knows, and the decisions it makes ---------------------------------------

Report = tuple[Order, Value, str | None]  # a value's first report: when, what, whose (claimant key)


@dataclass(slots=True)
class _Series:
    values: set[Value] = field(default_factory=set)
    timeline: list[Report] = field(default_factory=list)  # first reports, in publication order

    def add(self, order: Order, value: Value, claimant_key: str | None) -> None:
        self.values.add(value)
        # orders are unique (one mention, one series), so the value and key are never compared
        bisect.insort(self.timeline, (order, value, claimant_key), key=lambda r: r[0])

    def before(self, order: Order) -> Report | None:
        """The latest first report published before `order`."""
        i = bisect.bisect_left(self.timeline, order, key=lambda r: r[0])
        return self.timeline[i - 1] if i else None


class _Mention(NamedTuple):
    """A row of _MENTIONS: what deciding needs of one figure mention counted for one topic. The rest (the
    quote, the article's URL…) is joined in by SQL when decisions are written."""

    topic: str
    category: str
    low: int | None
    high: int | None
    who: str | None
    article_id: str
    seq: int
    as_of: int  # microseconds since the epoch: exact, and cheap to read a million of
    scope: str
    claimant_key: str | None
    lead: str  # the text just before the figure (LEAD_CHARS): whose force its clause is about


# Decisions as columns, written by SQL that joins in the mention's and the article's other columns; run_id
# and decided_at come from history_articles (the deciding round).
_WRITE = {
    "series_mentions": (
        """
        INSERT INTO series_mentions (topic, category, grp, low, high, kind, article_id, seq, as_of, outlet,
                                     fingerprint, run_id, value_id, scope, claimant_key)
        SELECT d.topic, m.category, d.grp, m.low, m.high, d.kind, d.article_id, d.seq,
               coalesce(a.published_at, a.fetched_at), a.outlet, a.fingerprint, h.run_id, d.value_id,
               coalesce(m.scope, 'total'), m.claimant_key
        FROM (SELECT unnest($1) AS topic, unnest($2) AS article_id, unnest($3) AS seq, unnest($4) AS grp,
                     unnest($5) AS kind, unnest($6) AS value_id) d
        JOIN figure_mentions m USING (article_id, seq)
        JOIN articles a USING (article_id)
        JOIN history_articles h USING (article_id)""",
        ("topic", "article_id", "seq", "grp", "kind", "value_id"),
    ),
    "series_values": (
        """
        INSERT INTO series_values (topic, category, grp, low, high, kind, qualifier, who, claimant, quote,
                                   previous_low, previous_high, previous_as_of, change, article_id, seq,
                                   article_url, outlet, published_at, as_of, run_id, decided_at, value_id,
                                   scope, claimant_key, previous_claimant, suspect)
        SELECT d.topic, m.category, d.grp, m.low, m.high, d.kind, m.qualifier, m.who, m.claimant, m.quote,
               d.previous_low, d.previous_high, coalesce(p.published_at, p.fetched_at), d.change,
               d.article_id, d.seq, a.url, a.outlet, a.published_at, coalesce(a.published_at, a.fetched_at),
               h.run_id, h.decided_at, d.value_id, coalesce(m.scope, 'total'), m.claimant_key,
               d.previous_claimant, d.suspect
        FROM (SELECT unnest($1) AS topic, unnest($2) AS article_id, unnest($3) AS seq, unnest($4) AS grp,
                     unnest($5) AS kind, unnest($6) AS value_id, unnest($7) AS previous_low,
                     unnest($8) AS previous_high, unnest($9) AS previous_article, unnest($10) AS change,
                     unnest($11::VARCHAR[]) AS previous_claimant, unnest($12::BOOLEAN[]) AS suspect) d
        JOIN figure_mentions m USING (article_id, seq)
        JOIN articles a USING (article_id)
        JOIN history_articles h USING (article_id)
        LEFT JOIN articles p ON p.article_id = d.previous_article""",
        (
            "topic",
            "article_id",
            "seq",
            "grp",
            "kind",
            "value_id",
            "previous_low",
            "previous_high",
            "previous_article",
            "change",
            "previous_claimant",
            "suspect",
        ),
    ),
    "topic_groups": (
        """
        INSERT INTO topic_groups (topic, trait, value, article_id, seq, run_id, decided_at)
        SELECT d.topic, d.trait, d.value, d.article_id, d.seq, h.run_id, h.decided_at
        FROM (SELECT unnest($1) AS topic, unnest($2) AS trait, unnest($3) AS value, unnest($4) AS article_id,
                     unnest($5) AS seq) d
        JOIN history_articles h USING (article_id)""",
        ("topic", "trait", "value", "article_id", "seq"),
    ),
}


@dataclass(slots=True)
class _Decisions:
    """Decisions not yet written, per table, as rows of the columns _WRITE names."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in _WRITE})

    def flush(self, con: duckdb.DuckDBPyConnection) -> None:
        for table, (sql, _) in _WRITE.items():
            rows = self.rows[table]
            if rows:
                con.execute(sql, [list(c) for c in zip(*rows, strict=True)])
            self.rows[table] = []


@dataclass(slots=True)
class _Book:
    traits: dict[str, dict[str, str]] = field(default_factory=dict)
    series: dict[SeriesKey, _Series] = field(default_factory=dict)
    lexicon: Groups = field(default_factory=groups)
    subjects: dict[str, str] = field(default_factory=dict)  # topic -> its own force, as monitor.toml declares

    def group(self, m: _Mention, label: str, out: _Decisions) -> str:
        """The mention's group in its topic; fixes the topic's main group and own force when first shown."""
        traits = self.traits.setdefault(m.topic, {})
        if not label:
            return traits.get("main_group", MILITARY)
        if "main_group" not in traits:
            self._fix(m, "main_group", CIVILIANS if label == CIVILIANS else MILITARY, out)
        if label in (CIVILIANS, MILITARY):
            return label
        declared = self.subjects.get(m.topic)
        if declared:
            return MILITARY if label == declared else label
        own = traits.get("own_force")
        if own is None:
            self._fix(m, "own_force", label, out)
            return MILITARY
        return MILITARY if label == own else label

    def _fix(self, m: _Mention, trait: str, value: str, out: _Decisions) -> None:
        self.traits[m.topic][trait] = value
        out.rows["topic_groups"].append((m.topic, trait, value, m.article_id, m.seq))

    def grouped(self, rows: Iterable[tuple[Any, ...]], out: _Decisions) -> Iterator[tuple[_Mention, str]]:
        """Each mention (rows in _MENTIONS order, one article's rows together) with its series group."""
        mentions = map(_Mention._make, rows)
        for _, same_article in itertools.groupby(mentions, key=lambda m: m.article_id):
            article = list(same_article)
            ordered = sorted({m.seq: m for m in article}.items())
            whos = [m.who for _, m in ordered]
            forces = [clause_force(m.lead, self.lexicon) for _, m in ordered]
            labels = dict(zip([seq for seq, _ in ordered], article_labels(whos, self.lexicon, forces), strict=True))
            for m in article:
                yield m, self.group(m, labels[m.seq], out)

    def decide(self, m: _Mention, grp: str, out: _Decisions) -> None:
        """Decide one mention, given in publication order: new, revision, counterclaim or repeat."""
        scope = m.scope or scopes.TOTAL
        known = self.series.setdefault((m.topic, m.category, grp, scope), _Series())
        value: Value = (m.low, m.high)
        vid = value_id(m.topic, m.category, grp, m.low, m.high, scope)
        if value not in known.values:
            order: Order = (m.as_of, m.article_id, m.seq)
            # an incident count is one event: it revises nothing, and nothing revises it
            previous = known.before(order) if scope == scopes.TOTAL else None
            known.add(order, value, m.claimant_key)
            if previous:
                (_, prev_article, _), prev_value, prev_claimant = previous
                kind = "revision" if prev_claimant == m.claimant_key else "counterclaim"
                out.rows["series_values"].append(
                    (
                        m.topic,
                        m.article_id,
                        m.seq,
                        grp,
                        kind,
                        vid,
                        prev_value[0],
                        prev_value[1],
                        prev_article,
                        _difference(value, prev_value),
                        prev_claimant,
                        _suspect(value, prev_value),
                    )
                )
            else:
                kind = "new"
                out.rows["series_values"].append(
                    (m.topic, m.article_id, m.seq, grp, kind, vid, None, None, None, None, None, False)
                )
        else:
            kind = "repeat"
        out.rows["series_mentions"].append((m.topic, m.article_id, m.seq, grp, kind, vid))


def value_id(topic: str, category: str, grp: str, low: int | None, high: int | None, scope: str = scopes.TOTAL) -> int:
    """A value's id: the same in every database, so a reprocessed one and a fresh one agree."""
    series = grp if scope == scopes.TOTAL else f"{grp}\0{scope}"  # a total's id is what it was before scopes
    key = f"{topic}\0{category}\0{series}\0{low}\0{high}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)


def point(low: int | None, high: int | None) -> int | None:
    """A value as one number: exact, approximate, at least N and at most N are N; a range is none."""
    if high is None or low == high:
        return low
    return high if low is None else None


def _suspect(value: Value, previous: Value) -> bool:
    """A total falling by more than half: more often a misread (an incident taken for the toll) than news."""
    now, before = point(*value), point(*previous)
    return now is not None and before is not None and before > 0 and now * 2 < before


def _difference(value: Value, previous: Value) -> int | None:
    now, before = point(*value), point(*previous)
    return now - before if now is not None and before is not None else None


# --- reading and writing ---------------------------------------------------------------------------------

# Every figure mention of the chosen articles, once per topic its article matches, in publication order
# (after the deciding round, when replaying).
_MENTIONS = """
    SELECT t.topic, m.category, m.low, m.high, m.who, m.article_id, m.seq,
           epoch_us(coalesce(a.published_at, a.fetched_at)) AS as_of, coalesce(m.scope, 'total'),
           m.claimant_key,
           coalesce(substr(a.text, greatest(1, m.start_offset - {lead} + 1),
                           least(m.start_offset, {lead})), '') AS lead
    FROM figure_mentions m
    JOIN articles a USING (article_id)
    JOIN topic_matches t USING (article_id)
    {join}
    {where}
    ORDER BY {first} as_of, m.article_id, m.seq, t.topic"""


def _load_traits(con: duckdb.DuckDBPyConnection, book: _Book, topics: set[str]) -> None:
    rows = con.execute(
        "SELECT topic, trait, value FROM topic_groups WHERE topic IN (SELECT unnest($1))", [sorted(topics)]
    ).fetchall()
    for topic, trait, value in rows:
        book.traits.setdefault(topic, {})[trait] = value


def _load_series(con: duckdb.DuckDBPyConnection, book: _Book, keys: set[SeriesKey]) -> None:
    """What these series know, as earlier runs decided it: only the series this run touches are read."""
    if not keys:
        return
    topics, categories, grps, scope_list = (list(c) for c in zip(*sorted(keys), strict=True))
    rows = con.execute(
        """
        SELECT topic, category, grp, coalesce(scope, 'total') AS scope, low, high, epoch_us(as_of), article_id,
               seq, claimant_key
        FROM series_values
        JOIN (SELECT unnest($1) AS topic, unnest($2) AS category, unnest($3) AS grp, unnest($4) AS scope) k
            USING (topic, category, grp, scope)
        ORDER BY as_of, article_id, seq""",
        [topics, categories, grps, scope_list],
    ).fetchall()
    for topic, category, grp, scope, low, high, as_of, article_id, seq, claimant_key in rows:
        s = book.series.setdefault((topic, category, grp, scope), _Series())
        s.values.add((low, high))
        s.timeline.append(((as_of, article_id, seq), (low, high), claimant_key))


def update(
    con: duckdb.DuckDBPyConnection, run_id: str, subjects: Mapping[str, str | None] | None = None
) -> list[series.Decision]:
    """Decide new figures, revisions and counterclaims for every mention not yet decided; idempotent.

    Runs in the caller's transaction. Every stored article not yet decided (this run's, and those of a run
    that stopped before deciding) is decided now, in publication order, and marked decided. `subjects` maps
    a topic to its declared subject ([[topics]] subject: its own force), where monitor.toml declares one.
    """
    now = datetime.now(UTC)
    undecided = [
        r[0]
        for r in con.execute("SELECT article_id FROM articles ANTI JOIN history_articles USING (article_id)").fetchall()
    ]
    if not undecided:
        return []
    store.insert_columns(
        con, "history_articles", [{"article_id": a, "run_id": run_id, "decided_at": now} for a in undecided]
    )
    sql = _MENTIONS.format(
        join="JOIN (SELECT unnest($1) AS article_id) u USING (article_id)", where="", first="", lead=LEAD_CHARS
    )
    rows = con.execute(sql, [undecided]).fetchall()
    book, out = _Book(subjects=own_forces(subjects)), _Decisions()
    _load_traits(con, book, {r[0] for r in rows})
    grouped = list(book.grouped(rows, out))
    _load_series(con, book, {(m.topic, m.category, grp, m.scope) for m, grp in grouped})
    for m, grp in grouped:
        book.decide(m, grp, out)
    out.flush(con)
    return series.of_run(con, run_id, now)


@dataclass(frozen=True, slots=True)
class Replay:
    """What rebuilding the history decided."""

    mentions: int
    new: int
    revisions: int
    counterclaims: int = 0


def rebuild(
    con: duckdb.DuckDBPyConnection,
    topics: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    subjects: Mapping[str, str | None] | None = None,
) -> Replay:
    """Decide the mentions of every decided article again, as the runs that decided them would today.

    Rounds (the runs that decided articles) are replayed in the order they ran, each in publication
    order, with their run ids and times: a database reprocessed after an extractor or topic change holds
    what a fresh database fed the same articles in the same runs holds. Articles no run decided yet stay
    undecided for the next run. Writes in the caller's transaction; reads figures and topic matches as
    committed (a second cursor streams them); sends nothing.
    """
    where = "" if topics is None else "WHERE t.topic IN (SELECT unnest($1))"
    params: list[Any] = [] if topics is None else [list(topics)]
    for table in ("series_mentions", "series_values", "topic_groups"):
        con.execute(f"DELETE FROM {table} {where.replace('t.topic', 'topic')}", params)
    sql = _MENTIONS.format(
        join="JOIN history_articles h USING (article_id)", where=where, first="h.decided_at, h.run_id,", lead=LEAD_CHARS
    )
    decided = 0

    def flush(out: _Decisions) -> None:
        nonlocal decided
        decided += len(out.rows["series_mentions"])
        out.flush(con)
        if progress is not None:
            progress(decided)

    reader = con.cursor()
    try:
        reader.execute(sql, params)
        book, out = _Book(subjects=own_forces(subjects)), _Decisions()
        for m, grp in book.grouped(_stream(reader), out):
            book.decide(m, grp, out)
            if len(out.rows["series_mentions"]) >= FLUSH_ROWS:
                flush(out)
        flush(out)
    finally:
        reader.close()
    counts = dict(
        con.execute(
            f"SELECT kind, count(*) FROM series_values {where.replace('t.topic', 'topic')} GROUP BY kind", params
        ).fetchall()
    )
    return Replay(
        mentions=decided,
        new=counts.get("new", 0),
        revisions=counts.get("revision", 0),
        counterclaims=counts.get("counterclaim", 0),
    )


def _stream(cur: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    while True:
        chunk = cur.fetchmany(FETCH_ROWS)
        if not chunk:
            return
        yield from chunk
