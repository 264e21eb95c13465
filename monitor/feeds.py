"""Feeds: turn a fetched RSS/Atom body into entries with canonical links, GUIDs and dates."""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import logging
import pickle
import re
import resource
import subprocess
import sys
import threading
import time
import unicodedata
import xml.parsers.expat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from monitor import fetch
from monitor.errors import FeedError, FetchError

log = logging.getLogger(__name__)

# A body that is not well-formed XML sends feedparser to its loose parser: on 10 MB of unclosed tags that takes
# minutes of CPU and gigabytes. Such a body is parsed in a child process with these limits, two at a time.
FEED_PARSE_SECONDS = 20.0  # wall seconds
FEED_PARSE_MEMORY = 256 * 2**20  # bytes of address space (loosely parsing 8 MB of real items takes ~110 MB)
FEED_PARSE_AT_ONCE = 2
_parse_slots = threading.BoundedSemaphore(FEED_PARSE_AT_ONCE)
TITLE_MAX_CHARS = 1_000
SUMMARY_MAX_CHARS = 20_000
URL_MAX_CHARS = 2_000
GUID_MAX_CHARS = 1_000
FUTURE_TOLERANCE = timedelta(days=1)  # clock skew; a date further ahead is a feed's mistake, not news

# Query parameters that only track the reader; dropped so one story has one URL.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "ocid",
        "cmpid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "CMP",
        "ref_src",
        "smid",
        "smtyp",
        "taid",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "ga_", "pk_", "mtm_")

# The end of an RSS <item> or Atom <entry>, with or without a namespace prefix (<rss:item>, <atom:entry>).
_ITEM_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>", re.IGNORECASE)
# GUIDs that are URIs name one item everywhere; any other GUID ("123") is unique only within its feed.
# A numeric character reference, as feedparser's loose parser matches it.
_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]+|[0-9]+);")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_UNSAFE_IN_URL = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]')
_TAGS = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True, slots=True)
class Entry:
    feed_url: str
    link: str  # canonical URL of the article ("" when the item has none)
    source_link: str  # the link as the feed gave it
    guid: str
    title: str
    summary: str
    published_at: datetime | None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    url: str
    title: str
    entries: tuple[Entry, ...]
    skipped: int  # items without a usable link
    truncated: int  # items beyond the per-feed cap
    warning: str | None  # a recovered parse problem worth showing


def parse(
    body: bytes,
    url: str,
    *,
    content_type: str = "",
    content_location: str = "",
    final_url: str = "",
    max_items: int = 500,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse a feed body; raise FeedError when it is not RSS/Atom (HTML, empty, broken beyond repair).

    Args:
        content_type: the Content-Type header as sent, charset and all: a feed that names its charset
            only there ("application/rss+xml; charset=koi8-r") is decoded with it.
        content_location: the Content-Location header, if any; with ``final_url`` (where the fetch ended,
            else ``url``) it is the base of relative links, as feedparser uses them when it fetches itself.
    """
    now = now or datetime.now(UTC)
    media_type = content_type.split(";")[0].strip().lower()
    if not body.strip():
        raise FeedError(f"{url}: the feed is empty (0 bytes of content). Check the URL in monitor.toml.")
    head = body[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or (
        media_type == "text/html" and b"<rss" not in head and b"<feed" not in head and b"<rdf" not in head
    ):
        raise FeedError(
            f"{url}: got an HTML page, not RSS/Atom ({media_type or 'no content type'}). "
            "Fix the URL (look for the page's RSS link) or remove the feed in monitor.toml."
        )
    body, cut = _first_items(body, max_items)
    body = _valid_charrefs(body)
    base = _base_url(final_url or url, content_location)
    if not well_formed(body):
        return _parse_in_child(body, url, content_type, base, max_items, now, cut)
    return _parse_body(body, url, content_type, base, max_items, now, cut)


def well_formed(body: bytes) -> bool:
    """Whether expat reads the body as XML to its end (~5 ms per MB; entity bombs it refuses are not)."""
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def _parse_in_child(
    body: bytes, url: str, content_type: str, base: str, max_items: int, now: datetime, cut: int
) -> ParsedFeed:
    """_parse_body in a child process limited to FEED_PARSE_SECONDS and FEED_PARSE_MEMORY."""
    job = pickle.dumps((body, url, content_type, base, max_items, now, cut))
    with _parse_slots:
        try:
            done = subprocess.run(
                [sys.executable, "-c", "from monitor import feeds; feeds._child()"],
                input=job,
                capture_output=True,
                timeout=FEED_PARSE_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FeedError(
                f"{url}: the feed is not well-formed XML and needed more than {FEED_PARSE_SECONDS:g} s "
                "to parse; not read. Tell the publisher, or remove the feed in monitor.toml."
            ) from None
    if done.returncode == 0:
        outcome, value = pickle.loads(done.stdout)
        if outcome == "ok":
            parsed: ParsedFeed = value
            return parsed
        raise FeedError(value)
    if done.returncode == 3 or b"MemoryError" in done.stderr:
        raise FeedError(
            f"{url}: the feed is not well-formed XML and needed more than "
            f"{FEED_PARSE_MEMORY // 2**20} MiB to parse; not read. Tell the publisher, or remove the "
            "feed in monitor.toml."
        )
    last = (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"])[-1]
    raise FeedError(
        f"{url}: the feed is not well-formed XML and could not be parsed ({clean_text(last, 200)}). "
        "Tell the publisher, or remove the feed in monitor.toml."
    )


def _child() -> None:
    """The child of _parse_in_child: limits itself, reads the job on stdin, writes the outcome on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (FEED_PARSE_MEMORY, FEED_PARSE_MEMORY))
    cpu = int(FEED_PARSE_SECONDS) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    body, url, content_type, base, max_items, now, cut = pickle.loads(sys.stdin.buffer.read())
    try:
        outcome: tuple[str, object] = ("ok", _parse_body(body, url, content_type, base, max_items, now, cut))
    except FeedError as e:
        outcome = ("error", str(e))
    except MemoryError:
        sys.exit(3)
    sys.stdout.buffer.write(pickle.dumps(outcome))


