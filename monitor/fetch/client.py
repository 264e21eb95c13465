"""Fetch, the client: URL checks, redirects followed hop by hop, HTTP errors named, the request's deadline."""

from __future__ import annotations

import email.utils
import ipaddress
import re
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import certifi
import httpx

from monitor.errors import BlockedURLError, FetchError, RefusedResponseError
from monitor.fetch import charset, decode, guard, wire

USER_AGENT = "news-monitor/0.1 (+https://github.com/news-monitor; feed and article fetcher)"
CONNECT_TIMEOUT = 10.0  # seconds for DNS + TCP connect + TLS handshake
READ_TIMEOUT = 20.0  # seconds without a byte from the server
DEADLINE = 60.0  # total seconds per request, including redirects and body
MAX_REDIRECTS = 5
FEED_MAX_BYTES = 10 * 2**20  # after decompression
ARTICLE_MAX_BYTES = 5 * 2**20  # after decompression
RETRY_AFTER_MAX = 6 * 3600.0  # a server may not park us for longer than this
RETRY_AFTER_DEFAULT = 15 * 60.0  # a 429, or a 503 with a Retry-After we cannot read, parks us this long

ALLOWED_SCHEMES = frozenset({"http", "https"})
HOST_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # after IDNA encoding; "_" appears in real host names
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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
    content_type: str  # media type only, lower-case, "" if none; the whole header is in headers
    etag: str | None
    last_modified: str | None
    elapsed: float  # seconds, including redirects

    @property
    def not_modified(self) -> bool:
        """True for a 304: the caller's cached copy is still current."""
        return self.status == 304

    @property
    def content_type_header(self) -> str:
        """The Content-Type header as sent, parameters and all ("text/html; charset=koi8-r"); "" if none."""
        return self.headers.get("content-type", "")

    @property
    def charset(self) -> str | None:
        """The charset label of the Content-Type header as sent ("koi8-r"), or None when it names none."""
        return charset.header_charset(self.content_type_header)


def check_url(url: str) -> str:
    """Return ``url`` normalised if it is an absolute http(s) URL with a host and no userinfo.

    Only the URL's shape is checked here; addresses are checked at connect time, after DNS.

    Raises:
        BlockedURLError: naming the URL and why it is refused.
    """
    return str(_checked(url))


