"""Storage: schema creation and in-place upgrade, batched inserts, the run lock, clear errors on bad files."""

from __future__ import annotations

import ast
import threading
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pytest

from monitor import store
from monitor.errors import StoreError


def test_fresh_database_gets_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    with store.open_for_write(path) as con:
        version = con.execute("SELECT max(version) FROM schema_info").fetchone()
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert version == (store.schema_version(),)
    assert {
        "feeds",
        "runs",
        "feed_polls",
        "articles",
        "article_links",
        "topic_matches",
        "figure_mentions",
        "figures",
    } <= tables


def test_an_older_database_is_upgraded_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # a database as version 1 of news-monitor wrote it
    con.execute((resources.files("monitor") / "schema.sql").read_text())
    con.execute("INSERT INTO schema_info (version) VALUES (1)")
    now = datetime.now(UTC)
    con.execute(
        "INSERT INTO articles (article_id, url, feed_url, fetched_at, text, text_source, run_id, "
        "first_seen_at) VALUES ('a1', 'https://n.test/a', 'https://n.test/rss', ?, 'body', 'extracted', "
        "'r1', ?)",
        [now, now],
    )
    con.execute(
        "INSERT INTO figure_mentions VALUES ('a1', 0, 'killed', 3, 3, 'exact', NULL, '3 killed', 0, 8, NULL, 'v0', ?)",
        [now],
    )
    con.close()
    with store.open_for_write(path) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_info ORDER BY version").fetchall()]
        kept = con.execute("SELECT a.url, m.low FROM articles a JOIN figure_mentions m USING (article_id)").fetchall()
    assert versions[0] == 1 and versions[-1] == store.schema_version()
    assert kept == [("https://n.test/a", 3)]


def test_a_newer_database_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with store.open_for_write(path) as con:
        con.execute("INSERT INTO schema_info (version) VALUES (9999)")
    with pytest.raises(StoreError, match=r"newer than this news-monitor.*Upgrade"), store.open_for_write(path):
        pass


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=str(path)), store.open_for_write(path):
        pass
    assert path.read_text().startswith("these are my notes")  # nothing overwritten


def test_reading_a_missing_database_says_to_run_first(tmp_path: Path) -> None:
    with (
        pytest.raises(StoreError, match=r"no database yet.*monitor run"),
        store.connect(tmp_path / "none.duckdb", read_only=True),
    ):
        pass


def test_insert_columns_writes_many_rows_in_one_statement(tmp_path: Path) -> None:
    with store.connect(tmp_path / "x.duckdb") as con:
        con.execute("CREATE TABLE t (a INTEGER, b VARCHAR, c VARCHAR[])")
        store.insert_columns(con, "t", [{"a": i, "b": f"r{i}", "c": [str(i)] * (i % 3)} for i in range(1000)])
        assert con.execute("SELECT count(*), sum(a), max(len(c)) FROM t").fetchone() == (1000, 499500, 2)


def test_second_run_lock_waits_then_skips_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    held = threading.Event()
    release = threading.Event()

    def first() -> None:
        with store.run_lock(path):
            held.set()
            release.wait(10)

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    started = time.monotonic()
    with (
        pytest.raises(store.RunInProgress, match=r"another run is in progress.*skipped"),
        store.run_lock(path, wait=0.5),
    ):
        pass
    assert time.monotonic() - started >= 0.5
    release.set()
    t.join()
    with store.run_lock(path, wait=0.5):  # free again once the first run ends
        pass


def test_the_library_never_imports_prefect() -> None:
    root = Path(__file__).parents[1] / "monitor"
    offenders = []
    for file in root.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{file.name}: {n}" for n in names if n.split(".")[0] in ("prefect", "prefect_dask")]
    assert offenders == []


def test_an_open_that_changes_nothing_does_not_write_the_file(tmp_path: Path) -> None:
    # Views are recreated only when they differ from views/*.sql: an idle poll's opens stay reads, with
    # no checkpoint (and fsync) when each one closes.
    path = tmp_path / "m.duckdb"
    with store.open_for_write(path):
        pass
    before = path.stat().st_mtime_ns
    time.sleep(0.02)
    with store.open_for_write(path) as con:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert path.stat().st_mtime_ns == before
    assert {"figures", "alerts"} <= views


def test_a_dropped_view_is_recreated_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    with store.open_for_write(path) as con:
        con.execute("DROP VIEW figures")
    with store.open_for_write(path) as con:
        columns = [d[0] for d in con.execute("SELECT * FROM figures LIMIT 0").description]
    assert "article_url" in columns


def test_views_of_another_version_are_replaced_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    with store.open_for_write(path) as con:
        con.execute("CREATE OR REPLACE VIEW alerts AS SELECT 1 AS stale")
        con.execute("COMMENT ON TABLE schema_info IS 'views of an older news-monitor'")
    with store.open_for_write(path) as con:
        columns = [d[0] for d in con.execute("SELECT * FROM alerts LIMIT 0").description]
    assert columns != ["stale"]
