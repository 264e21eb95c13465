"""headstart: the feeds polled and the first batch's pages started before the flow, then taken over or stopped.

Real feeds and pages on 127.0.0.1 (tests/world.py), a real DuckDB file, the real fetch threads and extraction
processes. `monitor run` end to end (pages requested before Prefect's API is up; Ctrl-C meanwhile) is in
tests/test_first_hour.py.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import articles, config, figures, headstart, runs, store
from tests import stories
from tests.pipeline_fixtures import write_config
from tests.world import World


def _stories(world: World, prefix: str, n: int, *, delay: float = 0.0) -> tuple[str, list[str]]:
    """A feed of `n` reports at /PREFIX/feed.xml (pages answering after `delay` s): its URL, the pages' paths."""
    made = stories.reports(prefix, n)
    return world.publish(f"/{prefix}/feed.xml", made, delay=delay), [f"/news/{s.slug}" for s in made]


def _config(directory: Path, feeds: list[str], workers: int = 2) -> config.Config:
    directory.mkdir(parents=True, exist_ok=True)
    return config.load(write_config(directory, feeds, workers=workers))


def _started(cfg: config.Config) -> dict[str, store.FeedState]:
    """The feeds' states as the flow's start leaves them (store.start_run: after a run that did not finish,
    without validators); the run it records is then marked finished."""
    if not cfg.database.exists():
        return {}
    with store.open_for_write(cfg.database) as con:
        run_id = store.new_run_id()
        store.start_run(con, run_id, str(cfg.path), None)
        states = store.feed_states(con)
        store.finish_run(con, run_id, "ok", {}, [])
    return states


def _head_start(cfg: config.Config) -> headstart.HeadStart | None:
    """A head start begun for `cfg`, then taken as the flow takes it (from the states its start leaves)."""
    headstart.begin(cfg, budget_from=time.monotonic())
    return headstart.take(cfg, _started(cfg))


def _stop(head: headstart.HeadStart, *, interrupted: bool = False) -> None:
    head.pools.close(interrupted=interrupted)
    head.client.close()


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    headstart.discard(interrupted=True)  # a failed test leaves no head start to the next


@pytest.mark.slow
def test_the_first_batch_is_started_and_the_cycle_takes_every_page_over(world: World, tmp_path: Path) -> None:
    feed, pages = _stories(world, "hs-take", 6)
    cfg = _config(tmp_path, [feed])
    head = _head_start(cfg)
    assert head is not None and headstart.take(cfg, _started(cfg)) is None  # taken once
    assert [(p.feed_url, p.status, len(p.entries)) for p in head.polls] == [(feed, "ok", 6)]
    assert head.started == 6 and len(head.pools._ahead) == 6
    entries = [e for p in head.polls for e in p.entries]
    head.pools.prestart(len(entries))  # as the flow does: the pages started early have their processes
    assert articles._prestarting is None and articles._prestarted is None  # no second set starts for nothing
    with head.pools, head.client:
        got = articles.collect(head.client, entries, [("NK", "Kursk")], head.pools)
    assert [a.url for a in got] == [e.link for e in entries]
    assert all(a.fetch_error is None and "North Korean soldiers" in a.text for a in got), [a.fetch_error for a in got]
    assert [world.hits[p] for p in pages] == [1] * 6  # the pages started early were not fetched again
    assert world.hits["/hs-take/feed.xml"] == 1


@pytest.mark.slow
def test_too_few_pages_for_the_extraction_processes_are_left_to_the_flow(world: World, tmp_path: Path) -> None:
    feed, pages = _stories(world, "hs-few", articles.MIN_PAGES_FOR_PROCESSES - 1)
    one_core = _config(tmp_path / "one", [_stories(world, "hs-one", 6)[0]], workers=1)
    for cfg in (_config(tmp_path / "few", [feed]), one_core):
        head = _head_start(cfg)
        assert head is not None and head.polls[0].status == "ok"
        assert head.started == 0 and not head.pools._ahead
        _stop(head)
    assert [world.hits[p] for p in pages] == [0] * len(pages)


