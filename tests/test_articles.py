"""articles.collect: batches fetched on threads, extracted on the process pool, the next batch started early."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime

import pytest

from monitor import articles, feeds, fetch
from tests.world import Story, World

SPECS = [("Kursk", "Kursk")]


def _entries(world: World, prefix: str, n: int) -> list[feeds.Entry]:
    stories = [
        Story(
            slug=f"{prefix}-{i}",
            title=f"Story {prefix} {i}",
            paragraphs=(
                f"Report {i} from the Kursk region: about {100 + i} soldiers were "
                "deployed to the front, officials said on Friday. " * 3,
            ),
            published=datetime(2026, 11, 1, tzinfo=UTC),
        )
        for i in range(n)
    ]
    return _published(world, f"/{prefix}/feed.xml", stories)


def _published(world: World, path: str, stories: list[Story]) -> list[feeds.Entry]:
    """Publish `stories` as a feed at `path`: the feed's entries, as polling would give them."""
    world.publish(path, stories)
    return [
        feeds.Entry(
            feed_url=world.url(path),
            link=world.url(f"/news/{s.slug}"),
            source_link=world.url(f"/news/{s.slug}"),
            guid=s.slug,
            title=s.title,
            summary="",
            published_at=s.published,
        )
        for s in stories
    ]


def _fetched(world: World, entries: list[feeds.Entry]) -> list[int]:
    return [world.hits[e.link.removeprefix(world.base)] for e in entries]


@pytest.mark.slow
def test_the_next_batch_is_started_early_and_picked_up_once(world: World) -> None:
    first, second = _entries(world, "ahead-a", 6), _entries(world, "ahead-b", 5)
    with fetch.Client(allow_networks=("127.0.0.0/8",)) as client, articles.Pools(workers=2) as pools:
        got_first = articles.collect(client, first, SPECS, pools, ahead=second)
        started_early = set(pools._ahead)
        got_second = articles.collect(client, second, SPECS, pools)
        assert not pools._ahead
    assert started_early == {e.link for e in second}
    assert [a.url for a in got_first] == [e.link for e in first]
    assert [a.url for a in got_second] == [e.link for e in second]  # feed order, not completion order
    assert all(a.text_source == "extracted" and "Kursk" in a.text for a in got_first + got_second)
    assert all(a.matches and a.figures for a in got_second)  # analysed in full, like any other batch
    assert _fetched(world, first + second) == [1] * 11  # every page fetched exactly once


@pytest.mark.slow
def test_a_batch_started_early_but_never_collected_does_not_hold_up_closing(world: World) -> None:
    first, second = _entries(world, "orphan-a", 4), _entries(world, "orphan-b", 40)
    with fetch.Client(allow_networks=("127.0.0.0/8",)) as client, articles.Pools(workers=2) as pools:
        got = articles.collect(client, first, SPECS, pools, ahead=second)
    assert [a.url for a in got] == [e.link for e in first]
    assert not pools._ahead


def test_pages_go_to_the_processes_in_jobs_and_each_comes_back_as_its_own_article(world: World) -> None:
    """Pages travel to the extraction processes several to a job (articles.PAGES_PER_JOB); each article comes
    back to its own entry, in feed order, with its own text and figures."""
    entries = _entries(world, "jobs", 60)
    with fetch.Client(allow_networks=("127.0.0.0/8",)) as client, articles.Pools(workers=2, threads=8) as pools:
        got = articles.collect(client, entries, SPECS, pools)
    assert [a.url for a in got] == [e.link for e in entries]
    for i, a in enumerate(got):
        assert a.title == f"Story jobs {i}"
        assert f"Report {i} from the Kursk region" in a.text
        assert [(f.low, f.high) for f in a.figures][:1] == [(100 + i, 100 + i)]
        assert [m.topic for m in a.matches] == ["Kursk"]


