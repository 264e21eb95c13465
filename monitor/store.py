"""Storage: the DuckDB file — schema and migrations, short write transactions, locked-down reads.

DuckDB lets one process open a file for writing and refuses every other open (even read-only) while it
does. So nothing here keeps the file open: a run opens it for one batch's transaction and closes it, a
reader opens it read-only for one query and closes it, and both retry a refused open with back-off. A
file lock beside the database keeps a second *run* out for the whole cycle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypedDict, TypeVar

import duckdb

from monitor import claimants
from monitor.errors import MonitorError, StoreError

log = logging.getLogger(__name__)

BASE_SCHEMA_VERSION = 1  # schema.sql; later versions are migrations/NNN_name.sql, applied in order
LOCK_WAIT = 60.0  # seconds a writer or reader waits for the file before giving up
RUN_LOCK_WAIT = 5.0  # seconds a second run waits for the first before skipping
OPEN_RETRY_MAX = 0.1  # longest pause between tries to open a busy file: a freed file is taken quickly
GATE_POLL = 0.005  # pause between tries for a turn at the gate (held for milliseconds at a time)
# The on-disk format new database files are written in. duckdb 2.0 writes its own format by default, which
# every DuckDB before 2.0 refuses ("version number 69") — among them the DuckDB CLI that installs here
# (duckdb-cli 1.5) and any Python client down to our floor, duckdb 1.1. A file keeps the format it was
# created with, so this matters when the file is created (docs/schema.md#the-file-format).
STORAGE_VERSION = "v1.1.0"
READ_SETTINGS = {  # `monitor sql` and `monitor query`: no files, no network, no extensions
    "access_mode": "READ_ONLY",
    "enable_external_access": "false",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    "memory_limit": "1GB",  # joins and sorts of a hostile query spill or fail within it (see query.QUERY_MEMORY)
}


class RunInProgress(MonitorError):
    """Another run holds the database's run lock."""


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_failures: int
    backoff_until: datetime | None
    last_error: str | None = None  # the last real failure: kept while the feed backs off


