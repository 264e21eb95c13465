"""Feeds: RSS 2.0, Atom and RDF from bytes; canonical links; dates; what is not a feed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor import feeds
from monitor.errors import FeedError

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


@pytest.mark.parametrize(("body", "ctype", "message"), [
    (b"", "", "empty"),
    (b"   \n", "application/rss+xml", "empty"),
    (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html", "HTML page"),
    (b"<html><head></head></html>", "application/xml", "HTML page"),
    (b"just some words", "text/plain", "not an RSS/Atom feed"),
    (b"<rss><channel><item><title>cut", "application/rss+xml", "not well-formed"),
])
def test_not_a_feed_is_a_clear_feed_error(body: bytes, ctype: str, message: str) -> None:
    with pytest.raises(FeedError, match=message) as err:
        feeds.parse(body, "https://x.test/feed", content_type=ctype)
    assert str(err.value).startswith("https://x.test/feed: ")


@pytest.mark.parametrize(("url", "canonical"), [
    ("HTTPS://News.Test:443/a/b?utm_medium=x&fbclid=1&q=2#frag", "https://news.test/a/b?q=2"),
    ("http://news.test:8080", "http://news.test:8080/"),
    ("javascript:alert(1)", ""),
    ("file:///etc/passwd", ""),
    ("http://[::1]:99/x", "http://[::1]:99/x"),
])
def test_canonical_url(url: str, canonical: str) -> None:
    assert feeds.canonical_url(url) == canonical


def test_clean_text_removes_controls_and_surrogates() -> None:
    assert feeds.clean_text("a\x00b\ud800c\r\n\n d\u200b", 100) == "a b c\nd\u200b"
    assert feeds.clean_text("x" * 50, 10) == "x" * 10
    assert feeds.clean_text(None, 10) == ""
