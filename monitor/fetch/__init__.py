"""Fetch: the one guarded way out to the network, for feeds and articles alike.

Feeds are written by strangers, so every URL is hostile until proven otherwise. The guard:
http/https only and no userinfo; every address checked after DNS, at connect time, on every
redirect hop (so odd spellings like ``http://2130706433/`` and DNS rebinding are caught) against
non-public ranges; a total deadline per request; bodies capped after decompression (gzip bombs
stop at the cap); no proxies or .netrc from the environment; TLS always verified.

The package: ``client`` (URL checks, redirects, errors, the Client), ``guard`` (address checks at
connect time, deadline-bounded sockets), ``wire`` (HTTP/1.1 exchanges on http.client, kept-alive
connections), ``decode`` (bounded decompression and caps),
``charset`` (a body's character encoding: BOM, Content-Type charset, <meta>, as browsers read them).
Callers use only the names below: ``from monitor import fetch`` → ``fetch.Client(...)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The character-set helpers need nothing else and are loaded at once: the extraction processes use them.
from monitor.fetch.charset import META_SCAN_BYTES, Sniffed, codec_for, decode_html, header_charset, sniff_html

if TYPE_CHECKING:
    from monitor.fetch.client import (
        ALLOWED_SCHEMES,
        ARTICLE_MAX_BYTES,
        CONNECT_TIMEOUT,
        DEADLINE,
        DEFAULT_LIMITS,
        FEED_MAX_BYTES,
        MAX_REDIRECTS,
        READ_TIMEOUT,
        REDIRECT_STATUSES,
        RETRY_AFTER_DEFAULT,
        RETRY_AFTER_MAX,
        USER_AGENT,
        Client,
        Limits,
        Response,
        check_url,
        parse_retry_after,
    )
    from monitor.fetch.decode import ACCEPT_ENCODING, MAX_ENCODINGS
    from monitor.fetch.guard import non_public_reason

# The rest is loaded on first use (PEP 562): it brings httpx (for URLs) and its dependencies (~18 MB), which a process
# that only extracts pages never needs (the extraction processes import this package for decode_html).
_LAZY = {
    **dict.fromkeys(
        [
            "ALLOWED_SCHEMES",
            "ARTICLE_MAX_BYTES",
            "CONNECT_TIMEOUT",
            "DEADLINE",
            "DEFAULT_LIMITS",
            "FEED_MAX_BYTES",
            "MAX_REDIRECTS",
            "READ_TIMEOUT",
            "REDIRECT_STATUSES",
            "RETRY_AFTER_DEFAULT",
            "RETRY_AFTER_MAX",
            "USER_AGENT",
            "Client",
            "Limits",
            "Response",
            "check_url",
            "parse_retry_after",
        ],
        "client",
    ),
    "ACCEPT_ENCODING": "decode",
    "MAX_ENCODINGS": "decode",
    "non_public_reason": "guard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # looked up once
    return value


__all__ = [
    "ACCEPT_ENCODING",
    "ALLOWED_SCHEMES",
    "ARTICLE_MAX_BYTES",
    "CONNECT_TIMEOUT",
    "DEADLINE",
    "DEFAULT_LIMITS",
    "FEED_MAX_BYTES",
    "MAX_ENCODINGS",
    "MAX_REDIRECTS",
    "META_SCAN_BYTES",
    "READ_TIMEOUT",
    "REDIRECT_STATUSES",
    "RETRY_AFTER_DEFAULT",
    "RETRY_AFTER_MAX",
    "USER_AGENT",
    "Client",
    "Limits",
    "Response",
    "Sniffed",
    "check_url",
    "codec_for",
    "decode_html",
    "header_charset",
    "non_public_reason",
    "parse_retry_after",
    "sniff_html",
]
