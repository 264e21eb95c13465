"""Feeds: RSS 2.0, Atom and RDF from bytes; canonical links; dates; what is not a feed."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest

from monitor import feeds, fetch
from monitor.errors import FeedError
from tests.world import World

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test World</title><link>https://news.test/</link>
<item><title>Troops &amp; tanks</title><link>https://news.test/a?utm_source=rss&amp;id=7#top</link>
<guid>a-1</guid><pubDate>Tue, 26 Nov 2026 08:00:00 GMT</pubDate>
<description>&lt;p&gt;About &lt;b&gt;1,500&lt;/b&gt; soldiers.&lt;/p&gt;</description></item>
<item><title>Relative</title><link>/b</link><pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate></item>
<item><title>No link at all</title></item>
<item><title>Duplicate</title><link>https://news.test/a2</link><guid>a-1</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom World</title><id>urn:x</id><updated>2026-11-26T00:00:00Z</updated>
<entry><title>Über Kursk</title><link rel="alternate" href="https://atom.test/x"/><id>urn:x:1</id>
<updated>2026-11-25T10:00:00+02:00</updated><summary>Summary text</summary></entry>
</feed>""".encode()


def test_rss_entries_are_canonical_clean_and_deduplicated() -> None:
    parsed = feeds.parse(RSS, "https://news.test/rss", now=NOW)
    assert parsed.title == "Test World"
    assert [e.link for e in parsed.entries] == ["https://news.test/a?id=7", "https://news.test/b"]
    first = parsed.entries[0]
    assert first.title == "Troops & tanks" and first.guid == "a-1"
    assert first.summary == "About 1,500 soldiers."
    assert first.published_at == datetime(2026, 11, 26, 8, tzinfo=UTC)
    assert parsed.entries[1].published_at is None  # a date years ahead is the feed's mistake
    assert parsed.skipped == 1  # the item without a link


def test_atom_entry() -> None:
    (entry,) = feeds.parse(ATOM, "https://atom.test/feed").entries
    assert entry.link == "https://atom.test/x" and entry.title == "Über Kursk" and entry.guid == "urn:x:1"
    assert entry.published_at == datetime(2026, 11, 25, 8, tzinfo=UTC)


def test_items_beyond_the_cap_are_counted_not_parsed() -> None:
    items = "".join(f"<item><link>https://n.test/{i}</link></item>" for i in range(30))
    parsed = feeds.parse(f"<rss version='2.0'><channel>{items}</channel></rss>".encode(), "u", max_items=10)
    assert len(parsed.entries) == 10 and parsed.truncated == 20


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b"", "", "empty"),
        (b"   \n", "application/rss+xml", "empty"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html", "HTML page"),
        (b"<html><head></head></html>", "application/xml", "HTML page"),
        (b"just some words", "text/plain", "not an RSS/Atom feed"),
        (b"<rss><channel><item><title>cut", "application/rss+xml", "not well-formed"),
    ],
)
def test_not_a_feed_is_a_clear_feed_error(body: bytes, ctype: str, message: str) -> None:
    with pytest.raises(FeedError, match=message) as err:
        feeds.parse(body, "https://x.test/feed", content_type=ctype)
    assert str(err.value).startswith("https://x.test/feed: ")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://News.Test:443/a/b?utm_medium=x&fbclid=1&q=2#frag", "https://news.test/a/b?q=2"),
        ("http://news.test:8080", "http://news.test:8080/"),
        ("javascript:alert(1)", ""),
        ("file:///etc/passwd", ""),
        ("http://[::1]:99/x", "http://[::1]:99/x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert feeds.canonical_url(url) == canonical


def test_clean_text_removes_controls_and_surrogates() -> None:
    assert feeds.clean_text("a\x00b\ud800c\r\n\n d\u200b", 100) == "a b c\nd\u200b"
    assert feeds.clean_text("x" * 50, 10) == "x" * 10
    assert feeds.clean_text(None, 10) == ""


# --- feeds as other projects' test suites write them, compared with bare feedparser on the same bytes ---------

MARKUP = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example <b>Atom</b></div></title>
<id>urn:markup</id><updated>2026-11-20T00:00:00Z</updated>
<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example <i>entry</i> one</div></title>
<link href="https://m.test/1"/><id>urn:markup:1</id><updated>2026-11-20T00:00:00Z</updated></entry>
<entry><title type="html">Example &lt;b&gt;entry&lt;/b&gt; two</title>
<link href="https://m.test/2"/><id>urn:markup:2</id><updated>2026-11-20T00:00:00Z</updated></entry>
<entry><title type="html">History of the &amp;lt;blink&amp;gt; tag</title>
<link href="https://m.test/3"/><id>urn:markup:3</id><updated>2026-11-20T00:00:00Z</updated></entry>
</feed>"""

MARKUP_RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title><![CDATA[Example <b>RSS</b> channel]]></title><link>https://m.test/</link><description>d</description>
<item><title><![CDATA[Example <b>RSS</b> item]]></title><link>https://m.test/4</link></item>
</channel></rss>"""


def _bare(body: bytes, headers: dict[str, str] | None = None) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(body), response_headers=headers)


