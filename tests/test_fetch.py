"""Fetch: the guarded client against a hostile server on real loopback sockets, no mocks."""

from __future__ import annotations

import ipaddress
import ssl
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from monitor import fetch
from monitor.errors import BlockedURLError, FetchError, RefusedResponseError
from tests import hostile_server as hs

LOOPBACK = ["127.0.0.0/8"]
MIB = 2**20


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """Even a test that expects a block cannot send a packet outside loopback if the guard breaks."""
    with hs.loopback_only():
        yield


@pytest.fixture
def client() -> Iterator[fetch.Client]:
    """A client that may reach the hostile server on 127.0.0.1 and nothing else private."""
    with fetch.Client(allow_networks=["127.0.0.1/32"]) as c:
        yield c


def fetch_error(client: fetch.Client, url: str, max_bytes: int = fetch.ARTICLE_MAX_BYTES) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url, max_bytes=max_bytes)
    assert url.strip() in str(info.value)  # every message names the URL
    return info.value


# --- URL shape ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html,<h1>hi</h1>", "scheme 'data'"),
        ("ftp://example.com/feed.xml", "scheme 'ftp'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("mailto:news@example.com", "scheme 'mailto'"),
        ("//example.com/feed.xml", "without a scheme"),
        ("example.com/feed.xml", "without a scheme"),
        ("http:///feed.xml", "no host"),
        ("http://user:secret@example.com/feed.xml", "user name or password"),
        ("https://user@example.com/", "user name or password"),
        ("http://exa\nmple.com/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("http://exa mple.com/", "not a valid host name"),
        ("http://ex%41mple.com/", "not a valid host name"),
        ("http://example.com:99999/", "port 99999 is out of range"),
        ("http://example.com:0/", "port 0 is out of range"),
    ],
)
def test_check_url_refuses_with_the_url_and_the_reason(url: str, why: str) -> None:
    with pytest.raises(BlockedURLError) as info:
        fetch.check_url(url)
    assert str(info.value).startswith(f"{url}: ")
    assert why in info.value.reason
    assert not info.value.retryable


def test_check_url_normalises() -> None:
    assert fetch.check_url("  HTTPS://News.Example.COM/a b?q=1  ") == "https://news.example.com/a%20b?q=1"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "gopher://127.0.0.1:70/"])
def test_get_refuses_bad_schemes(client: fetch.Client, url: str) -> None:
    with pytest.raises(BlockedURLError, match="only absolute http"):
        client.get(url, max_bytes=100)


# --- addresses ---------------------------------------------------------------------------------------

# Port 9 (discard): a BlockedURLError here proves no connection was tried, as one would be refused.
ODD_LOOPBACK_FORMS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.1",  # octal, short
    "127.1",  # short
    "localhost",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
]
OTHER_NON_PUBLIC = [
    "[::1]",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "240.0.0.1",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "[ff02::1]",
    "[::]",
    "[::ffff:10.0.0.1]",
    "[2002:7f00:1::1]",  # 6to4 around 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
]


@pytest.mark.parametrize("host", ODD_LOOPBACK_FORMS + OTHER_NON_PUBLIC)
def test_non_public_addresses_are_blocked_before_connecting(host: str) -> None:
    url = f"http://{host}:9/feed.xml"
    with fetch.Client() as client, pytest.raises(BlockedURLError) as info:
        client.get(url, max_bytes=100)
    assert str(info.value).startswith(f"{url}: ")
    assert "non-public" in info.value.reason and "allow_networks" in info.value.reason


def test_octal_dotted_quad_is_refused_as_an_invalid_url_even_when_allowed() -> None:
    # httpx itself rejects "0177.0.0.1"; refusing beats guessing what a resolver makes of it.
    with (
        fetch.Client(allow_networks=LOOPBACK) as client,
        pytest.raises(BlockedURLError, match="not a valid URL"),
    ):
        client.get("http://0177.0.0.1:9/", max_bytes=100)


