"""Fetch, the guard: every connection is dialled here, to an address checked after DNS, and every socket
operation is bounded by the request's total deadline (and cut within STOP_POLL when its client stops).

Checking at connect time, on the IP actually dialled, catches every spelling of an address (decimal, hex,
short, IPv4-mapped, a DNS name pointing at 127.0.0.1) and every redirect hop, and leaves no gap between
check and connect for DNS rebinding.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(Exception):
    """Raised inside the transport; fetch.Client.get turns it into BlockedURLError naming the URL."""


class TransportError(Exception):
    """A request failed on the wire; fetch.Client.get turns it into FetchError naming the URL (client._reason).

    Not an OSError on purpose: the standard library's readers and http.client pass it through untouched."""


class ConnectError(TransportError):
    """No connection: refused, unreachable, a failed name lookup, a failed TLS handshake or certificate."""


class ConnectTimeout(TransportError):
    """The name lookup, TCP connect or TLS handshake took longer than its timeout or the deadline."""


class ReadError(TransportError):
    """The connection was reset or dropped while reading."""


class ReadTimeout(TransportError):
    """No byte from the server for the read timeout, or the deadline passed while reading."""


class WriteError(TransportError):
    """The connection dropped while the request was being sent."""


class WriteTimeout(TransportError):
    """The request could not be sent within the read timeout or the deadline."""


class NoResponse(TransportError):
    """The server closed the connection without sending a response."""


class Truncated(TransportError):
    """The server closed the connection before the whole body had come."""


class Malformed(TransportError):
    """The response is not HTTP/1.x as we read it (status line, headers, chunk sizes)."""


class HeadersTooLong(TransportError):
    """The status line and headers are over a cap (size, line, number): refused, the same every try."""


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

    Socket timeouts are per operation, so a server dripping a byte per second would never time out;
    bounding every operation by the deadline makes the deadline total.
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
        raise ConnectTimeout(f"DNS lookup of {host} took longer than {timeout:.3g} s")
    if results and isinstance(results[0], BaseException):
        raise ConnectError(f"DNS lookup of {host} failed: {results[0]}")
    addresses = []
    for *_, sockaddr in results:
        literal = str(sockaddr[0])
        addresses.append((literal, ipaddress.ip_address(literal.split("%")[0])))
    return addresses


def connect(host: str, port: int, allow: tuple[IPNetwork, ...], timeout: float | None) -> socket.socket:
    """A TCP connection to an allowed address of ``host``, within ``timeout`` and the deadline.

    Every address the name resolves to is checked here, after DNS and on the IP actually dialled: this
    catches every spelling of an address (decimal, hex, short, IPv4-mapped, a DNS name pointing at
    127.0.0.1) and every redirect hop, and leaves no gap between check and connect for DNS rebinding.

    Raises:
        BlockedAddress: the host has no address outside the non-public ranges (and ``allow``).
        ConnectError, ConnectTimeout: no allowed address could be reached in time.
    """
    started = time.monotonic()
    budget = bounded(timeout, ConnectTimeout)
    candidates, refused = [], []
    for literal, ip in resolve(host, port, budget):
        reason = None if allowed(ip, allow) else non_public_reason(ip)
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
    error: TransportError = ConnectError(f"no address of {host} could be reached")
    for literal in candidates:
        left = None if budget is None else budget - (time.monotonic() - started)
        if left is not None and left <= 0:
            raise ConnectTimeout(f"connecting to {host} took longer than {budget:.3g} s")
        try:
            sock = socket.create_connection((literal, port), timeout=left)
        except TimeoutError:
            error = ConnectTimeout(f"connecting to {host} ({literal}) timed out")
            continue
        except OSError as exc:
            error = ConnectError(str(exc) or type(exc).__name__)
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error


def start_tls(
    sock: socket.socket, context: ssl.SSLContext, server_hostname: str, timeout: float | None
) -> ssl.SSLSocket:
    """The TLS handshake on ``sock``, within ``timeout`` and the deadline. ``server_hostname`` is the URL's
    host, not the IP we connected to: SNI and certificate verification stay on the name."""
    try:
        sock.settimeout(bounded(timeout, ConnectTimeout))
        return context.wrap_socket(sock, server_hostname=server_hostname)
    except TimeoutError:
        sock.close()
        raise ConnectTimeout(f"TLS handshake with {server_hostname} timed out") from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise ConnectError(str(exc) or type(exc).__name__) from None
    except BaseException:
        sock.close()
        raise


class GuardedSocket:
    """A connected socket whose every read and write is bounded by the current request's deadline.

    What http.client uses of a socket: ``sendall``, ``makefile("rb")`` and ``close``. Reads run in slices of
    STOP_POLL seconds, so that a client stopping (Ctrl-C, the cycle's budget) ends a read from a silent server
    at once rather than after the whole read timeout; a slice that times out has read nothing, so trying again
    loses nothing.
    """

    def __init__(self, sock: socket.socket, read_timeout: float) -> None:
        self.sock = sock
        self.read_timeout = read_timeout
        self._files = 0  # readers open on it: a response read to the close outlives its connection
        self._closing = False

    def sendall(self, data: bytes) -> None:
        try:
            self.sock.settimeout(bounded(self.read_timeout, WriteTimeout))
            self.sock.sendall(data)
        except TimeoutError:
            raise WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise WriteError(str(exc) or type(exc).__name__) from None

    def recv_into(self, buffer: Any) -> int:
        until = time.monotonic() + self.read_timeout
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise ReadTimeout("timed out")
            step = bounded(left, ReadTimeout)  # raises once the deadline or the client's cutoff passed
            assert step is not None
            self.sock.settimeout(min(step, STOP_POLL))
            try:
                return self.sock.recv_into(buffer)
            except TimeoutError:
                if step <= STOP_POLL:
                    raise ReadTimeout("timed out") from None
            except OSError as exc:
                raise ReadError(str(exc) or type(exc).__name__) from None

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._files += 1
        return io.BufferedReader(_Reader(self), READ_BUFFER)

    def readable_now(self) -> bool:
        """True if the server has sent something (or closed) while the connection sat idle: not reusable."""
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):  # closed under us
            return True

    def close(self) -> None:
        """Close the socket once no reader is open on it (as a socket's makefile() does)."""
        self._closing = True
        if self._files <= 0:
            self.sock.close()

    def reader_closed(self) -> None:
        self._files -= 1
        if self._closing and self._files <= 0:
            self.sock.close()


READ_BUFFER = 64 * 1024  # bytes asked of the socket per read: a typical page in a few calls


class _Reader(io.RawIOBase):
    """The raw stream http.client's response reads from (closing it leaves the socket to its connection)."""

    def __init__(self, sock: GuardedSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()
