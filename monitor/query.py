"""Queries: ad-hoc and named (queries/*.sql) SQL, read-only and locked down, never failing a run."""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import resource
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from monitor import store
from monitor.errors import QueryError

MAX_ROWS = 100_000  # an accidental cross join must not fill the terminal or the memory
# A reader holds the file while its query runs and a run's write waits for it (store.LOCK_WAIT, 60 s):
# stopping user queries at 30 s means a user's query can delay a run but never make it fail.
QUERY_TIMEOUT = 30.0
# Memory a query may take beyond what the process had: `SELECT list(range(0, 50000000))` builds a 400 MB value
# outside DuckDB's own memory_limit, then Python's 50 million ints (4 GB, and 40 s that DuckDB's interrupt
# cannot cut short, holding the file). Over this the allocation fails at once, and the file is free.
QUERY_MEMORY = 1 * 2**30


def run_sql(
    path: Path,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    *,
    max_rows: int = MAX_ROWS,
    wait: float = store.LOCK_WAIT,
    timeout: float = QUERY_TIMEOUT,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only statement; returns column names and rows. Raises QueryError on bad SQL."""
    if not sql.strip():
        raise QueryError("empty SQL; give a statement such as SELECT * FROM runs")
    refuse_writes(sql)
    with store.connect(path, read_only=True, wait=wait) as con, _memory_headroom(QUERY_MEMORY):
        timer = threading.Timer(timeout, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            cur = con.execute(sql, params or None)
            if cur.description is None:
                return [], []
            columns = [d[0] for d in cur.description]
            rows = cur.fetchmany(max_rows)
        except (duckdb.OutOfMemoryException, MemoryError):
            raise QueryError(
                f"query stopped: it needed more than {QUERY_MEMORY // 2**20} MiB. Narrow the query "
                "(WHERE, LIMIT, fewer or smaller columns)."
            ) from None
        except duckdb.InterruptException:
            raise QueryError(
                f"query stopped after {timeout:g} s: queries share the database with scheduled "
                "runs and may not hold it longer. Narrow the query (WHERE, LIMIT), or copy the "
                "database file and query the copy with duckdb."
            ) from None
        except duckdb.Error as e:
            if store.is_damage(e):
                raise store.damaged(path, e) from None
            raise QueryError(_sql_message(e)) from None
        finally:
            timer.cancel()
    return columns, rows


@contextlib.contextmanager
def _memory_headroom(extra: int) -> Iterator[None]:
    """Limit this process's data memory to what it uses now plus `extra` (RLIMIT_DATA), restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    try:
        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
    except (OSError, StopIteration, ValueError):  # not Linux: DuckDB's own memory_limit remains
        yield
        return
    limit = used + extra if hard == resource.RLIM_INFINITY else min(used + extra, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


# Statements that change the database. Refused before DuckDB sees them: on a view (`DELETE FROM figures`)
# DuckDB would answer "Can only delete from base table", which reads as if a table would do.
WRITES = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "ALTER",
        "MERGE_INTO",
        "COPY",
        "COPY_DATABASE",
        "CREATE_FUNC",
        "EXPORT",
        "VACUUM",
        "ANALYZE",
    }
)


def refuse_writes(sql: str) -> None:
    """QueryError with the read-only message when `sql` holds a statement that writes."""
    try:
        kinds = [s.type.name for s in duckdb.extract_statements(sql)]
    except duckdb.Error:
        return  # not SQL DuckDB can parse: running it gives the parser's own message, with the position
    for kind in kinds:
        if kind in WRITES:
            word = kind.split("_")[0]
            raise QueryError(
                f"{word} refused: `monitor sql` is read-only: writes, file and network access "
                "are disabled. Query only; copy data out with -f csv / -f json."
            )


