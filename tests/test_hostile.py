"""Hostile feeds, hostile servers, faults: issue 7's matrix through `monitor run`, the real Prefect flow.

One hostile world is polled twice by the real pipeline (the module fixture `polled`): a feed per case on the
hostile server at 127.0.0.1, linking to article pages that are cases too, and a trap server on 127.0.0.2
standing for "a private address". The config allows only 127.0.0.1/32, so any request the trap sees is a
guard failure (and tests/hostile_server.py's loopback-only hook fails any packet that would leave loopback).
Each test asserts one row of the matrix on what the runs left behind: the database, the requests the
servers saw, and the run summaries (which must agree with the database). docs/security.md lists the matrix.

Killed runs are in tests/test_crash.py; SMTP faults and header injection in tests/test_alerts.py; queries
alongside runs in tests/test_concurrency.py; the HTTP client's own cases in tests/test_fetch.py.
"""

from __future__ import annotations

import gc
import html
import json
import re
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor import cli, feeds, fetch, store
from tests import hostile_server as hs
from tests.pipeline_fixtures import write_config
from tests.stories import FILLER
from tests.world import Story, page

pytestmark = pytest.mark.usefixtures("prefect_harness")

P = "/h7"  # every route of this module lives under here
MIB = 2**20
DEADLINE = 3.0  # [fetch] deadline in these runs: the slow-drip server is cut off after this
NK = "North Korean troops in Russia"
PAST = "Mon, 18 Nov 2024 09:00:00 GMT"


# --- building the world --------------------------------------------------------------------------------


