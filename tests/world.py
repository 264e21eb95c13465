"""A small news world on 127.0.0.1 for tests: feeds (RSS 2.0 / Atom) and article pages we wrote ourselves.

The server honours conditional GET (ETag / Last-Modified) unless told not to, and counts requests per
path, so tests can assert "one conditional request per feed and no article fetched".
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    conditional: bool = True  # answer 304 to a matching If-None-Match
    headers: dict[str, str] = field(default_factory=dict)
    fail_times: int = 0  # answer 503 this many times first (a flaky server)
    delay: float = 0.0  # seconds before answering (a slow server)


@dataclass(frozen=True)
class Story:
    """An article in the world: its page and its feed item."""

    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    summary: str = ""
    lang: str = "en"  # the page's <html lang>


class World:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.conditional_hits: Counter[str] = Counter()
        self.first_hit: dict[str, float] = {}  # path -> time.monotonic() of its first request
        self.lock = threading.Lock()
        world = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with world.lock:
                    world.hits[path] += 1
                    world.first_hit.setdefault(path, time.monotonic())
                    if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
                        world.conditional_hits[path] += 1
                    route = world.routes.get(path)
                    flaky = route is not None and route.fail_times > 0
                    if flaky:
                        route.fail_times -= 1  # type: ignore[union-attr]
                if route is None:
                    return self._send(404, b"not found", "text/plain")
                if flaky:
                    return self._send(503, b"busy", "text/plain")
                if route.delay:
                    time.sleep(route.delay)
                etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                if route.conditional and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                extra = {"ETag": etag} if route.conditional else {}
                return self._send(route.status, route.body, route.content_type, {**extra, **route.headers})

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8", **kw: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.routes[path] = Route(data, content_type, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def publish(
        self,
        feed_path: str,
        stories: list[Story],
        *,
        atom: bool = False,
        conditional: bool = True,
        link_suffix: str = "",
        delay: float = 0.0,
    ) -> str:
        """Serve each story's page (answering after `delay` seconds) and a feed listing them; returns the feed URL."""
        for s in stories:
            self.add(f"/news/{s.slug}", page(s), delay=delay)
        items = [(s, self.url(f"/news/{s.slug}") + link_suffix) for s in stories]
        body = atom_feed(feed_path, items) if atom else rss_feed(feed_path, items)
        ctype = "application/atom+xml" if atom else "application/rss+xml"
        return self.add(feed_path, body, ctype, conditional=conditional)

    def reset_counts(self) -> None:
        with self.lock:
            self.hits.clear()
            self.conditional_hits.clear()
            self.first_hit.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def page(story: Story) -> str:
    """A news page shaped like a real one: navigation, the article, related links, a footer."""
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in ("world", "politics", "sport"))
    return f"""<!DOCTYPE html>
<html lang="{html.escape(story.lang)}"><head><meta charset="utf-8">
<title>{html.escape(story.title)} | Test Herald</title>
<meta property="og:title" content="{html.escape(story.title)}">
<meta property="article:published_time" content="{story.published.isoformat()}">
<meta name="author" content="Staff Reporter"></head>
<body><header><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{html.escape(story.title)}</h1>
<p class="byline">By Staff Reporter</p>
{paras}
</article>
<aside><h2>Related</h2><ul><li><a href="/news/other">Weather this weekend</a></li></ul></aside></main>
<footer><p>Copyright Test Herald. All rights reserved.</p></footer></body></html>"""


def rss_feed(path: str, items: list[tuple[Story, str]]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(s.title)}</title><link>{html.escape(link)}</link>"
        f'<guid isPermaLink="false">{html.escape(s.slug)}</guid>'
        f"<pubDate>{format_datetime(s.published)}</pubDate>"
        f"<description>{html.escape(s.summary or s.paragraphs[0])}</description></item>"
        for s, link in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {path}</title>'
        f"<link>http://example.test/</link><description>test</description>{entries}</channel></rss>"
    )


def atom_feed(path: str, items: list[tuple[Story, str]]) -> str:
    now = datetime.now(UTC).isoformat()
    entries = "".join(
        f'<entry><title>{html.escape(s.title)}</title><link href="{html.escape(link)}"/>'
        f"<id>urn:test:{html.escape(s.slug)}</id><updated>{s.published.isoformat()}</updated>"
        f"<summary>{html.escape(s.summary or s.paragraphs[0])}</summary></entry>"
        for s, link in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Feed {path}</title><id>urn:test:{path}</id><updated>{now}</updated>{entries}</feed>"
    )