@pytest.mark.parametrize("host", ODD_LOOPBACK_FORMS)
def test_odd_loopback_forms_are_allowed_by_allow_networks(hostile: hs.HostileServer, host: str) -> None:
    hostile.route("/ok", hs.static(b"ok"))
    with fetch.Client(allow_networks=LOOPBACK) as client:
        response = client.get(f"http://{host}:{hostile.port}/ok", max_bytes=100)
    assert response.body == b"ok"


def test_ipv6_loopback_is_allowed_by_allow_networks() -> None:
    with hs.HostileServer("::1") as server:
        server.route("/ok", hs.static(b"ok6"))
        with fetch.Client(allow_networks=["::1/128"]) as client:
            assert client.get(server.url("/ok"), max_bytes=100).body == b"ok6"
        with fetch.Client(allow_networks=LOOPBACK) as client, pytest.raises(BlockedURLError):
            client.get(server.url("/ok"), max_bytes=100)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared/CGNAT"),
        ("fc00::1", "unique-local"),
        ("2002:a00:1::", "6to4/NAT64 embedding 10.0.0.1, private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),  # NAT64 is judged by the IPv4 address it carries
    ],
)
def test_non_public_reason(address: str, reason: str | None) -> None:
    assert fetch.non_public_reason(ipaddress.ip_address(address)) == reason


def test_allow_networks_must_be_cidr_strings() -> None:
    with pytest.raises(ValueError, match=r"'127\.0\.0\.0/33' is not a CIDR network"):
        fetch.Client(allow_networks=["127.0.0.0/33"])
    with pytest.raises(ValueError, match="list of CIDR strings"):
        fetch.Client(allow_networks="127.0.0.0/8")


# --- redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.2:{port}/ok", "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/ok"],
)
def test_redirect_to_a_blocked_address_is_refused(hostile: hs.HostileServer, client: fetch.Client, target: str) -> None:
    target = target.format(port=hostile.port)
    url = hostile.route("/go", hs.redirect(target))
    with pytest.raises(BlockedURLError) as info:
        client.get(url, max_bytes=100)
    assert f"redirected to {target}, but" in info.value.reason


