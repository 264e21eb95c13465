"""Progress of `monitor run`: plain log lines off a terminal, a bar with counts on one, nothing when quiet."""

from __future__ import annotations

import json
import os
import re
import select
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli, progress
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World


@pytest.mark.usefixtures("prefect_harness")
def test_run_off_a_terminal_logs_plain_progress_lines_and_quiet_prints_nothing(world: World, tmp_path: Path) -> None:
    ok = world.publish(f"/{tmp_path.name}/a.rss", [stories.DISPATCH, stories.FLOOD])
    gone = world.url(f"/{tmp_path.name}/gone.rss")
    config = write_config(tmp_path, [ok, gone])
    result = CliRunner().invoke(cli.main, ["-c", str(config), "run", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_articles"] == 2  # progress goes to stderr: stdout stays JSON
    lines = [
        re.sub(r"^\d\d:\d\d:\d\d ", "", line)
        for line in result.stderr.splitlines()
        if re.match(r"\d\d:\d\d:\d\d ", line)
    ]
    # the first line at once, then what Prefect's start-up is doing (issue 18)
    assert lines[0] == f"polling 2 feeds of {config} into {tmp_path / 'data' / 'monitor.duckdb'}"
    assert lines[1].startswith(("starting Prefect's local API (", "using the Prefect API at ")), lines
    # DISPATCH has the topic's figure (new); the flood's figure matches no topic
    stages = [line for line in lines if line.split(":")[0] in ("feeds", "articles", "figures", "alerts")]
    assert stages == [
        "feeds: 2 to do",
        "feeds: 2/2 done (1 ok, 1 failed, 0 backing off)",
        "articles: 2 to do",
        "articles: 2/2 done (0 without a fetched body, 2 figures)",
        "figures: done (1 new, 0 revised)",
    ]
    quiet = CliRunner().invoke(cli.main, ["-c", str(config), "run", "-q"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert not re.search(r"^\d\d:\d\d:\d\d ", quiet.stderr, re.M)


def test_a_terminal_gets_a_bar_with_counts() -> None:
    main, child = os.openpty()
    with os.fdopen(child, "w") as tty:
        assert tty.isatty()
        with progress.display(tty):
            progress.start("feeds", 3)
            for _ in range(3):
                progress.advance("feeds")
            progress.done("feeds", "3 ok, 0 failed")
            progress.start("articles", 40)
            progress.advance("articles", 10)
        out = b""
        while select.select([main], [], [], 0.5)[0]:
            chunk = os.read(main, 65536)
            if not chunk:
                break
            out += chunk
    os.close(main)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))
    assert "feeds" in text and "3/3" in text and "3 ok, 0 failed" in text
    assert "articles" in text and "10/40" in text
    assert "━" in text  # rich's bar


def test_a_broken_display_never_stops_a_run() -> None:
    class Broken:
        def start(self, stage: str, total: int) -> None:
            raise OSError("stderr closed")

        def advance(self, stage: str, n: int) -> None:
            raise OSError("stderr closed")

        def done(self, stage: str, message: str) -> None:
            raise OSError("stderr closed")

    seen: list[str] = []

    class Recorder:
        def start(self, stage: str, total: int) -> None:
            seen.append(f"start {stage} {total}")

        def advance(self, stage: str, n: int) -> None:
            seen.append(f"advance {stage} {n}")

        def done(self, stage: str, message: str) -> None:
            seen.append(f"done {stage} {message}")

    with progress.observe(Broken()), progress.observe(Recorder()):
        progress.start("feeds", 1)
        progress.advance("feeds")
        progress.done("feeds", "1 ok")
    progress.advance("feeds")  # nobody watching: nothing happens
    assert seen == ["start feeds 1", "advance feeds 1", "done feeds 1 ok"]