@pytest.mark.parametrize("body", [MARKUP, MARKUP_RSS], ids=["atom", "rss"])
def test_titles_with_markup_are_stored_as_text(body: bytes) -> None:
    parsed = feeds.parse(body, "https://m.test/feed")
    bare = _bare(body)
    assert "<b>" in bare.feed.title  # feedparser hands over the markup ...
    assert parsed.title in ("Example Atom", "Example RSS channel")  # ... we store the words
    for ours, theirs in zip(parsed.entries, bare.entries, strict=True):
        assert "<" not in ours.title.replace("<blink>", "")
        assert ours.title == feeds.clean_text(feeds.strip_html(theirs.title), feeds.TITLE_MAX_CHARS)
    assert [e.title for e in parsed.entries][:3] in (
        ["Example entry one", "Example entry two", "History of the <blink> tag"],
        ["Example RSS item"],
    )


RELATIVE = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Relative</title><link>https://home.test/</link><description>d</description>
<item><title>One</title><link>stories/1</link><guid isPermaLink="false">r-1</guid></item>
<item><title>Two</title><link>/top/2</link><guid isPermaLink="false">r-2</guid></item>
</channel></rss>"""

XML_BASE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="archive/"><title>Base</title><id>urn:b</id>
<updated>2026-11-20T00:00:00Z</updated>
<entry xml:base="2026/"><title>Three</title><link href="3.html"/><id>urn:b:3</id>
<updated>2026-11-20T00:00:00Z</updated></entry>
<entry xml:base="https://elsewhere.test/x/"><title>Four</title><link href="4"/><id>urn:b:4</id>
<updated>2026-11-20T00:00:00Z</updated></entry>
</feed>"""


@pytest.mark.parametrize(
    ("body", "location", "expected"),
    [
        (RELATIVE, None, ["/feeds/stories/1", "/top/2"]),  # the feed URL, not the channel's <link>
        (RELATIVE, "/syndication/all.rss", ["/syndication/stories/1", "/top/2"]),
        (RELATIVE, "https://cdn.test/rss/x.xml", ["https://cdn.test/rss/stories/1", "https://cdn.test/top/2"]),
        (XML_BASE, "/syndication/all.atom", ["/syndication/archive/2026/3.html", "https://elsewhere.test/x/4"]),
        (XML_BASE, None, ["/feeds/archive/2026/3.html", "https://elsewhere.test/x/4"]),
    ],
)
def test_relative_links_are_resolved_with_the_feeds_base_as_feedparser_does(
    world: World, body: bytes, location: str | None, expected: list[str]
) -> None:
    path = f"/feeds/{hashlib.sha1(body + str(location).encode()).hexdigest()[:12]}.xml"
    url = world.add(path, body, "application/xml", headers={"Content-Location": location} if location else {})
    with fetch.Client(allow_networks=["127.0.0.0/8"]) as client:
        poll = feeds.poll(client, url)
    assert poll.status == "ok", poll.error
    links = [e.link for e in poll.entries]
    assert links == [x if x.startswith("https:") else world.url(x) for x in expected]
    # bare feedparser, had it fetched the feed itself, would know the URL and the Content-Location header
    bare = _bare(body, {"content-location": urljoin(url, location or "")})
    assert links == [feeds.canonical_url(e.link) for e in bare.entries]
    assert poll.entries[0].guid in ("r-1", "urn:b:3")  # GUIDs stay as written