@pytest.mark.parametrize("target", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/x"])
def test_redirect_to_a_bad_scheme_is_refused(hostile: hs.HostileServer, client: fetch.Client, target: str) -> None:
    url = hostile.route("/go", hs.redirect(target))
    with pytest.raises(BlockedURLError, match="only absolute http"):
        client.get(url, max_bytes=100)


def test_redirect_to_another_port_and_relative_locations(hostile: hs.HostileServer, client: fetch.Client) -> None:
    with hs.HostileServer() as other:
        final = other.route("/final", hs.static(b"done"))
        hostile.route("/a/start", hs.redirect("next"))  # relative to /a/
        hostile.route("/a/next", hs.redirect("/b/then", status=301))
        hostile.route("/b/then", hs.redirect(final, status=308))
        response = client.get(hostile.url("/a/start"), max_bytes=100)
    assert (response.url, response.body) == (final, b"done")
    assert [hostile.hits(p) for p in ("/a/start", "/a/next", "/b/then")] == [1, 1, 1]


def test_redirect_loop(hostile: hs.HostileServer, client: fetch.Client) -> None:
    hostile.route("/ping", hs.redirect("/pong"))
    hostile.route("/pong", hs.redirect("/ping", status=307))
    error = fetch_error(client, hostile.url("/ping"))
    assert "redirect loop" in error.reason
    assert hostile.hits("/ping") == 1


def chain(server: hs.HostileServer, length: int) -> str:
    """A chain of ``length`` redirects ending at /hop<length>, which answers 200."""
    for i in range(length):
        server.route(f"/hop{i}", hs.redirect(f"/hop{i + 1}", status=(301, 302, 303, 307, 308)[i % 5]))
    server.route(f"/hop{length}", hs.static(b"end"))
    return server.url("/hop0")


def test_exactly_max_redirects_is_fine(hostile: hs.HostileServer, client: fetch.Client) -> None:
    response = client.get(chain(hostile, fetch.MAX_REDIRECTS), max_bytes=100)
    assert response.body == b"end" and response.url == hostile.url(f"/hop{fetch.MAX_REDIRECTS}")


def test_too_many_redirects(hostile: hs.HostileServer, client: fetch.Client) -> None:
    error = fetch_error(client, chain(hostile, fetch.MAX_REDIRECTS + 1))
    assert f"more than {fetch.MAX_REDIRECTS} redirects" in error.reason
    assert hostile.hits(f"/hop{fetch.MAX_REDIRECTS + 1}") == 0


def test_max_redirects_comes_from_limits(hostile: hs.HostileServer) -> None:
    with fetch.Client(allow_networks=LOOPBACK, limits=fetch.Limits(max_redirects=0)) as client:
        assert "more than 0 redirects" in fetch_error(client, chain(hostile, 1)).reason


def test_redirect_without_location(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route("/nowhere", hs.static(b"", status=302))
    assert "without a Location header" in fetch_error(client, url).reason


# --- size caps and encodings -------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_50_mb_body_is_cut_at_the_cap_fast(
    hostile: hs.HostileServer, client: fetch.Client, framing: hs.Framing
) -> None:
    url = hostile.route("/big", hs.big(50 * MIB, framing=framing))
    started = time.monotonic()
    error = fetch_error(client, url, max_bytes=fetch.ARTICLE_MAX_BYTES)
    assert f"body larger than {fetch.ARTICLE_MAX_BYTES} bytes" in error.reason
    assert ("Content-Length: 52428800" in error.reason) == (framing == "length")  # refused before reading
    assert time.monotonic() - started < 5  # generous: the machine may be shared


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_gzip_bomb_stops_at_the_cap_in_little_memory(
    hostile: hs.HostileServer, client: fetch.Client, framing: hs.Framing
) -> None:
    hs.gzip_bomb_bytes()  # built once, outside the measurement
    url = hostile.route("/bomb", hs.gzip_bomb(2**30, framing=framing))  # 1 GiB of zeros in ~1 MiB
    tracemalloc.start()
    try:
        error = fetch_error(client, url, max_bytes=2 * MIB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"body larger than {2 * MIB} bytes" in error.reason
    assert peak < 16 * MIB


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate-raw", "gzip, gzip", "identity"])
def test_supported_encodings_are_decoded(hostile: hs.HostileServer, client: fetch.Client, encoding: str) -> None:
    body = b"<rss>" + b"news " * 10_000 + b"</rss>"
    url = hostile.route("/feed", hs.encoded(body, encoding, framing="chunked"))
    response = client.get(url, max_bytes=len(body))
    assert response.body == body
    assert response.headers["content-encoding"] == encoding.replace("deflate-raw", "deflate")


def test_stacked_gzip_bomb_is_capped(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route("/bomb2", hs.encoded(bytes(20 * MIB), "gzip, gzip"))
    assert f"body larger than {MIB} bytes" in fetch_error(client, url, max_bytes=MIB).reason


def test_data_after_the_end_of_a_compressed_body_is_ignored_cheaply(
    hostile: hs.HostileServer, client: fetch.Client
) -> None:
    inner = hs.encode(b"ok" * 10, "gzip") + bytes(20 * MIB)  # junk after the inner gzip member
    url = hostile.route("/tail", hs.static(hs.encode(inner, "gzip"), headers={"Content-Encoding": "gzip, gzip"}))
    assert client.get(url, max_bytes=MIB).body == b"ok" * 10


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw", "gzip, deflate"])
def test_decoding_does_not_depend_on_how_the_bytes_are_split(encoding: str) -> None:
    body = bytes(range(256)) * 40
    encoded = hs.encode(body, encoding)
    names = [name.strip().replace("deflate-raw", "deflate") for name in encoding.split(",")]
    decoder = fetch.decode.Decoder("http://example.com/", names, len(body), "")
    decoded = b"".join(decoder.feed(encoded[i : i + 1]) for i in range(len(encoded)))
    decoder.check_complete()
    assert decoded == body


def test_body_exactly_at_the_cap_is_fine(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route("/gz", hs.encoded(bytes(1000), "gzip"))
    assert len(client.get(url, max_bytes=1000).body) == 1000
    assert "body larger than 999 bytes" in fetch_error(client, url, max_bytes=999).reason


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("br", "unsupported Content-Encoding 'br'"),
        ("zstd", "unsupported Content-Encoding 'zstd'"),
        ("gzip, compress", "unsupported Content-Encoding 'gzip, compress'"),
        ("gzip, gzip, gzip", "more than 2 stacked"),
    ],
)
def test_unsupported_encodings(hostile: hs.HostileServer, client: fetch.Client, encoding: str, message: str) -> None:
    url = hostile.route("/enc", hs.static(hs.encode(b"x" * 100, encoding), headers={"Content-Encoding": encoding}))
    assert message in fetch_error(client, url).reason


def test_corrupt_and_truncated_gzip(hostile: hs.HostileServer, client: fetch.Client) -> None:
    gz = hs.encode(b"headline " * 1000, "gzip")
    bad = hostile.route("/bad", hs.static(b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    cut = hostile.route("/cut", hs.static(gz[: len(gz) // 2], headers={"Content-Encoding": "gzip"}))
    assert "could not decompress the gzip body" in fetch_error(client, bad).reason
    assert "gzip body ended early" in fetch_error(client, cut).reason


# --- time ---------------------------------------------------------------------------------------------


def test_slow_drip_is_cut_at_the_deadline(hostile: hs.HostileServer) -> None:
    url = hostile.route("/drip", hs.slow_drip(interval=0.5, length=100))
    with fetch.Client(allow_networks=LOOPBACK, limits=fetch.Limits(deadline=2.0)) as client:
        started = time.monotonic()
        error = fetch_error(client, url)
    assert 1.9 < time.monotonic() - started < 4
    assert "did not finish within the 2 s deadline" in error.reason
    assert error.retryable


def test_silent_server_is_cut_at_the_deadline(hostile: hs.HostileServer) -> None:
    url = hostile.route("/hang", hs.hang())
    with fetch.Client(allow_networks=LOOPBACK, limits=fetch.Limits(deadline=1.0)) as client:
        started = time.monotonic()
        error = fetch_error(client, url)
    assert 0.9 < time.monotonic() - started < 3
    assert "deadline" in error.reason


def test_read_timeout_before_the_deadline(hostile: hs.HostileServer) -> None:
    url = hostile.route("/hang", hs.hang())
    limits = fetch.Limits(read_timeout=0.5, deadline=10.0)
    with fetch.Client(allow_networks=LOOPBACK, limits=limits) as client:
        started = time.monotonic()
        error = fetch_error(client, url)
    assert time.monotonic() - started < 3
    assert "no data from the server for 0.5 s" in error.reason


def test_stopping_the_client_ends_a_read_from_a_silent_server_at_once(hostile: hs.HostileServer) -> None:
    # Ctrl-C or the cycle's budget stops the client while a thread waits on a server that sends nothing:
    # the read ends within a poll (fetch.guard.STOP_POLL), not after the 20 s read timeout
    url = hostile.route("/hang", hs.hang())
    limits = fetch.Limits(read_timeout=20.0, deadline=60.0)
    with fetch.Client(allow_networks=LOOPBACK, limits=limits) as client, ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        pending = pool.submit(fetch_error, client, url)
        time.sleep(0.5)
        client.stop()
        error = pending.result(timeout=10)
        took = time.monotonic() - started
    assert took < 0.5 + 2 * fetch.guard.STOP_POLL + 0.5, took
    assert url in str(error)


def test_deadlines_are_per_request_across_threads(hostile: hs.HostileServer) -> None:
    hostile.route("/hang", hs.hang())
    hostile.route("/ok", hs.static(b"ok"))
    urls = [hostile.url("/hang" if i % 4 == 0 else f"/ok?{i}") for i in range(16)]

    def get(client: fetch.Client, url: str) -> bytes | str:
        try:
            return client.get(url, max_bytes=100).body
        except FetchError as exc:
            return exc.reason

    with fetch.Client(allow_networks=LOOPBACK, limits=fetch.Limits(deadline=1.0)) as client:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda url: get(client, url), urls))
    assert time.monotonic() - started < 4
    assert results.count(b"ok") == 12
    assert all("deadline" in str(r) for r in results if r != b"ok")


# --- broken connections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (hs.reset_mid_body(), "connection reset"),
        (hs.truncated(sent=1000, declared=100_000), "body truncated"),
        (hs.truncated_chunked(), "body truncated"),
    ],
)
def test_reset_and_truncated_bodies(
    hostile: hs.HostileServer, client: fetch.Client, route: hs.Route, message: str
) -> None:
    error = fetch_error(client, hostile.route("/broken", route))
    assert message in error.reason
    assert error.retryable


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (hs.big(2 * MIB), "body larger than"),
        (hs.big(2 * MIB, framing="chunked"), "body larger than"),
        (hs.gzip_bomb(16 * MIB), "body larger than"),
        (hs.encoded(b"x", "br"), "unsupported Content-Encoding"),
        (hs.encoded(b"x", "gzip, gzip, gzip"), "more than 2 stacked"),
        (hs.static(b"not gzip", headers={"Content-Encoding": "gzip"}), "could not decompress"),
        (hs.redirect("/refused"), "redirect loop"),
    ],
)
def test_refused_responses_are_not_retried(
    hostile: hs.HostileServer, client: fetch.Client, route: hs.Route, message: str
) -> None:
    """A response refused for what it is would be refused again: a retry would only fetch it again."""
    error = fetch_error(client, hostile.route("/refused", route), max_bytes=MIB)
    assert message in error.reason
    assert isinstance(error, RefusedResponseError) and not error.retryable


def test_connection_refused(client: fetch.Client) -> None:
    error = fetch_error(client, "http://127.0.0.1:9/feed.xml")
    assert "could not connect" in error.reason and not isinstance(error, BlockedURLError)


def test_tls_is_always_verified(tmp_path: Path) -> None:
    ssl_context = self_signed_server_context(tmp_path)
    with hs.HostileServer(ssl_context=ssl_context) as server:
        server.route("/secure", hs.static(b"secret"))
        with fetch.Client(allow_networks=LOOPBACK) as client:
            error = fetch_error(client, server.url("/secure"))
    assert "certificate" in error.reason.lower()
    assert server.hits("/secure") == 0


def self_signed_server_context(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1 (nobody trusts it)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    return context


def test_https_with_a_trusted_certificate_is_fetched_on_one_kept_alive_connection(tmp_path: Path) -> None:
    server_context = self_signed_server_context(tmp_path)
    trusted = ssl.create_default_context(cafile=tmp_path / "server.pem")
    with hs.HostileServer(ssl_context=server_context) as server:
        server.route("/secure", hs.static(b"secret"))
        server.route("/moved", hs.redirect("/secure"))
        with fetch.Client(allow_networks=LOOPBACK, ssl_context=trusted) as client:
            first = client.get(server.url("/secure"), max_bytes=100)
            second = client.get(server.url("/moved"), max_bytes=100)
        ports = {r.client_port for r in server.requests()}
    assert (first.body, second.body, second.url) == (b"secret", b"secret", server.url("/secure"))
    assert len(ports) == 1, ports  # one TLS handshake for three requests, a redirect's hop included


def test_a_connection_the_server_closed_after_its_answer_is_not_reused(hostile: hs.HostileServer) -> None:
    def answer_then_close(h: BaseHTTPRequestHandler) -> None:
        hs.static(b"once")(h)
        h.close_connection = True  # no "Connection: close": the client learns it from the socket

    url = hostile.route("/once", answer_then_close)
    with fetch.Client(allow_networks=LOOPBACK) as client:
        bodies = [client.get(url, max_bytes=100).body for _ in range(3)]
    assert bodies == [b"once"] * 3
    assert len({r.client_port for r in hostile.requests("/once")}) == 3


def test_an_early_hints_answer_before_the_response_is_skipped(hostile: hs.HostileServer, client: fetch.Client) -> None:
    def early_hints(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        hs.static(b"the page", headers={"X-Final": "yes"})(h)

    response = client.get(hostile.route("/hints", early_hints), max_bytes=100)
    assert (response.status, response.body, response.headers.get("x-final")) == (200, b"the page", "yes")
    assert "link" not in response.headers


def test_a_request_finishing_after_the_client_closed_leaves_no_connection_open(hostile: hs.HostileServer) -> None:
    url = hostile.route("/late", hs.paced(b"<p>late</p>" * 100, seconds=0.6))
    client = fetch.Client(allow_networks=LOOPBACK)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(client.get, url, max_bytes=MIB)
        time.sleep(0.2)
        client.close()
        assert pending.result(timeout=10).body.startswith(b"<p>late</p>")
    assert client._pool._idle == []  # given back after close(): closed, not kept


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({f"X-Part-{i}": "a" * 30_000 for i in range(4)}, "response headers longer than 100 KiB"),
        ({"X-Big": "a" * 70_000}, "response headers with a line longer than 64 KiB"),
        ({f"X-Many-{i}": "1" for i in range(120)}, "response headers more than 100 in number"),
    ],
)
def test_oversized_response_heads_are_refused(
    hostile: hs.HostileServer, client: fetch.Client, headers: dict[str, str], message: str
) -> None:
    error = fetch_error(client, hostile.route("/head", hs.static(b"x", headers=headers)))
    assert message in error.reason
    assert isinstance(error, RefusedResponseError) and not error.retryable
    assert client.get(hostile.route("/fine", hs.static(b"fine")), max_bytes=100).body == b"fine"


# --- HTTP status and Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (503, "0", 0.0),
        (429, "soon", fetch.RETRY_AFTER_DEFAULT),  # "slow down", but when? a default, never a hammering
        (503, "-5", fetch.RETRY_AFTER_DEFAULT),
        (429, None, fetch.RETRY_AFTER_DEFAULT),
        (503, None, None),  # a bare 503 is an ordinary server error, retried like a 500
        (429, "99999999999999999999", fetch.RETRY_AFTER_MAX),
        (503, "Fri, 31 Dec 9999 23:59:59 GMT", fetch.RETRY_AFTER_MAX),
        (429, "Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ],
)
def test_retry_after_on_429_and_503(
    hostile: hs.HostileServer,
    client: fetch.Client,
    status: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    error = fetch_error(client, hostile.route("/busy", hs.static(b"busy", status=status, headers=headers)))
    assert (error.status, error.retry_after, error.retryable) == (status, expected, True)
    assert f"HTTP {status}" in error.reason


def test_retry_after_http_date(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route("/later", hs.static(b"", status=503, headers={"Retry-After": hs.http_date(90)}))
    error = fetch_error(client, url)
    assert error.retry_after is not None and 85 <= error.retry_after <= 91
    assert "retry after" in error.reason


@pytest.mark.parametrize(
    ("status", "retryable", "hint"),
    [(404, False, "fix the URL"), (410, False, "fix the URL"), (403, False, "refuses"), (500, True, "retry"),
     (204, False, "only 200 and 304"), (206, False, "only 200 and 304")],
)  # fmt: skip
def test_http_errors(hostile: hs.HostileServer, client: fetch.Client, status: int, retryable: bool, hint: str) -> None:
    error = fetch_error(client, hostile.route("/x", hs.static(b"nope", status=status)))
    assert (error.status, error.retryable, error.retry_after) == (status, retryable, None)
    assert hint in error.reason


NOW = datetime(2024, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 30 ", 30.0),
        ("0", 0.0),
        ("1.5", None),
        ("-1", None),
        ("soon", None),
        ("½", None),
        ("9" * 5000, fetch.RETRY_AFTER_MAX),
        (str(10**9), fetch.RETRY_AFTER_MAX),
        ("Wed, 06 Nov 2024 08:51:37 GMT", 120.0),  # IMF-fixdate
        ("Wednesday, 06-Nov-24 08:50:37 GMT", 60.0),  # RFC 850
        ("Wed Nov  6 08:50:07 2024", 30.0),  # asctime
        ("Wed, 06 Nov 2024 08:00:00 GMT", 0.0),  # in the past
        ("Wed, 06 Nov 2030 08:00:00 GMT", fetch.RETRY_AFTER_MAX),
        ("Wed, 32 Nov 2024 08:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert fetch.parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_defaults_to_now() -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=100)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    seconds = fetch.parse_retry_after(soon)
    assert seconds is not None and 95 <= seconds <= 100


# --- conditional GET, headers, the environment --------------------------------------------------------


def test_conditional_get(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route("/feed.xml", hs.conditional(b"<rss/>", etag='"v7"'))
    first = client.get(url, max_bytes=100)
    assert (first.status, first.body, first.etag, first.not_modified) == (200, b"<rss/>", '"v7"', False)
    assert first.content_type == "application/rss+xml"
    assert first.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"

    again = client.get(url, max_bytes=100, etag=first.etag, last_modified=first.last_modified)
    assert (again.status, again.body, again.not_modified, again.etag) == (304, b"", True, '"v7"')
    by_date = client.get(url, max_bytes=100, last_modified=first.last_modified)
    assert by_date.not_modified

    sent = [r.headers for r in hostile.requests("/feed.xml")]
    assert hostile.hits("/feed.xml") == 3
    assert [h.get("if-none-match") for h in sent] == [None, '"v7"', None]
    assert [h.get("if-modified-since") for h in sent] == [None, first.last_modified, first.last_modified]
    assert len({r.client_port for r in hostile.requests("/feed.xml")}) == 1  # a 304 keeps the connection


def test_request_headers_and_response_fields(hostile: hs.HostileServer, client: fetch.Client) -> None:
    url = hostile.route(
        "/page", hs.static(b"<p>hi</p>", content_type="Text/HTML; Charset=UTF-8", headers={"X-Thing": "1"})
    )
    response = client.get(url, max_bytes=100, accept="text/html")
    sent = hostile.requests("/page")[-1].headers
    assert sent["user-agent"] == fetch.USER_AGENT
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["accept"] == "text/html"
    assert "authorization" not in sent and "cookie" not in sent
    assert response.content_type == "text/html"
    assert response.headers["x-thing"] == "1" and response.headers["content-type"] == "Text/HTML; Charset=UTF-8"
    assert (response.url, response.etag, response.last_modified) == (url, None, None)
    assert 0 < response.elapsed < 1

    with fetch.Client(allow_networks=LOOPBACK, limits=fetch.Limits(user_agent="probe/1")) as other:
        other.get(url, max_bytes=100)
    assert hostile.requests("/page")[-1].headers["user-agent"] == "probe/1"


def test_environment_proxies_and_netrc_are_ignored(
    hostile: hs.HostileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens there: a request through it would fail
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login me password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    url = hostile.route("/direct", hs.static(b"direct"))
    with fetch.Client(allow_networks=LOOPBACK) as client:
        assert client.get(url, max_bytes=100).body == b"direct"
    assert "authorization" not in hostile.requests("/direct")[-1].headers


def test_keep_alive_reuses_one_connection(hostile: hs.HostileServer) -> None:
    url = hostile.route("/ok", hs.static(b"ok"))
    with fetch.Client(allow_networks=LOOPBACK) as client:
        for _ in range(5):
            assert client.get(url, max_bytes=10).body == b"ok"
    assert len({r.client_port for r in hostile.requests("/ok")}) == 1
