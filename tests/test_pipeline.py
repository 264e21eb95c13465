"""End to end: feeds on 127.0.0.1 -> `monitor run` (the real Prefect flow) -> a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World

pytestmark = pytest.mark.usefixtures("prefect_harness")


def monitor(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def sql(config: Path, query: str) -> list[dict[str, object]]:
    code, out = monitor(config, "sql", "-f", "json", query)
    assert code == 0, out
    rows: list[dict[str, object]] = json.loads(out)
    return rows


@pytest.fixture
def news(world: World, tmp_path: Path) -> tuple[World, Path, list[str]]:
    prefix = f"/{tmp_path.name}"
    rss = world.publish(f"{prefix}/world.rss", [stories.DISPATCH, stories.FLOOD], link_suffix="?utm_source=rss")
    atom = world.publish(f"{prefix}/korea.atom", [stories.KURSK, stories.CASUALTIES, stories.DISPATCH], atom=True)
    html_feed = world.add(f"{prefix}/not-a-feed", "<html><body><p>Welcome</p></body></html>")
    broken = world.add(f"{prefix}/broken.xml", "<rss><channel><item><title>oops", "application/rss+xml")
    down = "http://127.0.0.1:9/down.xml"  # nothing listens on the discard port
    feeds = [rss, atom, html_feed, broken, down]
    return world, write_config(tmp_path, feeds), feeds


def test_run_stores_each_article_once_with_topics_and_figures(news: tuple[World, Path, list[str]]) -> None:
    _, config, feeds = news
    code, out = monitor(config, "run")
    assert code == 0, out
    assert "feeds: 2/5 ok" in out
    assert "articles: 4 new" in out

    articles = sql(config, "SELECT url, title, text, text_source, published_at, outlet FROM articles ORDER BY url")
    assert [a["url"].rsplit("/", 1)[1] for a in articles] == sorted(s.slug for s in stories.ALL)  # type: ignore[union-attr]
    for a in articles:
        assert a["text_source"] == "extracted"
        assert "Copyright Test Herald" not in str(a["text"])  # boilerplate removed by extraction
    dispatch = next(a for a in articles if str(a["url"]).endswith("nk-troops-dispatched"))
    assert "utm_source" not in str(dispatch["url"])
    assert "1,500 special forces" in str(dispatch["text"])
    # the dispatch story came through two feeds: one article, two routes
    links = sql(
        config,
        "SELECT count(*) AS n FROM article_links l JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%nk-troops-dispatched'",
    )
    assert links[0]["n"] == 2

    matches = sql(config, "SELECT a.url, t.topic, t.terms FROM topic_matches t JOIN articles a USING (article_id)")
    matched = {str(m["url"]).rsplit("/", 1)[1] for m in matches}
    assert matched == {"nk-troops-dispatched", "nk-troops-kursk", "nk-casualties"}

    figs = sql(
        config,
        "SELECT topic, category, low, high, qualifier, claimant, quote, start_offset, end_offset, "
        "article_url FROM figures ORDER BY article_url, start_offset",
    )
    casualties = [
        (f["category"], f["low"], f["qualifier"]) for f in figs if str(f["article_url"]).endswith("nk-casualties")
    ]
    assert sorted(casualties) == [
        ("casualties", 4700, "approximate"),
        ("deployed", 15000, "approximate"),
        ("killed", 600, "approximate"),
    ]
    flood = [f for f in figs if str(f["article_url"]).endswith("river-flood")]
    assert [(f["topic"], f["category"], f["low"], f["qualifier"]) for f in flood] == [(None, "killed", 12, "at_least")]
    text = next(a["text"] for a in articles if str(a["url"]).endswith("river-flood"))
    for f in flood:  # offsets point into the stored text
        assert str(text)[int(f["start_offset"]) : int(f["end_offset"])] == f["quote"]  # type: ignore[call-overload]

    runs = sql(config, "SELECT status, feeds_ok, feeds_failed, new_articles, errors FROM runs")
    assert len(runs) == 1 and runs[0]["feeds_failed"] == 3
    errors = {e["feed_url"]: e["error"] for e in json.loads(str(runs[0]["errors"]))}
    assert set(errors) == set(feeds[2:])
    assert "HTML" in errors[feeds[2]]


@pytest.mark.slow
def test_second_run_with_nothing_new_adds_nothing(news: tuple[World, Path, list[str]]) -> None:
    world, config, feeds = news
    assert monitor(config, "run")[0] == 0
    counts = (
        "SELECT (SELECT count(*) FROM articles) a, (SELECT count(*) FROM figure_mentions) f, "
        "(SELECT count(*) FROM topic_matches) t, (SELECT count(*) FROM article_links) l"
    )
    before = sql(config, counts)
    world.reset_counts()
    code, out = monitor(config, "run")
    assert code == 0, out
    assert "articles: 0 new" in out
    assert sql(config, counts) == before
    ok_feeds = [u.removeprefix(world.base) for u in feeds[:2]]
    for path in ok_feeds:
        assert world.hits[path] == 1 and world.conditional_hits[path] == 1
    assert not any(p.startswith("/news/") for p in world.hits), world.hits
    assert len(sql(config, "SELECT * FROM runs")) == 2
