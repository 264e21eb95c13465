"""Fetch: the one guarded way out to the network, for feeds and articles alike.

Feeds are written by strangers, so every URL is hostile until proven otherwise. The guard:
http/https only and no userinfo; every address checked after DNS, at connect time, on every
redirect hop (so odd spellings like ``http://2130706433/`` and DNS rebinding are caught) against
non-public ranges; a total deadline per request; bodies capped after decompression (gzip bombs
stop at the cap); no proxies or .netrc from the environment; TLS always verified.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpcore
import httpx

from monitor.errors import BlockedURLError, FetchError

log = logging.getLogger(__name__)

USER_AGENT = "news-monitor/0.1 (+https://github.com/news-monitor; feed and article fetcher)"
CONNECT_TIMEOUT = 10.0  # seconds for DNS + TCP connect + TLS handshake
READ_TIMEOUT = 20.0  # seconds without a byte from the server
DEADLINE = 60.0  # total seconds per request, including redirects and body
MAX_REDIRECTS = 5
FEED_MAX_BYTES = 10 * 2**20  # after decompression
ARTICLE_MAX_BYTES = 5 * 2**20  # after decompression
RETRY_AFTER_MAX = 6 * 3600.0  # a server may not park us for longer than this

ALLOWED_SCHEMES = frozenset({"http", "https"})
HOST_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # after IDNA encoding; "_" appears in real host names
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT_ENCODING = "gzip, deflate"  # only what we decode ourselves, under the cap; httpx would add br/zstd
MAX_ENCODINGS = 2  # "gzip, gzip" is seen in the wild; deeper stacks are only ever an attack
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Limits:
    """Timeouts and limits applied to every request a Client makes."""

    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE
    max_redirects: int = MAX_REDIRECTS
    user_agent: str = USER_AGENT


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Response:
    """A successful fetch: 200 with a body, or 304 Not Modified with none."""

    url: str  # final URL after redirects
    status: int  # 200 or 304
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes  # decompressed; b"" for 304
    content_type: str  # media type only, lower-case, "" if none
    etag: str | None
    last_modified: str | None
    elapsed: float  # seconds, including redirects

    @property
    def not_modified(self) -> bool:
        """True for a 304: the caller's cached copy is still current."""
        return self.status == 304


def check_url(url: str) -> str:
    """Return ``url`` normalised if it is an absolute http(s) URL with a host and no userinfo.

    Only the URL's shape is checked here; addresses are checked at connect time, after DNS.

    Raises:
        BlockedURLError: naming the URL and why it is refused.
    """
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise BlockedURLError(url, f"not a valid URL ({exc}); fix or remove it") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        what = f"scheme {parsed.scheme!r}" if parsed.scheme else "a URL without a scheme"
        raise BlockedURLError(
            url, f"{what} is not allowed; only absolute http:// and https:// URLs are fetched"
        )
    if not parsed.host:
        raise BlockedURLError(url, "the URL has no host; only absolute http:// and https:// URLs are fetched")
    if parsed.userinfo:
        raise BlockedURLError(url, "user name or password in the URL is refused; use a URL without 'user@'")
    host = parsed.raw_host.decode("ascii", "replace")
    if not (_is_ipv6_literal(host) if ":" in host else HOST_NAME.fullmatch(host)):
        raise BlockedURLError(url, f"host {host!r} is not a valid host name or IP address; fix or remove it")
    if parsed.port is not None and not 0 < parsed.port < 2**16:
        raise BlockedURLError(url, f"port {parsed.port} is out of range; fix or remove it")
    return str(parsed)


def _is_ipv6_literal(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), clamped to
    [0, RETRY_AFTER_MAX]; None when the header is missing or garbage."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # Cap the length before int(): a megabyte of digits is still just "huge".
        return RETRY_AFTER_MAX if len(text) > 12 else min(float(int(text)), RETRY_AFTER_MAX)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    now = now or datetime.now(UTC)
    # An HTTP-date is always GMT; a zone-less one ("-0000") or a naive `now` is taken as UTC too.
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), RETRY_AFTER_MAX))


