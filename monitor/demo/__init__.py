"""Demo: the project's own small news world, served on loopback and polled by the real pipeline.

Three invented outlets tell a dated story (story.toml) over three polling cycles, each cycle
publishing more articles; the caller runs one real polling cycle (the Prefect flow) per step, in one
process, into the demo directory's database. No network, no configuration, no SMTP: the digest is
built and shown, not sent.
"""

from __future__ import annotations

import hashlib
import html
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from monitor import config
from monitor.errors import MonitorError

MARKER = ".monitor-demo"  # marks a directory the demo made, so a re-run may clear it
CONFIG_NAME = "monitor.toml"
DATABASE_NAME = "monitor.duckdb"
REPORT_NAME = "report.html"
OWN_FILES = (CONFIG_NAME, DATABASE_NAME, DATABASE_NAME + ".wal", DATABASE_NAME + ".run.lock", REPORT_NAME)
# One loopback address per outlet, so each is its own host (outlet) as in the real world; 127.0.0.0/8 is
# all loopback on Linux. Where only 127.0.0.1 answers (macOS), outlets share it on separate ports.
ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
DEMO_RECIPIENT = "you@example.org"


class DemoError(MonitorError):
    """The demo cannot set up its directory or its local servers."""


@dataclass(frozen=True, slots=True)
class Outlet:
    key: str
    name: str
    format: str  # rss | atom


@dataclass(frozen=True, slots=True)
class Article:
    cycle: int
    outlet: str
    slug: str
    published: datetime
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Story:
    topic: str
    query: str
    outlets: tuple[Outlet, ...]
    articles: tuple[Article, ...]

    @property
    def cycles(self) -> int:
        return max(a.cycle for a in self.articles)


def load_story() -> Story:
    """The sample story shipped with the package."""
    data = tomllib.loads((resources.files("monitor.demo") / "story.toml").read_text(encoding="utf-8"))
    outlets = tuple(Outlet(o["key"], o["name"], o["format"]) for o in data["outlets"])
    articles = tuple(
        Article(a["cycle"], a["outlet"], a["slug"], a["published"], a["title"], tuple(a["paragraphs"]))
        for a in data["articles"]
    )
    return Story(data["topic"], data["query"], outlets, articles)


class Site:
    """One outlet's web server: its feed and its article pages, on a loopback address."""

    def __init__(self, outlet: Outlet, address: str) -> None:
        self.outlet = outlet
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # the demo's output is the pipeline's, not a log
                pass

            def do_GET(self) -> None:
                with site.lock:
                    found = site.pages.get(self.path.split("?")[0])
                body, ctype = found or (b"not found", "text/plain")
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if found and self.headers.get("If-None-Match") == etag:  # real sites answer 304: so do we
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"demo-{outlet.key}", daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def publish(self, articles: Sequence[Article]) -> None:
        """Serve these articles' pages and a feed listing them, newest first."""
        items = sorted(articles, key=lambda a: a.published, reverse=True)
        pages = {f"/news/{a.slug}": (page(self.outlet, a).encode(), "text/html; charset=utf-8") for a in items}
        links = [(a, f"{self.base}/news/{a.slug}") for a in items]
        if self.outlet.format == "atom":
            body = atom_feed(self.outlet, self.feed_url, links)
            pages["/feed.xml"] = (body.encode(), "application/atom+xml")
        else:
            pages["/feed.xml"] = (rss_feed(self.outlet, self.base, links).encode(), "application/rss+xml")
        with self.lock:
            self.pages = pages

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serve(story: Story) -> Iterator[dict[str, Site]]:
    """Start one site per outlet on loopback; stopped when the block ends."""
    sites: dict[str, Site] = {}
    try:
        for i, outlet in enumerate(story.outlets):
            try:
                sites[outlet.key] = Site(outlet, ADDRESSES[i % len(ADDRESSES)])
            except OSError:
                try:
                    sites[outlet.key] = Site(outlet, "127.0.0.1")
                except OSError as e:
                    raise DemoError(
                        f"cannot start the demo's local web server on 127.0.0.1 ({e.strerror}). "
                        "Check that the loopback interface is up."
                    ) from None
        yield sites
    finally:
        for site in sites.values():
            site.close()


def publish(sites: Mapping[str, Site], story: Story, cycle: int) -> list[Article]:
    """Put every article up to `cycle` online; returns the articles new in this cycle."""
    for key, site in sites.items():
        site.publish([a for a in story.articles if a.outlet == key and a.cycle <= cycle])
    return [a for a in story.articles if a.cycle == cycle]


def prepare(directory: Path) -> None:
    """Make the demo directory, or clear a previous demo's files from it; refuse someone else's files."""
    if directory.exists() and not directory.is_dir():
        raise DemoError(f"{directory}: exists and is not a directory. Give the demo another DIR.")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise DemoError(
            f"{directory}: the directory is not empty and was not made by `monitor demo`; "
            "give the demo an empty or new DIR."
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MARKER).write_text("made by `monitor demo`; it clears its own files here on a re-run\n")
        for name in OWN_FILES:
            (directory / name).unlink(missing_ok=True)
    except OSError as e:
        raise DemoError(f"{directory}: cannot prepare the demo directory ({e.strerror}).") from None