def new_run_id(now: datetime | None = None) -> str:
    """Readable and sortable: 20261127T142000Z-3f2a."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:4]}"


def article_id(url: str) -> str:
    """Stable id of a canonical URL, the same in every database fed the same articles."""
    return hashlib.sha1(url.encode()).hexdigest()[:16]


@contextlib.contextmanager
def connect(path: Path, *, read_only: bool = False, wait: float = LOCK_WAIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database, retrying while another process holds it; always closed afterwards."""
    if read_only and not path.exists():
        raise StoreError(f"{path}: no database yet. Run `monitor run` first to create it.")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"{path}: cannot create the data directory ({e.strerror}). Check the `database` path in monitor.toml."
            ) from None
    settings = (
        READ_SETTINGS
        if read_only
        else {"autoinstall_known_extensions": "false", "storage_compatibility_version": STORAGE_VERSION}
    )
    config: dict[str, str | bool | int | float | list[str]] = dict(settings)
    deadline = time.monotonic() + wait
    delay = 0.02
    with _turn(path, exclusive=not read_only, deadline=deadline):
        while True:
            try:
                con = duckdb.connect(str(path), config=config)
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() >= deadline:
                    raise _open_error(path, e) from None
            except duckdb.Error as e:
                raise _open_error(path, e) from None
            time.sleep(delay)
            delay = min(delay * 2, OPEN_RETRY_MAX)
    try:
        if read_only:
            con.execute("SET lock_configuration = true")
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _turn(path: Path, *, exclusive: bool, deadline: float) -> Iterator[None]:
    """Wait for a turn to open the file (docs/history.md#reading-while-runs-write).

    Readers share a gate file beside the database while they open it; a writer takes the gate
    exclusively while it opens. Readers arriving while a writer waits queue behind it, so a stream
    of queries cannot starve a run (DuckDB has no queue of its own: every open just fails while the
    file is held). The gate is held only while opening, never while a query or transaction runs.
    Where the gate cannot be opened (a read-only directory, or no writer has made one yet), only the
    retries remain.
    """
    gate = path.with_name(path.name + ".gate")
    try:  # a writer creates the gate; a reader only uses it (`monitor sql --db FILE` leaves nothing beside FILE)
        fd = os.open(gate, os.O_RDWR | (os.O_CREAT if exclusive else 0), 0o644)
    except OSError:
        try:
            fd = os.open(gate, os.O_RDONLY)
        except OSError:
            yield
            return
    try:
        operation = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        while True:
            try:
                fcntl.flock(fd, operation)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
            if time.monotonic() >= deadline:
                break  # out of time for fairness: the open below still retries, then reports "busy"
            time.sleep(GATE_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the flock


# What DuckDB says about a file cut short or overwritten in the middle (a full disk, a bad copy, a crash of the disk)
_DAMAGE = ("corrupt database file", "could not read enough bytes", "checksum")


def is_damage(e: BaseException) -> bool:
    """Whether a DuckDB error says the database file itself is damaged."""
    text = str(e).lower()
    return isinstance(e, duckdb.Error) and any(words in text for words in _DAMAGE)


def damaged(path: Path | str, e: BaseException) -> StoreError:
    """The one line for a damaged database file, whichever command met it."""
    text = (str(e).splitlines() or [type(e).__name__])[0]
    return StoreError(
        f"{path}: the database file is damaged ({text}). Restore it from a backup, or move it "
        "away: `monitor run` then starts a new one (docs/troubleshooting.md)."
    )


def _open_error(path: Path, e: Exception) -> StoreError:
    text = str(e).splitlines()[0]
    if is_damage(e):
        return damaged(path, e)
    if "lock" in text.lower():
        return StoreError(
            f"{path}: the database is busy (another process holds it: {text}). "
            "Try again in a moment; if it persists, look for a stuck `monitor` process."
        )
    if "not a valid DuckDB" in text or "database file" in text.lower():
        return StoreError(
            f"{path}: not a news-monitor DuckDB database ({text}). "
            "Point `database` in monitor.toml at another file, or move this one away."
        )
    if path.is_dir():
        return StoreError(
            f"{path}: is a directory, not a database file. Point `database` in monitor.toml "
            f"at a file, e.g. {path / 'monitor.duckdb'}."
        )
    return StoreError(
        f"{path}: cannot open the database ({text}). Check that `database` in monitor.toml "
        "names a file this user can read and write, or point it at a new file."
    )


class _Held(threading.local):
    """Run locks this thread holds for a run it starts: `monitor run` takes the lock before its flow (on the
    same thread) takes it again."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()


_run_locks_held = _Held()


@contextlib.contextmanager
def run_lock(path: Path, *, wait: float = RUN_LOCK_WAIT, for_own_run: bool = False) -> Iterator[None]:
    """Hold the one-writer lock for a whole run; raise RunInProgress if another run keeps it past `wait`.

    With `for_own_run`, the run this thread starts next takes it again without waiting (a flock taken
    twice by one process would wait for itself).
    """
    lock_path = path.with_name(path.name + ".run.lock").resolve()
    if lock_path in _run_locks_held.paths:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                if time.monotonic() >= deadline:
                    holder = _read_holder(lock_path)
                    raise RunInProgress(
                        f"{path}: another run is in progress ({holder}); "
                        "this one is skipped. It will poll on the next schedule."
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC".encode())
        if not for_own_run:
            yield
            return
        _run_locks_held.paths.add(lock_path)
        try:
            yield
        finally:
            _run_locks_held.paths.discard(lock_path)
    finally:
        os.close(fd)  # closing releases the flock


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.read_text()[:100] or "unknown process"
    except OSError:
        return "unknown process"


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Create the schema or upgrade it in place; returns the version now in force."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    current = 0
    if "schema_info" in tables:
        row = con.execute("SELECT max(version) FROM schema_info").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
    latest = schema_version()
    if current > latest:
        raise StoreError(
            f"the database has schema version {current}, newer than this news-monitor ({latest}). Upgrade news-monitor."
        )
    if current == latest:
        _refresh_views(con)
        return current
    con.execute("BEGIN")
    try:
        if current == 0:
            con.execute(_resource("schema.sql"))
            current = 1
        for version, sql in _migrations():
            if version > current:
                con.execute(sql)
                current = version
        _refresh_views(con, force=True)
        con.execute("INSERT INTO schema_info (version) VALUES (?)", [current])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return current


def _refresh_views(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> None:
    """Views are code, not data: recreated from views/*.sql whenever the database holds other versions of
    them (or misses one), so they never drift.

    Which versions it holds is a digest of the files, kept as the comment of schema_info. Recreating
    them on every open made every open a write, and DuckDB checkpoints a written file when it is closed:
    ~50 ms per open, paid by every batch and every idle poll.
    """
    mark = f"views {_views_digest()}"
    if not force:
        row = con.execute(
            "SELECT (SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
            "        AND schema_name = 'main' AND table_name = 'schema_info'), "
            "       (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
            "        AND view_name IN (SELECT unnest(?)))",
            [_view_names()],
        ).fetchone()
        if row is not None and row[0] == mark and row[1] == len(_view_names()):
            return
    for sql in _view_files():
        con.execute(sql)
    con.execute(f"COMMENT ON TABLE schema_info IS '{mark}'")  # a hex digest: nothing to quote


@functools.cache
def _views_digest() -> str:
    return hashlib.sha256("\0".join(_view_files()).encode()).hexdigest()[:16]


@functools.cache
def _view_names() -> list[str]:
    return sorted(
        {
            m.group(1).lower()
            for sql in _view_files()
            for m in re.finditer(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)", sql, re.IGNORECASE)
        }
    )


@functools.cache
def _view_files() -> list[str]:
    folder = resources.files("monitor") / "views"
    if not folder.is_dir():
        return []
    return [f.read_text() for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".sql")]


def schema_version() -> int:
    """The version this code writes: the last migration's number."""
    return max([BASE_SCHEMA_VERSION, *(v for v, _ in _migrations())])


@functools.cache
def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("monitor") / "migrations"
    out = []
    if folder.is_dir():
        for f in folder.iterdir():
            m = re.match(r"(\d+)_.*\.sql$", f.name)
            if m:
                out.append((int(m.group(1)), f.read_text()))
    return sorted(out)


def _resource(name: str) -> str:
    return (resources.files("monitor") / name).read_text()


def open_for_write(path: Path) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """A write connection with the schema in place."""
    return _migrated(path)


@contextlib.contextmanager
def _migrated(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(path) as con:
        migrate(con)
        yield con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, or ROLLBACK on any error: a batch is written whole or not at all."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows in one statement (lists unnested side by side), not one INSERT per row."""
    if not rows:
        return
    names = list(rows[0])
    columns = [[row[n] for row in rows] for n in names]
    select = ", ".join(f"unnest(${i + 1}) AS {n}" for i, n in enumerate(names))
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {select}", columns)


def ensure_feeds(con: duckdb.DuckDBPyConnection, feeds: Sequence[tuple[str, str | None]]) -> None:
    """Add configured feeds not yet in the table; keep names in step with the config."""
    now = datetime.now(UTC)
    known = {r[0]: r[1] for r in con.execute("SELECT url, name FROM feeds").fetchall()}
    new = [{"url": u, "name": n, "added_at": now} for u, n in feeds if u not in known]
    with transaction(con):
        insert_columns(con, "feeds", new)
        for url, name in feeds:
            if url in known and known[url] != name:
                con.execute("UPDATE feeds SET name = ? WHERE url = ?", [name, url])


def feed_states(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    rows = con.execute(
        "SELECT url, etag, last_modified, body_hash, consecutive_failures, backoff_until, last_error FROM feeds"
    ).fetchall()
    return {r[0]: FeedState(r[0], r[1], r[2], r[3], int(r[4] or 0), r[5], r[6]) for r in rows}


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, config_path: str, flow_run_id: str | None) -> None:
    """Record a run as started; after a run that was killed or failed, forget the feeds' validators.

    A run saves each feed's ETag and body digest before it fetches the feed's new articles. Had the last
    run stopped in between, the next conditional GET would answer 304 and the entries it selected but
    never stored would be lost; fetching every feed in full once instead finds them again (anything
    already stored is recognised by URL or GUID and not fetched twice).
    """
    with transaction(con):
        last = last_run_unfinished(con)
        # A run that never finished (killed) is marked, so `runs` tells the truth about it.
        con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        if last is not None:
            con.execute("UPDATE feeds SET etag = NULL, last_modified = NULL, body_hash = NULL")
            log.info("the last run did not finish (%s): fetching every feed in full once", last)
        con.execute(
            "INSERT INTO runs (run_id, started_at, status, config_path, flow_run_id) VALUES (?, ?, 'running', ?, ?)",
            [run_id, datetime.now(UTC), config_path, flow_run_id],
        )


def last_run_unfinished(con: duckdb.DuckDBPyConnection) -> str | None:
    """The last run's status if it did not finish (running: killed; interrupted; failed), else None: the next
    run then forgets the feeds' validators (start_run)."""
    last = con.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    return str(last[0]) if last is not None and last[0] in ("running", "interrupted", "failed") else None


def feed_states_for_next_run(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    """feed_states as the next run's start_run will leave them, read without writing: no validators after a run
    that did not finish."""
    states = feed_states(con)
    if last_run_unfinished(con) is None:
        return states
    return {u: dataclasses.replace(s, etag=None, last_modified=None, body_hash=None) for u, s in states.items()}


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    counts: Mapping[str, int],
    errors: Sequence[Mapping[str, str]],
) -> None:
    sets = ", ".join(f"{k} = ?" for k in counts)
    con.execute(
        f"UPDATE runs SET finished_at = ?, status = ?, errors = ?{', ' + sets if sets else ''} WHERE run_id = ?",
        [datetime.now(UTC), status, json.dumps(list(errors)), *counts.values(), run_id],
    )


def guid_key(feed_url: str, guid: str) -> str:
    """A GUID as an identity across feeds: a URI GUID (http:, urn:, tag:) names one item everywhere, any
    other ("123", "post-42") only within its feed, so two feeds' item "1" are two stories, not one."""
    return guid if _GLOBAL_GUID.match(guid) else f"{feed_url}#{guid}"


_GLOBAL_GUID = re.compile(r"(?:https?://|urn:|tag:)", re.IGNORECASE)


def record_counts(con: duckdb.DuckDBPyConnection, run_id: str, counts: Mapping[str, int]) -> None:
    """A running run's counts so far (with each stored batch): a run killed later still says what it stored."""
    sets = ", ".join(f"{k} = ?" for k in counts)
    if sets:
        con.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", [*counts.values(), run_id])


def forget_validators(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str]) -> None:
    """Fetch these feeds in full next time (no ETag, Last-Modified or body digest): entries are left over."""
    con.execute(
        "UPDATE feeds SET etag = NULL, last_modified = NULL, body_hash = NULL WHERE url IN (SELECT unnest(?))",
        [list(feed_urls)],
    )


def known_entries(
    con: duckdb.DuckDBPyConnection, links: Sequence[str], guids: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Article ids already stored for these canonical URLs and GUIDs (in any feed, any run).

    GUIDs come back keyed by guid_key: a bare GUID ("123") matches only in the feed that gave it.
    """

    by_url: dict[str, str] = {}
    by_guid: dict[str, str] = {}
    if links:
        rows = con.execute(
            "SELECT l.url, l.article_id FROM article_links l WHERE l.url IN (SELECT unnest(?))", [list(set(links))]
        ).fetchall()
        by_url = dict(rows)
    if guids:
        rows = con.execute(
            "SELECT l.feed_url, l.guid, l.article_id FROM article_links l WHERE l.guid IN (SELECT unnest(?))",
            [list(set(guids))],
        ).fetchall()
        by_guid = {guid_key(feed_url, guid): aid for feed_url, guid, aid in rows}
    return by_url, by_guid


def link_pairs(con: duckdb.DuckDBPyConnection, feed_urls: Sequence[str]) -> set[tuple[str, str]]:
    """(feed_url, url) pairs already recorded, so a known link is recorded once per feed."""
    rows = con.execute(
        "SELECT feed_url, url FROM article_links WHERE feed_url IN (SELECT unnest(?))", [list(set(feed_urls))]
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def select_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class ArticleLink(TypedDict):
    """A further (feed, url, guid) route to an article already stored: one `article_links` row."""

    article_id: str
    feed_url: str
    url: str
    guid: str | None
    first_seen_at: datetime


class Selection(Protocol):
    """What a selection of new entries records: routes to stored articles, and each feed's count of new items."""

    @property
    def known_links(self) -> Sequence[ArticleLink]: ...

    @property
    def new_per_feed(self) -> Mapping[str, int]: ...


S = TypeVar("S", bound=Selection)


def select_new(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    polls: Sequence[PolledFeed],
    choose: Callable[[dict[str, str], dict[str, str], set[tuple[str, str]]], S],
) -> S:
    """Record the polls, choose their new entries given what is stored (`choose(by_url, by_guid, pairs)`,
    runs.select_new), and record the routes to articles already stored: one transaction."""
    entries = [e for p in polls for e in p.entries]
    with transaction(con):
        _save_polls(con, run_id, polls)
        by_url, by_guid = known_entries(con, [e.link for e in entries], [e.guid for e in entries])
        selection = choose(by_url, by_guid, link_pairs(con, [p.feed_url for p in polls if p.entries]))
        save_links(con, run_id, selection.known_links)
        set_new_items(con, run_id, selection.new_per_feed)
    return selection


def _save_polls(con: duckdb.DuckDBPyConnection, run_id: str, polls: Sequence[PolledFeed]) -> None:
    """Record each feed's poll (feed_polls) and its new state (feeds)."""
    if not polls:
        return
    state = [
        {
            "url": p.feed_url,
            "etag": p.etag,
            "last_modified": p.last_modified,
            "body_hash": p.body_hash,
            "polled_at": p.polled_at,
            "ok": p.ok,
            "status": p.status,
            "error": p.error,
            "backoff_until": p.backoff_until,
            "title": p.title,
        }
        for p in polls
    ]
    log_rows = [
        {
            "run_id": run_id,
            "feed_url": p.feed_url,
            "polled_at": p.polled_at,
            "status": p.status,
            "http_status": p.http_status,
            "items": len(p.entries) if p.status == "ok" else None,
            "new_items": None,
            "latency_ms": p.latency_ms,
            "bytes": p.bytes,
            "error": p.error if p.error else p.warning,
        }
        for p in polls
    ]
    names = list(state[0])
    columns = [[row[n] for row in state] for n in names]
    select = ", ".join(f"unnest(${i + 1}) AS {n}" for i, n in enumerate(names))
    con.execute(
        f"""
        UPDATE feeds SET
            etag = u.etag, last_modified = u.last_modified, body_hash = u.body_hash,
            last_polled_at = CASE WHEN u.status = 'backoff' THEN feeds.last_polled_at ELSE u.polled_at END,
            last_success_at = CASE WHEN u.ok THEN u.polled_at ELSE feeds.last_success_at END,
            last_status = u.status,
            -- a skipped back-off turn is no failure of its own: the error that caused the back-off stays
            last_error = CASE WHEN u.ok THEN NULL WHEN u.status = 'backoff'
                              THEN coalesce(feeds.last_error, u.error) ELSE u.error END,
            consecutive_failures = CASE WHEN u.ok THEN 0 WHEN u.status = 'failed'
                                        THEN feeds.consecutive_failures + 1
                                        ELSE feeds.consecutive_failures END,
            backoff_until = u.backoff_until,
            title = coalesce(u.title, feeds.title)
        FROM (SELECT {select}) AS u
        WHERE feeds.url = u.url""",
        columns,
    )
    insert_columns(con, "feed_polls", log_rows)


def set_new_items(con: duckdb.DuckDBPyConnection, run_id: str, counts: Mapping[str, int]) -> None:
    """How many of each feed's items were new in this run (known after de-duplication)."""
    if counts:
        con.execute(
            "UPDATE feed_polls SET new_items = u.n FROM (SELECT unnest($1) AS url, unnest($2) AS n) u "
            "WHERE feed_polls.run_id = $3 AND feed_polls.feed_url = u.url",
            [list(counts), list(counts.values()), run_id],
        )


def save_links(con: duckdb.DuckDBPyConnection, run_id: str, links: Sequence[ArticleLink]) -> None:
    """Record further (feed, url, guid) routes to articles already stored."""
    insert_columns(con, "article_links", [{**link, "run_id": run_id} for link in links])


def save_articles(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    articles: Sequence[AnalysedArticle],
    topic_version: str,
    extractor_version: str,
) -> None:
    """Write a batch of analysed articles with their links, topic matches and figures (no transaction here:
    the caller wraps this and the history update in one)."""
    now = datetime.now(UTC)
    rows, links, matches, mentions = [], [], [], []
    for a in articles:
        aid = article_id(a.url)
        rows.append(
            {
                "article_id": aid,
                "url": a.url,
                "guid": a.guid,
                "feed_url": a.feed_url,
                "source_url": a.source_url,
                "final_url": a.final_url,
                "outlet": a.outlet,
                "title": a.title,
                "author": a.author,
                "published_at": a.published_at,
                "fetched_at": a.fetched_at,
                "site_name": a.site_name,
                "language": a.language,
                "text": a.text,
                "text_source": a.text_source,
                "summary": a.summary,
                "fingerprint": a.fingerprint,
                "fetch_error": a.fetch_error,
                "run_id": run_id,
                "first_seen_at": now,
            }
        )
        links.append(
            {
                "article_id": aid,
                "feed_url": a.feed_url,
                "url": a.url,
                "guid": a.guid,
                "first_seen_at": now,
                "run_id": run_id,
            }
        )
        matches.extend(match_rows(aid, a.matches, topic_version, now))
        mentions.extend(figure_rows(aid, a.figures, extractor_version, now))
    insert_columns(con, "articles", rows)
    insert_columns(con, "article_links", links)
    insert_columns(con, "topic_matches", matches)
    insert_columns(con, "figure_mentions", mentions)


def match_rows(aid: str, matches: Sequence[TopicMatch], topic_version: str, now: datetime) -> list[dict[str, Any]]:
    return [
        {"article_id": aid, "topic": m.topic, "terms": list(m.terms), "topic_version": topic_version, "matched_at": now}
        for m in matches
    ]


def figure_rows(
    aid: str, figures: Sequence[FoundFigure], extractor_version: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "article_id": aid,
            "seq": i,
            "category": f.category,
            "low": f.low,
            "high": f.high,
            "qualifier": f.qualifier,
            "who": f.who,
            "quote": f.quote,
            "start_offset": f.start,
            "end_offset": f.end,
            "claimant": f.claimant,
            "extractor_version": extractor_version,
            "found_at": now,
            "scope": f.scope,
            "claimant_key": claimants.key(f.claimant),
        }
        for i, f in enumerate(figures)
    ]


# --- what storage reads of the stages' records (storage imports no stage: their shape is enough) ---


class PolledEntry(Protocol):
    """What `select_new` reads of a feed's entry (feeds.Entry): its identities."""

    @property
    def link(self) -> str: ...

    @property
    def guid(self) -> str: ...


class PolledFeed(Protocol):
    """What `select_new` records of a feed's poll (feeds.Poll)."""

    @property
    def feed_url(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def polled_at(self) -> datetime: ...

    @property
    def ok(self) -> bool: ...

    @property
    def entries(self) -> Sequence[PolledEntry]: ...

    @property
    def http_status(self) -> int | None: ...

    @property
    def error(self) -> str | None: ...

    @property
    def warning(self) -> str | None: ...

    @property
    def latency_ms(self) -> float | None: ...

    @property
    def bytes(self) -> int: ...

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...

    @property
    def body_hash(self) -> str | None: ...

    @property
    def backoff_until(self) -> datetime | None: ...

    @property
    def title(self) -> str | None: ...


class TopicMatch(Protocol):
    """What `match_rows` reads of a topic match (topics.Match)."""

    @property
    def topic(self) -> str: ...

    @property
    def terms(self) -> Sequence[str]: ...


class FoundFigure(Protocol):
    """What `figure_rows` reads of a figure (figures.Figure)."""

    @property
    def category(self) -> str: ...

    @property
    def low(self) -> int | None: ...

    @property
    def high(self) -> int | None: ...

    @property
    def qualifier(self) -> str: ...

    @property
    def who(self) -> str | None: ...

    @property
    def quote(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def claimant(self) -> str | None: ...

    @property
    def scope(self) -> str: ...


class AnalysedArticle(Protocol):
    """What `save_articles` reads of an analysed article (articles.Article)."""

    @property
    def url(self) -> str: ...

    @property
    def guid(self) -> str: ...

    @property
    def feed_url(self) -> str: ...

    @property
    def source_url(self) -> str: ...

    @property
    def final_url(self) -> str: ...

    @property
    def outlet(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def author(self) -> str | None: ...

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def fetched_at(self) -> datetime: ...

    @property
    def site_name(self) -> str | None: ...

    @property
    def language(self) -> str | None: ...

    @property
    def text(self) -> str: ...

    @property
    def text_source(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def fetch_error(self) -> str | None: ...

    @property
    def matches(self) -> Sequence[TopicMatch]: ...

    @property
    def figures(self) -> Sequence[FoundFigure]: ...
