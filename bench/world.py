"""The benchmark's news world on 127.0.0.1: RSS feeds whose items link to unique copies of real pages.

Kept apart from tests/world.py on purpose: the benchmark must run without the test suite, and it needs a
leaner server (pre-built responses, a switch between honouring and ignoring conditional GET).
"""

from __future__ import annotations

import hashlib
import html
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)
_TITLE_END = re.compile(rb"</title>", re.IGNORECASE)
_PARA_END = re.compile(rb"</p>", re.IGNORECASE)


def load_pages(folder: Path) -> list[tuple[str, bytes]]:
    """The corpus pages (NAME.html) as (name, bytes), in name order."""
    pages = [(p.stem, p.read_bytes()) for p in sorted(folder.glob("*.html"))]
    if not pages:
        raise SystemExit(
            f"{folder}: no *.html pages found; give the corpus pages directory (e.g. /work/shared/corpus/pages)."
        )
    return pages


def unique_copy(page: bytes, tag: str) -> bytes:
    """The page with `tag` in a comment, in its title and at the end of its first paragraph.

    The comment makes every byte string unique, the title and paragraph make the extracted text unique, so
    neither a body hash nor a text fingerprint can recognise one copy as another.
    """
    marker = f" [bench copy {tag}]".encode()
    out = _HEAD.sub(lambda m: m.group(0) + b"<!-- bench copy " + tag.encode() + b" -->", page, count=1)
    out = _TITLE_END.sub(lambda m: marker + m.group(0), out, count=1)
    out = _PARA_END.sub(lambda m: marker + m.group(0), out, count=1)
    if out == page:  # no <head>, <title> or </p>: still make the bytes unique
        out = b"<!-- bench copy " + tag.encode() + b" -->\n" + page
    return out


def rss(title: str, items: list[tuple[str, str, str, datetime]]) -> bytes:
    """An RSS 2.0 body; items are (title, link, guid, published)."""
    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
        f'<guid isPermaLink="false">{html.escape(guid)}</guid><pubDate>{format_datetime(when)}</pubDate>'
        f"<description>{html.escape(t)}: a story in the benchmark world.</description></item>"
        for t, link, guid, when in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{html.escape(title)}'
        f"</title><link>http://127.0.0.1/</link><description>bench</description>{body}</channel></rss>"
    ).encode()


@dataclass(frozen=True, slots=True)
class Route:
    body: bytes
    content_type: str
    etag: str


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that closes a kept-alive connection mid-read (a run ending) is not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Server:
    """A threaded HTTP/1.1 server with pre-built bodies; `conditional` switches 304 support on and off."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.conditional = True
        self.hits: Counter[str] = Counter()  # by status
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body then waits for the
            # client's delayed ACK (40 ms a response), a cost of this server that real ones do not have.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                route = server.routes.get(self.path)
                if route is None:
                    self._reply(404, b"not found", "text/plain", None)
                elif server.conditional and self.headers.get("If-None-Match") == route.etag:
                    self._reply(304, b"", None, route.etag)
                else:
                    etag = route.etag if server.conditional else None
                    self._reply(200, route.body, route.content_type, etag)

            def _reply(self, status: int, body: bytes, ctype: str | None, etag: str | None) -> None:
                with server._lock:
                    server.hits[status] += 1
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="bench-world", daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, path: str, body: bytes, content_type: str) -> str:
        self.routes[path] = Route(body, content_type, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')
        return self.base + path

    def reset_hits(self) -> None:
        with self._lock:
            self.hits.clear()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def publish(server: Server, prefix: str, pages: list[bytes], n_feeds: int) -> list[str]:
    """Serve `pages` under /PREFIX/a/I.html, spread over `n_feeds` RSS feeds; returns the feed URLs."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    per_feed: list[list[tuple[str, str, str, datetime]]] = [[] for _ in range(n_feeds)]
    for i, body in enumerate(pages):
        link = server.add(f"/{prefix}/a/{i}.html", body, "text/html; charset=utf-8")
        item = (f"{prefix} story {i}", link, f"{prefix}-{i}", start + timedelta(minutes=i))
        per_feed[i % n_feeds].append(item)
    return [
        server.add(f"/{prefix}/feed/{f}.xml", rss(f"{prefix} feed {f}", items), "application/rss+xml")
        for f, items in enumerate(per_feed)
    ]
