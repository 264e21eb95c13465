"""Fetch, the charset: which character encoding a body is in — its BOM, the Content-Type header, a <meta>.

Encoding labels are read as the WHATWG Encoding Standard reads them, so a page or feed labelled
"iso-8859-1", "shift_jis", "euc-kr" or "gb2312" decodes as browsers decode it (windows-1252, cp932,
cp949, gb18030: the supersets servers really send), and pages follow the HTML standard's order:
a byte order mark, then the header's charset, then a <meta charset> near the top of the page.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# The scan for <meta charset> stops here. The HTML standard's prescan reads 1,024 bytes; real pages put
# the tag after long <script> and <link> blocks, and a tag found further down is still the page's word,
# better than the statistical guess that is the only alternative.
META_SCAN_BYTES = 4096

# WHATWG labels whose encoding Python names differently or decodes more narrowly. Anything else is looked
# up with codecs.lookup (utf-8, koi8-r, windows-1251, iso-8859-2, euc-jp ... are the same in both).
WHATWG_CODECS = {
    # Latin-1 and ASCII labels mean windows-1252: browsers decode 0x80-0x9F as “smart quotes”, not controls.
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "cp819": "cp1252",
    "ibm819": "cp1252",
    "iso-ir-100": "cp1252",
    "iso_8859-1:1987": "cp1252",
    "csisolatin1": "cp1252",
    "x-cp1252": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso8859-9": "cp1254",
    "l5": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "dos-874": "cp874",
    "iso-8859-8-i": "iso8859_8",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-ukrainian": "mac_cyrillic",
    "macintosh": "mac_roman",
    "mac": "mac_roman",
    "x-mac-roman": "mac_roman",
    # CJK: the Windows supersets, which is what "Shift_JIS", "EUC-KR" and "GB2312" servers really send.
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "csshiftjis": "cp932",
    "ms932": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "korean": "cp949",
    "windows-949": "cp949",
    "cseuckr": "cp949",
    "iso-ir-149": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-ir-58": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    # "utf-16" without a BOM is little-endian on the web.
    "utf-16": "utf-16-le",
    "unicode": "utf-16-le",
    "ucs-2": "utf-16-le",
    "csunicode": "utf-16-le",
    "iso-10646-ucs-2": "utf-16-le",
    "unicodefeff": "utf-16-le",
    "unicodefffe": "utf-16-be",
    "unicode-1-1-utf-8": "utf-8",
    "unicode11utf8": "utf-8",
    "unicode20utf8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "utf8": "utf-8",
}
# Labels the web does not decode (the WHATWG "replacement" encodings, UTF-7) or Python decodes as something
# else than a page's text (idna, punycode, escapes).
_REFUSED = frozenset(
    {
        "utf_7",
        "idna",
        "punycode",
        "raw_unicode_escape",
        "unicode_escape",
        "undefined",
        "iso2022_kr",
        "hz",
        "mbcs",
        "oem",
    }
)

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"))
_PARAM_CHARSET = re.compile(r"""(?:^|;)\s*charset\s*=\s*(?:"([^"]*)"|([^\s;"]*))""", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)
_META = re.compile(rb"<meta\b([^>]*)>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""(?:^|[\s/])charset\s*=\s*["']?\s*([^\s"'/>;]+)""", re.IGNORECASE)
_HTTP_EQUIV = re.compile(rb"""(?:^|\s)http-equiv\s*=\s*["']?\s*content-type\b""", re.IGNORECASE)
_CONTENT = re.compile(rb"""(?:^|\s)content\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A body's encoding as a Python codec name, and where it was declared."""

    codec: str
    source: str  # bom | header | meta


def codec_for(label: str) -> str | None:
    """The Python codec that decodes text labelled ``label`` as browsers do; None for an unknown label."""
    name = label.strip().strip("\"'").lower()
    if not name:
        return None
    if name in WHATWG_CODECS:
        return WHATWG_CODECS[name]
    try:
        info = codecs.lookup(name)
        b"a".decode(info.name)  # rot13, base64, zlib ... are codecs too, but not text encodings: LookupError
    except (LookupError, ValueError):
        return None
    if info.name.replace("-", "_") in _REFUSED:
        return None
    return info.name


def header_charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header as given ("koi8-r"), or None."""
    _, _, params = content_type.partition(";")
    match = _PARAM_CHARSET.search(";" + params)
    if not match:
        return None
    label = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    return label or None


def meta_charset(html: bytes) -> str | None:
    """The charset a page declares in a <meta charset> or <meta http-equiv="Content-Type"> near its top."""
    head = _COMMENT.sub(b"", html[:META_SCAN_BYTES])
    for tag in _META.finditer(head):
        attrs = tag.group(1)
        found = _META_CHARSET.search(attrs)  # <meta charset="x">
        if found:
            return found.group(1).decode("ascii", "replace")
        content = _CONTENT.search(attrs)  # <meta http-equiv="Content-Type" content="text/html; charset=x">
        if content and _HTTP_EQUIV.search(attrs):
            value = next(g for g in content.groups() if g is not None)
            label = header_charset(value.decode("ascii", "replace"))
            if label:
                return label
    return None


def sniff_html(body: bytes, content_type: str) -> Sniffed | None:
    """The encoding of an HTML page, in the HTML standard's order: BOM, header charset, <meta>.

    None when the page declares none that Python can decode: the caller guesses then.
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return Sniffed(bom_codec, "bom")
    label = header_charset(content_type)
    codec = codec_for(label) if label else None
    if codec:
        return Sniffed(codec, "header")
    label = meta_charset(body)
    codec = codec_for(label) if label else None
    if codec:
        # The standard: a <meta> saying UTF-16 is wrong by construction (it was read as ASCII), so UTF-8.
        return Sniffed("utf-8" if codec.startswith("utf-16") else codec, "meta")
    return None


def decode_html(body: bytes, content_type: str) -> str | bytes:
    """The page as text when its encoding is declared (BOM, header or <meta>); else the bytes unchanged,
    for the extractor to detect. Bytes the declared encoding cannot decode become U+FFFD."""
    sniffed = sniff_html(body, content_type)
    if sniffed is None:
        return body
    start = 3 if sniffed.codec == "utf-8" and body.startswith(codecs.BOM_UTF8) else 0
    if sniffed.source == "bom" and sniffed.codec.startswith("utf-16"):
        start = 2
    return body[start:].decode(sniffed.codec, "replace")