def _parse_body(
    body: bytes, url: str, content_type: str, base: str, max_items: int, now: datetime, cut: int
) -> ParsedFeed:
    try:
        # A stream, never a URL or a path: feedparser would fetch a URL itself (no timeout, no address checks)
        # and open a body that happens to name a local file ("/etc/hosts") as that file.
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=_feedparser_headers(content_type, base, body),
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except MemoryError:  # over FEED_PARSE_MEMORY in _child: reported as such
        raise
    except Exception as e:  # its loose parser raises on some hostile input; one feed must not stop a run
        why = f"{type(e).__name__}: {clean_text(str(e), 200)}"
        raise FeedError(
            f"{url}: the feed could not be parsed ({why}). Tell the publisher, or remove the feed in monitor.toml."
        ) from None
    version = parsed.get("version") or ""
    items = parsed.entries
    if not version and not items:
        reason = _bozo_reason(parsed)
        raise FeedError(f"{url}: not an RSS/Atom feed ({reason}). Check that the URL serves a feed.")
    warning = None
    if parsed.get("bozo"):
        warning = f"feed is not well-formed ({_bozo_reason(parsed)}); {len(items)} items recovered"
    feed_title = clean_text(strip_html(parsed.feed.get("title") or ""), TITLE_MAX_CHARS)
    entries: list[Entry] = []
    skipped = 0
    seen: set[str] = set()
    for item in items[:max_items]:
        entry = _entry(item, url, base, now)
        if entry is None:
            skipped += 1
            continue
        key = entry.guid or entry.link
        if key in seen:  # duplicate GUIDs inside one feed: keep the first
            continue
        seen.add(key)
        entries.append(entry)
    if parsed.get("bozo") and not entries:
        raise FeedError(
            f"{url}: the feed is not well-formed and no item with a link could be recovered "
            f"({_bozo_reason(parsed)}). Tell the publisher, or remove the feed in monitor.toml."
        )
    return ParsedFeed(
        url=url,
        title=feed_title,
        entries=tuple(entries),
        skipped=skipped,
        truncated=cut + max(0, len(items) - max_items),
        warning=warning,
    )


def _base_url(url: str, content_location: str) -> str:
    """The base of the feed's relative links: its Content-Location (resolved against its URL), else its URL."""
    location = content_location.strip()
    if not location:
        return url
    try:
        joined = urljoin(url, location)
    except ValueError:  # "http://[oops/": the header is ignored, as feedparser ignores an unsafe one
        return url
    return joined if urlsplit(joined).scheme in ("http", "https") else url


def _feedparser_headers(content_type: str, base: str, body: bytes) -> dict[str, str]:
    """The response headers feedparser would have seen had it fetched the feed itself.

    The charset label is read as browsers read it ("shift_jis" is cp932, "euc-kr" cp949, "iso-8859-1"
    windows-1252): a label Python decodes more narrowly would send feedparser to its windows-1252 fallback.

    The feed's base goes in as Content-Location only when the feed uses xml:base: feedparser drops a relative
    xml:base it has no absolute base for, but given one it also resolves permalink GUIDs against it ("a-1"
    becoming "https://host/a-1", a new identity for items stored before). Without xml:base, _entry joins each
    link to the same base, which gives the link feedparser would.
    """
    # No Content-Type: feedparser, given other headers, would read the feed as ISO-8859-1 and flag it. An
    # XML media type keeps its default (the XML declaration's encoding, else UTF-8), as when given none.
    content_type = content_type.strip() or "application/xml"
    label = fetch.header_charset(content_type)
    codec = fetch.codec_for(label) if label else None
    if codec:
        content_type = f"{content_type.split(';')[0].strip()}; charset={codec}"
    headers = {"content-type": content_type}
    if b"xml:base" in body:
        headers["content-location"] = base
    return headers


