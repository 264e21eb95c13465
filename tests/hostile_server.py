"""A hostile local HTTP server for tests: real sockets on loopback, misbehaving on request.

Tests take the ``hostile`` fixture (registered in tests/conftest.py: the session's server, emptied
for each test), register a route per path, and point the code under test at the URL it returns::

    from tests import hostile_server as hs

    def test_feed(hostile: hs.HostileServer) -> None:
        url = hostile.route("/feed.xml", hs.static(b"<rss/>", content_type="application/rss+xml"))
        slow = hostile.route("/slow", hs.slow_drip(interval=0.5))
        ...
        assert hostile.hits("/feed.xml") == 1                      # requests seen for that path
        assert hostile.requests("/feed.xml")[-1].headers["user-agent"]  # lower-cased names

A route is any callable taking the ``http.server.BaseHTTPRequestHandler`` of the request; the
builders below cover the usual failure cases. Handlers that stall watch ``server.stopping`` and
the client's socket, so they end when the test's client gives up or the server stops.

``loopback_only()`` makes any attempt to connect outside loopback fail loudly while it is active,
so a broken address guard can never send test traffic anywhere else.
"""

from __future__ import annotations

import gzip
import ipaddress
import select
import socket
import ssl
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

import pytest

Route = Callable[[BaseHTTPRequestHandler], None]
Framing = Literal["length", "chunked", "close"]

CHUNK = 64 * 1024
STALL_MAX = 60.0  # no handler stalls longer than this, whatever the client does
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    client_port: int  # the same port for two requests means one kept-alive connection


