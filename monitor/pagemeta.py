"""Extraction's metadata step: a page's title, author, date and site name as trafilatura finds them, if wanted.

`trafilatura.bare_extraction(..., with_metadata=True)` computes every field it knows: categories, tags and a
license too, which news-monitor never keeps, and the title, author and date even when the feed item already
gave them (a run keeps the feed's). Those parts cost about a sixth of extraction's CPU on real news pages
(the author search alone copies the page's whole tree). `find` takes the same steps as trafilatura's
`metadata.extract_metadata`, in its order and with its functions, for the fields asked for only: a field
asked for comes out exactly as trafilatura gives it (tests/test_articles.py compares the two on varied pages).
Should a trafilatura release rename one of those functions, `available()` is false and extraction asks
trafilatura for all its metadata again, as before.
"""

from __future__ import annotations

import contextlib
import functools
import html
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

# The functions of trafilatura.metadata (and htmldate's find_date) that `find` calls, in extract_metadata's order.
_STEPS = (
    "examine_meta",
    "extract_meta_json",
    "extract_title",
    "extract_author",
    "extract_url",
    "extract_sitename",
    "META_URL",
)


@dataclass(frozen=True, slots=True)
class Wanted:
    """The fields a run needs from the page; the site name is always wanted (a feed item has none)."""

    title: bool = True
    author: bool = True
    date: bool = True


EVERYTHING = Wanted()


@dataclass(frozen=True, slots=True)
class PageMeta:
    """The fields found, each None when not asked for or not on the page; `url` is the page's canonical URL
    (else the one it was fetched from), which trafilatura hands to its text extraction."""

    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    url: str | None


@functools.cache
def available() -> bool:
    """True when this trafilatura has every function `find` calls."""
    try:
        from trafilatura import metadata
        from trafilatura.settings import DEFAULT_CONFIG, set_date_params  # noqa: F401
    except ImportError:  # pragma: no cover - trafilatura is a dependency
        return False
    return all(hasattr(metadata, name) for name in _STEPS)


def find(tree: HtmlElement, url: str | None, wanted: Wanted = EVERYTHING) -> PageMeta:
    """The page's metadata, as `trafilatura.metadata.extract_metadata(tree, url)` gives it, for the fields wanted.

    Like trafilatura, it reads the tree without changing it (the author search works on a copy).
    """
    from htmldate import find_date
    from trafilatura import metadata as md
    from trafilatura.settings import DEFAULT_CONFIG, set_date_params

    found = md.examine_meta(tree)
    if found.author and " " not in found.author:  # trafilatura drops one-word authors from <meta>
        found.author = None
    with contextlib.suppress(Exception):  # trafilatura ignores its JSON-LD reader's bugs the same way
        found = md.extract_meta_json(tree, found)
    title = (found.title or md.extract_title(tree)) if wanted.title else None
    author = (found.author or md.extract_author(tree)) if wanted.author else None
    page_url = found.url or md.extract_url(tree, url)
    date = None
    if wanted.date:
        # what bare_extraction's default Extractor options hold
        params: dict[str, Any] = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
        params["url"] = page_url
        date = find_date(tree, **params)
    sitename = found.sitename or md.extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif page_url and (m := md.META_URL.match(page_url)):
        sitename = m[1]
    return PageMeta(
        title=_trimmed(title), author=_trimmed(author), date=_trimmed(date), sitename=_trimmed(sitename), url=page_url
    )


def _trimmed(value: str | None) -> str | None:
    """A field as trafilatura's Document.clean_and_trim leaves it."""
    from trafilatura.utils import line_processing

    if not isinstance(value, str):
        return value
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(html.unescape(value))
