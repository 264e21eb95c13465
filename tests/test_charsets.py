"""Charsets: feeds and pages that name their encoding only in the HTTP Content-Type header, served from
127.0.0.1, stored as the text they were written in; a page's encoding read in the HTML standard's order."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from monitor import articles, cli, feeds, fetch
from tests.charset_samples import REQUIRED, SAMPLES, Sample
from tests.pipeline_fixtures import write_config
from tests.world import World

PREFIX = "/charsets"


def serve(world: World, sample: Sample, prefix: str = PREFIX) -> str:
    """Serve the sample's page and feed with the charset in the header only; returns the feed URL."""
    page_url = world.add(f"{prefix}/news/{sample.slug}", sample.page(), sample.content_type("text/html"))
    return world.add(f"{prefix}/{sample.slug}.xml", sample.feed(page_url), sample.content_type(sample.media_type))


@pytest.fixture(scope="module")
def client() -> Iterator[fetch.Client]:
    with fetch.Client(allow_networks=["127.0.0.0/8"]) as c:
        yield c


def test_the_samples_cover_the_issues_charsets_and_name_them_only_in_the_header() -> None:
    assert set(REQUIRED) <= {s.label for s in SAMPLES}
    for s in SAMPLES:
        page, feed = s.page(), s.feed("http://127.0.0.1/x")
        assert b"charset" not in page.lower() and b"encoding" not in feed.lower()
        assert page.decode(s.codec) and not _is_utf8(page)  # really in the legacy encoding


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_the_response_keeps_the_headers_charset(world: World, client: fetch.Client) -> None:
    url = world.add(f"{PREFIX}/ctype", b"<p>x</p>", 'text/html; charset="KOI8-R"')
    response = client.get(url, max_bytes=1000)
    assert response.content_type == "text/html"  # the media type, as before
    assert response.content_type_header == 'text/html; charset="KOI8-R"'
    assert response.charset == "KOI8-R"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.label)
def test_feed_with_the_charset_only_in_the_header(world: World, client: fetch.Client, sample: Sample) -> None:
    url = serve(world, sample)
    poll = feeds.poll(client, url)
    assert poll.status == "ok", poll.error
    assert poll.warning is None  # read as declared: no "declared as utf-8, parsed as windows-1252"
    assert poll.title == sample.feed_title
    (entry,) = poll.entries
    assert (entry.title, entry.summary) == (sample.title, sample.summary)
    # bare feedparser, given the same bytes and header, reads the same
    header = world.routes[url.removeprefix(world.base)].content_type
    bare = feedparser.parse(
        io.BytesIO(world.routes[url.removeprefix(world.base)].body), response_headers={"content-type": header}
    )
    assert bare.entries[0].title == entry.title and bare.feed.title == poll.title


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.label)
def test_page_with_the_charset_only_in_the_header(world: World, client: fetch.Client, sample: Sample) -> None:
    url = serve(world, sample)
    (entry,) = feeds.poll(client, url).entries
    with articles.Pools(workers=1) as pools:
        page = articles.fetch_page(client, entry, fetch.ARTICLE_MAX_BYTES, pools)
    assert page.content_type == sample.content_type("text/html")  # the header as sent reaches extraction
    article = articles.analyse(page, ())
    assert article.fetch_error is None
    assert article.text_source == "extracted"
    assert article.text == sample.text


# --- the order a page's encoding is read in: BOM, header, <meta> ---------------------------------------------

RU = (
    "Спасатели вывезли жителей трёх прибрежных сёл в школу районного центра, где для них развернули пункт.",
    "Синоптики ожидают, что уровень воды начнёт снижаться не раньше пятницы, а дороги откроют в субботу.",
)


def _page(meta: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>t</title></head><body><article>"
        f"<p>{RU[0]}</p><p>{RU[1]}</p></article></body></html>"
    )