PERMALINKS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>GUIDs</title><link>https://g.test/</link><description>d</description>
<item><title>Not a permalink, no link</title><guid isPermaLink="false">https://g.test/internal/1</guid></item>
<item><title>Not a permalink, a link</title><link>https://g.test/story/2</link>
<guid isPermaLink="false">https://g.test/internal/2</guid></item>
<item><title>A permalink</title><guid>https://g.test/story/3</guid></item>
<item><title>A permalink said so</title><guid isPermaLink="true">https://g.test/story/4</guid></item>
</channel></rss>"""

ATOM_ID = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<id>urn:a</id><updated>2026-11-20T00:00:00Z</updated>
<entry><title>Only an id</title><id>https://g.test/id/5</id><updated>2026-11-20T00:00:00Z</updated></entry>
</feed>"""


def test_a_guid_that_is_not_a_permalink_is_never_the_link() -> None:
    parsed = feeds.parse(PERMALINKS, "https://g.test/rss")
    assert [(e.title, e.link, e.guid) for e in parsed.entries] == [
        ("Not a permalink, a link", "https://g.test/story/2", "https://g.test/internal/2"),
        ("A permalink", "https://g.test/story/3", "https://g.test/story/3"),
        ("A permalink said so", "https://g.test/story/4", "https://g.test/story/4"),
    ]
    assert parsed.skipped == 1  # the item whose only URL is a GUID that is not its address
    assert [e.get("link") for e in _bare(PERMALINKS).entries] == [None, *(e.link for e in parsed.entries)]
    # an Atom entry with no <link> but an http <id>: feedparser makes the id its link, and so do we
    (atom,) = feeds.parse(ATOM_ID, "https://g.test/atom").entries
    assert atom.link == _bare(ATOM_ID).entries[0].link == "https://g.test/id/5"


SPACES = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Spaces</title><link>https://s.test/</link><description>d</description>
<item><title>Raw space</title><link>https://s.test/news/a story.html?q=north korea</link></item>
<item><title>Escaped already</title><link>https://s.test/news/b%20story.html</link></item>
</channel></rss>"""


def test_a_raw_space_in_a_link_is_percent_encoded() -> None:
    parsed = feeds.parse(SPACES, "https://s.test/rss")
    assert [e.link for e in parsed.entries] == [
        "https://s.test/news/a%20story.html?q=north+korea",
        "https://s.test/news/b%20story.html",
    ]
    assert parsed.entries[0].source_link == "https://s.test/news/a story.html?q=north korea"  # as the feed gave it
    assert _bare(SPACES).entries[0].link == parsed.entries[0].source_link  # feedparser keeps it raw


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://s.test/a b", "https://s.test/a%20b"),
        ('https://s.test/<x>"y"', "https://s.test/%3Cx%3E%22y%22"),
        ("https://s.test/%E2%82%AC/%20", "https://s.test/%E2%82%AC/%20"),
        ("https://s.test/новости/1", "https://s.test/новости/1"),  # an IRI: kept as written, as stored before
    ],
)
def test_canonical_url_encodes_only_what_is_never_valid(url: str, canonical: str) -> None:
    assert feeds.canonical_url(url) == canonical


def test_a_body_that_names_a_local_file_is_parsed_as_the_body(tmp_path: Path) -> None:
    local = tmp_path / "feed.xml"
    local.write_bytes(RSS)  # feedparser given these bytes would open the path and parse that file
    with pytest.raises(FeedError, match="not an RSS/Atom feed"):
        feeds.parse(str(local).encode(), "https://x.test/feed")