def _valid_charrefs(body: bytes) -> bytes:
    """The body with character references to no character (&#xD800;, &#x110000;) turned into U+FFFD.

    feedparser's loose parser calls chr() on every reference and crashes on those.
    """
    if b"&#" not in body:
        return body

    def fix(match: re.Match[bytes]) -> bytes:
        ref = match.group(1)
        hexa = ref[:1] in (b"x", b"X")
        digits = ref[1:] if hexa else ref
        if len(digits) <= 8:
            n = int(digits, 16 if hexa else 10)
            if n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF:
                return match.group(0)
        return b"&#xFFFD;"

    return _CHARREF.sub(fix, body)


def _first_items(body: bytes, max_items: int) -> tuple[bytes, int]:
    """The body without the items after the first ``max_items``, and how many items were cut.

    feedparser builds every item of a feed (milliseconds and kilobytes each), so a 100,000-item feed
    would take minutes and a hundred megabytes to parse only to keep 500. Cutting the bytes between the
    last kept item and the document's tail keeps the feed well-formed; items in a character encoding
    this byte pattern cannot see (UTF-16) are parsed whole and capped afterwards.
    """
    ends = _ITEM_END.finditer(body)
    keep_end = last_end = -1
    n = 0
    for n, match in enumerate(ends, 1):
        if n == max_items:
            keep_end = match.end()
        last_end = match.end()
    if n <= max_items or keep_end < 0:
        return body, 0
    return body[:keep_end] + body[last_end:], n - max_items


def body_hash(body: bytes) -> str:
    """A digest of a feed body, so an unchanged feed is recognised without parsing it again."""
    return hashlib.sha256(body).hexdigest()


def canonical_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or case differences in scheme/host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    # Characters never valid in a URL (a raw space, quotes, angle brackets) percent-encoded, as browsers send
    # them; existing %XX escapes and non-ASCII letters (IRIs) are kept as they are.
    path = _UNSAFE_IN_URL.sub(lambda m: quote(m.group(0), safe=""), parts.path) or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def clean_text(value: object, limit: int) -> str:
    """Text safe to store: NFC, no control characters or lone surrogates, whitespace folded, capped."""
    if not isinstance(value, str):
        return ""
    # lone surrogates (from broken UTF-16 or \udcxx escapes) cannot be stored as UTF-8: they go with controls
    value = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    value = _SPACE.sub(" ", value)
    value = re.sub(r"\s*\n\s*", "\n", value).strip()
    return value[:limit]


def strip_html(value: str) -> str:
    """Feed summaries often carry markup; analysts and the figure extractor want the words."""
    return html.unescape(_TAGS.sub(" ", value))


def _entry(item: feedparser.FeedParserDict, feed_url: str, base: str, now: datetime) -> Entry | None:
    raw_link = item.get("link") or ""
    if not raw_link:
        for link in item.get("links", []):
            if link.get("href") and link.get("rel", "alternate") == "alternate":
                raw_link = link["href"]
                break
    raw_link = clean_text(raw_link, URL_MAX_CHARS)
    # A GUID is an item's link only when the feed says so (RSS isPermaLink, true by default), and feedparser
    # has then made it the item's link already; an isPermaLink="false" GUID or an Atom <id> is a name, not a page.
    guid = clean_text(item.get("id") or "", GUID_MAX_CHARS)
    try:
        joined = urljoin(base, raw_link) if raw_link else ""
    except ValueError:  # "http://[oops/" in the item or the feed's own link: judged as given
        joined = raw_link
    link = canonical_url(joined) if joined else ""
    if not link:
        return None
    title = clean_text(strip_html(item.get("title") or ""), TITLE_MAX_CHARS)
    summary_html = item.get("summary") or ""
    if not summary_html:
        for content in item.get("content", []):
            summary_html = content.get("value") or ""
            break
    summary = clean_text(strip_html(summary_html), SUMMARY_MAX_CHARS)
    return Entry(
        feed_url=feed_url,
        link=link,
        source_link=raw_link,
        guid=guid or link,
        title=title,
        summary=summary,
        published_at=_date(item, now),
        author=clean_text(item.get("author") or "", 300) or None,
    )