def item(
    title: str, link: str | None = None, *, guid: str | None = None, date: str | None = PAST, summary: str | None = None
) -> str:
    parts = [f"<title>{html.escape(title)}</title>"]
    if link is not None:
        parts.append(f"<link>{html.escape(link)}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{html.escape(guid)}</guid>')
    if date is not None:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description>{html.escape(summary or 'Summary: ' + title)}</description>")
    return "<item>" + "".join(parts) + "</item>"


def rss(name: str, *items: str, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{head}<rss version="2.0"><channel><title>{name}</title>'
        f"<link>http://127.0.0.1/</link><description>test</description>{''.join(items)}</channel></rss>"
    ).encode()


def article(slug: str, sentence: str) -> bytes:
    """A news page with a date, as tests/world.py writes them."""
    story = Story(
        slug=slug,
        title=f"Report {slug}",
        paragraphs=(sentence, FILLER),
        published=datetime(2024, 11, 18, 9, tzinfo=UTC),
    )
    return page(story).encode()


def undated(title: str) -> bytes:
    """A page with no date anywhere, so an article's date can only come from its feed item."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1><p>North Korean troops were seen near Kursk in Russia, villagers said.</p>"
        f"<p>{FILLER}</p></article></body></html>"
    ).encode()


def feed_route(body: bytes) -> hs.Route:
    return hs.static(body, content_type="application/rss+xml")


BOMB = """<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""
SECRET = "XXE-MARKER-4e1c9a"  # written to a file the XXE feed points at: must never reach the database
BAD_BYTES = b"\xff\xfe \xc3\x28 \xed\xa0\x80 \x00\x00 \x07"  # invalid UTF-8, an encoded surrogate, NULs, BEL
# what each failing feed's error says (feed_polls.error, the summary's errors)
FAILING_FEEDS = {
    "malformed": "not well-formed and no item with a link could be recovered",
    "html": "got an HTML page, not RSS/Atom",
    "empty": "the feed is empty",
    "loop": "redirect loop",
    "hops": "more than 5 redirects",
    "big-length": "body larger than",
    "big-chunked": "body larger than",
    "gzip-bomb": "body larger than",
    "brotli": "unsupported Content-Encoding 'br'",
    "gzip3": "more than 2 stacked",
    "429": "HTTP 429",
    "503-garbage": "HTTP 503",
    "429-huge": "HTTP 429",
}
BACKING_OFF = {"429": 120.0, "503-garbage": fetch.RETRY_AFTER_DEFAULT, "429-huge": fetch.RETRY_AFTER_MAX}
# article pages linked from the "pages" feed: (text_source, what articles.fetch_error says or None)
PAGES = {
    "ok": ("extracted", None),
    "slow": ("summary", f"did not finish within the {DEADLINE:g} s deadline"),
    "reset": ("summary", "connection reset"),
    "truncated": ("summary", "body truncated"),
    "loop": ("summary", "redirect loop"),
    "hops": ("summary", "more than 5 redirects"),
    "big-length": ("summary", "body larger than"),
    "big-chunked": ("summary", "body larger than"),
    "gzip-bomb": ("summary", "body larger than"),
    "brotli": ("summary", "unsupported Content-Encoding 'br'"),
    "gzip2": ("extracted", None),
    "gzip3": ("summary", "more than 2 stacked"),
    "pdf": ("summary", "not an HTML page (application/pdf); kept the feed's summary"),
    "png": ("summary", "not an HTML page (image/png); kept the feed's summary"),
    "bad-bytes": ("extracted", None),
}


@dataclass
class Polled:
    """What the two runs over the hostile world left: summaries, requests seen, the database."""

    config: Path
    database: Path
    urls: dict[str, str]  # feed name -> URL
    links: dict[str, str]  # link-case name -> the link as the feed gives it
    summaries: list[dict[str, Any]] = field(default_factory=list)
    hits: list[Counter[str]] = field(default_factory=list)  # per run: requests per path, cumulative
    seconds: list[float] = field(default_factory=list)
    trap_requests: list[hs.Recorded] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with store.connect(self.database, read_only=True) as con:
            return store.select_dicts(con, sql, params or [])

    def run_id(self, n: int) -> str:
        return str(self.summaries[n]["run_id"])

    def poll(self, name: str, run: int = 0) -> dict[str, Any]:
        [row] = self.rows(
            "SELECT * FROM feed_polls WHERE feed_url = ? AND run_id = ?", [self.urls[name], self.run_id(run)]
        )
        return row

    def article(self, url: str) -> dict[str, Any]:
        [row] = self.rows("SELECT * FROM articles WHERE url = ?", [url])
        return row


def settle_prefect() -> None:
    """Collect the API client Prefect leaves behind after a flow run, its ResourceWarning ignored.

    Prefect 3.9 opens a sync client per flow run to read the server's default result storage and never
    closes it (prefect/results.py, _read_server_default_result_storage_block_id). Its socket is left to
    the garbage collector, whose warning would otherwise fail whichever test happens to run next.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"unclosed <socket\.socket", ResourceWarning)
        gc.collect()


def monitor_run(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli.main, ["-c", str(config), "run", "--json", "-q"], catch_exceptions=False)
    settle_prefect()
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def build(server: hs.HostileServer, trap: hs.HostileServer, directory: Path) -> Polled:
    url = server.url
    secret = directory / "secret.txt"
    secret.write_text(SECRET + "\n")
    # --- article pages ---
    ok_page = article("ok", "North Korea has sent about 1,500 special forces soldiers to Russia, Seoul said.")
    server.route(f"{P}/page/ok", hs.static(ok_page, content_type="text/html; charset=utf-8"))
    server.route(f"{P}/page/slow", hs.slow_drip(interval=0.25, length=400))
    server.route(f"{P}/page/reset", hs.reset_mid_body())
    server.route(f"{P}/page/truncated", hs.truncated())
    server.route(f"{P}/page/loop", hs.redirect(f"{P}/page/loop-back"))
    server.route(f"{P}/page/loop-back", hs.redirect(f"{P}/page/loop"))
    for i in range(6):
        server.route(f"{P}/page/hops" + (f"-{i}" if i else ""), hs.redirect(f"{P}/page/hops-{i + 1}"))
    server.route(f"{P}/page/hops-6", hs.static(ok_page, content_type="text/html"))
    server.route(f"{P}/page/big-length", hs.big(50 * MIB))
    server.route(f"{P}/page/big-chunked", hs.big(50 * MIB, framing="chunked"))
    server.route(f"{P}/page/gzip-bomb", hs.gzip_bomb())
    server.route(f"{P}/page/brotli", hs.encoded(ok_page, "br", content_type="text/html"))
    gzip2 = article("gzip2", "About 3,000 North Korean soldiers were moved to Kursk, according to Kyiv.")
    server.route(f"{P}/page/gzip2", hs.encoded(gzip2, "gzip, gzip", content_type="text/html"))
    server.route(f"{P}/page/gzip3", hs.encoded(ok_page, "gzip, gzip, gzip", content_type="text/html"))
    server.route(
        f"{P}/page/pdf",
        hs.static(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n", content_type="application/pdf"),
    )
    server.route(f"{P}/page/png", hs.static(b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png"))
    bad = article("bad-bytes", "North Korean troops BADBYTES were reported near Kursk in Russia on Monday.")
    server.route(
        f"{P}/page/bad-bytes", hs.static(bad.replace(b"BADBYTES", BAD_BYTES), content_type="text/html; charset=utf-8")
    )
    for name in (
        "nodate",
        "future",
        "dup-a-one",
        "dup-a-one-again",
        "dup-a-moved",
        "dup-a-two",
        "dup-b-one",
        "shared-a",
        "shared-b",
    ):
        server.route(f"{P}/page/{name}", hs.static(undated(f"Story {name}"), content_type="text/html"))
    server.route(f"{P}/to-private", hs.redirect(trap.url("/secret")))
    trap.route("/secret", hs.static(b"the trap answered: a guard is broken"))

    # --- feeds: failing ones ---
    urls: dict[str, str] = {}

    def feed(name: str, route: hs.Route) -> None:
        urls[name] = server.route(f"{P}/feed/{name}", route)

    feed("malformed", feed_route(b"<rss><channel><item><title>oops"))
    feed(
        "html",
        hs.static(b"<!DOCTYPE html><html><body><p>Welcome to our site</p></body></html>", content_type="text/html"),
    )
    feed("empty", feed_route(b""))
    feed("loop", hs.redirect(f"{P}/feed/loop-back"))
    server.route(f"{P}/feed/loop-back", hs.redirect(f"{P}/feed/loop", status=301))
    feed("hops", hs.redirect(f"{P}/feed/hops-1"))
    for i in range(1, 7):
        server.route(f"{P}/feed/hops-{i}", hs.redirect(f"{P}/feed/hops-{i + 1}"))
    feed("big-length", hs.big(50 * MIB))
    feed("big-chunked", hs.big(50 * MIB, framing="chunked"))
    feed("gzip-bomb", hs.gzip_bomb())
    one = rss("one", item("North Korean troops in Kursk", url(f"{P}/page/ok")))
    feed("brotli", hs.encoded(one, "br", content_type="application/rss+xml"))
    feed("gzip3", hs.encoded(one, "gzip, gzip, gzip", content_type="application/rss+xml"))
    feed("429", hs.static(b"slow down", status=429, headers={"Retry-After": "120"}))
    feed("503-garbage", hs.static(b"busy", status=503, headers={"Retry-After": "when pigs fly"}))
    feed("429-huge", hs.static(b"slow down", status=429, headers={"Retry-After": "9" * 40}))

    # --- feeds that work, each with a hostile twist ---
    feed("recoverable", feed_route(rss("broken & recovered", item("Troops & tanks", url(f"{P}/page/ok")))))
    bomb = rss("&lol9;", item("&lol9;", url(f"{P}/page/ok"), summary="&lol9;"), head=BOMB)
    feed("bomb", feed_route(bomb.replace(b"&amp;lol9;", b"&lol9;")))
    xxe_head = f'<!DOCTYPE rss [ <!ENTITY x SYSTEM "file://{secret}"> <!ENTITY y SYSTEM "file:///etc/passwd"> ]>'
    feed(
        "xxe",
        feed_route(
            rss("XXE &x;", item("External &x; &y;", url(f"{P}/page/ok"), summary="&x; &y;"), head=xxe_head)
            .replace(b"&amp;x;", b"&x;")
            .replace(b"&amp;y;", b"&y;")
        ),
    )
    feed("gzip2", hs.encoded(one, "gzip, gzip", content_type="application/rss+xml"))
    feed(
        "pages",
        feed_route(
            rss(
                "pages",
                *(
                    item(
                        f"Page {name}",
                        url(f"{P}/page/{name}"),
                        guid=f"page-{name}",
                        summary=f"Summary of {name}: North Korean troops in Russia.",
                    )
                    for name in PAGES
                ),
            )
        ),
    )
    links = {
        "file": "file:///etc/passwd",
        "javascript": "javascript:alert(document.cookie)",
        "private": "http://10.0.0.1/admin",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "decimal": "http://167772161/",  # 10.0.0.1
        "hex": "http://0xA9FEA9FE/latest/meta-data/",  # 169.254.169.254
        "mapped": "http://[::ffff:10.0.0.1]/",
        "mapped-trap": f"http://[::ffff:127.0.0.2]:{trap.port}/secret",
        "trap": trap.url("/secret"),
        "redirect-to-trap": url(f"{P}/to-private"),
    }
    link_items = [item(f"Link {name}", link, guid=f"link-{name}") for name, link in links.items()]
    link_items += [
        item("No link at all", None, guid="no-link"),
        item("No date", url(f"{P}/page/nodate"), guid="no-date", date=None),
        item("From the future", url(f"{P}/page/future"), guid="future", date="Thu, 01 Jan 2099 00:00:00 GMT"),
    ]
    feed("links", feed_route(rss("links", *link_items)))
    refs = "&#0; &#xD800; &#x110000; &#99999999999999999999;"  # no character, a surrogate, beyond Unicode
    utf8 = rss(
        "Bad BADBYTES feed",
        item(f"North Korea BADBYTES {refs}", url(f"{P}/page/bad-bytes"), summary="Summary BADBYTES of it"),
    )
    feed("bad-bytes", feed_route(utf8.replace(b"BADBYTES", BAD_BYTES)))
    # duplicate GUIDs: within a feed (a-one and a-one-again share "1"), across feeds ("1" in both feeds is
    # two stories: a bare GUID is only unique in its feed; "urn:uuid:shared" is one story everywhere) and
    # across runs (run 2 moves a-one's link under the same GUID, and adds a-two)
    dup_a = [
        item("A one", url(f"{P}/page/dup-a-one"), guid="1"),
        item("A one again", url(f"{P}/page/dup-a-one-again"), guid="1"),
        item("Shared A", url(f"{P}/page/shared-a"), guid="urn:uuid:shared"),
    ]
    feed("dup-a", feed_route(rss("dup-a", *dup_a)))
    feed(
        "dup-b",
        feed_route(
            rss(
                "dup-b",
                item("B one", url(f"{P}/page/dup-b-one"), guid="1"),
                item("Shared B", url(f"{P}/page/shared-b"), guid="urn:uuid:shared"),
                item("A one via B", url(f"{P}/page/dup-a-one?utm_source=b"), guid="b-3"),
            )
        ),
    )

    config = write_config(directory, list(urls.values()), topics={NK: '"North Korea" OR "North Korean"'})
    text = config.read_text().replace(
        'allow_networks = ["127.0.0.0/8"]', f'allow_networks = ["127.0.0.1/32"]\ndeadline = {DEADLINE}'
    )
    config.write_text(text)
    return Polled(config=config, database=directory / "data" / "monitor.duckdb", urls=urls, links=links)


def requests_per_path(server: hs.HostileServer) -> Counter[str]:
    return Counter(r.path.split("?")[0] for r in server.requests())


@pytest.fixture(scope="module")
def polled(
    hostile_session: hs.HostileServer, tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> Iterator[Polled]:
    """Two runs of `monitor run` over the hostile world; between them feed dup-a changes."""
    hostile_session.reset()
    with hs.HostileServer("127.0.0.2") as trap, hs.loopback_only():
        world = build(hostile_session, trap, tmp_path_factory.mktemp("hostile"))
        for n in range(2):
            if n == 1:  # the next cycle: dup-a's first story moved (same GUID), a second one is new
                hostile_session.route(
                    f"{P}/feed/dup-a",
                    feed_route(
                        rss(
                            "dup-a",
                            item("A one", hostile_session.url(f"{P}/page/dup-a-moved"), guid="1"),
                            item("A two", hostile_session.url(f"{P}/page/dup-a-two"), guid="2"),
                            item("Shared A", hostile_session.url(f"{P}/page/shared-a"), guid="urn:uuid:shared"),
                        )
                    ),
                )
            started = time.monotonic()
            world.summaries.append(monitor_run(world.config))
            world.seconds.append(time.monotonic() - started)
            world.hits.append(requests_per_path(hostile_session))
        world.trap_requests = trap.requests()
    hostile_session.reset()
    yield world


def text_values(polled: Polled) -> list[str]:
    """Every text value stored in the tables a run writes."""
    out = []
    tables = ("feeds", "runs", "feed_polls", "articles", "article_links", "topic_matches", "figure_mentions")
    for table in tables:
        for row in polled.rows(f"SELECT * FROM {table}"):
            out += [v for v in row.values() if isinstance(v, str)]
            out += [x for v in row.values() if isinstance(v, list) for x in v if isinstance(x, str)]
    return out


# --- feeds that are not feeds ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["malformed", "html", "empty"])
def test_malformed_html_and_empty_feeds_fail_alone_with_a_reason(polled: Polled, name: str) -> None:
    poll = polled.poll(name)
    assert (poll["status"], poll["http_status"]) == ("failed", 200)
    assert FAILING_FEEDS[name] in poll["error"]
    assert polled.hits[0][f"{P}/feed/{name}"] == 1  # a broken body is not retried within the run
    [feed] = polled.rows("SELECT * FROM feeds WHERE url = ?", [polled.urls[name]])
    assert feed["last_status"] == "failed" and FAILING_FEEDS[name] in feed["last_error"]


def test_partly_malformed_feed_is_read_with_a_warning(polled: Polled) -> None:
    poll = polled.poll("recoverable")
    assert poll["status"] == "ok" and "not well-formed" in poll["error"] and poll["items"] == 1
    routes = polled.rows("SELECT url FROM article_links WHERE feed_url = ?", [polled.urls["recoverable"]])
    assert routes == [{"url": polled.urls["pages"].replace("/feed/pages", "/page/ok")}]


def test_entity_bomb_and_external_entities_expand_nothing(polled: Polled) -> None:
    for name in ("bomb", "xxe"):
        poll = polled.poll(name)
        assert poll["status"] == "ok", poll  # recovered: entities left as written, never expanded or read
    stored = "\n".join(text_values(polled))
    assert "lollol" not in stored
    assert SECRET not in stored and "root:x:0:0" not in stored
    [feed] = polled.rows("SELECT title FROM feeds WHERE url = ?", [polled.urls["xxe"]])
    assert feed["title"].startswith("XXE")  # the reference dropped or left as text, never the file behind it
    assert polled.seconds[0] < 60  # the whole hostile run, bomb included


# --- where links may lead --------------------------------------------------------------------------------


def test_links_to_other_schemes_and_private_addresses_are_never_fetched(polled: Polled) -> None:
    assert polled.trap_requests == []  # nothing reached 127.0.0.2: not directly, mapped, or by redirect
    assert polled.hits[0][f"{P}/to-private"] == 1  # the public-looking hop was fetched; its target was not
    poll = polled.poll("links")
    assert poll["status"] == "ok"
    assert "3 items without an http(s) link skipped" in poll["error"]  # file:, javascript:, none
    stored = {
        r["url"]: r
        for r in polled.rows(
            "SELECT a.url, a.text_source, a.fetch_error, a.text FROM articles a "
            "JOIN article_links l USING (article_id) WHERE l.feed_url = ?",
            [polled.urls["links"]],
        )
    }
    assert not any(u.startswith(("file:", "javascript:")) for u in stored)
    blocked = {name: link for name, link in polled.links.items() if name not in ("file", "javascript")}
    why = {
        "private": "(private)",
        "metadata": "(link-local)",
        "decimal": "(private)",
        "hex": "(link-local)",
        "mapped": "IPv4-mapped private",
        "mapped-trap": "IPv4-mapped loopback",
        "trap": "(loopback)",
        "redirect-to-trap": "redirected to http://127.0.0.2",
    }
    for name, link in blocked.items():
        row = stored[feeds.canonical_url(link)]
        assert row["text_source"] == "summary", name  # the feed's summary is kept
        assert row["text"] == f"Summary: Link {name}"
        assert "non-public address" in row["fetch_error"] and "not fetched" in row["fetch_error"], row
        assert why[name] in row["fetch_error"], (name, row["fetch_error"])


def test_redirect_loop_and_too_many_redirects(polled: Polled) -> None:
    for name in ("loop", "hops"):
        poll = polled.poll(name)
        assert poll["status"] == "failed" and FAILING_FEEDS[name] in poll["error"]
    assert polled.hits[0][f"{P}/feed/loop"] == 1 and polled.hits[0][f"{P}/feed/loop-back"] == 1  # not retried
    assert polled.hits[0][f"{P}/feed/hops-5"] == 1 and polled.hits[0][f"{P}/feed/hops-6"] == 0
    assert polled.hits[0][f"{P}/page/hops-5"] == 1 and polled.hits[0][f"{P}/page/hops-6"] == 0


# --- bodies and encodings ------------------------------------------------------------------------------


def test_oversized_bodies_and_gzip_bombs_are_cut_at_the_cap(polled: Polled) -> None:
    for name in ("big-length", "big-chunked", "gzip-bomb"):
        poll = polled.poll(name)
        assert poll["status"] == "failed" and "body larger than 10485760 bytes" in poll["error"], poll
        assert polled.hits[0][f"{P}/feed/{name}"] == 1  # refused for what it is: not fetched again
        assert polled.hits[0][f"{P}/page/{name}"] == 1
    assert "Content-Length: 52428800" in polled.poll("big-length")["error"]  # refused before the body


def test_stacked_and_unknown_content_encodings(polled: Polled) -> None:
    assert polled.poll("gzip2")["status"] == "ok"  # "gzip, gzip" happens in the wild
    for name in ("brotli", "gzip3"):
        assert FAILING_FEEDS[name] in polled.poll(name)["error"]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_article_pages_that_fail_keep_the_feed_summary_with_the_reason(polled: Polled, name: str) -> None:
    source, error = PAGES[name]
    row = polled.article(polled.urls["pages"].replace("/feed/pages", f"/page/{name}"))
    assert row["text_source"] == source
    if error is None:
        assert row["fetch_error"] is None and len(row["text"]) > 80
    else:
        assert error in row["fetch_error"]
        assert row["text"] == f"Summary of {name}: North Korean troops in Russia."
        assert row["summary"] == row["text"]


def test_slow_drip_page_is_cut_off_at_the_deadline(polled: Polled) -> None:
    # the slow page alone would take 100 s; the whole run took a fraction of that
    assert polled.seconds[0] < 60
    assert (
        f"did not finish within the {DEADLINE:g} s deadline"
        in polled.article(polled.urls["pages"].replace("/feed/pages", "/page/slow"))["fetch_error"]
    )


# --- politeness -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BACKING_OFF))
def test_429_and_503_back_the_feed_off_and_the_next_run_skips_it(polled: Polled, name: str) -> None:
    first, second = polled.poll(name, 0), polled.poll(name, 1)
    assert first["status"] == "failed" and FAILING_FEEDS[name] in first["error"]
    assert polled.hits[0][f"{P}/feed/{name}"] == 1  # no retry within the run, no sleeping in it
    [feed] = polled.rows(
        "SELECT backoff_until, consecutive_failures, last_status FROM feeds WHERE url = ?", [polled.urls[name]]
    )
    wait = BACKING_OFF[name]
    assert wait <= fetch.RETRY_AFTER_MAX  # clamped: "9" * 40 seconds becomes 6 hours
    assert polled.started + timedelta(seconds=wait - 5) < feed["backoff_until"]
    assert feed["backoff_until"] < datetime.now(UTC) + timedelta(seconds=wait + 5)
    # the next run leaves it alone and says so
    assert second["status"] == "backoff" and "backing off until" in second["error"]
    assert polled.hits[1][f"{P}/feed/{name}"] == 1
    assert (feed["consecutive_failures"], feed["last_status"]) == (1, "backoff")


def test_no_feed_was_retried_in_the_run_and_failures_count_up(polled: Polled) -> None:
    """Every failing feed here fails for good (refused, broken, or asked to wait): one request per run."""
    for name in FAILING_FEEDS:
        runs = 1 if name in BACKING_OFF else 2
        assert polled.hits[1][f"{P}/feed/{name}"] == runs, name
    failures = {r["url"]: r["consecutive_failures"] for r in polled.rows("SELECT * FROM feeds")}
    for name in set(FAILING_FEEDS) - set(BACKING_OFF):
        assert failures[polled.urls[name]] == 2, name


# --- what is stored ---------------------------------------------------------------------------------------


def test_invalid_utf8_nul_bytes_and_bad_character_references_are_stored_clean(polled: Polled) -> None:
    assert polled.poll("bad-bytes")["status"] == "ok"
    row = polled.article(polled.urls["pages"].replace("/feed/pages", "/page/bad-bytes"))
    assert row["text_source"] == "extracted" and "Kursk" in row["text"]
    values = text_values(polled)
    assert values
    for value in values:
        value.encode("utf-8")  # no lone surrogates: strict UTF-8 round trip
        assert not any(ord(c) < 32 and c not in "\n\t" for c in value), repr(value)
        assert "\x7f" not in value


def test_duplicate_guids_within_and_across_feeds_and_runs(polled: Polled) -> None:
    pages = polled.urls["pages"].replace("/feed/pages", "/page/")
    stored = {
        r["url"].removeprefix(pages): r["n"]
        for r in polled.rows("SELECT url, count(*) AS n FROM articles WHERE url LIKE ? GROUP BY url", [pages + "%"])
    }
    # within a feed: the second item with GUID "1" is the same item; across feeds: B's "1" is its own story
    assert stored["dup-a-one"] == 1 and stored["dup-b-one"] == 1 and "dup-a-one-again" not in stored
    # a URI GUID is one story in every feed: stored once, fetched once, two routes
    assert [k for k in stored if k.startswith("shared-")] == ["shared-a"]
    assert polled.hits[1][f"{P}/page/shared-b"] == 0 and polled.hits[1][f"{P}/page/shared-a"] == 1
    # across runs: the moved link under the same GUID is not a new story; the new item is
    assert "dup-a-moved" not in stored and polled.hits[1][f"{P}/page/dup-a-moved"] == 0
    assert stored["dup-a-two"] == 1 and polled.summaries[1]["new_articles"] == 1
    assert polled.hits[1][f"{P}/page/dup-a-one"] == 1  # A's and B's (utm-tagged) link: one fetch, ever
    routes = polled.rows(
        "SELECT l.feed_url, l.url FROM article_links l JOIN articles a USING (article_id) WHERE a.url = ?",
        [pages + "dup-a-one"],
    )
    assert {(r["feed_url"], r["url"].removeprefix(pages)) for r in routes} == {
        (polled.urls["dup-a"], "dup-a-one"),
        (polled.urls["dup-a"], "dup-a-moved"),  # one story, two links
        (polled.urls["dup-b"], "dup-a-one"),
    }  # and a second feed's route to it
    # and nothing anywhere is stored twice
    assert polled.rows("SELECT url FROM articles GROUP BY url HAVING count(*) > 1") == []
    assert polled.rows("SELECT article_id, seq FROM figure_mentions GROUP BY ALL HAVING count(*) > 1") == []
    assert polled.rows("SELECT feed_url, url FROM article_links GROUP BY ALL HAVING count(*) > 1") == []
    assert polled.rows("SELECT article_id, topic FROM topic_matches GROUP BY ALL HAVING count(*) > 1") == []


def test_items_without_links_or_dates_and_with_future_dates(polled: Polled) -> None:
    pages = polled.urls["pages"].replace("/feed/pages", "/page/")
    for name in ("nodate", "future"):
        row = polled.article(pages + name)
        assert row["published_at"] is None, row  # unknown, not invented: never the year 2099
        assert row["text_source"] == "extracted"
    assert polled.rows("SELECT url FROM articles WHERE published_at > now() + INTERVAL 1 DAY") == []
    assert polled.rows("SELECT * FROM article_links WHERE guid = 'no-link'") == []


# --- the summary tells the truth --------------------------------------------------------------------------


def test_run_summaries_match_the_database(polled: Polled) -> None:
    for n, summary in enumerate(polled.summaries):
        run_id = polled.run_id(n)
        [row] = polled.rows("SELECT * FROM runs WHERE run_id = ?", [run_id])
        names = (
            "feeds_total",
            "feeds_ok",
            "feeds_failed",
            "feeds_skipped",
            "new_articles",
            "articles_failed",
            "topic_matches",
            "figures",
        )
        counts = {k: row[k] for k in names}
        assert counts == {k: summary[k] for k in counts}
        assert row["status"] == summary["status"] == "partial"
        polls = Counter(r["status"] for r in polled.rows("SELECT status FROM feed_polls WHERE run_id = ?", [run_id]))
        assert summary["feeds_total"] == len(polled.urls) == sum(polls.values())
        assert summary["feeds_failed"] == polls["failed"]
        assert summary["feeds_skipped"] == polls["backoff"] == (0, len(BACKING_OFF))[n]
        mine = "FROM articles a WHERE a.run_id = ?"
        [stored] = polled.rows(f"SELECT count(*) AS n, count(fetch_error) AS failed {mine}", [run_id])
        assert (summary["new_articles"], summary["articles_failed"]) == (stored["n"], stored["failed"])
        [found] = polled.rows(
            "SELECT count(*) AS n FROM figure_mentions f JOIN articles a USING (article_id) WHERE a.run_id = ?",
            [run_id],
        )
        assert summary["figures"] == found["n"]
        errors = {e["feed_url"]: e["error"] for e in json.loads(row["errors"])}
        assert errors == {e["feed_url"]: e["error"] for e in summary["errors"]}
    first = polled.summaries[0]
    assert {e["feed_url"] for e in first["errors"]} == {polled.urls[n] for n in FAILING_FEEDS}
    for e in first["errors"]:
        name = next(n for n, u in polled.urls.items() if u == e["feed_url"])
        assert FAILING_FEEDS[name] in e["error"]
    blocked = len(polled.links) - 2  # all but file: and javascript:, which are skipped
    failed_pages = sum(1 for source, _ in PAGES.values() if source == "summary")
    assert first["articles_failed"] == blocked + failed_pages
    assert first["figures"] >= 1 and first["topic_matches"] >= 1


# --- size ---------------------------------------------------------------------------------------------------


def test_a_100000_item_feed_is_capped_fast_and_in_bounded_memory(hostile: hs.HostileServer, tmp_path: Path) -> None:
    cap = 20
    link = hostile.url(f"{P}/many")
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>many</title>'
        + "".join(f"<item><link>{link}?n={n}</link></item>" for n in range(100_000))
        + "</channel></rss>"
    ).encode()
    assert len(body) < fetch.FEED_MAX_BYTES  # under the byte cap: the item cap is what holds
    url = hostile.route(f"{P}/many.rss", feed_route(body))
    hostile.route(f"{P}/many", hs.static(undated("One of many"), content_type="text/html"))
    config = write_config(tmp_path, [url])
    config.write_text(config.read_text().replace("[fetch]", f"[fetch]\nmax_items_per_feed = {cap}"))

    started = time.monotonic()
    summary = monitor_run(config)
    seconds = time.monotonic() - started
    assert seconds < 30  # uncapped, feedparser alone takes minutes on this feed
    assert (summary["new_articles"], summary["feeds_ok"]) == (cap, 1)
    assert hostile.hits(f"{P}/many") == cap
    with store.connect(tmp_path / "data" / "monitor.duckdb", read_only=True) as con:
        [(items, error)] = con.execute("SELECT items, error FROM feed_polls").fetchall()
    assert items == cap and f"{100_000 - cap} items beyond the cap of {cap} ignored" in error
    # parsing keeps only what it returns: the 6 MB body is not turned into 100,000 items
    tracemalloc.start()
    try:
        parsed = feeds.parse(body, url, max_items=cap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (len(parsed.entries), parsed.truncated) == (cap, 100_000 - cap)
    assert peak < 4 * MIB, peak


# --- bad input at the command line: one line, a way out, never a traceback ----------------------------------


def cli_error(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, args)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output.strip()


GOOD_TOPIC = "[[topics]]\nname = 'NK'\nquery = '\"North Korea\"'\n"


@pytest.mark.parametrize(
    "case",
    [
        "database-not-duckdb",
        "database-is-a-directory",
        "config-is-a-directory",
        "config-not-utf8",
        "config-not-toml",
        "unknown-topic",
        "bad-topic-query",
        "bad-sql",
    ],
)
def test_bad_input_is_a_clear_error_and_exit_2(tmp_path: Path, case: str) -> None:
    """One line naming the thing and the way out; a syntax error may add the lines that point at it."""
    config = tmp_path / "monitor.toml"
    db = tmp_path / "monitor.duckdb"
    config.write_text(f'database = "{db}"\n{GOOD_TOPIC}')
    args = ["-c", str(config), "run"]
    expect = [str(config)]
    if case == "database-not-duckdb":
        db.write_text("these are my notes, not a database\n")
        expect = [str(db), "not a news-monitor DuckDB database", "move this one away"]
    elif case == "database-is-a-directory":
        db.mkdir()
        expect = [str(db), "is a directory, not a database file", "Point `database` in monitor.toml"]
    elif case == "config-is-a-directory":
        config.unlink()
        config.mkdir()
        expect = [str(config), "cannot read the config file", "-c FILE"]
    elif case == "config-not-utf8":
        config.write_bytes(b"database = '\xff\xfe'\n")
        expect = [str(config), "not UTF-8", "Save it as UTF-8"]
    elif case == "config-not-toml":
        config.write_text("[fetch\ndeadline = 3\n")
        expect = [str(config), "not valid TOML", "line 1"]
    elif case == "unknown-topic":
        args = ["-c", str(config), "reprocess", "--topic", "Nope"]
        expect = [str(config), "no topic named 'Nope'", "'NK'"]
    elif case == "bad-topic-query":
        config.write_text(f'database = "{db}"\n[[topics]]\nname = "NK"\nquery = \'"North Korea" AND (\'\n')
        expect = [str(config), "topics[0].query", '"North Korea" AND (']
    elif case == "bad-sql":
        with store.open_for_write(db):
            pass
        args = ["-c", str(config), "sql", "SELEC * FROM runs"]
        expect = ["SQL error", 'syntax error at or near "SELEC"', "LINE 1: SELEC * FROM runs"]
    code, output = cli_error(args)
    # `monitor run` says what it starts on before it meets the database (issue 18): timestamped progress
    # lines, not part of the error
    output = "\n".join(line for line in output.splitlines() if not re.match(r"\d\d:\d\d:\d\d ", line))
    assert code == 2, output
    assert output.startswith("error: "), output
    if case not in ("bad-topic-query", "bad-sql"):
        assert "\n" not in output, output
    for words in expect:
        assert words in output, (words, output)
