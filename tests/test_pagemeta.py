"""pagemeta: the title, author, date and site name extraction asks for come out as trafilatura's own metadata step
gives them, and the page body is trafilatura's, whichever fields are asked for."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
import trafilatura

from monitor import articles, feeds, fetch, pagemeta
from tests.world import World

_BODY = (
    "<p>About 11,000 North Korean soldiers have been deployed to the Kursk region, the defence ministry said on "
    "Friday, citing intelligence from allies.</p>"
    "<p>Officials added that several hundred of them had been killed or wounded in the fighting since "
    "November, and that more troops were expected to follow in the coming weeks.</p>"
) * 3

# Pages written for these tests: each puts the metadata where a different kind of news site puts it.
PAGES = {
    "opengraph": (
        "<html lang='en'><head><title>Troops sent - The Daily Example</title>"
        "<meta property='og:title' content='Troops sent to Kursk'>"
        "<meta property='og:site_name' content='the daily example'>"
        "<meta name='author' content='Jane Reporter'>"
        "<meta property='article:published_time' content='2026-11-02T08:00:00Z'>"
        "<meta property='article:section' content='World'>"
        "<link rel='canonical' href='https://daily.example.com/world/troops'></head>"
        f"<body><article><h1>Troops sent to Kursk</h1>{_BODY}</article>"
        "<footer><a rel='license' href='https://creativecommons.org/licenses/by/4.0/'>CC BY</a></footer></body></html>"
    ),
    "json-ld": (
        "<html><head><title>Seoul says 1,000 killed</title>"
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
        '"headline":"Seoul says 1,000 killed","datePublished":"2026-10-30T10:00:00+09:00",'
        '"author":{"@type":"Person","name":"Kim Min-ji"},'
        '"publisher":{"@type":"Organization","name":"Example Herald"}}</script></head>'
        f"<body><main><h1>Seoul says 1,000 killed</h1>{_BODY}</main></body></html>"
    ),
    "byline-only": (
        "<html><head><title>Report from the front | frontnews.example.org</title>"
        "<meta name='author' content='staff'></head><body><div class='post'><h2>Report from the front</h2>"
        "<p class='byline'>By Olena Kovalenko</p><time datetime='2026-09-30'>30 September 2026</time>"
        f"{_BODY}<a href='/tag/kursk/'>Kursk</a><a href='/category/war/'>War</a></div></body></html>"
    ),
    "bare": f"<html><body><div>{_BODY}</div></body></html>",
    "twitter-site": (
        "<html><head><meta name='twitter:site' content='@examplewire'><title>Wire story</title>"
        "<link rel='canonical' href='/2026/11/wire-story'>"
        "<meta property='og:url' content='https://wire.example.net/2026/11/wire-story'></head>"
        f"<body><article>{_BODY}<p>Published 4 November 2026</p></article></body></html>"
    ),
}


def _trafilatura(page: str, url: str) -> dict[str, str | None] | None:
    doc = trafilatura.bare_extraction(
        page, url=url or None, with_metadata=True, include_comments=False, include_tables=True, deduplicate=False
    )
    if doc is None:
        return None
    return {k: getattr(doc, k) for k in ("text", "title", "author", "date", "sitename")}


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("url", ["https://news.example.com/a/1.html", ""])
def test_the_fields_asked_for_and_the_body_are_trafilaturas(name: str, url: str) -> None:
    page = PAGES[name]
    expected = _trafilatura(page, url)
    assert expected is not None and "11,000 North Korean soldiers" in str(expected["text"])
    for title, author, date in itertools.product((True, False), repeat=3):
        got = articles.extract(page.encode(), url, wanted=pagemeta.Wanted(title=title, author=author, date=date))
        assert got.outcome == "extracted"
        assert (got.text, got.sitename) == (expected["text"], expected["sitename"])
        assert got.title == (expected["title"] if title else None)
        assert got.author == (expected["author"] if author else None)
        assert got.date == (expected["date"] if date else None)


def test_the_pages_exercise_every_field() -> None:
    """The pages above are varied enough to say something: each field is found on some page, and differs."""
    found = [_trafilatura(page, "") for page in PAGES.values()]
    for field in ("title", "author", "date", "sitename"):
        values = {f[field] for f in found if f is not None and f[field]}
        assert len(values) >= 3, (field, values)


@pytest.mark.parametrize("page", [b"", b"<html><body></body></html>", b"<p>a fragment</p>", b"just some text"])
def test_what_trafilatura_finds_nothing_in_is_nothing_whatever_is_asked(page: bytes) -> None:
    assert trafilatura.bare_extraction(page, with_metadata=True) is None
    assert articles.extract(page, "https://news.example.com/empty").outcome == "nothing"
    assert articles.extract(page, "", wanted=pagemeta.Wanted(False, False, False)).outcome == "nothing"


def test_what_the_feed_item_gives_is_kept_and_the_page_fills_in_the_rest(world: World) -> None:
    """An item with a title, author and date keeps them; an item without them gets the page's."""
    world.add("/meta/story", PAGES["json-ld"].encode(), "text/html; charset=utf-8")
    link = world.url("/meta/story")
    given = feeds.Entry(
        feed_url=world.url("/meta/feed.xml"),
        link=link,
        source_link=link,
        guid="given",
        title="The feed's title",
        summary="",
        published_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        author="The Feed's Author",
    )
    bare = feeds.Entry(
        feed_url=given.feed_url, link=link, source_link=link, guid="bare", title="", summary="", published_at=None
    )
    with fetch.Client(allow_networks=["127.0.0.0/8"]) as client, articles.Pools(workers=1) as pools:
        kept = articles.analyse(articles.fetch_page(client, given, fetch.ARTICLE_MAX_BYTES, pools), ())
        filled = articles.analyse(articles.fetch_page(client, bare, fetch.ARTICLE_MAX_BYTES, pools), ())
    assert (kept.title, kept.author, str(kept.published_at)) == (
        "The feed's title",
        "The Feed's Author",
        "2026-11-02 09:00:00+00:00",
    )
    assert (filled.title, filled.author, str(filled.published_at)[:10]) == (
        "Seoul says 1,000 killed",
        "Kim Min-ji",
        "2026-10-30",
    )
    assert kept.site_name == filled.site_name == "Example Herald"
    assert kept.text == filled.text and "11,000 North Korean soldiers" in kept.text
