"""Serving: the polling deployment on the config's [schedule], with a Prefect server when none is configured.

Prefect refuses to schedule flows on its temporary (ephemeral) API, so without PREFECT_API_URL `monitor
serve` starts `prefect server start` itself: a child process on 127.0.0.1, its SQLite state under the data
directory, stopped when serving stops. With PREFECT_API_URL set (or in the active Prefect profile) that
server is used and nothing is started.

`monitor run` without PREFECT_API_URL gets Prefect's temporary API, started by `TemporaryAPI` the moment
the command starts rather than by Prefect on the flow's first call, and served from a thread of the
command's own process rather than from a second interpreter: Prefect is imported once for both, and the
extraction processes' warm-up has the other core meanwhile.

Prefect is imported inside the functions, never at module level: PREFECT_API_URL has to be in the
environment before the flow-run processes and Dask workers read their settings.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from monitor import config
from monitor.errors import MonitorError

if TYPE_CHECKING:
    from prefect.schedules import Schedule as PrefectSchedule

log = logging.getLogger(__name__)

ENV_API_URL = "PREFECT_API_URL"
HOST = "127.0.0.1"  # the local server is for this machine only
SERVER_START_TIMEOUT = 120.0  # a fresh server database migrates in 6-20 s; a busy machine takes longer
SERVER_STOP_TIMEOUT = 20.0  # then SIGKILL
# A server still starting (a new database migrating, 6-20 s) handles SIGTERM only once it is up: Ctrl-C on a
# first run would wait for that. SQLite rolls back the migration it is in (one transaction each); the next
# start goes on from there.
STARTING_STOP_TIMEOUT = 1.0
CTRL_C_DRAIN_TIMEOUT = 1.0
GRACEFUL_SHUTDOWN = 2  # the temporary API waits this long at most for connections to close, then stops its services
TEMPORARY_API_STOP_TIMEOUT = 5.0  # Prefect's client sends what it holds, the API's services store it: ~0.1 s
HEALTH_POLL = 0.25  # seconds between health checks while the server starts
LOG_TAIL_LINES = 15  # of the server's log, in the error when it does not come up
DEPLOYMENT_NAME = "serve"  # news-monitor-poll/serve: prefect.yaml's deployment is news-monitor-poll/poll
SERVE_TAG = "monitor-serve"  # marks the deployments `monitor serve` created: the only ones it replaces
RUNS_AT_ONCE = 1  # one flow run per serving process; the database's run lock covers the rest


class ServeError(MonitorError):
    """The Prefect server could not be started, or serving could not begin."""


class LocalServer:
    """`prefect server start` as a child process on 127.0.0.1, healthy on entry, stopped on exit.

    On Linux the server also stops when the thread that started it ends: start it from the main thread
    (or one that outlives it).
    """

    name = "the Prefect server"
    log_name = "server.log"

    def __init__(
        self, home: Path, *, port: int | None = None, ui: bool = True, timeout: float = SERVER_START_TIMEOUT
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.ui = ui
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.healthy = False

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log_path(self) -> Path:
        return self.home / self.log_name

    @property
    def database(self) -> Path:
        return self.home / "server.db"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def environment(self) -> dict[str, str]:
        """The server's environment: state under `home`, no telemetry, nothing fetched from outside."""
        env = {k: v for k, v in os.environ.items() if k != ENV_API_URL}
        env.update(
            {
                "PREFECT_HOME": str(self.home),
                # a file of its own: `monitor run` without a server keeps using the temporary API's prefect.db
                "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.database}",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "PREFECT_UI_ENABLED": "true" if self.ui else "false",
                # the UI asks /ui-settings which API to talk to: this server's, not whatever runs on 4200
                "PREFECT_UI_API_URL": self.api_url,
                "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            }
        )
        return env

    def command(self) -> list[str]:
        return [*_prefect_command(), "server", "start", "--host", HOST, "--port", str(self.port)]

    def start(self) -> None:
        """Start the server and wait until /api/health answers; a ServeError with its log tail if not."""
        self.launch()
        self.wait()

    def launch(self) -> None:
        """Start the server's process and return at once; `wait()` for it to answer."""
        self.home.mkdir(parents=True, exist_ok=True)
        command = _with_parent(self.command())
        with self.log_path.open("wb") as out:
            try:
                # A session of its own, so a Ctrl-C meant for `monitor serve` does not stop the server
                # before serving has wound down; stop() ends the whole group.
                self.process = subprocess.Popen(
                    command,
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as e:
                raise ServeError(
                    f"cannot start {self.name} ({' '.join(command)}): {e.strerror}. "
                    "Check that Prefect is installed in this environment."
                ) from None

    def wait(self) -> None:
        """Block until the launched server answers /api/health; on failure stop it and raise ServeError."""
        if self.healthy:
            return
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self.healthy = True

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while True:
                if self.process.poll() is not None:
                    raise ServeError(
                        f"{self.name} on {self.url} exited with code "
                        f"{self.process.returncode} while starting. "
                        f"Its log ({self.log_path}) ends:\n{self.log_tail()}\n"
                        "Fix what the log names (often a PREFECT_* setting in the environment "
                        f"or profile), or run a server yourself (`prefect server start`) and "
                        f"set {ENV_API_URL}."
                    )
                try:
                    if http.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass  # not listening yet
                if time.monotonic() >= deadline:
                    raise ServeError(
                        f"{self.name} on {self.url} was not healthy after "
                        f"{self.timeout:.0f} s. Its log ({self.log_path}) ends:\n"
                        f"{self.log_tail()}\n"
                        f"Or run one yourself (`prefect server start`) and set {ENV_API_URL}."
                    )
                time.sleep(self.poll_interval)

    poll_interval = HEALTH_POLL

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after SERVER_STOP_TIMEOUT (STARTING_STOP_TIMEOUT if
        it never answered); always reaped."""
        process, self.process = self.process, None
        grace = SERVER_STOP_TIMEOUT if self.healthy else STARTING_STOP_TIMEOUT
        self.healthy = False
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            if grace == SERVER_STOP_TIMEOUT:
                log.warning("the Prefect server (pid %d) did not stop within %.0f s; killing it", process.pid, grace)
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "  (no log)"
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"  {line}" for line in tail) or "  (empty)"

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TemporaryAPI(LocalServer):
    """Prefect's temporary API for `monitor run`, served from a thread of this process.

    The app is Prefect's own (`prefect.server.api.server.create_app`, via `flows/api_app.py`), on uvicorn,
    with the services of an ephemeral server and its state in PREFECT_HOME's prefect.db, as Prefect's
    `SubprocessASGIServer` would run it, but in this process: Prefect's ~1,300 modules are imported once
    for the client and the server instead of once in each process (~0.7 s of CPU and ~100 MB less per
    cycle), and there is no second interpreter to start. Automations are left out (`SERVER_SETTINGS`): an
    API that lives as long as one command has no automations to run.

    One per process (`shared()`), for the process's whole life: Prefect's app runs its services' start-up
    once per process, so the API cannot be started again after `stop()`. Commands stop it when their work is
    done (`stop_temporary_api()`); its log lines go to `temporary-api.log` in the Prefect home, not to the
    terminal.
    """

    name = "Prefect's temporary API"
    log_name = "temporary-api.log"
    poll_interval = 0.02  # the cycle waits on it: answer within 20 ms of the API being up
    _shared: TemporaryAPI | None = None
    SERVER_SETTINGS: ClassVar[dict[str, str]] = {
        # what SubprocessASGIServer sets: the services of an ephemeral server only, the app built once
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        # A cycle uses no blocks. Registering Prefect's block types on start imports every installed Prefect
        # collection first (prefect-dask imports dask.distributed): ~1.1 s of CPU on the cycle's critical
        # path and ~27 MB. `monitor serve`'s server registers them as usual. An explicit setting wins.
        "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
        "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
        # automations (the triggers and actions services) and the event stream for the UI: ~0.3 s of CPU a
        # cycle for nothing, on an API nobody can reach once the command has ended
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
        "PREFECT_API_EVENTS_STREAM_OUT_ENABLED": "false",
    }
    SERVER_LOGGERS = ("prefect.server", "uvicorn", "docket")  # their lines go to the log file, not the terminal

    @classmethod
    def shared(cls, home: Path) -> TemporaryAPI:
        """This process's temporary API, launched on first use (not waited for)."""
        api = cls._shared
        if api is None or api.home != home or api.failed:
            if api is not None:
                api.stop()
            api = cls._shared = cls(
                home,
                ui=False,
                timeout=float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", SERVER_START_TIMEOUT)),
            )
            api.launch()
            # a caller that did not stop it (stop_temporary_api): before the interpreter goes, without waiting long
            atexit.register(api.stop, timeout=STARTING_STOP_TIMEOUT)
        return api

    def __init__(self, home: Path, **kwargs: Any) -> None:
        super().__init__(home, **kwargs)
        self._thread: threading.Thread | None = None
        self._server: Any = None  # uvicorn.Server, once built
        self._error: str | None = None  # why it could not start, once it could not
        self._stopping = threading.Event()

    @property
    def failed(self) -> bool:
        return self._error is not None or self._stopping.is_set()

    @property
    def pid(self) -> int | None:
        return os.getpid() if self._thread is not None else None

    def launch(self) -> None:
        """Start serving on a thread and return at once; `wait()` for it to answer. Prefect's settings for the
        server are put in this process's environment first (a value the user set wins)."""
        self.home.mkdir(parents=True, exist_ok=True)
        for key, value in self.SERVER_SETTINGS.items():
            os.environ.setdefault(key, value)
        self.log_path.write_bytes(b"")
        self._error = None
        self._thread = threading.Thread(target=self._serve, name="prefect-temporary-api", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        try:
            import asyncio

            import uvicorn

            from flows.api_app import create_app

            app = create_app()  # sets Prefect's logging up again: the server's loggers are pointed at the log after
            for name in self.SERVER_LOGGERS:
                logger = logging.getLogger(name)
                logger.handlers = [handler]
                logger.propagate = False
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=HOST,
                    port=self.port,
                    log_level="error",
                    lifespan="on",
                    log_config=None,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
                )
            )
            self._server = server
            if self._stopping.is_set():
                return
            # On its own loop, closed here once the server and its services have stopped (serve() returns after
            # the app's shutdown): nothing of the API outlives stop(), so nothing of it runs while the
            # interpreter exits (a thread of a native extension that did crashed it there).
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(server.serve())
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()
            if not server.started and not self._stopping.is_set():
                self._error = "it stopped while starting"
        except BaseException as e:  # (uvicorn exits with SystemExit when the port is taken)
            if isinstance(e, SystemExit):  # uvicorn's way out when the app's start-up fails or the port is taken
                self._error = "it stopped while starting"  # and the log already says why
            else:
                logging.getLogger("prefect.server").error("the temporary API could not start", exc_info=True)
                self._error = f"{type(e).__name__}: {e}"
        finally:
            for name in self.SERVER_LOGGERS:
                logger = logging.getLogger(name)
                if handler in logger.handlers:
                    logger.removeHandler(handler)
            handler.close()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if self._error is not None or self._thread is None or not self._thread.is_alive():
                raise ServeError(
                    f"{self.name} on {self.url} could not start ({self._error or 'it stopped'}). "
                    f"Its log ({self.log_path}) ends:\n{self.log_tail()}\n"
                    "Fix what the log names (often a PREFECT_* setting in the environment "
                    f"or profile), or run a server yourself (`prefect server start`) and set {ENV_API_URL}."
                )
            if self._server is not None and self._server.started:
                return
            if time.monotonic() >= deadline:
                raise ServeError(
                    f"{self.name} on {self.url} was not up after {self.timeout:.0f} s. Its log "
                    f"({self.log_path}) ends:\n{self.log_tail()}\n"
                    f"Or run one yourself (`prefect server start`) and set {ENV_API_URL}."
                )
            time.sleep(self.poll_interval)

    def wait(self) -> None:
        """As LocalServer.wait(), trying another port if this one was taken between choosing and binding."""
        for attempt in range(3):
            try:
                super().wait()
                return
            except ServeError:
                if attempt == 2 or "address already in use" not in self.log_tail().lower():
                    raise
            self.port = free_port()
            self._stopping.clear()
            self.launch()

    def stop(self, timeout: float = TEMPORARY_API_STOP_TIMEOUT) -> None:
        """Send what Prefect's client still holds (task runs' events, logs), then shut the server down: its
        services write what they buffered. Idempotent; each step waits at most `timeout` (after Ctrl-C, a
        second for the client: the user is waiting, and the crash's log lines are few)."""
        if self._stopping.is_set() or self._thread is None:
            return
        self._stopping.set()
        import flows

        if self.healthy:  # else the client has sent nothing: Prefect's start-up waits for the API
            _drain_prefect_client(min(timeout, CTRL_C_DRAIN_TIMEOUT) if flows.ctrl_c_seen() else timeout)
        self.healthy = False
        server = self._server
        if server is not None:
            server.should_exit = True
        if self._thread.is_alive():
            wait = timeout if server is not None and server.started else STARTING_STOP_TIMEOUT
            if flows.ctrl_c_seen():  # the user is waiting: a server just up need not finish its graceful stop
                wait = min(wait, STARTING_STOP_TIMEOUT)
            self._thread.join(wait)
        if TemporaryAPI._shared is self:
            TemporaryAPI._shared = None


def _drain_prefect_client(timeout: float) -> None:
    """Wait until Prefect's client has sent the events and log lines it queued (nothing if Prefect is not loaded)."""
    if "prefect.events.worker" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        with contextlib.suppress(Exception):  # a service that never started, or failed: nothing to wait for
            worker.drain_all(timeout=timeout, at_exit=False)


def stop_temporary_api() -> None:
    """Stop this process's temporary API, if one was started: what the command's flow runs sent is stored."""
    api = TemporaryAPI._shared
    if api is not None:
        api.stop()


def temporary_api(data_dir: Path) -> TemporaryAPI | None:
    """Launch this process's temporary Prefect API now, unless PREFECT_API_URL names one in the
    environment; `use_api()` waits for it. Call before importing Prefect, so both start together."""
    if os.environ.get(ENV_API_URL):
        return None
    # Prefect's home: the data directory's (flows.prepare_environment), or the one the user chose
    return TemporaryAPI.shared(Path(os.environ.get("PREFECT_HOME") or data_dir / "prefect").expanduser())


@contextlib.contextmanager
def use_api(api: TemporaryAPI | None) -> Iterator[str | None]:
    """Run the block against `api` once it answers, unless the active Prefect profile names a server
    (then that one, and `api` is stopped: it was started before the profile could be read)."""
    if api is None:
        yield None
        return
    if configured_api_url():
        api.stop()
        yield None
        return
    api.wait()
    with _api_url(api.api_url):
        yield api.api_url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _prefect_command() -> list[str]:
    """The `prefect` CLI of this interpreter's environment (not whatever `prefect` is first on PATH)."""
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


# Run before the server's own code: if `monitor serve` is killed outright (SIGKILL, OOM), the kernel sends
# the server SIGTERM too (PR_SET_PDEATHSIG survives exec), so no server is left holding the port and state.
_LAUNCHER = """\
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("monitor serve exited before the Prefect server started")
os.execv(sys.argv[2], sys.argv[2:])
"""


def _with_parent(command: list[str]) -> list[str]:
    """`command`, bound to this process's life where the platform allows it (Linux)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *command]


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile, if any."""
    from prefect.settings import get_current_settings

    url = os.environ.get(ENV_API_URL) or get_current_settings().api.url
    return str(url) if url else None


def check_health(api_url: str) -> None:
    """ServeError unless the Prefect API at `api_url` answers its health check."""
    from prefect.settings import get_current_settings

    key = get_current_settings().api.key  # Prefect Cloud, or a server behind an API key
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    try:
        with httpx.Client(timeout=10.0) as http:
            response = http.get(f"{api_url.rstrip('/')}/health", headers=headers)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise ServeError(
            f"{ENV_API_URL}={api_url} does not answer ({type(e).__name__}: {e}). Start that "
            f"Prefect server or fix the URL (it ends in /api), or unset {ENV_API_URL} to let "
            "news-monitor start one."
        ) from None


@contextlib.contextmanager
def prefect_api(
    data_dir: Path, *, needed: bool = True, ui: bool = True, say: Callable[[str], None] = log.warning
) -> Iterator[str | None]:
    """A real Prefect API for the block when `needed`: the configured one, else a local server.

    Yields its URL; None when not needed (Prefect then uses whatever it is configured with, its temporary
    API included). While a local server runs, its URL is PREFECT_API_URL for this process and every
    process it starts (flow runs, Dask workers).
    """
    if not needed:
        yield None
        return
    url = configured_api_url()
    if url:
        check_health(url)
        with _api_url(url):
            yield url
        return
    server = LocalServer(data_dir / "prefect", ui=ui)
    say(f"starting a local Prefect server on {server.url} (state in {server.home}) …")
    started = time.monotonic()
    with server:
        say(
            f"Prefect server ready in {time.monotonic() - started:.0f} s (pid {server.pid})"
            + (f"; UI at {server.url}" if ui else "")
        )
        with _api_url(server.api_url):
            yield server.api_url
        say("stopping the local Prefect server …")


@contextlib.contextmanager
def _api_url(url: str) -> Iterator[None]:
    """Point this process (its settings, already loaded) and its children (the environment) at `url`."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    before = os.environ.get(ENV_API_URL)
    os.environ[ENV_API_URL] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        if before is None:
            os.environ.pop(ENV_API_URL, None)
        else:
            os.environ[ENV_API_URL] = before


def schedule(s: config.Schedule) -> PrefectSchedule:
    """The [schedule] table as a Prefect schedule: an interval in seconds, else cron; in its time zone."""
    from prefect.schedules import Cron, Interval

    if s.interval is not None:
        return Interval(timedelta(seconds=s.interval), timezone=s.timezone)
    return Cron(s.cron or config.DEFAULT_CRON, timezone=s.timezone)


def describe(s: config.Schedule) -> str:
    if s.interval is not None:
        return f"every {s.interval:g} s ({s.timezone})"
    return f"cron {s.cron or config.DEFAULT_CRON} ({s.timezone})"


def deployment(cfg: config.Config, name: str = DEPLOYMENT_NAME) -> Any:
    """The polling flow as a deployment of this config file, on its schedule."""
    from prefect.types.entrypoint import EntrypointType

    from flows import poll

    return poll.poll_cycle.to_deployment(
        name=name,
        schedules=[schedule(cfg.schedule)],
        parameters={"config_path": str(cfg.path.resolve())},
        description=f"news-monitor polling cycle for {cfg.path.resolve()}",
        tags=["news-monitor", SERVE_TAG],
        entrypoint_type=EntrypointType.MODULE_PATH,  # flows.poll:poll_cycle, whatever the working directory
    )


def serve(
    cfg: config.Config, *, name: str = DEPLOYMENT_NAME, ui: bool = True, say: Callable[[str], None] = log.warning
) -> None:
    """Serve the polling deployment on cfg.schedule until SIGTERM or Ctrl-C, then stop what was started."""
    # Until Prefect's runner installs its own handler, SIGTERM unwinds normally, so a server being
    # started is stopped too; afterwards the runner's handler stops serving and we return here.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with prefect_api(cfg.data_dir, ui=ui, say=say) as api_url:
            from prefect import serve as prefect_serve

            check_not_taken(name)
            dep = deployment(cfg, name)
            say(
                f"serving news-monitor-poll/{name} for {cfg.path} {describe(cfg.schedule)} via {api_url}; "
                "stop with Ctrl-C or SIGTERM"
            )
            try:
                prefect_serve(dep, limit=RUNS_AT_ONCE, print_starting_message=False)
            except RuntimeError as e:  # e.g. "Cannot schedule flows on an ephemeral server"
                raise ServeError(f"cannot serve the deployment via {api_url}: {e}") from None
            say("serving stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)


def check_not_taken(name: str) -> None:
    """ServeError if the server has a deployment `news-monitor-poll/<name>` that `monitor serve` did not create
    (prefect.yaml's, say): serving would replace its schedule, parameters and concurrency limit."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows import poll

    full = f"{poll.poll_cycle.name}/{name}"
    with get_client(sync_client=True) as client:
        try:
            found = client.read_deployment_by_name(full)
        except ObjectNotFound:
            return
    if SERVE_TAG in (found.tags or []):
        return
    pool = f"work pool {found.work_pool_name!r}" if found.work_pool_name else "no work pool"
    raise ServeError(
        f"the Prefect server at {client.api_url} already has a deployment {full} ({pool}) that "
        "`monitor serve` did not create (prefect deploy, most likely); serving it would replace "
        "its schedule, parameters and concurrency limit. Serve under another name: "
        f"monitor serve --name NAME (default: {DEPLOYMENT_NAME})."
    )


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
