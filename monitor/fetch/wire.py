"""Fetch, the wire: HTTP/1.1 exchanges over guarded sockets (http.client), and the kept-alive connections.

The standard library's client does the framing (Content-Length, chunked, read to close) for about a third of
the CPU httpx and httpcore take per page (measured on 2,000 local pages: 1.0 s against 3.5 s), and a cycle's
fetching shares two cores with the extraction processes. What it does not do is done here or in the guard:
every connection is dialled by `guard.connect` (addresses checked after DNS), every read and write is bounded
by the request's deadline, the status line and headers are capped, and a body that ends early is an error.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

from monitor.fetch import guard

HEADERS_MAX_BYTES = 100 * 1024  # the status line and headers together
HEADER_LINE_MAX_BYTES = 64 * 1024  # one line of them: http.client's own cap (its _MAXLINE)
MAX_HEADERS = 100  # http.client's own cap on their number (its _MAXHEADERS)
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept for the next request to the same host
MAX_KEEPALIVE = 20  # idle connections kept in all
DRAIN_MAX_BYTES = 64 * 1024  # a redirect's or error's body read to reuse its connection; longer: closed
CHUNK_BYTES = 64 * 1024  # a body is handed on in pieces of up to this size

Key = tuple[str, str, int]  # scheme, host (IDNA, no brackets), port


class _HeaderCap:
    """Counts what the response's head reads; refuses past HEADERS_MAX_BYTES (h11's cap, kept).

    Not an io object: one would close the stream under it when collected."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._left = HEADERS_MAX_BYTES

    def readline(self, size: int | None = -1) -> bytes:
        # http.client asks for at most 64 KiB + 1 a line; the cap on the whole head is ours
        line: bytes = self._inner.readline(self._left + 1)
        self._left -= len(line)
        if self._left < 0:
            raise guard.HeadersTooLong(f"longer than {HEADERS_MAX_BYTES // 1024} KiB")
        return line

    def close(self) -> None:
        self._inner.close()


class _Response(http.client.HTTPResponse):
    """http.client's response with the head capped and informational answers (103 Early Hints) skipped, as
    h11 skipped them; its body read by `Exchange`."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 < status < 200 or status == 101:  # http.client skips 100 itself; 101 is no answer to a GET
                return version, status, reason
            while self.fp.readline(HEADER_LINE_MAX_BYTES + 1) not in (b"\r\n", b"\n", b""):
                pass  # the interim answer's headers

    def begin(self) -> None:
        body = self.fp
        self.fp = _HeaderCap(body)  # type: ignore[assignment]
        try:
            super().begin()
        finally:
            if self.fp is not None:  # begin() drops fp for a response that has no body and closes
                self.fp = body


class _Connection(http.client.HTTPConnection):
    """One kept-alive connection to (scheme, host, port), dialled through the guard."""

    response_class = _Response

    def __init__(
        self,
        key: Key,
        allow: tuple[guard.IPNetwork, ...],
        connect_timeout: float,
        read_timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        _, host, port = key
        super().__init__(f"[{host}]" if ":" in host else host, port)
        self.key = key
        self._allow = allow
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._context = context
        self.idle_since = 0.0

    def connect(self) -> None:
        scheme, host, port = self.key
        sock = guard.connect(host, port, self._allow, self._connect_timeout)
        if scheme == "https":
            sock = guard.start_tls(sock, self._context, host, self._connect_timeout)
        self.sock = guard.GuardedSocket(sock, self._read_timeout)

    def reusable(self) -> bool:
        sock = self.sock
        return isinstance(sock, guard.GuardedSocket) and not sock.readable_now()


class Exchange:
    """One request's response: status, headers (lower-case names, repeats joined with ", "), the raw body."""

    def __init__(self, pool: Pool, connection: _Connection, response: _Response) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._response = response
        self.status = response.status
        self.reason = response.reason
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.headers = headers

    def iter_raw(self) -> Iterator[bytes]:
        """The body as sent (still compressed), piece by piece; the connection goes back to the pool at its end.

        Raises:
            guard.Truncated: the connection closed before the whole body had come.
            guard.Malformed: a chunked body that is not.
            guard.ReadError, guard.ReadTimeout: from the socket.
        """
        response = self._response
        while True:
            try:
                piece = response.read(CHUNK_BYTES)
            except http.client.IncompleteRead as exc:
                raise guard.Truncated(
                    f"peer closed connection without sending complete message body ({len(exc.partial)} bytes "
                    "of a chunk read)"
                ) from None
            except http.client.HTTPException as exc:
                raise guard.Malformed(f"{type(exc).__name__}: {exc}") from None
            if not piece:
                break
            yield piece
        if response.length:  # http.client returns b"" when a Content-Length body ends early
            raise guard.Truncated(
                f"peer closed connection without sending complete message body ({response.length} bytes missing)"
            )
        self._release()

    def drain(self) -> None:
        """Read a short body to its end, so the connection can serve the next hop; close it otherwise."""
        length = self._response.length
        if length is not None and length <= DRAIN_MAX_BYTES and not self._response.chunked:
            try:
                for _ in self.iter_raw():
                    pass
            except guard.TransportError:
                pass
        self.close()

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.put(connection, reusable=self._response.isclosed() and not self._response.will_close)

    def close(self) -> None:
        """Give the connection back if the body was read to its end; close it otherwise."""
        connection, self._connection = self._connection, None
        if connection is not None:
            if self._response.isclosed() and not self._response.will_close:
                self._pool.put(connection, reusable=True)
            else:
                connection.close()
        self._response.close()  # a response read to the close holds the socket until then