@pytest.mark.slow
def test_entries_already_stored_are_not_started_again(world: World, tmp_path: Path) -> None:
    feed, pages = _stories(world, "hs-known", 6)
    cfg = _config(tmp_path, [feed])
    head = _head_start(cfg)
    assert head is not None and head.started == 6
    # as the flow does: the polls recorded and their new entries chosen, then the articles stored
    entries = [e for p in head.polls for e in p.entries]
    with head.pools, head.client:
        got = articles.collect(head.client, entries, [], head.pools)
    with store.open_for_write(cfg.database) as con:
        store.ensure_feeds(con, [(feed, None)])
        store.start_run(con, "run-1", str(cfg.path), None)
        selection = store.select_new(con, "run-1", head.polls, functools.partial(runs.select_new, head.polls))
        assert len(selection.new) == 6
        with store.transaction(con):
            store.save_articles(con, "run-1", got, "topics-v", figures.VERSION)
        store.finish_run(con, "run-1", "ok", {}, [])
    world.reset_counts()
    again = _head_start(cfg)
    assert again is not None and again.started == 0 and not again.pools._ahead
    _stop(again)
    assert [world.hits[p] for p in pages] == [0] * 6


@pytest.mark.slow
def test_a_ctrl_c_stops_the_pages_under_way_at_once(world: World, tmp_path: Path) -> None:
    feed, pages = _stories(world, "hs-stop", 8, delay=20)
    cfg = _config(tmp_path, [feed])
    headstart.begin(cfg, budget_from=time.monotonic())
    deadline = time.monotonic() + 10
    while not any(world.hits[p] for p in pages) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(world.hits[p] for p in pages), "no page was requested"
    stopping = time.monotonic()
    headstart.discard(interrupted=True)
    assert time.monotonic() - stopping < 5  # not the pages' 20 s
    assert headstart.take(cfg, _started(cfg)) is None


def test_a_database_that_cannot_be_opened_is_left_to_the_flow(world: World, tmp_path: Path) -> None:
    feed, pages = _stories(world, "hs-bad-db", 6)
    cfg = _config(tmp_path, [feed])
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    cfg.database.write_bytes(b"not a DuckDB file, " * 400)
    headstart.begin(cfg, budget_from=time.monotonic())
    assert headstart.take(cfg, {}) is None  # the flow opens it and says what is wrong with it
    assert world.hits["/hs-bad-db/feed.xml"] == 0 and [world.hits[p] for p in pages] == [0] * 6
    # the same failure after a Ctrl-C (DuckDB answers one mid-query with "Query interrupted") is the Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        headstart.begin(cfg, budget_from=time.monotonic(), ctrl_c_seen=lambda: True)


def test_a_config_file_changed_before_the_flow_loads_it_again_gets_no_head_start(world: World, tmp_path: Path) -> None:
    feed, _ = _stories(world, "hs-changed", 2)
    other, _ = _stories(world, "hs-changed-other", 2)
    headstart.begin(_config(tmp_path, [feed]), budget_from=time.monotonic())
    changed = _config(tmp_path, [feed, other])  # the same file, edited: the flow would poll both feeds
    assert headstart.take(changed, {}) is None
    assert headstart.take(_config(tmp_path, [feed]), {}) is None  # stopped, not kept for later


@pytest.mark.slow
def test_after_a_run_that_did_not_finish_every_feed_is_polled_in_full_as_the_flow_would(
    world: World, tmp_path: Path
) -> None:
    feed, _ = _stories(world, "hs-killed", 6)
    cfg = _config(tmp_path, [feed])
    first = _head_start(cfg)
    assert first is not None
    _stop(first, interrupted=True)
    with store.open_for_write(cfg.database) as con:  # a run that saved the feed's validators, then was killed
        store.ensure_feeds(con, [(feed, None)])
        store.start_run(con, "killed", str(cfg.path), None)
        store.select_new(con, "killed", first.polls, functools.partial(runs.select_new, first.polls))
        assert store.feed_states(con)[feed].etag is not None
    world.reset_counts()
    head = _head_start(cfg)
    assert head is not None, "the flow's start forgets the validators: the head start polled without them too"
    assert world.conditional_hits["/hs-killed/feed.xml"] == 0
    assert head.polls[0].status == "ok" and len(head.polls[0].entries) == 6 and head.started == 6
    _stop(head, interrupted=True)


def test_a_head_start_polled_from_other_states_than_the_flow_starts_from_is_not_used(
    world: World, tmp_path: Path
) -> None:
    feed, _ = _stories(world, "hs-states", 2)
    cfg = _config(tmp_path, [feed])
    headstart.begin(cfg, budget_from=time.monotonic())
    other = {feed: store.FeedState(feed, '"another"', None, None, 0, None)}
    assert headstart.take(cfg, other) is None