class HostileServer:
    """A threaded stdlib HTTP/1.1 server on an ephemeral loopback port with a route registry."""

    def __init__(self, host: str = "127.0.0.1", *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.stopping = threading.Event()
        self._routes: dict[str, Route] = {}
        self._hits: Counter[str] = Counter()
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("_Server", (_Server,), {"address_family": family})
        self._httpd: _Server = server_class((host, 0), _Handler)
        self._httpd.owner = self
        self.scheme = "http"
        if ssl_context is not None:  # HTTPS; the handshake happens on accept
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def route(self, path: str, handler: Route) -> str:
        """Serve ``path`` (without query string) with ``handler``; returns its full URL."""
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def reset(self) -> None:
        """Forget all routes, counters and recorded requests."""
        with self._lock:
            self._routes.clear()
            self._hits.clear()
            self._requests.clear()

    def hits(self, path: str) -> int:
        """How many requests arrived for ``path`` (without query string)."""
        with self._lock:
            return self._hits[path]

    def requests(self, path: str | None = None) -> list[Recorded]:
        """Recorded requests, oldest first; only those for ``path`` when given."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path.split("?")[0] == path]

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        with self._lock:
            self._hits[path] += 1
            port = int(handler.client_address[1])
            self._requests.append(Recorded(handler.command, handler.path, headers, port))
            route = self._routes.get(path)
        try:
            (route or static(b"no route\n", status=404))(handler)
        except DISCONNECTS:
            handler.close_connection = True  # the client went away: that is what these tests do


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default listen backlog of 5 drops SYNs under concurrent tests
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # disconnects are what these tests do
            super().handle_error(request, client_address)  # a bug in a route: show it


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # an idle keep-alive connection frees its thread after this

    def do_GET(self) -> None:
        self.server.owner._dispatch(self)

    do_HEAD = do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


# --- helpers for writing routes --------------------------------------------------------------------


def send_head(h: BaseHTTPRequestHandler, status: int = 200, headers: dict[str, str] | None = None) -> None:
    """Send the status line and headers, nothing else."""
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()


def client_gone(h: BaseHTTPRequestHandler, wait: float) -> bool:
    """Wait up to ``wait`` seconds; True once the client has closed its end or the server stops."""
    owner = h.server.owner  # type: ignore[attr-defined]
    readable, _, _ = select.select([h.connection], [], [], wait)
    if readable:
        try:
            if h.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except OSError:
            return True
    return bool(owner.stopping.is_set())


def _write_body(h: BaseHTTPRequestHandler, chunks: Iterator[bytes], framing: Framing) -> None:
    for chunk in chunks:
        if framing == "chunked":
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        else:
            h.wfile.write(chunk)
    if framing == "chunked":
        h.wfile.write(b"0\r\n\r\n")
    if framing == "close":
        h.close_connection = True


def _framing_headers(framing: Framing, length: int) -> dict[str, str]:
    if framing == "length":
        return {"Content-Length": str(length)}
    if framing == "chunked":
        return {"Transfer-Encoding": "chunked"}
    return {"Connection": "close"}  # body ends when the connection does


# --- route builders ----------------------------------------------------------------------------------


def static(
    body: bytes = b"",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str | None = "text/plain; charset=utf-8",
    framing: Framing = "length",
) -> Route:
    """A fixed response. ``headers`` override the defaults; ``framing`` picks how the body ends."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        head = _framing_headers(framing, len(body))
        if content_type:
            head["Content-Type"] = content_type
        head.update(headers or {})
        send_head(h, status, head)
        if h.command != "HEAD":
            _write_body(h, (body[i : i + CHUNK] for i in range(0, len(body), CHUNK)), framing)

    return handle


def encode(body: bytes, encoding: str) -> bytes:
    """``body`` with ``encoding`` applied: "gzip", "deflate" (zlib), "deflate-raw", "gzip, gzip", ...

    Unknown names ("br") leave the bytes as they are: the header alone is the test.
    """
    for name in (part.strip() for part in encoding.split(",")):
        if name in ("gzip", "x-gzip"):
            body = gzip.compress(body, mtime=0)
        elif name == "deflate":
            body = zlib.compress(body)
        elif name == "deflate-raw":
            compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            body = compressor.compress(body) + compressor.flush()
    return body


def encoded(
    body: bytes,
    encoding: str = "gzip",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str | None = "text/plain; charset=utf-8",
    framing: Framing = "length",
) -> Route:
    """``body`` compressed with ``encoding`` and labelled with it (deflate-raw is labelled deflate)."""
    labelled = {**(headers or {}), "Content-Encoding": encoding.replace("deflate-raw", "deflate")}
    return static(encode(body, encoding), status=status, headers=labelled, content_type=content_type, framing=framing)


@cache
def gzip_bomb_bytes(size: int = 2**30) -> bytes:
    """A valid gzip stream of ``size`` zero bytes (a multiple of 1 MiB), about size/1000 long.

    After a full flush, deflate's output for another MiB of zeros is the same bytes each time, so
    the stream is one block repeated; only the CRC needs the whole size (~0.3 s for 1 GiB).
    """
    mib = 2**20
    zeros = bytes(mib)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // mib):
        crc = zlib.crc32(zeros, crc)
    trailer = b"\x03\x00" + struct.pack("<II", crc, size & 0xFFFFFFFF)  # empty final block, CRC, size
    return first + block * (size // mib - 1) + trailer


def gzip_bomb(size: int = 2**30, framing: Framing = "length") -> Route:
    """``size`` zero bytes gzip-compressed to about size/1000 (1 GiB -> ~1 MiB)."""
    return static(gzip_bomb_bytes(size), headers={"Content-Encoding": "gzip"}, framing=framing)


def big(size: int = 50 * 2**20, framing: Framing = "length") -> Route:
    """``size`` bytes generated as they are sent (never all in memory), until the client hangs up."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        send_head(h, 200, {"Content-Type": "application/octet-stream", **_framing_headers(framing, size)})
        block = b"a" * CHUNK
        chunks = (block[: min(CHUNK, size - sent)] for sent in range(0, size, CHUNK))
        _write_body(h, chunks, framing)

    return handle


def slow_drip(interval: float = 0.5, length: int = 100, *, head_first: bool = True) -> Route:
    """Headers at once (unless ``head_first`` is False), then one body byte every ``interval`` s."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        if head_first:
            send_head(h, 200, {"Content-Type": "text/plain", "Content-Length": str(length)})
        for _ in range(length):
            if client_gone(h, interval):
                return
            h.wfile.write(b"x")

    return handle


def paced(body: bytes, seconds: float, *, content_type: str = "text/html; charset=utf-8", steps: int = 20) -> Route:
    """``body`` sent in ``steps`` pieces spread over ``seconds``: a slow site's page, complete in the end."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        send_head(h, 200, {"Content-Type": content_type, "Content-Length": str(len(body))})
        size = -(-len(body) // steps)
        for i in range(0, len(body), size):
            if client_gone(h, seconds / steps):
                return
            h.wfile.write(body[i : i + size])
            h.wfile.flush()

    return handle


def hang(max_seconds: float = STALL_MAX) -> Route:
    """Read the request, then send nothing until the client hangs up (or ``max_seconds`` pass)."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        end = time.monotonic() + max_seconds
        while time.monotonic() < end and not client_gone(h, 0.1):
            pass
        h.close_connection = True

    return handle


def reset_mid_body(sent: int = 1000, declared: int = 100_000) -> Route:
    """Promise ``declared`` bytes, send ``sent``, then abort the connection with a TCP RST."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        send_head(h, 200, {"Content-Type": "text/plain", "Content-Length": str(declared)})
        h.wfile.write(b"r" * sent)
        time.sleep(0.1)  # let the client read the head, so the reset lands mid-body
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    return handle


def truncated(sent: int = 1000, declared: int = 100_000) -> Route:
    """Promise ``declared`` bytes with Content-Length, send ``sent``, then close cleanly (FIN)."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        send_head(h, 200, {"Content-Type": "text/plain", "Content-Length": str(declared)})
        h.wfile.write(b"t" * sent)
        h.close_connection = True

    return handle


def truncated_chunked(sent: int = 1000) -> Route:
    """A chunked body whose closing zero-length chunk never comes; the connection just closes."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        send_head(h, 200, {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"})
        h.wfile.write(b"%x\r\n%s\r\n" % (sent, b"c" * sent))
        h.close_connection = True

    return handle


def redirect(location: str, status: int = 302) -> Route:
    """A redirect to ``location`` (absolute or relative, sent as is)."""
    return static(b"", status=status, headers={"Location": location}, content_type=None)


def conditional(
    body: bytes,
    *,
    etag: str = '"v1"',
    last_modified: str = "Mon, 01 Jan 2024 00:00:00 GMT",
    content_type: str = "application/rss+xml",
) -> Route:
    """200 with ETag and Last-Modified; 304 when If-None-Match or If-Modified-Since matches."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        validators = {"ETag": etag, "Last-Modified": last_modified}
        tags = [tag.strip() for tag in (h.headers.get("If-None-Match") or "").split(",")]
        if etag in tags or "*" in tags or h.headers.get("If-Modified-Since") == last_modified:
            send_head(h, 304, {**validators, "Content-Length": "0"})
            return
        static(body, headers=validators, content_type=content_type)(h)

    return handle


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date (for Retry-After, Expires, ...) ``seconds_from_now`` in the future."""
    return formatdate(time.time() + seconds_from_now, usegmt=True)


# --- safety net ------------------------------------------------------------------------------------

_outside_blocked = 0
_hook_lock = threading.Lock()
_hook_installed = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "socket.connect" or not _outside_blocked:
        return
    sock, address = args
    if not isinstance(sock, socket.socket) or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = str(address[0]) if isinstance(address, tuple) else str(address)
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise RuntimeError(f"test tried to connect to {address!r}: only loopback IPs allowed") from None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
        raise RuntimeError(f"test tried to connect to {address!r}, outside loopback: a guard is broken")


@contextmanager
def loopback_only() -> Iterator[None]:
    """While active, any socket connect to a non-loopback address raises RuntimeError instead."""
    global _outside_blocked, _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # audit hooks cannot be removed; it is inert outside this block
            _hook_installed = True
        _outside_blocked += 1
    try:
        yield
    finally:
        with _hook_lock:
            _outside_blocked -= 1


# --- fixtures (registered for all tests by tests/conftest.py) ---------------------------------------


@pytest.fixture(scope="session")
def hostile_session() -> Iterator[HostileServer]:
    """One hostile server on 127.0.0.1 for the whole session; routes persist until someone resets."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def hostile(hostile_session: HostileServer) -> Iterator[HostileServer]:
    """The session's hostile server with no routes, counters or recorded requests; while the test
    runs, connecting anywhere outside loopback raises RuntimeError."""
    hostile_session.reset()
    with loopback_only():
        yield hostile_session