def _checked(url: str) -> httpx.URL:
    """check_url's work: the URL parsed, once (the request is built from it)."""
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise BlockedURLError(url, f"not a valid URL ({exc}); fix or remove it") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        what = f"scheme {parsed.scheme!r}" if parsed.scheme else "a URL without a scheme"
        raise BlockedURLError(url, f"{what} is not allowed; only absolute http:// and https:// URLs are fetched")
    if not parsed.host:
        raise BlockedURLError(url, "the URL has no host; only absolute http:// and https:// URLs are fetched")
    if parsed.userinfo:
        raise BlockedURLError(url, "user name or password in the URL is refused; use a URL without 'user@'")
    host = parsed.raw_host.decode("ascii", "replace")
    if not (_is_ipv6_literal(host) if ":" in host else HOST_NAME.fullmatch(host)):
        raise BlockedURLError(url, f"host {host!r} is not a valid host name or IP address; fix or remove it")
    if parsed.port is not None and not 0 < parsed.port < 2**16:
        raise BlockedURLError(url, f"port {parsed.port} is out of range; fix or remove it")
    return parsed


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

    def __init__(
        self,
        *,
        allow_networks: Sequence[str] = (),
        limits: Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context``: the certificates trusted (default: certifi's bundle, never the environment's)."""
        self.limits = limits
        self.allow_networks = guard.parse_networks(allow_networks)
        self._cutoff = guard.Cutoff()
        # No proxies, .netrc or cookie jar from the environment, and no Location header followed blindly:
        # we follow redirects ourselves, re-checking each hop.
        if ssl_context is None:
            ssl_context = ssl.create_default_context(cafile=certifi.where())
            ssl_context.set_alpn_protocols(["http/1.1"])
        self._pool = wire.Pool(self.allow_networks, limits.connect_timeout, limits.read_timeout, ssl_context)
        self._headers = {
            "User-Agent": limits.user_agent,
            "Accept-Encoding": decode.ACCEPT_ENCODING,
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
        until: float | None = None,
    ) -> Response:
        """GET ``url``, following up to ``limits.max_redirects`` redirects, within ``limits.deadline``.

        Sends If-None-Match / If-Modified-Since when ``etag`` / ``last_modified`` are given. ``until`` (a
        ``time.monotonic()`` value) ends the request earlier than its deadline: a run's time budget.

        Raises:
            BlockedURLError: bad scheme or shape, or a hop's host resolves to a non-public address.
            FetchError: timeouts, connection failures, HTTP errors (with ``status`` and, for 429/503,
                ``retry_after``), bodies over ``max_bytes``, bad or unsupported encodings, truncation.
        """
        started = time.monotonic()
        target = _checked(url)
        hop = str(target)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = [hop]
        guard.deadline.at = min(started + self.limits.deadline, until if until is not None else float("inf"))
        guard.deadline.cutoff = self._cutoff
        try:
            for _ in range(self.limits.max_redirects + 1):
                response = self._send(url, hop, target, headers)
                try:
                    if response.status not in REDIRECT_STATUSES:
                        return self._finish(url, hop, response, max_bytes, started)
                    target = self._next_hop(url, hop, target, response)
                    response.drain()  # a short body read, so that the connection serves the next hop
                    hop = str(target)
                finally:
                    response.close()
                if hop in seen:
                    chain = " -> ".join([*seen, hop])
                    raise RefusedResponseError(url, f"redirect loop ({chain}); fix the URL or remove it")
                seen.append(hop)
            raise RefusedResponseError(
                url,
                f"more than {self.limits.max_redirects} redirects ({' -> '.join(seen)}); use the final URL",
            )
        finally:
            guard.deadline.at = None
            guard.deadline.cutoff = None

    def stop(self) -> None:
        """End every request in flight and any started later (within a read timeout at most): the run is
        stopping, and their results would be dropped anyway."""
        self._cutoff.at = time.monotonic()

    @property
    def stopped(self) -> bool:
        return self._cutoff.at <= time.monotonic()

    def close(self) -> None:
        """Close all pooled connections."""
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, url: str, hop: str, parsed: httpx.URL, headers: dict[str, str]) -> wire.Exchange:
        key, target, host = wire.raw_parts(parsed)
        with _errors(url, hop, self.limits):
            return self._pool.request(key, target, {"Host": host, **self._headers, **headers})

    def _next_hop(self, url: str, hop: str, parsed: httpx.URL, response: wire.Exchange) -> httpx.URL:
        location = response.headers.get("location")
        if not location:
            raise RefusedResponseError(url, f"HTTP {response.status} redirect from {hop} without a Location header")
        try:
            target = str(parsed.join(location.strip()))
        except httpx.InvalidURL as exc:
            raise BlockedURLError(url, f"redirect from {hop} to an invalid URL {location!r} ({exc})") from None
        try:
            return _checked(target)
        except BlockedURLError as exc:
            raise BlockedURLError(url, f"redirect from {hop} to {target} refused: {exc.reason}") from None

    def _finish(self, url: str, hop: str, response: wire.Exchange, max_bytes: int, started: float) -> Response:
        status = response.status
        if status not in (200, 304):
            raise _http_error(url, hop, response)
        body = b""
        with _errors(url, hop, self.limits):
            if status == 200:
                body = decode.read_body(url, hop, response, max_bytes)
            else:  # a 304 has no body; reading its end lets the connection be reused
                for _ in response.iter_raw():
                    break
        headers = response.headers
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


def _http_error(url: str, hop: str, response: wire.Exchange) -> FetchError:
    status = response.status
    where = "" if hop == url else f" from {hop}"
    what = f"HTTP {status} {response.reason}".rstrip() + where
    header = response.headers.get("retry-after")
    retry_after = parse_retry_after(header) if status in (429, 503) else None
    if retry_after is None and (status == 429 or (status == 503 and header is not None)):
        # "Slow down" without a usable time (no header on a 429, or garbage): wait a default rather than
        # hammer the server with retries. A bare 503 stays an ordinary, retryable server error.
        retry_after = RETRY_AFTER_DEFAULT
        shown = "no Retry-After" if header is None else f"Retry-After {header[:40]!r} not understood"
        step = f"{shown}; retry after {retry_after:.0f} s"
    elif retry_after is not None:
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
    except guard.BlockedAddress as exc:
        redirected = "" if hop == url else f"redirected to {hop}, but "
        raise BlockedURLError(
            url,
            f"{redirected}{exc}; not fetched. If that network is yours, add it to allow_networks",
        ) from None
    except guard.HeadersTooLong as exc:  # the same every try
        raise RefusedResponseError(
            url,
            f"response headers {exc}{where}; not read (the server's answer will not fit next time either)",
        ) from exc
    except guard.TransportError as exc:
        raise FetchError(url, _reason(exc, limits) + where) from exc


def _reason(exc: guard.TransportError, limits: Limits) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, guard.ConnectTimeout | guard.ReadTimeout | guard.WriteTimeout):
        if guard.remaining() <= 0.05:
            return f"did not finish within the {limits.deadline:g} s deadline (slow or stalled server)"
        if isinstance(exc, guard.ConnectTimeout):
            return f"could not connect within {limits.connect_timeout:g} s ({text}); retry later"
        return f"timed out: no data from the server for {limits.read_timeout:g} s; retry later"
    if isinstance(exc, guard.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
            return f"TLS handshake or certificate check failed ({text}); the site's HTTPS is broken"
        return f"could not connect ({text}); check the host name, or retry later"
    if isinstance(exc, guard.Truncated):
        return f"body truncated: the server closed the connection early ({text}); retry later"
    if isinstance(exc, guard.NoResponse):
        return "the server closed the connection without responding; retry later"
    if isinstance(exc, guard.Malformed):
        return f"malformed HTTP response ({text})"
    if isinstance(exc, guard.ReadError):
        return f"connection reset or dropped while reading ({text}); retry later"
    if isinstance(exc, guard.WriteError):
        return f"connection dropped while sending the request ({text}); retry later"
    return f"request failed ({type(exc).__name__}: {text})"
