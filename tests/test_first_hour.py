"""The first hour of a new user (issue 18), each item driven through the real `monitor` command in a
subprocess — on a pseudo-terminal where the behaviour is a terminal's — asserting what the user sees: the
first line within a second, never a traceback, the exit codes docs/troubleshooting.md documents."""

from __future__ import annotations

import csv
import functools
import io
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli
from tests import browser, stories
from tests.real_prefect import BIN, free_port
from tests.world import Story, World

MONITOR = str(BIN / "monitor")
FIRST_LINE = 1.0  # seconds from start to the first line of output
TOPIC = "North Korean troops in Russia"
QUERY = '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)'
FEED_NAME = "Korea Wire"
# the day after KURSK, the same number: two dots a day apart on the deployed chart
KURSK_NEXT = Story(
    slug="nk-troops-kursk-next-day",
    title="North Korean troops reinforce Kursk",
    paragraphs=(
        "About 10,000 North Korean troops are now stationed in Russia's Kursk region, Ukraine's "
        "military intelligence said.",
        stories.FILLER,
    ),
    published=stories.day("2024-11-14"),
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Seen:
    """What a user saw of one command."""

    code: int
    out: str  # stdout, or everything on a terminal
    err: str = ""
    first: float = float("inf")  # seconds until the first byte of output
    took: float = 0.0
    left: list[str] = field(default_factory=list)  # descendant processes still running after the exit
    chunks: list[tuple[float, str]] = field(default_factory=list)  # (seconds from start, text) as it came
    interrupted: float = float("nan")  # seconds from the start when Ctrl-C was sent (on_terminal)

    def arrived(self, text: str) -> float:
        """When `text` had arrived in full, in seconds from the start."""
        got = ""
        for when, chunk in self.chunks:
            got += chunk
            if text in got:
                return when
        raise AssertionError(f"{text!r} never arrived")

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def lines(self) -> list[str]:
        return [line for line in ANSI.sub("", self.text).replace("\r", "\n").split("\n") if line.strip()]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell: none of the test session's Prefect settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"COLUMNS": "200", **(extra or {})})
    return env


def piped(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> Seen:
    """The command with stdout and stderr to pipes (cron, `| less`), timing its first byte of output."""
    started = time.monotonic()
    with subprocess.Popen(
        [MONITOR, *args],
        cwd=cwd,
        env=env or clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.fileno(), proc.stderr.fileno()
        chunks: dict[int, bytes] = {out: b"", err: b""}
        first = float("inf")
        open_fds = set(chunks)
        while open_fds:
            assert time.monotonic() - started < timeout, f"monitor {' '.join(args)} still running after {timeout} s"
            ready, _, _ = select.select(list(open_fds), [], [], 0.5)
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    open_fds.discard(fd)
                    continue
                first = min(first, time.monotonic() - started)
                chunks[fd] += data
        code = proc.wait()
    return Seen(code, chunks[out].decode(), chunks[err].decode(), first, time.monotonic() - started)


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> str | None:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return None
    return None if state == "Z" else f"{pid}: {command}"


def on_terminal(
    args: Sequence[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    *,
    interrupt_after: float | None = None,
    interrupt_on: str | None = None,
    interrupt_when: Callable[[], bool] | None = None,
    timeout: float = 240,
) -> Seen:
    """The command on a pseudo-terminal, as typed at a shell; Ctrl-C after `interrupt_after` seconds (counted
    from the moment `interrupt_on` was printed, or `interrupt_when()` was first true, when given).
    `Seen.interrupted` says when it was sent."""
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its terminal the pty
        os.chdir(cwd)
        os.execve(MONITOR, [MONITOR, *args], env or clean_env())
    out, first, sent, family, interrupted = b"", float("inf"), False, set(), float("nan")
    chunks: list[tuple[float, str]] = []
    while True:
        now = time.monotonic() - started
        assert now < timeout, f"monitor {' '.join(args)} still running after {timeout} s:\n{out.decode()[-3000:]}"
        if not sent:
            family |= _descendants(pid)  # every process it started, to check none outlives it
            if interrupt_on is not None and interrupt_on in out.decode(errors="replace"):
                interrupt_on, interrupt_after = None, now + (interrupt_after or 0.0)
            if interrupt_when is not None and interrupt_when():
                interrupt_when, interrupt_after = None, now + (interrupt_after or 0.0)
            waiting = interrupt_on is not None or interrupt_when is not None
            if not waiting and interrupt_after is not None and now >= interrupt_after:
                os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
                sent, interrupted = True, now
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the command exited and closed the terminal
                break
            if not data:
                break
            first = min(first, time.monotonic() - started)
            out += data
            chunks.append((time.monotonic() - started, data.decode(errors="replace")))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    took = time.monotonic() - started
    deadline = time.monotonic() + 5
    left = [p for p in (_running(pid) for pid in family) if p]
    while left and time.monotonic() < deadline:  # a process stopping as the command exits gets a moment
        time.sleep(0.2)
        left = [p for p in (_running(pid) for pid in family) if p]
    seen = Seen(os.waitstatus_to_exitcode(status), out.decode(errors="replace"), "", first, took, left, chunks)
    seen.interrupted = interrupted
    return seen


def speaks_at_once(seen: Seen, again: Callable[[], Seen]) -> None:
    """The first line within FIRST_LINE. On a busy machine (other test runs on two cores) it is measured
    again, twice at most, and the best try counts, as benchmarks take the minimum: load only adds time."""
    best = seen.first
    for _ in range(2):
        if best < FIRST_LINE:
            break
        best = min(best, again().first)
    assert best < FIRST_LINE, best


def no_traceback(seen: Seen) -> None:
    assert "Traceback" not in seen.text and "KeyboardInterrupt" not in seen.text, seen.text[-4000:]


def write_config(
    directory: Path, feeds: Sequence[tuple[str, str | None]], *, workers: int = 1, extra: str = ""
) -> Path:
    lines = [
        'database = "data/monitor.duckdb"',
        "",
        "[fetch]",
        'allow_networks = ["127.0.0.0/8"]',
        f"workers = {workers}",
        "",
    ]
    for url, name in feeds:
        lines += ["[[feeds]]", f'url = "{url}"'] + ([f'name = "{name}"'] if name else []) + [""]
    lines += ["[[topics]]", f'name = "{TOPIC}"', f"query = '{QUERY}'", ""]
    path = directory / "monitor.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for the session's runs: only the first pays for creating Prefect's database."""
    return tmp_path_factory.mktemp("prefect-home")


# --- a database the real pipeline filled, with a named feed --------------------------------------------------


@dataclass
class Filled:
    config: Path
    database: Path
    directory: Path


@pytest.fixture(scope="module")
def filled(prefect_harness: None, world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """Two runs: a named feed and an unnamed one; the second run brings a revision and a report a day after
    another (two dots a day apart)."""
    tmp = tmp_path_factory.mktemp("first-hour")
    named = world.publish(f"/{tmp.name}/wire.rss", [stories.DISPATCH, stories.KURSK])
    unnamed = world.publish(f"/{tmp.name}/other.atom", [stories.FLOOD], atom=True)
    config = write_config(tmp, [(named, FEED_NAME), (unnamed, None)])
    for _ in range(2):
        result = CliRunner().invoke(cli.main, ["-c", str(config), "run"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        world.publish(f"/{tmp.name}/wire.rss", [stories.DISPATCH, stories.KURSK, KURSK_NEXT, stories.CASUALTIES])
    yield Filled(config, tmp / "data" / "monitor.duckdb", tmp)


# --- 1. never silent: the first line at once, the time the user waited -------------------------------------


@pytest.mark.slow
def test_run_speaks_within_a_second_and_its_time_is_the_time_waited(
    world: World, tmp_path: Path, prefect_home: Path
) -> None:
    feed = world.publish(f"/{tmp_path.name}/wire.rss", [stories.DISPATCH, stories.KURSK])
    config = write_config(tmp_path, [(feed, FEED_NAME)])
    seen = on_terminal(["run"], tmp_path, clean_env({"PREFECT_HOME": str(prefect_home)}))
    print(f"first output after {seen.first:.2f} s; took {seen.took:.1f} s")
    assert seen.code == 0, seen.text[-3000:]
    no_traceback(seen)
    assert seen.first < FIRST_LINE, seen.first
    lines = seen.lines
    assert lines[0] == f"polling 1 feed of {config.name} into {tmp_path / 'data' / 'monitor.duckdb'}", lines
    assert lines[1].startswith("starting Prefect's local API (") and lines[1].endswith(") …"), lines
    assert any(re.fullmatch(r"Prefect's local API ready after \d+\.\d s", line) for line in lines), lines
    summary = next(line for line in lines if line.startswith("run "))
    m = re.fullmatch(r"run \S+: ok in (\d+\.\d)s \((\d+\.\d)s of it starting Prefect, (\d+\.\d)s the cycle\)", summary)
    assert m, summary
    waited, startup, cycle = (float(g) for g in m.groups())
    shown = seen.arrived(summary[:40])
    print(f"summary says {waited} s, shown after {shown:.2f} s, exited after {seen.took:.2f} s")
    assert abs(waited - shown) < 0.5, (waited, shown)  # the time the user waited, not the cycle's
    assert abs(startup + cycle - waited) < 0.15 and startup > 0.5

    # piped, as cron runs it: timestamped lines on stderr, the first within a second too
    piped_run = piped(["run"], tmp_path, clean_env({"PREFECT_HOME": str(prefect_home)}))
    assert piped_run.code == 0 and piped_run.first < FIRST_LINE, (piped_run.first, piped_run.err[-2000:])
    no_traceback(piped_run)
    assert re.match(r"\d\d:\d\d:\d\d polling 1 feed of ", piped_run.err), piped_run.err[:300]


@pytest.mark.slow
def test_demo_shows_each_cycle_working(tmp_path: Path, prefect_home: Path) -> None:
    seen = on_terminal(["demo", str(tmp_path / "demo")], tmp_path, clean_env({"PREFECT_HOME": str(prefect_home)}))
    print(f"demo: first output after {seen.first:.2f} s; took {seen.took:.1f} s")
    assert seen.code == 0, seen.text[-3000:]
    no_traceback(seen)
    assert seen.first < FIRST_LINE
    lines = seen.lines
    cycles = [i for i, line in enumerate(lines) if line.startswith("== cycle ")]
    assert len(cycles) == 3, lines
    # after "== cycle 1/3" the user reads what is going on, not nothing until the summary
    assert lines[cycles[0] + 1].startswith("starting Prefect's local API"), lines[cycles[0] : cycles[0] + 3]
    assert (
        sum(bool(re.match(r"run \S+: ok in \d+\.\ds \(\d+\.\ds of it starting Prefect", line)) for line in lines) == 3
    ), lines


# --- 2. offline: one line that says so ------------------------------------------------------------------------


@pytest.mark.slow
def test_no_feed_reachable_says_offline_or_proxy_in_one_line(tmp_path: Path, prefect_home: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/feed.rss"  # nothing listens there
    write_config(tmp_path, [("http://nonexistent.invalid/feed", None), (closed, None)])
    env = clean_env({"PREFECT_HOME": str(prefect_home)})
    seen = piped(["run"], tmp_path, env)
    assert seen.code == 1, seen.text[-3000:]  # every feed failed: documented exit 1
    no_traceback(seen)
    assert seen.first < FIRST_LINE
    out = seen.out.splitlines()
    assert re.fullmatch(r"run \S+: failed in .*", out[0]), out
    assert out[1] == (
        "no feed could be reached: all 2 failed to connect (name lookup or connection). Is this "
        "machine offline, or does it reach the web only through a proxy? (news-monitor connects "
        "directly.) Check the network, or try `monitor demo`, which needs none."
    ), out
    assert sum("no feed could be reached" in line for line in seen.text.splitlines()) == 1

    quiet = piped(["run", "-q"], tmp_path, env)  # cron: nothing but errors, the cause first
    assert quiet.code == 1 and quiet.out == ""
    ours = [line for line in quiet.err.splitlines() if " | " not in line]  # not Prefect's own error log line
    assert ours[0].startswith("no feed could be reached: all 2 failed to connect"), quiet.err
    assert [line.split(": ")[0] for line in ours[1:]] == ["failed", "failed"], quiet.err
    prefects = [line for line in quiet.err.splitlines() if " | " in line]  # Prefect's own line names it too
    assert all("failed to connect (offline? a proxy?)" in line for line in prefects), prefects
    no_traceback(quiet)


# --- 3. option order ------------------------------------------------------------------------------------------


def test_config_and_db_are_taken_before_or_after_the_command(filled: Filled, tmp_path: Path) -> None:
    sql = "SELECT count(*) AS n FROM articles"
    ways = [
        ["-c", str(filled.config), "sql", sql],
        ["sql", sql, "-c", str(filled.config)],
        ["sql", "--config", str(filled.config), sql],
        ["--db", str(filled.database), "sql", sql],
        ["sql", sql, "--db", str(filled.database)],
    ]
    before, after, long_form, db_before, db_after = (piped(args, tmp_path) for args in ways)
    for seen, args in zip((before, after, long_form, db_before, db_after), ways, strict=True):
        assert seen.code == 0, seen.err
        speaks_at_once(seen, functools.partial(piped, args, tmp_path))
        no_traceback(seen)
    assert before.out == after.out == long_form.out == db_before.out == db_after.out
    assert re.search(r"^\d+\s*$", before.out, re.MULTILINE)

    status = piped(["status", "-c", str(filled.config)], tmp_path)
    assert status.code == 0 and status.out.startswith(f"database: {filled.database}")
    # after the command wins over before it, as the last word does
    missing = piped(["-c", str(filled.config), "status", "-c", str(tmp_path / "none.toml")], tmp_path)
    assert missing.code == 2 and missing.err.startswith("error: ") and "none.toml" in missing.err
    no_traceback(missing)
    # --db where the command has none: said, not ignored
    wrong = piped(["--db", str(filled.database), "reprocess"], tmp_path)
    assert wrong.code == 2 and "`monitor reprocess` takes no --db" in wrong.err, wrong.err
    no_traceback(wrong)
    run_help = piped(["run", "--help"], tmp_path)
    assert "-c, --config FILE" in run_help.out


# --- 4. named queries: parameters checked ---------------------------------------------------------------------


def test_named_query_parameters_are_checked_and_dates_read_as_people_write_them(filled: Filled, tmp_path: Path) -> None:
    c = ["-c", str(filled.config)]
    exact = piped([*c, "query", "latest_figures", "-p", f"topic={TOPIC}", "-f", "csv"], tmp_path)
    other_case = piped([*c, "query", "latest_figures", "-p", f"topic={TOPIC.lower()}", "-f", "csv"], tmp_path)
    assert exact.code == other_case.code == 0, exact.err + other_case.err
    rows = list(csv.DictReader(io.StringIO(exact.out)))
    assert rows and exact.out == other_case.out  # the same rows, not none

    unknown = piped([*c, "query", "latest_figures", "-p", "topic=North Korean troops"], tmp_path)
    assert unknown.code == 2 and unknown.out == ""
    assert unknown.err == (
        f"error: no topic named 'North Korean troops' (topics: {TOPIC!r}). Check the name in [[topics]].\n"
    )

    everything = piped([*c, "query", "new_figures_since", "-p", "since=2000-01-01", "-f", "csv"], tmp_path)
    assert everything.code == 0 and len(list(csv.DictReader(io.StringIO(everything.out)))) > 0
    for since in ("yesterday", "7d", "2w", "12h", "2024-11-01", "2024-11-01T09:00:00Z", "today"):
        args = [*c, "query", "new_figures_since", "-p", f"since={since}", "-f", "csv"]
        seen = piped(args, tmp_path)
        assert seen.code == 0, (since, seen.err)
        speaks_at_once(seen, functools.partial(piped, args, tmp_path))
        no_traceback(seen)
    bad = piped([*c, "query", "new_figures_since", "-p", "since=last tuesday"], tmp_path)
    assert bad.code == 2 and bad.err == (
        "error: --param since='last tuesday': not a date or time; use a date or "
        "time (2025-01-31, 2025-01-31T09:00Z), today, yesterday, or an age such "
        "as 12h, 7d or 2w.\n"
    )
    assert "SELECT" not in bad.err and "Conversion Error" not in bad.err
    days = piped([*c, "query", "feed_health", "-p", "days=a week"], tmp_path)
    assert days.code == 2 and days.err.startswith("error: --param days='a week': expected a whole number")
    for seen in (unknown, bad, days):
        no_traceback(seen)
        assert len(seen.err.splitlines()) == 1


# --- 5. the report ----------------------------------------------------------------------------------------

OVERFLOW_JS = r"""
(() => {
  const tables = [...document.querySelectorAll('table')].map(t => ({
    width: t.getBoundingClientRect().width, scroll: t.scrollWidth, client: t.clientWidth,
    right: t.getBoundingClientRect().right}));
  const rings = [...document.querySelectorAll('svg [id$="-points"] use, svg [id*="-points-"] use')].map(u => {
    const s = getComputedStyle(u);
    const b = u.getBoundingClientRect();
    return {fillOpacity: Number(s.fillOpacity), stroke: s.stroke, strokeWidth: parseFloat(s.strokeWidth),
            x: b.x, y: b.y, w: b.width, h: b.height};
  });
  return {viewport: window.innerWidth, page: document.documentElement.scrollWidth, tables, rings};
})()
"""


def test_report_says_what_dates_mean_names_feeds_and_goes_to_the_data_directory(filled: Filled, tmp_path: Path) -> None:
    seen = piped(["-c", str(filled.config), "report"], tmp_path)  # run from elsewhere: not into the cwd
    assert seen.code == 0, seen.err
    no_traceback(seen)
    assert seen.err == f"reading {filled.database} and drawing the charts …\n"
    speaks_at_once(seen, lambda: piped(["-c", str(filled.config), "report"], tmp_path))
    written = filled.database.parent / "report.html"
    assert seen.out.startswith(f"wrote {written} (1 topic, "), seen.out
    assert written.exists() and not (tmp_path / "report.html").exists()
    page = written.read_text()
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    assert "New figures and revisions first seen since" in page
    assert "the <i>published</i> column is the article's own date, which can be much earlier" in page
    assert "<th title='the article&#x27;s publication date" in page and ">published</th>" in page
    assert ">first seen</th>" in page and f"data-label='first seen' class='d'>{today}</td>" in page
    # the source is the feed as configured, never a bare host
    assert "data-label='source'><a href=" in page and f">{FEED_NAME}</a></td>" in page
    assert not re.search(r"data-label='source'><a [^>]*>127\.0\.0\.1</a>", page)

    missing = piped(["-c", str(filled.config), "report", "-o", str(tmp_path / "missing" / "dir" / "x.html")], tmp_path)
    assert missing.code == 2 and missing.out == ""
    gone = tmp_path / "missing" / "dir"
    assert missing.err.splitlines() == [  # the progress line, then one clear error
        f"reading {filled.database} and drawing the charts …",
        f"error: {gone}: no such directory, so the report cannot be written to {gone / 'x.html'}. Create the "
        "directory first, or choose another path with -o.",
    ]
    assert not (tmp_path / "missing").exists()
    no_traceback(missing)


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_report_fits_phone_tablet_and_desktop_in_chromium(filled: Filled, tmp_path: Path, width: int) -> None:
    out = tmp_path / "report.html"
    seen = piped(["-c", str(filled.config), "report", "-o", str(out)], tmp_path)
    assert seen.code == 0, seen.err
    visit = browser.visit(out, script=OVERFLOW_JS, screenshot=tmp_path / f"report-{width}.png", width=width)
    print(f"report at {width} px: {visit.screenshot}")
    assert visit.errors == [] and visit.outside_requests == []
    found = visit.result
    assert found["viewport"] == width
    assert found["page"] <= width, found  # nothing runs off the side of the page
    assert len(found["tables"]) >= 2
    for t in found["tables"]:  # every table fits its column: nothing cut off, nothing to scroll sideways
        assert t["scroll"] <= t["client"] + 1 and t["right"] <= width, (width, t)
    rings = found["rings"]
    assert rings and all(r["fillOpacity"] < 0.5 and r["stroke"] != "none" and r["strokeWidth"] >= 1 for r in rings), (
        rings[:3]
    )
    # two reports a day apart: overlapping markers, drawn as rings so both stay visible
    overlapping = [
        (a, b)
        for i, a in enumerate(rings)
        for b in rings[i + 1 :]
        if abs(a["x"] - b["x"]) < a["w"] and abs(a["y"] - b["y"]) < a["h"]
    ]
    assert overlapping, "the story has reports a day apart; they should sit close on the chart"
    assert visit.screenshot is not None and visit.screenshot.stat().st_size > 20_000


# --- 6. alerts wording ------------------------------------------------------------------------------------


def test_alerts_without_email_say_nothing_is_mailed_and_test_errors_do_not_send_you_round(
    filled: Filled, tmp_path: Path
) -> None:
    preview = piped(["-c", str(filled.config), "alerts", "preview"], tmp_path)
    assert preview.code == 0
    speaks_at_once(preview, lambda: piped(["-c", str(filled.config), "alerts", "preview"], tmp_path))
    assert preview.out.startswith("no digests pending, and none will be: ")
    assert "has no [email] table and no [[alerts.channels]], so nothing is sent" in preview.out
    assert "mailed right after" not in preview.out
    no_traceback(preview)

    port = free_port()  # nothing listens: the test message cannot go
    config = tmp_path / "mail.toml"
    config.write_text(
        filled.config.read_text() + f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
        'sender = "monitor@example.org"\nrecipients = ["analyst@example.org"]\n'
    )
    test = piped(["alerts", "test", "-c", str(config)], tmp_path)
    same = piped(["alerts", "-c", str(config), "test"], tmp_path)  # -c after the group works too
    assert (same.code, same.err) == (2, test.err)
    assert test.code == 2 and test.out == ""
    assert test.err.startswith(f"error: 127.0.0.1:{port}: connection refused (no SMTP server listening).")
    assert test.err.endswith("then try again.\n") and "monitor alerts test" not in test.err, test.err
    no_traceback(test)


# --- 7. Ctrl-C during start-up ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("after", "on"),
    [
        (1.5, None),  # a new Prefect home: its database is being created and migrated
        (1.0, None),  # Prefect's API still starting on a home already set up (it is up after about 2 s)
        (0.5, "local API ready"),  # while the flow runs (a page is slow to answer)
    ],
    ids=["1.5s-first-run", "1s", "in-the-flow"],
)
def test_ctrl_c_during_start_up_is_one_line_and_leaves_nothing_running(
    world: World, tmp_path: Path, prefect_home: Path, after: float, on: str | None
) -> None:
    feed = world.publish(f"/{tmp_path.name}/wire.rss", [stories.DISPATCH, stories.KURSK])
    if on is not None:
        slow = f"/news/{stories.KURSK.slug}"
        world.add(slow, world.routes[slow].body, delay=30)
    home = tmp_path / "prefect" if after == 1.5 else prefect_home
    # two workers: extraction processes start (and load trafilatura) while Prefect's API starts
    write_config(tmp_path, [(feed, None)], workers=2)
    env = clean_env({"PREFECT_HOME": str(home)})
    seen = on_terminal(["run"], tmp_path, env, interrupt_after=after, interrupt_on=on)
    interrupted_in_one_line(seen)
    if after == 1.5:  # the Prefect database the Ctrl-C cut short still works: the next run completes
        again = piped(["run"], tmp_path, env)
        assert again.code == 0, again.text[-3000:]
        assert "2 new" in again.text or "2 articles" in again.text, again.text[-3000:]


def interrupted_in_one_line(seen: Seen) -> None:
    """A Ctrl-C the command heard: exit 130 at once, one line ("interrupted"), nothing left running."""
    print(f"interrupted after {seen.interrupted:.1f} s; exited after {seen.took:.1f} s; output: {seen.lines}")
    assert seen.code == 130, seen.text[-3000:]
    no_traceback(seen)
    assert seen.first < FIRST_LINE
    # one line, not Prefect's "Crash detected!" and "Finished in state Crashed" of the same Ctrl-C; the
    # progress bars (when the flow had begun) are drawn once more as they stood
    after_ctrl_c = ANSI.sub("", seen.out.split("^C", 1)[-1]).replace("\r", "\n")
    said = [line for line in after_ctrl_c.split("\n") if line.strip() and "━" not in line]
    assert said == ["interrupted"], seen.out[-2000:]
    # at once: not after the API's start-up or the new Prefect database's migrations
    assert seen.arrived("interrupted") - seen.interrupted < 2 and seen.took - seen.interrupted < 5
    assert seen.left == [], seen.left  # no Prefect API, forkserver or extraction process left behind


def many_stories(world: World, directory: str, n: int, *, delay: float = 0.0) -> tuple[str, list[str]]:
    """A feed of `n` reports (stories.reports), each page answering after `delay` seconds: the feed's URL and
    the pages' paths."""
    made = stories.reports(f"nk-report-{directory}", n)
    return world.publish(f"/{directory}/many.rss", made, delay=delay), [f"/news/{s.slug}" for s in made]


@pytest.mark.slow
def test_pages_are_fetched_while_prefect_starts_and_the_cycle_takes_them_over(
    world: World, tmp_path: Path, prefect_home: Path
) -> None:
    feed, pages = many_stories(world, tmp_path.name, 12)
    write_config(tmp_path, [(feed, None)], workers=2)
    env = clean_env({"PREFECT_HOME": str(prefect_home)})
    began = time.monotonic()
    seen = on_terminal(["run"], tmp_path, env)
    assert seen.code == 0, seen.text[-3000:]
    no_traceback(seen)
    first_page = min(world.first_hit[p] for p in pages) - began
    ready = seen.arrived("local API ready")  # counted from a moment after `began`: the comparison is fair
    print(f"first page requested after {first_page:.2f} s; Prefect's API ready after {ready:.2f} s")
    assert first_page < ready, seen.text[-3000:]
    # the flow took the pages under way over: each fetched once, every one stored
    assert [world.hits[p] for p in pages] == [1] * len(pages)
    assert "12 new" in seen.text, seen.text[-3000:]
    stored = piped(["sql", "-f", "csv", "SELECT count(*) FROM articles"], tmp_path, env)
    assert stored.out.splitlines()[1:] == ["12"], stored.text


@pytest.mark.slow
def test_ctrl_c_while_the_first_pages_are_fetched_before_prefect_is_up(
    world: World, tmp_path: Path, prefect_home: Path
) -> None:
    feed, pages = many_stories(world, tmp_path.name, 12, delay=5)
    write_config(tmp_path, [(feed, None)], workers=2)
    env = clean_env({"PREFECT_HOME": str(prefect_home)})
    seen = on_terminal(
        ["run"], tmp_path, env, interrupt_after=0.2, interrupt_when=lambda: any(p in world.first_hit for p in pages)
    )
    assert "local API ready" not in seen.text, seen.text[-3000:]  # the Ctrl-C came while Prefect was starting
    interrupted_in_one_line(seen)
    for path in pages:  # nothing was lost: the next cycle finds every page new
        world.add(path, world.routes[path].body)
    again = piped(["run"], tmp_path, env)
    assert again.code == 0, again.text[-3000:]
    assert "12 new" in again.text, again.text[-3000:]


# --- 8. small things ------------------------------------------------------------------------------------------


def test_writes_get_the_read_only_message(filled: Filled, tmp_path: Path) -> None:
    for statement in (
        "DELETE FROM figures",
        "UPDATE new_figures SET low = 1",
        "DROP VIEW figures",
        "INSERT INTO figures VALUES (1)",
    ):
        seen = piped(["-c", str(filled.config), "sql", statement], tmp_path)
        assert seen.code == 2 and seen.out == "", seen.err
        assert "`monitor sql` is read-only" in seen.err and "base table" not in seen.err, seen.err
        assert len(seen.err.splitlines()) == 1
        no_traceback(seen)


def test_tables_show_whole_values_unless_a_terminal_is_narrow(filled: Filled, tmp_path: Path) -> None:
    sql = "SELECT text FROM articles ORDER BY length(text) DESC LIMIT 1"
    c = ["-c", str(filled.config)]
    longest = list(csv.reader(io.StringIO(piped([*c, "sql", "-f", "csv", sql], tmp_path).out)))[1][0]
    assert len(longest) > cli.CELL_WIDTH  # a value a terminal table would cut
    to_pipe = piped([*c, "sql", sql], tmp_path)
    assert to_pipe.code == 0 and longest in to_pipe.out.splitlines()[2] and "…" not in to_pipe.out
    on_tty = on_terminal([*c, "sql", sql], tmp_path)
    assert on_tty.code == 0
    speaks_at_once(on_tty, lambda: on_terminal([*c, "sql", sql], tmp_path))
    assert longest[: cli.CELL_WIDTH - 1] + "…" in on_tty.out and longest not in on_tty.out
    wide = on_terminal([*c, "sql", "--wide", sql], tmp_path)
    assert wide.code == 0 and longest in wide.out and "…" not in wide.out
    query = on_terminal([*c, "query", "topic_timeline", "-p", f"topic={TOPIC}", "-w"], tmp_path)
    assert query.code == 0 and "…" not in query.out
    for seen in (to_pipe, on_tty, wide, query):
        no_traceback(seen)


@pytest.mark.slow
def test_serve_speaks_at_once_and_ctrl_c_while_its_server_starts_stops_it(tmp_path: Path) -> None:
    write_config(tmp_path, [("http://127.0.0.1:9/feed.rss", None)])
    seen = on_terminal(["serve"], tmp_path, clean_env({"PREFECT_HOME": str(tmp_path / "prefect")}), interrupt_after=4.0)
    print(f"serve: first output after {seen.first:.2f} s; output: {seen.lines}")
    assert seen.code == 130, seen.text[-3000:]
    no_traceback(seen)
    assert seen.first < FIRST_LINE
    assert seen.lines[0] == "monitor serve: 1 feed of monitor.toml; starting …"
    assert seen.lines[1].startswith("starting a local Prefect server on http://127.0.0.1:")
    after_ctrl_c = ANSI.sub("", seen.out.split("^C", 1)[-1]).replace("\r", "\n")
    assert [line for line in after_ctrl_c.split("\n") if line.strip()] == ["interrupted"], seen.out[-2000:]
    assert seen.left == [], seen.left  # the Prefect server it was starting is stopped