def test_a_page_that_fails_to_analyse_does_not_take_its_job_with_it() -> None:
    entry = feeds.Entry(
        feed_url="http://127.0.0.1/feed.xml",
        link="http://127.0.0.1/news/a",
        guid="a",
        source_link="http://127.0.0.1/news/a",
        title="Kursk report",
        summary="",
        published_at=None,
    )
    html = (
        "<html><body><article><h1>Kursk report</h1>"
        + "<p>About 1,000 soldiers were deployed to the Kursk region, officials said on Friday.</p>" * 4
        + "</article></body></html>"
    ).encode()
    now = datetime.now(UTC)
    good = articles.Page(entry, html, entry.link, "text/html; charset=utf-8", now)
    broken = articles.Page(entry, None, entry.link, "text/html", now)  # type: ignore[arg-type]
    first, failed, last = articles.analyse_pages([good, broken, good], SPECS)
    assert isinstance(first, articles.Article) and "1,000 soldiers" in first.text
    assert isinstance(failed, Exception)
    assert last == first


@pytest.mark.slow
def test_fetching_runs_ahead_of_extraction_by_a_bounded_number_of_pages(world: World) -> None:
    """Page bytes wait for an extraction process in memory: their number is capped, whatever the batch size,
    and progress is reported article by article while the rest of the batch is still being fetched."""
    stories = [
        Story(
            slug=f"window-{i}",
            title=f"Window {i}",
            paragraphs=tuple(
                f"Paragraph {j} of report {i} from the Kursk region, where officials "
                f"said about {100 + j} soldiers were deployed to the front on Friday."
                for j in range(300)
            ),
            published=datetime(2026, 11, 1, tzinfo=UTC),
        )
        for i in range(120)
    ]
    entries = _published(world, "/window/feed.xml", stories)
    ahead_of_extraction: list[int] = []
    reported_while_fetching: list[bool] = []

    def progress(article: articles.Article) -> None:
        fetched = sum(_fetched(world, entries))
        ahead_of_extraction.append(fetched - len(ahead_of_extraction) - 1)
        reported_while_fetching.append(fetched < len(entries))

    with fetch.Client(allow_networks=("127.0.0.0/8",)) as client, articles.Pools(workers=2, threads=4) as pools:
        got = articles.collect(client, entries, SPECS, pools, progress=progress)
    limit = 4 + articles.QUEUED_PER_WORKER * 2
    assert [a.url for a in got] == [e.link for e in entries]
    assert all(a.text_source == "extracted" for a in got)
    assert _fetched(world, entries) == [1] * len(entries)
    # a page's slot frees when its job ends, a moment before collect() reports the job's articles one by one:
    # a job's worth of finished pages may be counted as still waiting (without the cap: 80 of 120)
    assert max(ahead_of_extraction) <= limit + articles.PAGES_PER_JOB + 4  # never the whole batch fetched ahead
    assert sum(reported_while_fetching) >= len(entries) - limit - 5


def _state_of_a_fresh_process(html: bytes) -> tuple[int, dict[str, object]]:
    """Run in an extraction process before it has done anything else: the locale expressions dateparser
    has compiled so far, then the extraction of `html`."""
    from dateparser.languages.dictionary import Dictionary

    compiled = sum(len(by_locale) for by_locale in Dictionary._split_regex_cache.values())
    return compiled, articles.extract(html, "http://127.0.0.1/news/warm")


@pytest.mark.slow  # starts two forkserver processes that build dateparser's expressions: ~10 s of CPU
def test_extraction_processes_start_warm_and_extract_the_same() -> None:
    """The forkserver builds dateparser's per-locale expressions once (monitor.warmup), ~2 s of CPU each
    process would otherwise pay on its first undated fragment; the results do not change."""
    page = (
        "<html><head><title>Kursk report</title></head><body><article><h1>Kursk report</h1>"
        "<p class='byline'>Posted Sep 30, 9:45 by staff</p>"
        + "<p>About 1,000 soldiers were deployed to the Kursk region, officials said on Friday.</p>" * 8
        + "</article></body></html>"
    ).encode()
    with articles.Pools(workers=2) as pools:
        compiled, extracted = pools.process_pool().submit(_state_of_a_fresh_process, page).result(timeout=60)
    assert compiled >= 100  # every locale's expression, not just the few a first page would need
    assert extracted == articles.extract(page, "http://127.0.0.1/news/warm")
    assert "1,000 soldiers" in str(extracted.text)


