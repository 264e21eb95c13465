"""`monitor serve`: the polling deployment on its schedule, with the Prefect server it starts and stops."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows import serve
from monitor import config, query
from monitor.errors import MonitorError
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World

SERVE_DEADLINE = 150.0  # server start (6-20 s, more on a busy machine) + two runs in fresh processes


def monitor_env(**extra: str) -> dict[str, str]:
    """The environment of a user who configured nothing about Prefect (this session's test settings gone)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DASK_"))}
    return {**env, **extra}


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_line(log: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        assert proc.poll() is None, f"monitor serve exited early:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def serving(world: World, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """`monitor serve` on a 2-second interval, in its own process, as a user starts it; killed if left."""
    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH, stories.KURSK])
    config_path = write_config(tmp_path, [feed], extra="[schedule]\ninterval = 2\n")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("monitor")), "-c", str(config_path), "serve", "--no-ui"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            # the runner looks for due runs every 10 s by default: 1 s keeps the test short
            env=monitor_env(PREFECT_RUNNER_POLL_FREQUENCY="1"),
        )
    try:
        yield proc, config_path, log
    finally:
        if proc.poll() is None:
            for pid in descendants(proc.pid):
                os.kill(pid, signal.SIGKILL)
            proc.kill()
            proc.wait()


def completed_runs(config_path: Path) -> list[dict[str, Any]]:
    database = config.load(config_path).database
    if not database.exists():
        return []
    try:
        columns, rows = query.run_sql(
            database,
            "SELECT run_id, status, flow_run_id, new_articles FROM runs "
            "WHERE status IN ('ok', 'partial') ORDER BY started_at",
        )
    except MonitorError:  # a run holds the file for a moment: ask again
        return []
    return [dict(zip(columns, r, strict=True)) for r in rows]


@pytest.mark.slow
def test_serve_runs_on_its_interval_and_stops_cleanly(serving: tuple[subprocess.Popen[bytes], Path, Path]) -> None:
    proc, config_path, log = serving
    started = wait_for_line(log, r"starting a local Prefect server on http://127\.0\.0\.1:(\d+)", proc, 30)
    port = int(started.group(1))
    server_pid = int(wait_for_line(log, r"Prefect server ready in \d+ s \(pid (\d+)\)", proc, 90).group(1))
    assert alive(server_pid) and server_pid in descendants(proc.pid)
    # its state lives in the data directory, not in ~/.prefect
    assert (config_path.parent / "data" / "prefect" / "server.db").exists()

    deadline = time.monotonic() + SERVE_DEADLINE
    while len(runs := completed_runs(config_path)) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    assert len(runs) >= 2, log.read_text(errors="replace")[-3000:]
    assert runs[0]["new_articles"] == 2 and runs[1]["new_articles"] == 0  # the second found nothing new

    # the runs are the served deployment's scheduled runs, on the interval from [schedule]
    api = f"http://127.0.0.1:{port}/api"
    with httpx.Client(trust_env=False, timeout=10) as http:
        deployment = http.get(f"{api}/deployments/name/news-monitor-poll/serve").json()
        assert [s["schedule"]["interval"] for s in deployment["schedules"]] == [2.0]
        assert deployment["parameters"] == {"config_path": str(config_path.resolve())}
        flow_runs = http.post(
            f"{api}/flow_runs/filter",
            json={
                "deployments": {"id": {"any_": [deployment["id"]]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            },
        ).json()
    assert {r["flow_run_id"] for r in runs} <= {r["id"] for r in flow_runs}
    assert all(r["auto_scheduled"] for r in flow_runs)

    family = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, log.read_text(errors="replace")[-3000:]
    assert not alive(server_pid) and not listening(port)
    assert not [pid for pid in family if alive(pid)]  # no orphans: server, flow runs, all gone
    assert "stopping the local Prefect server" in log.read_text()


@pytest.mark.slow
def test_sigterm_while_the_server_starts_leaves_nothing_behind(
    serving: tuple[subprocess.Popen[bytes], Path, Path],
) -> None:
    proc, _, log = serving
    wait_for_line(log, r"starting a local Prefect server", proc, 30)
    time.sleep(0.5)  # the server process is up, not yet healthy
    family = descendants(proc.pid)
    assert family
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, log.read_text(errors="replace")[-3000:]
    assert not [pid for pid in family if alive(pid)]


def test_a_server_that_does_not_come_up_is_a_clear_error(tmp_path: Path) -> None:
    server = serve.LocalServer(tmp_path / "prefect", ui=False, timeout=0.5)
    with pytest.raises(serve.ServeError) as e:
        server.start()
    message = str(e.value)
    assert f"{server.url} was not healthy after" in message and str(server.log_path) in message
    assert "prefect server start" in message  # the way out
    assert server.process is None and not listening(server.port)


def test_a_configured_server_that_does_not_answer_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on the discard port
    cfg = config.load(write_config(tmp_path, []))
    with pytest.raises(serve.ServeError, match=r"PREFECT_API_URL=http://127.0.0.1:9/api does not answer"):
        serve.serve(cfg, say=lambda message: None)
    assert not (tmp_path / "data" / "prefect" / "server.log").exists()  # nothing was started


def test_schedule_comes_from_the_config(tmp_path: Path) -> None:
    cron = config.load(write_config(tmp_path, [], extra='[schedule]\ncron = "0 */6 * * *"\ntimezone = "Europe/Kyiv"\n'))
    schedule = serve.schedule(cron.schedule)
    assert (schedule.cron, schedule.timezone, schedule.interval) == ("0 */6 * * *", "Europe/Kyiv", None)
    interval = config.load(write_config(tmp_path, [], extra="[schedule]\ninterval = 600\n"))
    schedule = serve.schedule(interval.schedule)
    assert schedule.interval is not None
    assert (schedule.interval.total_seconds(), schedule.timezone, schedule.cron) == (600, "UTC", None)
    default = serve.schedule(config.load(write_config(tmp_path, [])).schedule)
    assert default.cron == config.DEFAULT_CRON == "*/15 * * * *"


def test_prefect_yaml_deploys_the_polling_flow() -> None:
    """prefect.yaml (the server/worker route) stays in step with the flow: entrypoint, parameters, limits."""
    import yaml  # type: ignore[import-untyped]  # PyYAML comes with Prefect, its stubs do not
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    root = Path(__file__).resolve().parents[1]
    spec = yaml.safe_load((root / "prefect.yaml").read_text())
    [deployment] = spec["deployments"]
    assert deployment["entrypoint"] == "flows.poll:poll_cycle"  # a module Dask workers can import too
    flow: Any = load_flow_from_entrypoint(deployment["entrypoint"])
    assert flow.name == "news-monitor-poll" and flow.fn.__name__ == "poll_cycle"
    assert set(deployment["parameters"]) == set(flow.parameters.properties) == {"config_path"}
    [schedule] = deployment["schedules"]
    assert Cron(schedule["cron"], timezone=schedule["timezone"]).cron == config.DEFAULT_CRON
    assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert deployment["work_pool"]["name"] == "news-monitor"
    assert spec["pull"] == [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $PWD }}"}}]


def processes_with_home(home: Path) -> list[int]:
    """Live processes whose environment has PREFECT_HOME=home (the temporary API among them, if left)."""
    needle = f"PREFECT_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_monitor_run_starts_the_temporary_api_itself_and_stops_it(world: World, tmp_path: Path) -> None:
    """Without PREFECT_API_URL, `monitor run` launches Prefect's temporary API as it starts, runs the flow on
    it (the flow run and its task runs are in that API's database, stored before the API stopped), exits as
    soon as the cycle is done, and leaves no process behind."""
    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH, stories.KURSK])
    config_path = write_config(tmp_path, [feed])
    done = subprocess.run(
        [str(Path(sys.executable).with_name("monitor")), "-c", str(config_path), "run", "--json", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=monitor_env(),
        timeout=180,
    )
    exited = dt.datetime.now(dt.UTC)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["status"] == "ok" and summary["new_articles"] == 2
    home = tmp_path / "data" / "prefect"
    assert (home / "temporary-api.log").exists()
    [run] = completed_runs(config_path)
    with sqlite3.connect(home / "prefect.db") as db:  # the API's own record of the flow run
        names = db.execute(
            "SELECT flow_run.id, flow.name FROM flow_run JOIN flow ON flow.id = flow_run.flow_id"
        ).fetchall()
    assert [(uuid.UUID(i), name) for i, name in names] == [(uuid.UUID(run["flow_run_id"]), "news-monitor-poll")]
    with sqlite3.connect(home / "prefect.db") as db:  # sent as events by the client, stored by the API's services
        tasks = db.execute("SELECT name, state_type FROM task_run WHERE flow_run_id = ?", (names[0][0],)).fetchall()
        [(ended,)] = db.execute("SELECT end_time FROM flow_run").fetchall()
    assert {"poll feeds"} <= {name.split("-")[0] for name, _ in tasks}, tasks
    assert tasks and {state for _, state in tasks} == {"COMPLETED"}, tasks
    # from the flow run's end to the command's exit: the API stops without waiting on anything (a connection
    # Prefect's client keeps open, a service's idle thread)
    assert exited - dt.datetime.fromisoformat(ended).replace(tzinfo=dt.UTC) < dt.timedelta(seconds=3), ended
    assert processes_with_home(home) == []


@pytest.mark.slow
def test_a_temporary_api_that_cannot_start_is_a_clear_error(world: World, tmp_path: Path) -> None:
    feed = world.publish(f"/{tmp_path.name}/world.rss", [stories.DISPATCH])
    config_path = write_config(tmp_path, [feed])
    env = monitor_env(PREFECT_SERVER_DATABASE_CONNECTION_URL="sqlite+aiosqlite:////dev/null/no/prefect.db")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("monitor")), "-c", str(config_path), "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    # timestamped progress lines come first (issue 18: never silent), then the one error line
    errors = [line for line in done.stderr.splitlines() if not re.match(r"\d\d:\d\d:\d\d ", line)]
    first = errors[0]
    assert first.startswith("error: Prefect's temporary API on http://127.0.0.1:")
    assert "could not start" in first and "temporary-api.log" in first
    assert "unable to open database file" in done.stderr  # the log's tail names the cause
    assert "prefect server start" in done.stderr and "PREFECT_API_URL" in done.stderr  # what to do
    assert not done.stderr.startswith("Traceback")
    assert processes_with_home(tmp_path / "data" / "prefect") == []


@pytest.mark.slow
def test_the_served_ui_talks_to_its_own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The UI asks /ui-settings which API to use: the server `monitor serve` started, not one on port 4200."""
    for name in [k for k in os.environ if k.startswith("PREFECT_")]:
        monkeypatch.delenv(name)  # a user who configured nothing, PREFECT_UI_API_URL included
    with serve.LocalServer(tmp_path / "prefect", ui=True) as server, httpx.Client(trust_env=False, timeout=10) as http:
        assert server.port != 4200
        settings = http.get(f"{server.url}/ui-settings").json()
    assert settings["api_url"] == server.api_url