def write_config(directory: Path, story: Story, sites: Mapping[str, Site]) -> Path:
    """The demo's monitor.toml: its feeds, its topic, loopback allowed, no e-mail."""
    feeds = "\n".join(f'[[feeds]]\nurl = "{sites[o.key].feed_url}"\nname = "{o.name}"\n' for o in story.outlets)
    text = f"""# Written by `monitor demo`: the sample world's feeds on loopback (new ports on every run).
database = "{DATABASE_NAME}"

[fetch]
allow_networks = ["127.0.0.0/8"]  # the demo's sites are local; real configs never need this
workers = 1                       # a handful of articles: no process pool to start

{feeds}
[[topics]]
name = "{story.topic}"
query = '{story.query}'
"""
    path = directory / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True, slots=True)
class Result:
    story: Story
    config_path: Path
    database: Path
    run_ids: tuple[str, ...]
    digest_text: str  # the digest the last cycle would mail ("" when it found nothing new)


def run(directory: Path, run_cycle: Callable[[Path, int], Mapping[str, Any]], echo: Callable[[str], None]) -> Result:
    """Serve the story and run one polling cycle per step of it; `run_cycle(config_path, cycle)` runs one
    (the real flow) and returns its summary."""
    story = load_story()
    prepare(directory)
    run_ids = []
    with serve(story) as sites:
        config_path = write_config(directory, story, sites)
        for cycle in range(1, story.cycles + 1):
            new = publish(sites, story, cycle)
            days = sorted(a.published for a in new)
            echo(
                f"\n== cycle {cycle}/{story.cycles}: {len(new)} articles published "
                f"{days[0]:%Y-%m-%d} … {days[-1]:%Y-%m-%d}"
            )
            run_ids.append(str(run_cycle(config_path, cycle)["run_id"]))
    database = directory / DATABASE_NAME
    return Result(story, config_path, database, tuple(run_ids), digest_text(database, story, run_ids[-1]))


def digest_text(database: Path, story: Story, run_id: str) -> str:
    """The plain-text digest a recipient would get for the run's new figures and revisions, built as the
    alerts stage builds it (the demo has no [email] table, so nothing is queued or sent)."""
    from monitor import digest, mail, series, store

    with store.connect(database, read_only=True) as con:
        decided = series.of_run(con, run_id)
    if not decided:
        return ""
    items = [digest.shown(d) for d in decided]
    alert_id = f"{run_id}-1"
    d = digest.compose(
        alert_id,
        run_id,
        DEMO_RECIPIENT,
        items,
        [story.topic],
        config.EmailConfig().max_figures,
        mail.message_id(alert_id, "monitor@localhost"),
        datetime.now(UTC),
    )
    return f"To: {d.recipient}\nSubject: {d.subject}\n\n{digest.render_text(d)}"


def page(outlet: Outlet, article: Article) -> str:
    """An article page shaped like a real one: masthead, navigation, the article, related links, footer."""
    paras = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in ("world", "politics", "business"))
    name, title = html.escape(outlet.name), html.escape(article.title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {name}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{name}">
<meta property="article:published_time" content="{article.published.isoformat()}">
<meta name="author" content="{name} staff"></head>
<body><header><p class="masthead">{name}</p><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{title}</h1>
<p class="byline">By {name} staff ·
<time datetime="{article.published.isoformat()}">{article.published:%d %B %Y}</time></p>
{paras}
</article>
<aside><h2>Most read</h2><ul><li><a href="/news/weather">Weather this weekend</a></li></ul></aside></main>
<footer><p>© {name}. An invented outlet of the news-monitor demo.</p></footer></body></html>"""


def rss_feed(outlet: Outlet, base: str, items: Sequence[tuple[Article, str]]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{html.escape(link)}</link>"
        f'<guid isPermaLink="true">{html.escape(link)}</guid>'
        f"<pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{html.escape(a.paragraphs[0])}</description></item>"
        for a, link in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{html.escape(outlet.name)}</title><link>{html.escape(base)}/</link>"
        f"<description>{html.escape(outlet.name)}: world news</description>{entries}</channel></rss>"
    )


def atom_feed(outlet: Outlet, feed_url: str, items: Sequence[tuple[Article, str]]) -> str:
    updated = max((a.published for a, _ in items), default=datetime(2024, 1, 1, tzinfo=UTC)).isoformat()
    entries = "".join(
        f'<entry><title>{html.escape(a.title)}</title><link href="{html.escape(link)}"/>'
        f"<id>{html.escape(link)}</id><updated>{a.published.isoformat()}</updated>"
        f"<published>{a.published.isoformat()}</published>"
        f"<summary>{html.escape(a.paragraphs[0])}</summary></entry>"
        for a, link in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(outlet.name)}</title><id>{html.escape(feed_url)}</id>"
        f"<updated>{updated}</updated>{entries}</feed>"
    )