# --- articles.language: the page's <html lang>, else the text's detected language ---------------------------

_EN = (
    "About 1,000 soldiers were deployed to the Kursk region, officials said on Friday, and more are expected "
    "to follow next week according to the defence ministry."
)
_KO = (
    "정부는 오늘 오전 국가안전보장회의를 열고 북한군의 해외 파병 동향을 점검했다고 밝혔다. 회의에 참석한 관계자들은 "
    "추가 병력 이동 가능성에 대비해 동맹국과의 정보 공유를 강화하기로 했다."
)


def _analysed(world: World, slug: str, html: str | None, summary: str = "") -> articles.Article:
    """A page served from 127.0.0.1 (or a 404 when `html` is None), fetched and analysed as the pipeline does."""
    path = f"/language/{slug}"
    if html is not None:
        world.add(path, html.encode(), "text/html; charset=utf-8")
    entry = feeds.Entry(
        feed_url=world.url("/language/feed.xml"),
        link=world.url(path),
        source_link=world.url(path),
        guid=slug,
        title=f"Story {slug}",
        summary=summary,
        published_at=None,
    )
    with fetch.Client(allow_networks=["127.0.0.0/8"]) as client, articles.Pools(workers=1) as pools:
        return articles.analyse(articles.fetch_page(client, entry, fetch.ARTICLE_MAX_BYTES, pools), ())


def _html(lang: str, text: str) -> str:
    return (
        f"<!DOCTYPE html><html{lang}><head><title>t</title></head><body><article><p>{text}</p></article></body></html>"
    )


def test_language_is_the_declared_one_even_when_the_text_reads_otherwise(world: World) -> None:
    assert _analysed(world, "declared-ru", _html(' lang="ru-RU"', _EN)).language == "ru"  # ISO 639-1 part only
    assert _analysed(world, "declared-none", _html("", _EN)).language == "en"  # detected
    assert _analysed(world, "declared-bad", _html(' lang="x"', _KO)).language == "ko"  # no 2-letter code: detected


def test_language_of_a_kept_summary_is_detected_and_none_without_text(world: World) -> None:
    kept = _analysed(world, "gone", None, summary=_KO)
    assert kept.text_source == "summary" and kept.language == "ko"
    bare = _analysed(world, "gone-too", None)
    assert bare.text_source == "title" and bare.language is None


def _page(i: int) -> articles.Page:
    link = f"http://127.0.0.1/given-up/{i}"
    entry = feeds.Entry(link + "/feed", link, link, link, f"Story {i}", "", None)
    text = f"Report {i} from the Kursk region: about {100 + i} soldiers were deployed, officials said. " * 3
    body = f"<html><body><article><h1>Story {i}</h1><p>{text}</p></article></body></html>".encode()
    return articles.Page(entry, body, link, "text/html; charset=utf-8", datetime.now(UTC))


@pytest.mark.slow
def test_articles_nobody_waits_for_any_more_do_not_stall_the_pages_behind_them() -> None:
    """Pages whose article was given up on (its future cancelled) while they were in the pool: their slots and
    jobs are given back, so a page queued behind them is still extracted (before, the run waited forever)."""
    with articles.Pools(workers=2) as pools:
        jobs, slots = pools.jobs(), pools.in_flight()
        given_up = [Future[articles.Article]() for _ in range(articles.JOBS_PER_WORKER * 2)]
        for i, result in enumerate(given_up):
            result.cancel()
            slots.acquire()  # as the fetch of a page does (_fetch_for_pool)
            jobs.add(_page(i), tuple(SPECS), result)
        wanted = Future[articles.Article]()
        slots.acquire()
        jobs.add(_page(99), tuple(SPECS), wanted)  # every job slot is taken: this page waits for one
        article = wanted.result(timeout=60)
        assert article.url == "http://127.0.0.1/given-up/99" and "Kursk" in article.text
        # every page's slot came back: the fetch threads can take as many as before
        taken = [slots.acquire(timeout=5) for _ in range(pools.threads + articles.QUEUED_PER_WORKER * 2)]
        assert all(taken)