def _sql_message(e: duckdb.Error) -> str:
    text = str(e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    if "configuration has been locked" in text:
        return f"{first}. Settings cannot be changed in `monitor sql` and `monitor query`."
    if isinstance(e, duckdb.PermissionException) or "read-only" in text or "read only" in text:
        return f"{first}. `monitor sql` is read-only: writes, file and network access are disabled."
    if "enable_external_access" in text or "external access" in text.lower():
        return f"{first}. File and network access from SQL are disabled in `monitor sql`."
    return f"SQL error: {text}"


# --- named queries (queries/*.sql) ----------------------------------------------------------------------

QUERIES_DIR = "queries"  # monitor/queries, a link to the repository's queries/ (shipped as package data)
_PARAM_LINE = re.compile(r"^--\s*\$([A-Za-z_]\w*)\s*:\s*(.*)$")
_PARAM_USE = re.compile(r"\$([A-Za-z_]\w*)")
_DEFAULT = re.compile(r"\((?:default:\s*(?P<default>[^)]*)|(?P<optional>optional)[^)]*)\)\s*$")


_CAST = re.compile(r"CAST\(\s*\$([A-Za-z_]\w*)\s+AS\s+(\w+)", re.IGNORECASE)
KINDS = {"TIMESTAMPTZ": "time", "TIMESTAMP": "time", "DATE": "time", "INTEGER": "integer", "BIGINT": "integer"}
TOPIC_PARAM = "topic"  # a `$topic` is checked against the topics there are, whatever its case
_AGE = re.compile(r"^(\d+)\s*(h|d|w)$", re.IGNORECASE)
AGE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
WHEN_HELP = "use a date or time (2025-01-31, 2025-01-31T09:00Z), today, yesterday, or an age such as 12h, 7d or 2w"


@dataclass(frozen=True, slots=True)
class Param:
    """A `$name` a named query takes, as its header comment declares it."""

    name: str
    description: str
    default: str | None  # given when the caller leaves it out; None with required=False means SQL NULL
    required: bool
    kind: str = "text"  # time | integer | topic | text: what a given value is checked as


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """A time as people write it: an ISO date or time (UTC unless it says), `today`, `yesterday`, `now`, or
    an age back from now (`12h`, `7d`, `2w`). ValueError when it is none of them."""
    now = now or datetime.now(UTC)
    word = text.strip().lower()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "now":
        return now
    if word == "today":
        return midnight
    if word == "yesterday":
        return midnight - timedelta(days=1)
    age = _AGE.match(word)
    if age:
        return now - int(age.group(1)) * AGE_UNITS[age.group(2).lower()]
    when = datetime.fromisoformat(text.strip())  # ValueError when not ISO (3.11 reads a trailing Z)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """One queries/*.sql file: the question it answers (its first comment line), its params and SQL."""

    name: str
    description: str
    params: tuple[Param, ...]
    sql: str

    def bind(self, given: Mapping[str, str]) -> dict[str, str | None]:
        """Values for every param: given, else the default; QueryError names what is missing or unknown."""
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            raise QueryError(
                f"query {self.name!r} has no parameter {', '.join(unknown)}; "
                f"it takes: {self.usage() or 'no parameters'}."
            )
        missing = [p for p in self.params if p.required and p.name not in given]
        if missing:
            raise QueryError(
                f"query {self.name!r} needs "
                + ", ".join(f"--param {p.name}=… ({p.description})" for p in missing)
                + "."
            )
        return {p.name: given.get(p.name, p.default) for p in self.params}

    def usage(self) -> str:
        return " ".join(f"{p.name}=…" if p.required else f"[{p.name}=…]" for p in self.params)


def parse_named(name: str, text: str) -> NamedQuery:
    """A named query from its file: the leading comment gives the description and declares the params."""
    header = list(itertools.takewhile(lambda line: line.startswith("--"), text.lstrip().splitlines()))
    if not header:
        raise QueryError(
            f"{QUERIES_DIR}/{name}.sql: no opening comment; its first line must say what the query answers."
        )
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    # a parameter's type is the one the SQL casts it to: CAST($since AS TIMESTAMPTZ) takes a time
    casts = {m.group(1): KINDS.get(m.group(2).upper(), "text") for m in _CAST.finditer(body)}
    params = []
    for line in header:
        m = _PARAM_LINE.match(line)
        if m:
            key, desc = m.group(1), m.group(2).strip()
            kind = casts.get(key, "topic" if key == TOPIC_PARAM else "text")
            d = _DEFAULT.search(desc)
            if d is None:
                params.append(Param(key, desc, None, True, kind))
            else:
                params.append(
                    Param(
                        key,
                        desc[: d.start()].strip(),
                        None if d.group("optional") else d.group("default").strip(),
                        False,
                        kind,
                    )
                )
    used = set(_PARAM_USE.findall(body))
    declared = {p.name for p in params}
    if used != declared:
        raise QueryError(
            f"{QUERIES_DIR}/{name}.sql: the parameters it uses ({', '.join(sorted(used))}) "
            f"differ from those its comment declares ({', '.join(sorted(declared))})."
        )
    return NamedQuery(name=name, description=header[0].removeprefix("--").strip(), params=tuple(params), sql=text)


@functools.cache
def named_queries() -> tuple[NamedQuery, ...]:
    """Every named query shipped with news-monitor, by name."""
    folder = resources.files("monitor") / QUERIES_DIR
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return tuple(parse_named(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files)


def named_query(name: str) -> NamedQuery:
    """The named query `name`; QueryError lists the names there are."""
    for q in named_queries():
        if q.name == name.removesuffix(".sql"):
            return q
    names = ", ".join(q.name for q in named_queries())
    raise QueryError(f"no query named {name!r}. Queries: {names} (see `monitor query --list`).")


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """`key=value` pairs from the command line."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param {item!r}: expected key=value, e.g. --param since=2024-11-01")
        out[key.strip()] = value
    return out


def check_values(q: NamedQuery, values: Mapping[str, str | None], now: datetime | None = None) -> dict[str, str | None]:
    """Each value checked as its parameter's type (times as people write them, turned into ISO times);
    QueryError names the parameter and what it takes."""
    out = dict(values)
    for p in q.params:
        value = values.get(p.name)
        if value is None:
            continue
        if p.kind == "time":
            try:
                out[p.name] = parse_when(value, now).isoformat()
            except ValueError:
                raise QueryError(f"--param {p.name}={value!r}: not a date or time; {WHEN_HELP}.") from None
        elif p.kind == "integer":
            try:
                out[p.name] = str(int(value.strip()))
            except ValueError:
                raise QueryError(
                    f"--param {p.name}={value!r}: expected a whole number, e.g. --param {p.name}={p.default or 7}."
                ) from None
    return out


def known_topics(path: Path, configured: Sequence[str] = (), *, wait: float = store.LOCK_WAIT) -> list[str]:
    """The topics there are: those configured, then those with matches in the database."""
    _, rows = run_sql(path, "SELECT DISTINCT topic FROM topic_matches ORDER BY topic", wait=wait)
    names = list(configured)
    seen = {n.casefold() for n in names}
    return names + [r[0] for r in rows if r[0].casefold() not in seen]


def topic_named(given: str, topics: Sequence[str]) -> str:
    """The topic `given` names, whatever its case; QueryError lists the topics there are."""
    for name in topics:
        if name.casefold() == given.strip().casefold():
            return name
    known = ", ".join(repr(n) for n in topics) or "none yet"
    raise QueryError(f"no topic named {given!r} (topics: {known}). Check the name in [[topics]].")


def run_named(
    path: Path,
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    max_rows: int = MAX_ROWS,
    wait: float = store.LOCK_WAIT,
    topics: Sequence[str] = (),
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a named query with `$params`, each checked against its type and a topic against the topics there
    are (`topics` configured, and the database's); read-only like run_sql."""
    q = named_query(name)
    values = check_values(q, q.bind(params or {}))
    for p in q.params:
        value = values.get(p.name)
        if p.kind == "topic" and value is not None:
            values[p.name] = topic_named(value, known_topics(path, topics, wait=wait))
    return run_sql(path, q.sql, values, max_rows=max_rows, wait=wait)
