"""A cycle's head start: feeds polled, new entries chosen and the first batch's pages fetched and queued for
extraction while `monitor run` starts Prefect's temporary API.

None of this needs Prefect. The CLI begins it from its main thread, under the database's run lock, once
Prefect's API is starting on its thread and the extraction processes on theirs, and before it imports
Prefect's client (`begin`): so the pages are on their way while Prefect starts. Nothing is written: the flow
takes the head start (`take`), records the polls and selects the new entries itself, as always, and finds
the first batch's pages fetched or already extracted. Without it (a served or Dask deployment, or a head
start that failed) the flow does the same work itself.

Everything that waits here waits on the main thread, where a Ctrl-C lands (the fetch threads and the
extraction processes are the pipeline's own, stopped by `discard`). An earlier try polled on a thread of its
own while the main thread imported Prefect, and a Ctrl-C then could hang the command or abort it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from monitor import articles, config, feeds, fetch, progress, runs, store
from monitor.store import FeedState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class HeadStart:
    """What a head start leaves to its cycle: the run's client and pools, every feed polled once."""

    cfg: config.Config  # as the CLI loaded it
    client: fetch.Client
    pools: articles.Pools
    polls: list[feeds.Poll]
    started: int  # pages of the first batch already on their way
    states: Mapping[str, FeedState]  # each feed's stored state, as polled


_begun: dict[Path, HeadStart] = {}  # by config file: begun, not yet taken or discarded


def _key(cfg: config.Config) -> Path:
    return Path(cfg.path).resolve()


def pools_for(cfg: config.Config, *, budget_from: float) -> articles.Pools:
    """The run's fetch threads and extraction processes, with the config's limits and time budgets."""
    return articles.Pools(
        workers=cfg.fetch.workers,
        threads=cfg.fetch.concurrency,
        per_host=cfg.fetch.per_host,
        cycle_ends=budget_from + cfg.fetch.cycle_budget,
        host_budget=cfg.fetch.host_budget,
        page_cpu_budget=cfg.fetch.page_cpu_budget,
    )


def client_for(cfg: config.Config) -> fetch.Client:
    return fetch.Client(allow_networks=cfg.fetch.allow_networks, limits=cfg.fetch.limits)


def poll_all(
    client: fetch.Client,
    cfg: config.Config,
    urls: Sequence[str],
    states: dict[str, FeedState],
    pools: articles.Pools,
    *,
    counted: bool = True,
) -> list[feeds.Poll]:
    """Each of `urls` polled once, on threads (a host's few slots shared with its pages), from its stored state."""

    def one(url: str) -> feeds.Poll:
        s = states.get(url)
        with pools.host_slot(url):
            polled = feeds.poll(
                client,
                url,
                etag=s.etag if s else None,
                last_modified=s.last_modified if s else None,
                previous_hash=s.body_hash if s else None,
                failures=s.consecutive_failures if s else 0,
                backoff_until=s.backoff_until if s else None,
                last_error=s.last_error if s else None,
                max_bytes=cfg.fetch.feed_max_bytes,
                max_items=cfg.fetch.max_items_per_feed,
            )
        if counted:  # retries poll the same feeds again: the count stays one per feed
            progress.advance("feeds")
        return polled

    with ThreadPoolExecutor(max_workers=min(cfg.fetch.concurrency, max(1, len(urls)))) as ex:
        try:
            return list(ex.map(one, urls))
        except BaseException:  # SIGTERM, a timeout: end the requests in flight before the threads are awaited
            client.stop()
            raise


