"""The real components a user runs beside news-monitor, started and stopped by the tests: a standalone
`prefect server start`, `prefect worker start`, `dask scheduler` and `dask worker` processes.

Each is a child process in a session of its own, with its log in a file; stopping ends the whole group
(SIGTERM, then SIGKILL), so nothing is left running after a test, whatever it asserted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent
START_TIMEOUT = 120.0  # a fresh Prefect server migrates its database in 6-20 s; a busy machine takes longer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """A user's environment: none of this test session's Prefect or Dask settings, telemetry off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DASK_"))}
    env.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"})
    return {**env, **extra}


@dataclass
class Processes:
    """Child processes started for a test, each with its log; `stop()` ends them all."""

    directory: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(
        self, name: str, command: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(
                command,
                env=env,
                cwd=cwd or self.directory,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """The end of every log, for an assertion's message."""
        return "\n".join(f"--- {name}.log\n{self.log(name)[-2500:]}" for name, _ in self.started)

    def stop(self, name: str | None = None) -> None:
        for label, proc in reversed(self.started):
            if name is not None and label != name:
                continue
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
            _signal_group(proc.pid, signal.SIGKILL)  # whatever it left in its group


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class PrefectServer:
    """A standalone `prefect server start` on a free 127.0.0.1 port, and the environment to use it."""

    url: str
    home: Path
    processes: Processes

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell pointed at this server (`prefect config set PREFECT_API_URL=…`)."""
        return clean_env(PREFECT_API_URL=self.api_url, PREFECT_HOME=str(self.home), **extra)

    def prefect(self, *args: str, cwd: Path | None = None, timeout: float = 120.0) -> str:
        """Run the `prefect` CLI against this server; its output, or an assertion error with it."""
        # a shell sets PWD, which prefect.yaml's {{ $PWD }} reads
        env = self.env(PWD=str(cwd)) if cwd else self.env()
        done = subprocess.run(
            [str(BIN / "prefect"), "--no-prompt", *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def healthy(self) -> bool:
        try:
            return bool(self.get("/health"))
        except httpx.HTTPError:
            return False  # not listening yet

    def get(self, path: str) -> Any:
        with httpx.Client(trust_env=False, timeout=10) as http:
            response = http.get(f"{self.api_url}{path}")
        return response.json() if response.status_code == 200 else None

    def post(self, path: str, body: dict[str, Any]) -> Any:
        with httpx.Client(trust_env=False, timeout=10) as http:
            response = http.post(f"{self.api_url}{path}", json=body)
        response.raise_for_status()
        return response.json()


def wait_until(what: str, check: Any, timeout: float, processes: Processes, interval: float = 0.5) -> Any:
    """Poll `check()` until it returns something truthy; fail with every log after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s\n{processes.logs()}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """`prefect server start` as docs/scheduling.md step 1 has it, on a free port, UI off (faster)."""
    directory = tmp_path_factory.mktemp("prefect-server")
    processes = Processes(directory)
    port = free_port()
    server = PrefectServer(f"http://127.0.0.1:{port}", directory / "home", processes)
    server.home.mkdir()
    processes.start(
        "server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        clean_env(PREFECT_HOME=str(server.home), PREFECT_UI_ENABLED="false", PREFECT_UI_API_URL=server.api_url),
    )
    try:
        wait_until("healthy Prefect server", server.healthy, START_TIMEOUT, processes)
        yield server
    finally:
        processes.stop()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Processes a test starts (workers, schedulers, `monitor serve`): all stopped when it ends."""
    found = Processes(tmp_path)
    try:
        yield found
    finally:
        found.stop()
