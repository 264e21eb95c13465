"""Queries and runs share the database file: neither ever makes the other fail.

DuckDB lets one process hold the file for writing and refuses every other open meanwhile, even read-only.
Runs write in short transactions; readers and writers retry a refused open, and a gate file gives a
waiting writer its turn before readers that come after it (monitor/store.py, docs/history.md). This test
runs queries in tight loops in other processes while real runs of the flow write, and records the
longest wait a reader saw (printed: `pytest -s tests/test_concurrency.py`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli, store
from tests.history_story import database, rows
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER
from tests.world import Story, World

ROOT = Path(__file__).resolve().parents[1]
RUNS = 2  # runs while the readers read
PER_RUN = 4  # new articles per run, written in batches of 2: many short transactions

# A reader in another process: the library path `monitor sql` and `monitor query` take, in a tight loop.
READER = """
import json, sys, time
from pathlib import Path
from monitor import query
db, stop = Path(sys.argv[1]), Path(sys.argv[2])
waits, failures = [], []
statements = [
    ("sql", "SELECT count(*) FROM articles"),
    ("sql", "SELECT topic, category, grp, low, high, n_outlets FROM figure_series"),
    ("named", "latest_figures"),
    ("sql", "SELECT * FROM new_figures ORDER BY as_of DESC LIMIT 20"),
]
i = 0
while not stop.exists():
    kind, text = statements[i % len(statements)]
    i += 1
    start = time.monotonic()
    try:
        if kind == "sql":
            query.run_sql(db, text)
        else:
            query.run_named(db, text, {})
    except Exception as e:
        failures.append(f"{type(e).__name__}: {e}")
    waits.append(time.monotonic() - start)
print(json.dumps({"queries": len(waits), "max_wait": max(waits, default=0.0), "failures": failures}))
"""


def stories(first: int, n: int) -> list[Story]:
    base = datetime(2025, 1, 6, 9, tzinfo=UTC)
    return [
        Story(
            slug=f"cc-{i}",
            title=f"North Korean troops in Russia, report {i}",
            paragraphs=(
                f"Officials said about {1000 + 100 * i:,} North Korean soldiers have been "
                f"deployed to Russia, and {10 + i} North Korean soldiers were killed.",
                FILLER,
            ),
            published=base + timedelta(hours=i),
        )
        for i in range(first, first + n)
    ]


def cli_loop(config: Path, stop: Path, results: list[tuple[int, float, str]]) -> None:
    """`monitor sql` as a user types it, over and over, each a new process."""
    while not stop.exists():
        start = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                "-c",
                str(config),
                "sql",
                "-f",
                "json",
                "SELECT count(*) AS n FROM figure_mentions",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        results.append((done.returncode, time.monotonic() - start, done.stderr.strip()))


@pytest.mark.slow
def test_queries_in_loops_and_runs_never_fail_each_other(prefect_harness: None, world: World, tmp_path: Path) -> None:
    feed = f"/{tmp_path.name}/cc.rss"
    published: list[Story] = []
    config = write_config(tmp_path, [world.url(feed)])
    config.write_text(config.read_text().replace("[fetch]\n", "[fetch]\nbatch_size = 2\n"))
    db = database(config)
    with store.open_for_write(db):  # the schema, so the readers can start before the first run
        pass

    def run() -> tuple[int, dict[str, object], float]:
        start = time.monotonic()
        result = CliRunner().invoke(cli.main, ["-c", str(config), "run", "--json"], catch_exceptions=False)
        return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else {}, time.monotonic() - start

    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(db), str(stop)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    cli_results: list[tuple[int, float, str]] = []
    typist = threading.Thread(target=cli_loop, args=(config, stop, cli_results))
    typist.start()
    runs = []
    try:
        time.sleep(1.0)  # the readers are looping before the first run starts
        for n in range(RUNS):
            published += stories(n * PER_RUN, PER_RUN)
            world.publish(feed, published)
            runs.append(run())
    finally:
        stop.touch()
        typist.join(timeout=180)
        outputs = [r.communicate(timeout=120) for r in readers]

    for code, summary, _ in runs:
        assert code == 0 and summary["status"] == "ok", summary
        assert summary["new_articles"] == PER_RUN
    assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == PER_RUN * RUNS
    assert rows(db, "SELECT count(DISTINCT run_id) AS n FROM history_articles")[0]["n"] == RUNS
    killed = rows(db, "SELECT count(*) AS n FROM new_figures WHERE category = 'killed'")
    assert killed[0]["n"] == PER_RUN * RUNS  # every report carried a new value

    reports = []
    for reader, (out, err) in zip(readers, outputs, strict=True):
        assert reader.returncode == 0, err
        reports.append(json.loads(out))
    for report in reports:
        assert report["failures"] == [], report["failures"][:3]
        assert report["queries"] >= 10, report
    assert cli_results and all(code == 0 for code, _, _ in cli_results), [err for code, _, err in cli_results if code]

    longest = max(r["max_wait"] for r in reports)
    print(
        f"\nconcurrency: {sum(r['queries'] for r in reports)} library queries in 2 processes and "
        f"{len(cli_results)} `monitor sql` processes during {RUNS} runs "
        f"({', '.join(f'{s:.1f}s' for _, _, s in runs)}); longest reader wait {longest:.3f}s, "
        f"longest `monitor sql` (process included) {max(s for _, s, _ in cli_results):.2f}s"
    )
    assert longest < 30, "a reader waited longer than a query may run"