def begin(cfg: config.Config, *, budget_from: float, ctrl_c_seen: Callable[[], bool] = lambda: False) -> None:
    """Poll `cfg`'s feeds now, choose their new entries and start fetching and extracting the first batch's
    pages; returns once the pages are started, with Prefect's API still starting on its thread.

    From the main thread (DuckDB; a Ctrl-C lands here as it does in the flow) and under the database's run
    lock; `budget_from` is when the cycle's time budget starts (a `monotonic()` value). Then `take` it, or
    `discard` it. Anything failing here is left to the flow, which does the same work again and reports it,
    unless `ctrl_c_seen()`: DuckDB answers a Ctrl-C mid-query with an error ("Query interrupted"), and that
    error is the Ctrl-C, raised as KeyboardInterrupt.
    """
    key = _key(cfg)
    if key in _begun:
        return
    try:
        with store.open_for_write(cfg.database) as con:
            states = store.feed_states_for_next_run(con)  # as the flow's start will leave them
    except Exception as e:  # the flow opens the database itself, and says what is wrong with it
        if ctrl_c_seen():
            raise KeyboardInterrupt from None
        log.info("no head start for %s: %s", cfg.path, e)
        return
    head = HeadStart(cfg, client_for(cfg), pools_for(cfg, budget_from=budget_from), [], 0, states)
    _begun[key] = head  # from here on, discard() stops what it started
    try:
        progress.start("feeds", len(cfg.feeds))
        head.polls = poll_all(head.client, cfg, [f.url for f in cfg.feeds], states, head.pools)
        _start_pages(cfg, head)
    except Exception as e:  # the flow polls itself; the reason is in the log
        if ctrl_c_seen():
            raise KeyboardInterrupt from None  # discard(interrupted=True) stops what was started
        log.info("head start of %s given up: %s: %s", cfg.path, type(e).__name__, e)
        _begun.pop(key, None)
        _close(head, interrupted=False)


def _start_pages(cfg: config.Config, head: HeadStart) -> None:
    """Choose the polls' new entries and start fetching and extracting the first batch's pages."""
    entries = [e for p in head.polls for e in p.entries]
    with store.open_for_write(cfg.database) as con:
        by_url, by_guid = store.known_entries(con, [e.link for e in entries], [e.guid for e in entries])
        pairs = store.link_pairs(con, [p.feed_url for p in head.polls if p.entries])
    # The flow chooses the same entries (runs.select_new on the same polls and database, under the same lock),
    # records them, and takes its first batch's pages from the pools by their links.
    new = runs.select_new(head.polls, by_url, by_guid, pairs).new
    # Pages go to the extraction processes only (prestarted by the CLI, as they must be, from its main
    # thread): a cycle with too few pages for them, or one core, extracts them in the flow as it always has.
    workers = cfg.fetch.workers or os.cpu_count() or 1
    if workers < 2 or len(new) < articles.MIN_PAGES_FOR_PROCESSES:
        return
    first = next(articles.batches(new, cfg.fetch.batch_size), ())
    specs = [(t.name, t.query) for t in cfg.topics]
    articles.start_early(head.client, articles.by_host_in_turn(first), specs, head.pools, cfg.fetch.article_max_bytes)
    head.started = len(first)


def take(cfg: config.Config, states: Mapping[str, FeedState]) -> HeadStart | None:
    """The head start begun for `cfg` (None: none was begun, or it failed), if it polled each feed from the
    `states` the flow's start left (else it is stopped: the flow polls again). The caller owns its client
    and pools from then on. One begun for a config file that has changed since (the flow loads it again)
    is stopped and not used: its polls and pages may not be the ones this config asks for."""
    head = _begun.pop(_key(cfg), None)
    if head is None:
        return None
    if _what_it_did(head.cfg) != _what_it_did(cfg) or _asked(head.states, cfg) != _asked(states, cfg):
        log.info("head start of %s not used: the config file or the feeds' stored state changed since", cfg.path)
        _close(head, interrupted=False)
        return None
    return head


def _asked(states: Mapping[str, FeedState], cfg: config.Config) -> list[tuple[object, ...]]:
    """What polling each of `cfg`'s feeds sends and decides from (a feed with no state: none of it)."""
    out: list[tuple[object, ...]] = []
    for f in cfg.feeds:
        s = states.get(f.url)
        out.append(
            (None, None, None, 0, None)
            if s is None
            else (s.etag, s.last_modified, s.body_hash, s.consecutive_failures, s.backoff_until)
        )
    return out


def _what_it_did(cfg: config.Config) -> tuple[object, ...]:
    return (cfg.database, cfg.feeds, cfg.fetch, cfg.topics)


def discard(*, interrupted: bool = False) -> None:
    """Stop and close every head start nobody took (its cycle never started: Prefect failed, Ctrl-C).
    `interrupted`: the user pressed Ctrl-C, so the pages under way are cut off, not waited for."""
    while _begun:
        _close(_begun.popitem()[1], interrupted=interrupted)


def _close(head: HeadStart, *, interrupted: bool) -> None:
    head.client.stop()  # requests in flight end now, not at their deadlines
    head.pools.close(interrupted=interrupted)
    head.client.close()
