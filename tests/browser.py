"""A real headless Chromium for page tests, driven over the Chrome DevTools Protocol (CDP).

Why CDP and not `chromium --screenshot --dump-dom`: only the protocol reports what the page did — every
network request it made and every console error, CSP violation or uncaught exception — which is what
"works offline, runs clean" means. The websocket client is `websockets`, already installed as a Prefect
dependency, so the tests need no browser-automation package and no downloaded browser build: they use
Debian's chromium (installed by .ci/run when missing).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
START_TIMEOUT = 60.0  # a cold start on a busy 2-core CI machine
LOAD_TIMEOUT = 60.0


def chromium() -> str:
    """The browser's path; a missing browser fails the test on CI (CI=true) and skips it elsewhere."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    reason = "no chromium on PATH (apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: the page tests must run on CI")
    pytest.skip(reason)


@dataclass
class Visit:
    """What happened while a page loaded."""

    url: str
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, its own included
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, CSP and load errors
    result: Any = None  # the value of the script evaluated after load
    screenshot: Path | None = None

    @property
    def outside_requests(self) -> list[str]:
        """Requests other than the page itself and inline data: URLs."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


class _CDP:
    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=START_TIMEOUT)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(
        self, method: str, session: str | None = None, timeout: float = LOAD_TIMEOUT, **params: Any
    ) -> dict[str, Any]:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            data = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if data.get("id") == msg_id:
                if "error" in data:
                    raise AssertionError(f"CDP {method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self.events.append(data)

    def wait_for(self, method: str, timeout: float = LOAD_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def drain(self, seconds: float) -> None:
        """Collect events for a moment more: late CSP reports and console messages."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def close(self) -> None:
        self.ws.close()


def visit(page: Path, *, script: str = "null", screenshot: Path | None = None, width: int = 1280) -> Visit:
    """Open a local file in headless Chromium, record requests and errors, evaluate `script`, screenshot."""
    exe = chromium()
    profile = Path(tempfile.mkdtemp(prefix="monitor-chromium-"))
    proc = subprocess.Popen(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes its port and path here once listening
        deadline = time.monotonic() + START_TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{exe} did not start (exit code {proc.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        cdp = _CDP(f"ws://127.0.0.1:{port}{path}")
        try:
            return _visit(cdp, page, script, screenshot, width)
        finally:
            with contextlib.suppress(Exception):  # the browser may close the socket before it answers
                cdp.call("Browser.close", timeout=10)
            cdp.close()
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _visit(cdp: _CDP, page: Path, script: str, screenshot: Path | None, width: int) -> Visit:
    url = page.resolve().as_uri()
    target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
    session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Network", "Runtime", "Log", "Page"):
        cdp.call(f"{domain}.enable", session)
    # the viewport itself: headless Chromium keeps windows at least 500 px wide, narrower than a phone's 390
    cdp.call("Emulation.setDeviceMetricsOverride", session, width=width, height=1000, deviceScaleFactor=1, mobile=False)
    cdp.events.clear()  # about:blank's own events are not the page's
    cdp.call("Page.navigate", session, url=url)
    cdp.wait_for("Page.loadEventFired")
    cdp.drain(0.5)
    out = Visit(url)
    evaluated = cdp.call("Runtime.evaluate", session, expression=script, returnByValue=True)
    out.result = evaluated["result"].get("value")
    if screenshot is not None:
        size = cdp.call("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = cdp.call(
            "Page.captureScreenshot",
            session,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": width, "height": min(size["height"], 16000), "scale": 1},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        out.screenshot = screenshot
    cdp.drain(0.2)
    for e in cdp.events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Network.requestWillBeSent":
            out.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            out.errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description") or details.get("text")
            out.errors.append(f"exception: {described}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            text = f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
            out.errors.append(text.strip())
    return out
