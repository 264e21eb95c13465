"""Fetch, the guard: every connection is dialled here, to an address checked after DNS, and every socket
operation is bounded by the request's total deadline.

Checking at connect time, on the IP actually dialled, catches every spelling of an address (decimal, hex,
short, IPv4-mapped, a DNS name pointing at 127.0.0.1) and every redirect hop, and leaves no gap between
check and connect for DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpcore
import httpx

log = logging.getLogger(__name__)

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(Exception):
    """Raised inside the transport; fetch.Client.get turns it into BlockedURLError naming the URL."""


class Cutoff:
    """A time shared by every request of one client, moved earlier to end them all at once (a run stopping)."""

    def __init__(self) -> None:
        self.at = float("inf")


class Deadline(threading.local):
    """The monotonic time the current thread's request must end by (None outside fetch.Client.get), and
    its client's cutoff."""

    at: float | None = None
    cutoff: Cutoff | None = None


deadline = Deadline()


# How often a read from a server that sends nothing looks whether its client has stopped (seconds).
STOP_POLL = 0.5


def remaining() -> float:
    at = float("inf") if deadline.at is None else deadline.at
    if deadline.cutoff is not None:
        at = min(at, deadline.cutoff.at)
    return at - time.monotonic()


def bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the current request's deadline; raises ``expired`` once it has passed.

    httpx timeouts are per socket operation, so a server dripping a byte per second would never
    time out; bounding every operation by the deadline makes the deadline total.
    """
    left = remaining()
    if left <= 0:
        raise expired("deadline passed")
    return left if timeout is None else min(timeout, left)


def parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
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


def allowed(ip: IPAddress, allow: tuple[IPNetwork, ...]) -> bool:
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return any(ip in net or (mapped is not None and mapped in net) for net in allow)


def resolve(host: str, port: int, timeout: float | None) -> list[tuple[str, IPAddress]]:
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


class GuardedStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake is bounded by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        # in slices of STOP_POLL seconds, so that a client stopping (Ctrl-C, the cycle's budget) ends a read
        # from a silent server at once rather than after the whole read timeout; a slice that times out has
        # read nothing, so trying again loses nothing
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if until is None else until - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("timed out")
            step = bounded(left, httpcore.ReadTimeout)  # raises once the deadline or the client's cutoff passed
            if step is not None and step <= STOP_POLL:
                return self._inner.read(max_bytes, step)
            try:
                return self._inner.read(max_bytes, STOP_POLL)
            except httpcore.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # server_hostname is the URL's host, not the IP we connected to: SNI and certificate
        # verification stay on the name.
        budget = bounded(timeout, httpcore.ConnectTimeout)
        return GuardedStream(self._inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
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
        budget = bounded(timeout, httpcore.ConnectTimeout)
        candidates, refused = [], []
        for literal, ip in resolve(host, port, budget):
            reason = None if allowed(ip, self._allow) else non_public_reason(ip)
            if reason:
                refused.append(f"{ip} ({reason})")
            elif literal not in candidates:
                candidates.append(literal)
        if not candidates:
            shown = f"[{host}]" if ":" in host else host
            if len(refused) == 1 and refused[0].startswith(f"{host} "):
                raise BlockedAddress(f"{shown} is a non-public address {refused[0].removeprefix(host + ' ')}")
            listed = ", ".join(dict.fromkeys(refused)) or "no address"
            raise BlockedAddress(f"{shown} resolves only to non-public addresses: {listed}")
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
            return GuardedStream(stream)
        raise error


class _RawStream(httpx.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        self._inner.close()


class GuardedTransport(httpx.BaseTransport):
    """httpx transport over an httpcore pool that uses the guarded backend.

    httpx.HTTPTransport offers no way to pass a network backend, and replacing its private ``_pool``
    would fail open if httpx renamed it; this transport uses public httpx and httpcore API only.
    httpcore exceptions reach fetch.Client.get unmapped, where client._reason() names them.
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
