"""Named queries (queries/*.sql) and the locked-down SQL of `monitor sql` / `monitor query`.

Every named query runs against the database the dated story (tests/history_story.py) built through the
real pipeline, and its answer is checked against what the story says happened.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import cli, query, store
from monitor.errors import QueryError
from tests import history_story as hs

ROOT = Path(__file__).resolve().parents[1]


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def named(config: Path, name: str, **params: str) -> list[dict[str, Any]]:
    args = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    code, out, err = run(config, "query", name, *args, "--format", "json")
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def when(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# --- one check per named query: what the story says it must answer ---------------------------------------


def check_latest_figures(config: Path) -> None:
    got = {(r["category"], r["grp"]): r for r in named(config, "latest_figures", topic=hs.TOPIC)}
    assert sorted(got) == [
        ("deployed", "military"),
        ("killed", "Russian"),
        ("killed", "civilians"),
        ("killed", "military"),
        ("wounded", "military"),
    ]
    deployed = got[("deployed", "military")]
    assert (deployed["low"], deployed["previous_low"], deployed["change"], deployed["kind"]) == (
        10000,
        11000,
        -1000,
        "counterclaim",
    )  # Seoul after Ukraine's military intelligence: not a revision
    assert (deployed["claimant_key"], deployed["previous_claimant"]) == ("Seoul", "Ukraine HUR")
    assert deployed["said"] == "Seoul; Ukraine HUR said 11,000 on 2024-11-13"
    assert got[("killed", "civilians")]["scope"] == "incident"
    assert hs.slug_of(deployed["article_url"]) == hs.REVISED.slug and deployed["n_outlets"] == 1
    killed = got[("killed", "military")]
    assert (killed["low"], killed["previous_low"], killed["change"]) == (1000, 200, 800)
    assert killed["n_outlets"] == 2
    assert when(killed["last_seen"]) == "2024-12-28 15:00"  # B's reprint, the day after
    assert named(config, "latest_figures") == list(got.values())  # one topic: the same without the filter
    assert named(config, "latest_figures", topic=hs.TOPIC.upper()) == list(got.values())  # case does not matter
    code, _, err = run(config, "query", "latest_figures", "-p", "topic=no such topic")  # not 0 rows: the list
    assert code == 2 and err == (
        f"error: no topic named 'no such topic' (topics: {hs.TOPIC!r}). Check the name in [[topics]].\n"
    )


def check_topic_timeline(config: Path) -> None:
    got = named(config, "topic_timeline", topic=hs.TOPIC)
    assert len(got) == 15  # every report of every figure of the topic, reprints included
    assert [r["kind"] for r in got].count("repeat") == 6
    first = got[0]
    assert (hs.slug_of(first["article_url"]), first["kind"], first["low"]) == (hs.DISPATCH.slug, "new", 1500)
    late = [r for r in got if hs.slug_of(r["article_url"]) == hs.LATE.slug]
    assert [(r["category"], r["low"], r["kind"]) for r in late] == [
        ("deployed", 3000, "repeat"),
        ("wounded", 50, "new"),
    ]
    assert [r["as_of"] for r in got] == sorted(r["as_of"] for r in got)


def check_new_figures_since(config: Path) -> None:
    got = named(config, "new_figures_since", since="2024-11-14")
    assert [(r["category"], r["grp"], r["low"], r["kind"], r["previous_low"], r["previous_claimant"]) for r in got] == [
        ("deployed", "military", 10000, "counterclaim", 11000, "Ukraine HUR"),
        ("killed", "civilians", 12, "new", None, None),
        ("killed", "military", 1000, "counterclaim", 200, "Ukraine HUR"),
        ("killed", "Russian", 400, "new", None, None),
    ]
    assert named(config, "new_figures_since", since="2025-01-01") == []
    assert len(named(config, "new_figures_since", since="2024-01-01T00:00:00Z", topic=hs.TOPIC)) == 9


def check_value_sources(config: Path) -> None:
    got = {(r["category"], r["grp"], r["low"]): r for r in named(config, "value_sources")}
    assert len(got) == len(hs.EXPECTED)
    dispatch = got[("deployed", "military", 1500)]
    assert (dispatch["n_outlets"], dispatch["outlets"]) == (2, "127.0.0.1, 127.0.0.2")
    assert dispatch["claimants"] == "South Korea's spy agency"
    assert got[("killed", "military", 1000)]["outlets"] == "127.0.0.2, 127.0.0.3"


def check_disagreements(config: Path) -> None:
    got = named(config, "disagreements")
    assert [(r["category"], r["grp"], r["week"], r["low"], r["n_outlets"], r["values_that_week"]) for r in got] == [
        ("deployed", "military", "2024-11-11", 11000, 2, 2),
        ("deployed", "military", "2024-11-11", 10000, 1, 2),
    ]
    assert got[1]["claimants"] == "Seoul"


def check_incidents_per_week(config: Path) -> None:
    got = named(config, "incidents_per_week", topic=hs.TOPIC)
    assert [(r["category"], r["grp"], r["week"], r["total"], r["incidents"], r["n_reports"]) for r in got] == [
        ("killed", "civilians", "2024-11-11", 12, 1, 1)
    ]  # "when a drone struck a village": one event
    assert "drone struck" in got[0]["quotes"] or "killed" in got[0]["quotes"]


def check_topic_volume(config: Path) -> None:
    got = named(config, "topic_volume")
    assert sum(r["articles"] for r in got) == 9  # the flood matches no topic
    first = got[0]
    assert (first["day"], first["articles"], first["texts"], first["outlets"]) == ("2024-10-18", 2, 1, 2)
    december = named(config, "topic_volume", since="2024-12-01")
    assert [r["day"] for r in december] == ["2024-12-27", "2024-12-28"]


def check_feed_health(config: Path) -> None:
    got = named(config, "feed_health")
    assert len(got) == 3
    for r in got:
        assert r["polls"] == len(hs.ROUNDS) + 1 and r["failures"] == 0 and r["consecutive_failures"] == 0
        assert r["last_success_at"] is not None and r["avg_latency_ms"] is not None
    assert all(r["polls"] == 0 for r in named(config, "feed_health", days="0"))


CHECKS: dict[str, Callable[[Path], None]] = {
    name.removeprefix("check_"): fn for name, fn in globals().items() if name.startswith("check_")
}


@pytest.mark.parametrize("name", [q.name for q in query.named_queries()])
def test_every_named_query_answers_its_question(name: str, history_story: hs.StoryRun) -> None:
    assert name in CHECKS, f"queries/{name}.sql has no check in tests/test_queries.py"
    CHECKS[name](history_story.fresh)


def test_the_required_questions_have_queries() -> None:
    assert {q.name for q in query.named_queries()} >= {
        "latest_figures",
        "topic_timeline",
        "new_figures_since",
        "value_sources",
        "disagreements",
        "topic_volume",
        "feed_health",
    }


# --- the files, their documentation, the command ---------------------------------------------------------


def test_every_query_file_says_what_it_answers_and_its_params() -> None:
    files = sorted((ROOT / "queries").glob("*.sql"))
    assert [f.stem for f in files] == [q.name for q in query.named_queries()]  # the package ships them all
    for f in files:
        text = f.read_text()
        assert text.startswith("-- "), f
        q = query.named_query(f.stem)
        assert q.description.endswith(".") and len(q.description) > 30, f
        for p in q.params:
            assert p.description, (f, p)
        used = set(re.findall(r"\$(\w+)", text))
        assert used == {p.name for p in q.params}, f


def test_docs_describe_every_query_and_its_params() -> None:
    docs = (ROOT / "docs" / "queries.md").read_text()
    for q in query.named_queries():
        assert f"`{q.name}`" in docs, q.name
        for p in q.params:
            assert f"${p.name}" in docs, (q.name, p.name)


def test_list_shows_names_descriptions_and_params(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path / "absent.toml", "query", "--list")
    assert code == 0  # listing needs no config and no database
    for q in query.named_queries():
        line = next(line for line in out.splitlines() if line.startswith(q.name + " "))
        assert q.description in line
    assert "--param since=…" in out and "(required)" in out and "(default: 7)" in out


def test_unknown_query_and_missing_or_unknown_params_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "absent.toml"
    code, _, err = run(config, "query", "latest_figure")
    assert code == 2 and "no query named 'latest_figure'" in err and "latest_figures" in err
    code, _, err = run(config, "query", "new_figures_since")
    assert code == 2 and "needs --param since=" in err
    code, _, err = run(config, "query", "latest_figures", "--param", "tpic=x")
    assert code == 2 and "no parameter tpic" in err and "[topic=…]" in err
    code, _, err = run(config, "query", "latest_figures", "--param", "topic")
    assert code == 2 and "expected key=value" in err
    with pytest.raises(QueryError, match="differ from those its comment declares"):
        query.parse_named("bad", "-- A query.\nSELECT $x")
    with pytest.raises(QueryError, match="no opening comment"):
        query.parse_named("bad", "SELECT 1")


def test_formats_and_parameters_are_values_not_sql(history_story: hs.StoryRun) -> None:
    config = history_story.fresh
    code, out, _ = run(config, "query", "latest_figures", "-f", "csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 5 and table[0]["topic"] == hs.TOPIC
    code, out, _ = run(config, "query", "latest_figures")
    assert code == 0 and out.rstrip().endswith("(5 rows)")
    code, _, err = run(config, "query", "latest_figures", "-p", "topic=x' OR 1=1 --")
    assert code == 2 and err.startswith('error: no topic named "x\' OR 1=1 --" (topics: ')
    code, _, err = run(config, "query", "new_figures_since", "--param", "since=last tuesday")
    assert code == 2 and err == (
        "error: --param since='last tuesday': not a date or time; use a date or time "
        "(2025-01-31, 2025-01-31T09:00Z), today, yesterday, or an age such as 12h, 7d "
        "or 2w.\n"
    )


# --- locked down -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO feeds (url, added_at) VALUES ('x', now())", "read-only"),
        ("DELETE FROM articles", "read-only"),
        ("CREATE TABLE t AS SELECT 1", "read-only"),
        ("COPY articles TO '{dir}/out.csv'", "file and network access"),
        ("SELECT * FROM read_csv('{dir}/monitor.toml')", "file and network access"),
        ("ATTACH '{dir}/other.duckdb' AS other", "file and network access"),
        ("INSTALL httpfs", "file and network access"),
        ("LOAD httpfs", "file and network access"),
        ("SELECT * FROM read_parquet('https://example.org/x.parquet')", "file and network access"),
        ("SET enable_external_access = true", "Settings cannot be changed"),
        ("SET memory_limit = '100GB'", "Settings cannot be changed"),
        ("RESET lock_configuration", "Settings cannot be changed"),
    ],
)
def test_sql_cannot_write_touch_files_or_change_settings(history_story: hs.StoryRun, sql: str, message: str) -> None:
    config = history_story.fresh
    code, _, err = run(config, "sql", sql.format(dir=config.parent))
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (config.parent / "out.csv").exists() and not (config.parent / "other.duckdb").exists()


def test_a_query_is_stopped_before_it_can_hold_a_run_up_for_long(history_story: hs.StoryRun) -> None:
    db = hs.database(history_story.fresh)
    with pytest.raises(QueryError, match=r"stopped after 0\.2 s"):
        query.run_sql(db, "SELECT count(*) FROM range(100000000000) a", timeout=0.2)
    assert query.QUERY_TIMEOUT < store.LOCK_WAIT  # a run waiting on a query outlasts it


# --- the DuckDB command line -------------------------------------------------------------------------------

CLI_PARAMS = {"topic": hs.TOPIC, "since": "2024-11-14", "days": "7"}  # the values the checks above use


def sql_literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def test_the_duckdb_cli_opens_the_pipelines_file_and_runs_every_named_query(history_story: hs.StoryRun) -> None:
    """The CLI that installs (duckdb-cli 1.5) reads the file duckdb 2.0 wrote: store.STORAGE_VERSION."""
    duckdb_cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    if duckdb_cli is None:
        pytest.fail("the DuckDB CLI is not installed beside this Python: pip install -e '.[test]' brings duckdb-cli")
    db = hs.database(history_story.fresh)
    answered = 0
    for q in query.named_queries():
        values = q.bind({p.name: CLI_PARAMS[p.name] for p in q.params})
        args = ", ".join(f"{k} := {sql_literal(v)}" for k, v in values.items())
        # the file's text as a user runs it, parameters filled the way the CLI takes them
        script = f"PREPARE q AS {q.sql.strip().rstrip(';')};\nEXECUTE q({args});"
        out = subprocess.run(
            [duckdb_cli, "-readonly", "-json", str(db)],
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0 and not out.stderr, (q.name, out.stderr)
        got = json.loads(out.stdout or "[]")
        columns, rows = query.run_named(db, q.name, {p.name: CLI_PARAMS[p.name] for p in q.params})
        assert len(got) == len(rows), q.name
        assert not got or list(got[0]) == columns, q.name
        answered += bool(got)
    assert answered == len(query.named_queries())  # the story gives every question an answer