def _date(item: feedparser.FeedParserDict, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = item.get(key)
        if value:
            try:
                when = datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if when > now + FUTURE_TOLERANCE:
                log.debug("entry date %s is in the future; using the fetch time", when)
                return None
            if when.year < 1990:
                return None
            return when
    return None


def _bozo_reason(parsed: feedparser.FeedParserDict) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "no RSS or Atom elements found"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return clean_text(text, 200)


# --- polling -------------------------------------------------------------------------------------------

BACKOFF_AFTER = 3  # consecutive failures before a feed is polled less often
BACKOFF_BASE = timedelta(minutes=15)
BACKOFF_MAX = timedelta(hours=24)


PollStatus = Literal["ok", "not_modified", "unchanged", "failed", "backoff"]


@dataclass(frozen=True, slots=True)
class Poll:
    """What polling one feed did: its new validators and entries, or why it failed."""

    feed_url: str
    status: PollStatus
    polled_at: datetime
    entries: tuple[Entry, ...] = ()
    http_status: int | None = None
    error: str | None = None
    retryable: bool = False  # a timeout, reset or 5xx: worth another try in this run
    latency_ms: float | None = None
    bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    backoff_until: datetime | None = None
    title: str | None = None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "not_modified", "unchanged")


def poll(
    client: fetch.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    previous_hash: str | None = None,
    failures: int = 0,
    backoff_until: datetime | None = None,
    last_error: str | None = None,
    max_bytes: int | None = None,  # fetch.FEED_MAX_BYTES
    max_items: int = 500,
    now: datetime | None = None,
) -> Poll:
    """Poll one feed with a conditional GET; every failure becomes a Poll with a reason, never an exception.

    A feed backing off is not polled; its Poll says until when, and why (`last_error`, the failure that
    caused the back-off).
    """
    now = now or datetime.now(UTC)
    if backoff_until is not None and backoff_until > now:
        why = f" after: {last_error}" if last_error else ""
        return Poll(
            url,
            "backoff",
            now,
            error=f"backing off until {backoff_until:%Y-%m-%d %H:%M} UTC{why}",
            etag=etag,
            last_modified=last_modified,
            body_hash=previous_hash,
            backoff_until=backoff_until,
        )
    started = time.monotonic()
    try:
        response = client.get(
            url,
            max_bytes=fetch.FEED_MAX_BYTES if max_bytes is None else max_bytes,
            etag=etag,
            last_modified=last_modified,
            accept="application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        )
    except FetchError as e:
        return _failed(
            url,
            now,
            e.reason,
            started,
            failures,
            e.retryable,
            e.status,
            e.retry_after,
            etag,
            last_modified,
            previous_hash,
        )
    latency = (time.monotonic() - started) * 1000
    common = {
        "http_status": response.status,
        "latency_ms": latency,
        "bytes": len(response.body),
        "etag": response.etag or etag,
        "last_modified": response.last_modified or last_modified,
    }
    if response.not_modified:
        return Poll(url, "not_modified", now, body_hash=previous_hash, **common)  # type: ignore[arg-type]
    digest = body_hash(response.body)
    if digest == previous_hash:
        # A server that ignores conditional headers: same bytes, nothing to parse.
        return Poll(url, "unchanged", now, body_hash=digest, **common)  # type: ignore[arg-type]
    try:
        parsed = parse(
            response.body,
            url,
            content_type=response.content_type_header,
            content_location=response.headers.get("content-location", ""),
            final_url=response.url,
            max_items=max_items,
            now=now,
        )
    except FeedError as e:
        return _failed(
            url,
            now,
            str(e).removeprefix(f"{url}: "),
            started,
            failures,
            False,
            response.status,
            None,
            etag,
            last_modified,
            previous_hash,
        )
    notes = [parsed.warning] if parsed.warning else []
    if parsed.skipped:  # file:, javascript:, mailto: or no link at all: nothing we may fetch or store
        notes.append(f"{parsed.skipped} items without an http(s) link skipped")
    if parsed.truncated:
        notes.append(f"{parsed.truncated} items beyond the cap of {max_items} ignored")
    warning = "; ".join(notes) or None
    return Poll(url, "ok", now, entries=parsed.entries, body_hash=digest, title=parsed.title, warning=warning, **common)  # type: ignore[arg-type]


def _failed(
    url: str,
    now: datetime,
    reason: str,
    started: float,
    failures: int,
    retryable: bool,
    status: int | None,
    retry_after: float | None,
    etag: str | None,
    last_modified: str | None,
    previous_hash: str | None,
) -> Poll:
    until = None
    if retry_after is not None:
        until = now + timedelta(seconds=retry_after)
    elif failures + 1 >= BACKOFF_AFTER:
        until = now + min(BACKOFF_BASE * 2 ** (failures + 1 - BACKOFF_AFTER), BACKOFF_MAX)
    return Poll(
        url,
        "failed",
        now,
        http_status=status,
        error=reason,
        retryable=retryable and retry_after is None,
        latency_ms=(time.monotonic() - started) * 1000,
        etag=etag,
        last_modified=last_modified,
        body_hash=previous_hash,
        backoff_until=until,
    )