class Pool:
    """Connections kept alive between requests, by (scheme, host, port); thread-safe."""

    def __init__(
        self,
        allow: tuple[guard.IPNetwork, ...],
        connect_timeout: float,
        read_timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        self._allow = allow
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._context = context
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False  # a connection given back after close() is closed, not kept

    def request(self, key: Key, target: str, headers: dict[str, str]) -> Exchange:
        """Send GET ``target`` to ``key`` and read the response's head.

        A kept-alive connection the server closed meanwhile is retried once on a new one (a GET is safe
        to send again); a new connection's failure is the request's.
        """
        connection = self._take(key)
        if connection is not None:
            try:
                return self._send(connection, target, headers)
            except (guard.NoResponse, guard.WriteError, guard.ReadError):
                pass  # the server closed a connection we kept: try once on a new one
        return self._send(self._new(key), target, headers)

    def _send(self, connection: _Connection, target: str, headers: dict[str, str]) -> Exchange:
        try:
            try:
                connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers.items():
                    connection.putheader(name, value)
                connection.endheaders()
                response = connection.getresponse()
            except http.client.RemoteDisconnected:
                raise guard.NoResponse("Server disconnected without sending a response.") from None
            except http.client.LineTooLong:
                raise guard.HeadersTooLong(f"with a line longer than {HEADER_LINE_MAX_BYTES // 1024} KiB") from None
            except (http.client.HTTPException, ValueError) as exc:
                if str(exc).startswith("got more than"):  # http.client's words for its cap on their number
                    raise guard.HeadersTooLong(f"more than {MAX_HEADERS} in number") from None
                raise guard.Malformed(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            connection.close()
            raise
        return Exchange(self, connection, response)  # type: ignore[arg-type]

    def _new(self, key: Key) -> _Connection:
        return _Connection(key, self._allow, self._connect_timeout, self._read_timeout, self._context)

    def _take(self, key: Key) -> _Connection | None:
        now = time.monotonic()
        with self._lock:
            expired = [c for c in self._idle if now - c.idle_since > KEEPALIVE_EXPIRY]
            self._idle = [c for c in self._idle if now - c.idle_since <= KEEPALIVE_EXPIRY]
            found = next((c for c in reversed(self._idle) if c.key == key), None)
            if found is not None:
                self._idle.remove(found)
        for connection in expired:
            connection.close()
        if found is not None and not found.reusable():
            found.close()
            return None
        return found

    def put(self, connection: _Connection, *, reusable: bool) -> None:
        if not reusable or connection.sock is None:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        with self._lock:
            if self._closed:
                extra = [connection]
            else:
                self._idle.append(connection)
                extra = self._idle[:-MAX_KEEPALIVE]
                del self._idle[:-MAX_KEEPALIVE]
        for old in extra:
            old.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def raw_parts(url: Any) -> tuple[Key, str, str]:
    """(scheme, host, port), the request target and the Host header of an ``httpx.URL``."""
    scheme = url.scheme
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if url.port is None else f"{shown}:{url.port}"
    return (scheme, host, port), url.raw_path.decode("ascii"), host_header
