"""`monitor demo`: the package's own sample world, polled by the real pipeline, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli, demo, store


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_demo_runs_three_cycles_and_ends_with_a_report_and_a_digest(tmp_path: Path) -> None:
    directory = tmp_path / "monitor-demo"
    started = time.monotonic()
    result = CliRunner().invoke(cli.main, ["demo", str(directory)], catch_exceptions=False)
    seconds = time.monotonic() - started
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert seconds < 60, f"the demo took {seconds:.0f}s"  # Prefect's API is already up here: the cycles alone
    assert [int(n) for n in re.findall(r"== cycle (\d)/3", out)] == [1, 2, 3]
    assert out.count("feeds: 3/3 ok") == 3
    # every change of the story, with the value it replaced: Kyiv's estimate after Seoul's is a counterclaim
    revisions = re.findall(r"deployed\s+(\S+)\s+(?:revision|counterclaim)\s+(\S+)", out)
    assert re.findall(r"deployed\s+\S+\s+(revision|counterclaim)", out) == ["counterclaim", "revision", "counterclaim"]
    assert revisions == [("10,000–12,000", "1,500"), ("≈11,000", "10,000–12,000"), ("≈15,000", "11,000")]
    assert re.search(r"casualties\s+≈4,700\s+revision\s+3,000", out)
    assert re.search(r"killed\s+≈600\s+revision\s+300", out)
    digest = out[out.index("== the digest") : out.index("== done")]
    assert "Subject: news-monitor: 2 revisions, 1 counterclaim" in digest
    assert "REVISED  casualties: ≈4,700" in digest and "was 3,000 on 2025-01-13 (+1,700)" in digest
    report = directory / "report.html"
    assert f"report:   {report}" in out
    page = report.read_text()
    assert page.count('<figure class="chart"') == 4 and "≈15,000" in page
    with store.connect(directory / "monitor.duckdb", read_only=True) as con:
        outlets = {r[0] for r in con.execute("SELECT DISTINCT outlet FROM articles").fetchall()}
        series = con.execute(
            "SELECT n_outlets FROM figure_series WHERE category = 'deployed' AND low = 15000"
        ).fetchone()
    assert outlets == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}  # three outlets, each its own host
    assert series == (2,)  # the wire's reprint corroborates the 15,000
    config = (directory / "monitor.toml").read_text()
    assert 'allow_networks = ["127.0.0.0/8"]' in config and "[email]" not in config

    again = CliRunner().invoke(cli.main, ["demo", str(directory)], catch_exceptions=False)
    assert again.exit_code == 0, again.output  # a second demo in the same directory starts afresh
    assert again.stdout.count("feeds: 3/3 ok") == 3 and "≈15,000  counterclaim" in again.stdout


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli.main, ["demo", str(tmp_path)])
    assert result.exit_code == 2
    assert "was not made by `monitor demo`" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_story_tells_every_revision_with_real_feed_and_page_markup() -> None:
    story = demo.load_story()
    assert story.cycles == 3 and {o.format for o in story.outlets} == {"rss", "atom"}
    assert {a.outlet for a in story.articles} == {o.key for o in story.outlets}
    with demo.serve(story) as sites:
        new = demo.publish(sites, story, 1)
        import httpx

        feed = httpx.get(sites["seoul"].feed_url).text
        assert all(f"/news/{a.slug}" in feed for a in new if a.outlet == "seoul")
        assert "/news/nk-losses-mount" not in feed  # cycle 3's article is not out yet
        page = httpx.get(f"{sites['seoul'].base}/news/{new[0].slug}").text
        assert "<article>" in page and "1,500 special forces" in page


@pytest.mark.slow
def test_demo_from_a_fresh_process_without_network_takes_under_a_minute(tmp_path: Path) -> None:
    """As a newcomer runs it: a new process, a new Prefect home (its temporary API starts from scratch), and
    where the machine allows it (root, as on CI), a network namespace with nothing but loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    command = [sys.executable, "-m", "monitor", "demo", str(tmp_path / "demo")]
    offline = False
    unshare = shutil.which("unshare")
    if unshare and shutil.which("ip") and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        command = [unshare, "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
        offline = True
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(f"demo in a fresh process{' without network' if offline else ''}: {seconds:.1f}s")
    assert seconds < 60
    assert "Subject: news-monitor: 2 revisions, 1 counterclaim" in done.stdout
    assert (tmp_path / "demo" / "report.html").stat().st_size > 50_000
    assert (tmp_path / "demo" / "prefect").is_dir()  # its own Prefect home, inside the demo directory