@pytest.mark.parametrize(
    ("raw", "header", "source", "codec"),
    [
        (
            codecs.BOM_UTF8 + _page('<meta charset="koi8-r">').encode(),
            "text/html; charset=windows-1251",
            "bom",
            "utf-8",
        ),
        (codecs.BOM_UTF16_LE + _page().encode("utf-16-le"), "text/html; charset=koi8-r", "bom", "utf-16-le"),
        (_page('<meta charset="windows-1251">').encode("koi8-r"), "text/html; charset=koi8-r", "header", "koi8-r"),
        (_page('<meta charset="koi8-r">').encode("koi8-r"), "text/html", "meta", "koi8-r"),
        (
            _page('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">').encode("koi8-r"),
            "text/html",
            "meta",
            "koi8-r",
        ),
        (_page('<meta charset="koi8-r">').encode("koi8-r"), "text/html; charset=no-such-thing", "meta", "koi8-r"),
        (_page("<!-- <meta charset=koi8-r> --><meta charset=windows-1251>").encode("cp1251"), "", "meta", "cp1251"),
    ],
)
def test_a_pages_encoding_is_read_as_browsers_read_it(
    world: World, client: fetch.Client, raw: bytes, header: str, source: str, codec: str
) -> None:
    url = world.add(f"{PREFIX}/order/{source}-{codec}-{abs(hash(raw))}", raw, header or "text/html")
    response = client.get(url, max_bytes=100_000)
    sniffed = fetch.sniff_html(response.body, response.content_type_header)
    assert sniffed == fetch.Sniffed(codec, source)
    extracted = articles.extract(response.body, url, content_type=response.content_type_header)
    assert extracted.outcome == "extracted" and str(extracted.text).split("\n") == list(RU)


def test_a_page_that_declares_nothing_is_left_to_the_extractors_guess() -> None:
    assert fetch.sniff_html(_page().encode("utf-8"), "text/html") is None
    assert fetch.decode_html(b"<p>x</p>", "text/html") == b"<p>x</p>"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("Shift_JIS", "cp932"),
        ("EUC-KR", "cp949"),
        ("ks_c_5601-1987", "cp949"),
        ("GB2312", "gb18030"),
        ("big5", "big5hkscs"),
        ("KOI8-R", "koi8-r"),
        ("windows-1251", "cp1251"),
        ("utf8", "utf-8"),
        ("rot13", None),
        ("base64", None),
        ("utf-7", None),
        ("", None),
        ("x-nonsense", None),
    ],
)
def test_labels_are_read_as_the_encoding_standard_reads_them(label: str, codec: str | None) -> None:
    assert fetch.codec_for(label) == codec


def test_an_iso_8859_1_label_is_windows_1252_in_feeds_and_pages() -> None:
    text = "Le ministre a dit qu’il recevrait les syndicats dès lundi : « le cœur du conflit »."
    raw = text.encode("cp1252")  # ’ and œ are 0x92 and 0x9C: C1 controls in ISO-8859-1 proper
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{text}</title><item><title>{text}</title>'
        "<link>http://n.test/a</link></item></channel></rss>"
    )
    parsed = feeds.parse(feed.encode("cp1252"), "http://n.test/rss", content_type="text/xml; charset=ISO-8859-1")
    assert parsed.entries[0].title == text and parsed.title == text
    assert fetch.decode_html(raw, "text/html; charset=iso-8859-1") == text


# --- the real pipeline: `monitor run` into DuckDB ------------------------------------------------------------


@pytest.fixture(scope="module")
def stored(
    world: World, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, dict[str, object]]]:
    """One `monitor run` over every sample's feed; the stored articles by slug."""
    directory = tmp_path_factory.mktemp("charsets")
    urls = [serve(world, s, "/charsets-run") for s in SAMPLES]
    config = write_config(directory, urls)
    result = CliRunner().invoke(cli.main, ["-c", str(config), "run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"feeds: {len(SAMPLES)}/{len(SAMPLES)} ok" in result.output, result.output
    out = CliRunner().invoke(
        cli.main,
        [
            "-c",
            str(config),
            "sql",
            "-f",
            "json",
            "SELECT a.url, a.title, a.summary, a.text, a.text_source, a.language, "
            "f.title AS feed_title FROM articles a JOIN feeds f ON f.url = a.feed_url",
        ],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    rows = {str(r["url"]).rsplit("/", 1)[1]: r for r in json.loads(out.output)}
    return config, rows


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.label)
def test_stored_text_equals_the_original(stored: tuple[Path, dict[str, dict[str, object]]], sample: Sample) -> None:
    row = stored[1][sample.slug]
    assert row["text_source"] == "extracted"
    assert row["title"] == sample.title
    assert row["summary"] == sample.summary
    assert row["text"] == sample.text
    assert row["feed_title"] == sample.feed_title


def test_stored_language_is_the_declared_one_else_the_detected_one(
    stored: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    rows = stored[1]
    russian = next(s for s in SAMPLES if s.declare_lang)
    assert b'<html lang="ru">' in russian.page()
    assert rows[russian.slug]["language"] == "ru"  # declared on <html lang>
    korean = next(s for s in SAMPLES if s.lang == "ko")
    assert b"lang=" not in korean.page()
    assert rows[korean.slug]["language"] == "ko"  # not declared: detected from the text
    assert {slug: row["language"] for slug, row in rows.items()} == {s.slug: s.lang for s in SAMPLES}