class Client:
    """The guarded HTTP client: one per run, shared by all feed and article fetches (thread-safe)."""

    def __init__(self, *, allow_networks: Sequence[str] = (), limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.allow_networks = _parse_networks(allow_networks)
        # Requests go straight to the transport, not through httpx.Client: the client would read
        # proxies and .netrc from the environment (unless told not to), keep a cookie jar across
        # feeds, and parse every Location header itself (raising on hostile ones) even with
        # redirects off. We follow redirects ourselves, re-checking each hop.
        self._transport = _GuardedTransport(_GuardedBackend(self.allow_networks))
        self._headers = {
            "User-Agent": limits.user_agent,
            "Accept-Encoding": ACCEPT_ENCODING,
            "Connection": "keep-alive",
        }

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> Response:
        """GET ``url``, following up to ``limits.max_redirects`` redirects, within ``limits.deadline``.

        Sends If-None-Match / If-Modified-Since when ``etag`` / ``last_modified`` are given.

        Raises:
            BlockedURLError: bad scheme or shape, or a hop's host resolves to a non-public address.
            FetchError: timeouts, connection failures, HTTP errors (with ``status`` and, for 429/503,
                ``retry_after``), bodies over ``max_bytes``, bad or unsupported encodings, truncation.
        """
        started = time.monotonic()
        hop = check_url(url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = [hop]
        _deadline.at = started + self.limits.deadline
        try:
            for _ in range(self.limits.max_redirects + 1):
                response = self._send(url, hop, headers)
                try:
                    if response.status_code not in REDIRECT_STATUSES:
                        return self._finish(url, hop, response, max_bytes, started)
                    hop = self._next_hop(url, hop, response)
                finally:
                    response.close()
                if hop in seen:
                    chain = " -> ".join([*seen, hop])
                    raise FetchError(url, f"redirect loop ({chain}); fix the URL or remove it")
                seen.append(hop)
            raise FetchError(
                url,
                f"more than {self.limits.max_redirects} redirects ({' -> '.join(seen)}); use the final URL",
            )
        finally:
            _deadline.at = None

    def close(self) -> None:
        """Close all pooled connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, url: str, hop: str, headers: dict[str, str]) -> httpx.Response:
        remaining = _remaining()
        timeout = httpx.Timeout(
            connect=self.limits.connect_timeout,
            read=self.limits.read_timeout,
            write=self.limits.read_timeout,
            pool=min(self.limits.connect_timeout, max(remaining, 0.001)),
        )
        request = httpx.Request(
            "GET", hop, headers={**self._headers, **headers}, extensions={"timeout": timeout.as_dict()}
        )
        with _errors(url, hop, self.limits):
            return self._transport.handle_request(request)

    def _next_hop(self, url: str, hop: str, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise FetchError(
                url, f"HTTP {response.status_code} redirect from {hop} without a Location header"
            )
        try:
            target = str(httpx.URL(hop).join(location.strip()))
        except httpx.InvalidURL as exc:
            raise BlockedURLError(
                url, f"redirect from {hop} to an invalid URL {location!r} ({exc})"
            ) from None
        try:
            return check_url(target)
        except BlockedURLError as exc:
            raise BlockedURLError(url, f"redirect from {hop} to {target} refused: {exc.reason}") from None

    def _finish(
        self, url: str, hop: str, response: httpx.Response, max_bytes: int, started: float
    ) -> Response:
        status = response.status_code
        if status not in (200, 304):
            raise _http_error(url, hop, response)
        body = b""
        with _errors(url, hop, self.limits):
            if status == 200:
                body = _read_body(url, hop, response, max_bytes)
            else:  # a 304 has no body; reading its end lets the connection be reused
                for _ in response.iter_raw():
                    break
        headers = dict(response.headers.items())
        return Response(
            url=hop,
            status=status,
            headers=headers,
            body=body,
            content_type=headers.get("content-type", "").split(";")[0].strip().lower(),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            elapsed=time.monotonic() - started,
        )


def _read_body(url: str, hop: str, response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the raw body, decompress it ourselves and stop one byte past ``max_bytes``."""
    where = "" if hop == url else f" (redirected to {hop})"
    too_large = (
        f"body larger than {max_bytes} bytes{where}; not stored. Raise the limit if this source needs it"
    )
    declared = response.headers.get("content-length", "")
    # max_bytes caps the bytes on the wire as well as after decompression, so a Content-Length
    # over the cap fails before a byte of the body is read.
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise FetchError(url, f"{too_large} (Content-Length: {declared.strip()})")
    encodings = _encodings(url, response.headers.get("content-encoding", ""), where)
    decoder = _Decoder(url, encodings, max_bytes, where)
    body = bytearray()
    wire = 0
    for chunk in response.iter_raw():
        wire += len(chunk)
        if wire > max_bytes:
            raise FetchError(url, too_large)
        body += decoder.feed(chunk)
        if len(body) > max_bytes:
            raise FetchError(url, too_large)
        if _remaining() <= 0:
            raise httpcore.ReadTimeout("deadline passed while reading the body")
    if wire:
        decoder.check_complete()
    return bytes(body)


def _encodings(url: str, header: str, where: str) -> list[str]:
    """The Content-Encodings to undo, in the order they were applied."""
    names = [name.strip().lower() for name in header.split(",")]
    names = ["gzip" if name == "x-gzip" else name for name in names if name not in ("", "identity")]
    unknown = [name for name in names if name not in ("gzip", "deflate")]
    if unknown:
        raise FetchError(
            url, f"unsupported Content-Encoding {header!r}{where}; we asked for {ACCEPT_ENCODING}"
        )
    if len(names) > MAX_ENCODINGS:
        raise FetchError(
            url, f"unsupported Content-Encoding {header!r}{where}: more than {MAX_ENCODINGS} stacked"
        )
    return names


class _Stage:
    """One gzip or deflate layer, decompressed with a bounded output per step (bomb-safe)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: 32+ lets zlib also accept a zlib header, which some servers send as "gzip".
        # deflate: decided on the first two bytes (see push).
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS) if encoding == "gzip" else None
        self._tail = b""  # input not consumed yet because the output limit was reached
        self._full = False  # the last step filled its output limit, so more output may be waiting

    @property
    def pending(self) -> bool:
        return self._zlib is not None and not self._zlib.eof and (bool(self._tail) or self._full)

    @property
    def complete(self) -> bool:
        return self._zlib is not None and self._zlib.eof

    def push(self, data: bytes, max_out: int) -> bytes:
        buf = self._tail + data if self._tail else data
        if self._zlib is None:
            if len(buf) < 2:
                self._tail = buf
                return b""
            # HTTP "deflate" means a zlib stream (RFC 1950), but many servers send raw deflate
            # (RFC 1951); tell them apart by the zlib header check, as zlib itself does.
            cmf, flg = buf[0], buf[1]
            is_zlib = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
        if self._zlib.eof:  # bytes after the end of the stream are ignored
            self._tail, self._full = b"", False
            return b""
        out = self._zlib.decompress(buf, max_out)
        self._tail = self._zlib.unconsumed_tail
        self._full = len(out) == max_out
        return out


class _Decoder:
    """Undoes Content-Encoding chunk by chunk, never producing more than ``max_bytes + 1`` bytes."""

    def __init__(self, url: str, encodings: list[str], max_bytes: int, where: str) -> None:
        self._url = url
        self._where = where
        self._stages = [_Stage(name) for name in reversed(encodings)]
        self._room = max_bytes + 1  # one byte past the cap proves the body is too large

    def feed(self, raw: bytes) -> bytes:
        if not self._stages:
            return raw
        if any(stage.complete for stage in self._stages[1:]):
            return b""  # an inner layer has ended: nothing more can come out, so don't grind the outer
        out = bytearray()
        data = raw
        try:
            # Loop until no layer holds back input or output, or the cap is passed.
            while True:
                for stage in self._stages:
                    data = stage.push(data, max(self._room - len(out), 1))
                out += data
                data = b""
                if len(out) >= self._room or not any(stage.pending for stage in self._stages):
                    break
                if any(stage.complete for stage in self._stages[1:]):
                    break
        except zlib.error as exc:
            names = ", ".join(stage.encoding for stage in reversed(self._stages))
            raise FetchError(
                self._url,
                f"could not decompress the {names} body{self._where} ({exc}); the server sent bad data",
            ) from None
        self._room -= len(out)
        return bytes(out)

    def check_complete(self) -> None:
        # The innermost layer's end is the content's end; an outer layer cut after it loses nothing.
        innermost = self._stages[-1] if self._stages else None
        if innermost is not None and not innermost.complete:
            raise FetchError(
                self._url,
                f"{innermost.encoding} body{self._where} ended early: the compressed data is truncated",
            )


def _http_error(url: str, hop: str, response: httpx.Response) -> FetchError:
    status = response.status_code
    where = "" if hop == url else f" from {hop}"
    what = f"HTTP {status} {response.reason_phrase}".rstrip() + where
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    if retry_after is not None:
        step = f"retry after {retry_after:.0f} s"
    elif status in (404, 410):
        step = "fix the URL or remove it"
    elif status in (401, 403):
        step = "the site refuses us; check the URL in a browser or remove it"
    elif status == 429 or status >= 500:
        step = "retry later"
    else:
        step = "only 200 and 304 are accepted"
    return FetchError(url, f"{what}; {step}", status=status, retry_after=retry_after)


@contextmanager
def _errors(url: str, hop: str, limits: Limits) -> Iterator[None]:
    """Turn transport exceptions during one hop into BlockedURLError / FetchError naming the URL."""
    where = "" if hop == url else f" (redirected to {hop})"
    try:
        yield
    except _BlockedAddress as exc:
        redirected = "" if hop == url else f"redirected to {hop}, but "
        raise BlockedURLError(
            url,
            f"{redirected}{exc}; not fetched. If that network is yours, add it to allow_networks",
        ) from None
    except (
        httpcore.ProtocolError,
        httpcore.NetworkError,
        httpcore.TimeoutException,
        httpx.TransportError,
    ) as exc:
        raise FetchError(url, _reason(exc, limits) + where) from exc


def _reason(exc: Exception, limits: Limits) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpcore.TimeoutException | httpx.TimeoutException):
        if _remaining() <= 0.05:
            return f"did not finish within the {limits.deadline:g} s deadline (slow or stalled server)"
        if isinstance(exc, httpcore.ConnectTimeout | httpx.ConnectTimeout):
            return f"could not connect within {limits.connect_timeout:g} s ({text}); retry later"
        return f"timed out: no data from the server for {limits.read_timeout:g} s; retry later"
    if isinstance(exc, httpcore.ConnectError | httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
            return f"TLS handshake or certificate check failed ({text}); the site's HTTPS is broken"
        return f"could not connect ({text}); check the host name, or retry later"
    if isinstance(exc, httpcore.RemoteProtocolError | httpx.RemoteProtocolError):
        if "complete message body" in text:
            return f"body truncated: the server closed the connection early ({text}); retry later"
        if "without sending a response" in text:
            return "the server closed the connection without responding; retry later"
        return f"malformed HTTP response ({text})"
    if isinstance(exc, httpcore.ReadError | httpx.ReadError):
        return f"connection reset or dropped while reading ({text}); retry later"
    if isinstance(exc, httpcore.WriteError | httpx.WriteError):
        return f"connection dropped while sending the request ({text}); retry later"
    return f"request failed ({type(exc).__name__}: {text})"


# --- the guard: every connection goes through _GuardedBackend.connect_tcp --------------------------


class _BlockedAddress(Exception):
    """Raised inside the transport; Client.get turns it into BlockedURLError naming the URL."""


class _Deadline(threading.local):
    """The monotonic time the current thread's request must end by (None outside Client.get)."""

    at: float | None = None


_deadline = _Deadline()


def _remaining() -> float:
    return float("inf") if _deadline.at is None else _deadline.at - time.monotonic()


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the current request's deadline; raises ``expired`` once it has passed.

    httpx timeouts are per socket operation, so a server dripping a byte per second would never
    time out; bounding every operation by the deadline makes the deadline total.
    """
    remaining = _remaining()
    if remaining <= 0:
        raise expired("deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


def _parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    if isinstance(cidrs, str):
        raise ValueError(f"allow_networks must be a list of CIDR strings, not the string {cidrs!r}")
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(
                f"allow_networks: {cidr!r} is not a CIDR network like '127.0.0.0/8' or '::1/128' ({exc})"
            ) from None
    return tuple(networks)


def non_public_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address ("loopback", "private", ...), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = non_public_reason(ip.ipv4_mapped)
            return inner and f"IPv4-mapped {inner}"
        embedded = ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:  # judged by the IPv4 address the relay would forward to
            inner = non_public_reason(embedded)
            return inner and f"6to4/NAT64 embedding {embedded}, {inner}"
        if ip in UNIQUE_LOCAL:
            return "unique-local"
        if ip.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared/CGNAT", ip in CGNAT),
        ("broadcast", ip == ipaddress.IPv4Address("255.255.255.255")),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-global", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _allowed(ip: IPAddress, allow: tuple[IPNetwork, ...]) -> bool:
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return any(ip in net or (mapped is not None and mapped in net) for net in allow)


def _resolve(host: str, port: int, timeout: float | None) -> list[tuple[str, IPAddress]]:
    """Resolve ``host`` to (sockaddr host, address) pairs within ``timeout``.

    getaddrinfo cannot be interrupted, so a name lookup runs in a daemon thread we stop waiting
    for; a stuck lookup then ends on the resolver's own timeout without holding up the run.
    """
    try:
        return [(host, ipaddress.ip_address(host))]  # an IP literal needs no lookup
    except ValueError:
        pass
    results: list[Any] = []

    def lookup() -> None:
        try:
            results.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # reported to the caller below, never lost in a thread
            results.append(exc)

    worker = threading.Thread(target=lookup, name=f"fetch-dns-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"DNS lookup of {host} took longer than {timeout:.3g} s")
    if results and isinstance(results[0], BaseException):
        raise httpcore.ConnectError(f"DNS lookup of {host} failed: {results[0]}")
    addresses = []
    for *_, sockaddr in results:
        literal = str(sockaddr[0])
        addresses.append((literal, ipaddress.ip_address(literal.split("%")[0])))
    return addresses


class _GuardedStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake is bounded by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host, not the IP we connected to: SNI and certificate
        # verification stay on the name.
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks every address against the non-public ranges, connects to an allowed IP.

    Checking here, after DNS and on the IP actually dialled, catches every spelling of an address
    (decimal, hex, short, IPv4-mapped, a DNS name pointing at 127.0.0.1) and every redirect hop,
    and leaves no gap between check and connect for DNS rebinding.
    """

    def __init__(self, allow: tuple[IPNetwork, ...]) -> None:
        self._allow = allow

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        started = time.monotonic()
        budget = _bounded(timeout, httpcore.ConnectTimeout)
        candidates, refused = [], []
        for literal, ip in _resolve(host, port, budget):
            reason = None if _allowed(ip, self._allow) else non_public_reason(ip)
            if reason:
                refused.append(f"{ip} ({reason})")
            elif literal not in candidates:
                candidates.append(literal)
        if not candidates:
            shown = f"[{host}]" if ":" in host else host
            if len(refused) == 1 and refused[0].startswith(f"{host} "):
                raise _BlockedAddress(
                    f"{shown} is a non-public address {refused[0].removeprefix(host + ' ')}"
                )
            listed = ", ".join(dict.fromkeys(refused)) or "no address"
            raise _BlockedAddress(f"{shown} resolves only to non-public addresses: {listed}")
        if refused:
            log.warning("%s: skipping non-public addresses %s", host, ", ".join(refused))
        error: Exception = httpcore.ConnectError(f"no address of {host} could be reached")
        for literal in candidates:
            left = None if budget is None else budget - (time.monotonic() - started)
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host} took longer than {budget:.3g} s")
            try:
                stream = super().connect_tcp(literal, port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _GuardedStream(stream)
        raise error


class _RawStream(httpx.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        self._inner.close()


class _GuardedTransport(httpx.BaseTransport):
    """httpx transport over an httpcore pool that uses the guarded backend.

    httpx.HTTPTransport offers no way to pass a network backend, and replacing its private ``_pool``
    would fail open if httpx renamed it; this transport uses public httpx and httpcore API only.
    httpcore exceptions reach Client.get unmapped, where _reason() handles them.
    """

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
            network_backend=backend,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        response = self._pool.handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_RawStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
