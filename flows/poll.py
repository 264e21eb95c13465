"""The polling flow: feeds -> new entries -> articles -> topics and figures -> DuckDB -> alerts.

Orchestration only: every stage is a library call in `monitor/`. Tasks are batches, never single
articles (a Prefect task run costs milliseconds in the flow and more in the API's bookkeeping). Large
arguments (batches of entries and articles, the client, the pools) go in `quote()`: otherwise Prefect walks
every object in them looking for futures, ~2 s of the flow process's CPU in a cycle of 2,000 articles.

The flow is async only for Prefect's sake: a sync flow run waits up to a second for its heartbeat
thread when it ends, an async one does not. The stages are plain sync code and sync tasks, run in
order on the flow's own thread (the main thread under `monitor run` and `monitor serve`, where task
timeouts can interrupt). Inside an async flow, Prefect helpers with an async twin return coroutines
(`State.result()`, `create_markdown_artifact()`): the stages avoid them; the flow body awaits the `a…` form.

With `[scale] dask_address`, fetching and extraction run on a Dask cluster through prefect-dask;
everything that writes the database stays in this process.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

# Prefect imports these three on a run's first call (fastapi's encoder stores the flow's parameters): loaded
# with this module, while `monitor run`'s temporary API starts, they cost the first cycle ~0.2 s less.
import fastapi.encoders  # noqa: F401
import prefect.flow_engine
import prefect.task_engine  # noqa: F401
from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.context import SyncClientContext
from prefect.exceptions import TerminationSignal
from prefect.futures import PrefectFuture
from prefect.states import Completed, Failed
from prefect.utilities.annotations import quote

from monitor import (
    alerts,
    articles,
    charts,
    config,
    feeds,
    fetch,
    figures,
    headstart,
    history,
    progress,
    runs,
    store,
    topics,
)
from monitor.errors import ConfigError
from monitor.store import FeedState

RETRY_DELAYS = [1.0, 4.0]  # transient resets and 5xx: two more tries within the cycle, after these pauses
# A stage running past its timeout is hung (every request has its own deadline); failing it frees the
# run lock for the next scheduled cycle instead of blocking every cycle after it.
POLL_TIMEOUT = 15 * 60.0
BATCH_TIMEOUT = 15 * 60.0
WRITE_TIMEOUT = 10 * 60.0
ALERT_TIMEOUT = 5 * 60.0
DASK_AHEAD = 2  # batches in flight on a Dask cluster while this process writes one: bounds memory
ARTIFACT_KEY = "news-monitor-run"
T = TypeVar("T")


class FeedsStillFailing(Exception):
    """Raised by the retry task while some feeds fail with a retryable error; carries the last polls.

    Its message is one short line (Prefect logs it on every retry): the reasons are in the polls, and in
    the run's summary once.
    """

    def __init__(self, polls: list[feeds.Poll]) -> None:
        failing = [p.feed_url for p in polls if p.retryable]
        more = f" and {len(failing) - 1} more" if len(failing) > 1 else ""
        super().__init__(f"{len(failing)} feeds still failing: {failing[0] if failing else ''}{more}")
        self.polls = polls


@task(name="poll feeds", cache_policy=NO_CACHE, timeout_seconds=POLL_TIMEOUT)
def poll_feeds(
    client: fetch.Client,
    cfg: config.Config,
    states: dict[str, FeedState],
    pools: articles.Pools,
    polled: list[feeds.Poll] | None = None,
) -> list[feeds.Poll]:
    """Every feed polled; `polled`: already polled by `monitor run` while Prefect started (monitor.headstart)."""
    logger = get_run_logger()
    if polled is None:
        polls = headstart.poll_all(client, cfg, [f.url for f in cfg.feeds], states, pools)
    else:
        polls = polled
        logger.info("%d feeds polled while Prefect started", len(polls))
    for p in polls:
        if p.status == "failed":
            logger.warning("feed %s failed: %s", p.feed_url, p.error)
        elif p.warning:
            logger.info("feed %s: %s", p.feed_url, p.warning)
        else:
            logger.debug("feed %s: %s, %d entries", p.feed_url, p.status, len(p.entries))
    return polls


def as_is(value: T) -> T:
    """`value` in Prefect's `quote()`: passed to the task untouched, not walked for futures (typed as itself)."""
    return cast(T, quote(value))


def _retry_worth_it(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except FeedsStillFailing:
        return True
    except Exception:
        return False
    return False


# The task's first run is the first retry (after RETRY_DELAYS[0]); Prefect retries it for the others.
@task(
    name="retry failed feeds",
    cache_policy=NO_CACHE,
    retries=len(RETRY_DELAYS) - 1,
    retry_delay_seconds=RETRY_DELAYS[1:],
    retry_condition_fn=_retry_worth_it,
    timeout_seconds=POLL_TIMEOUT,
)
def retry_feeds(
    client: fetch.Client,
    cfg: config.Config,
    failed: list[feeds.Poll],
    states: dict[str, FeedState],
    pools: articles.Pools,
) -> list[feeds.Poll]:
    logger = get_run_logger()
    if runtime.task_run.run_count <= 1:
        time.sleep(RETRY_DELAYS[0])
    for p in failed:
        logger.info("retrying feed %s after: %s", p.feed_url, p.error)
    polls = headstart.poll_all(client, cfg, [p.feed_url for p in failed], states, pools, counted=False)
    # Out of retries, the last try's polls are the result: the failures are recorded per feed and shown
    # once in the summary, not as a failed task with a traceback in the run's log and on the terminal.
    if any(p.retryable for p in polls) and runtime.task_run.run_count < len(RETRY_DELAYS):
        raise FeedsStillFailing(polls)
    for p in polls:
        if p.retryable:
            logger.warning("feed %s failed after %d retries: %s", p.feed_url, len(RETRY_DELAYS), p.error)
    return polls


@task(name="fetch and extract articles", cache_policy=NO_CACHE, timeout_seconds=BATCH_TIMEOUT)
def process_batch(
    client: fetch.Client,
    batch: Sequence[feeds.Entry],
    specs: Sequence[tuple[str, str]],
    pools: articles.Pools,
    max_bytes: int,
    ahead: Sequence[feeds.Entry] = (),
) -> list[articles.Article]:
    found = articles.collect(client, batch, specs, pools, max_bytes=max_bytes, progress=_article_done, ahead=ahead)
    _log_fetch_errors(found)
    return found


# No timeout_seconds: on a Dask worker's thread Prefect cannot interrupt blocking work, and says so in a
# warning on every run; every request already has its own deadline (fetch.DEADLINE).
@task(name="fetch and extract articles on dask", cache_policy=NO_CACHE)
def process_batch_remote(
    fetch_cfg: config.FetchConfig,
    batch: Sequence[feeds.Entry],
    specs: Sequence[tuple[str, str]],
    seconds_left: float = math.inf,
) -> list[articles.Article]:
    """The same on a Dask worker: its own client and threads, as sockets and locks do not pickle.

    Extraction runs in the worker's own process (workers=1): a Dask worker may not start processes,
    and the cluster is the parallelism. The cycle's budget comes as the seconds it had left when the part
    was submitted (clocks differ between machines); a host's budget counts per part.
    """
    with (
        fetch.Client(allow_networks=fetch_cfg.allow_networks, limits=fetch_cfg.limits) as client,
        articles.Pools(
            workers=1,
            threads=fetch_cfg.concurrency,
            per_host=fetch_cfg.per_host,
            cycle_ends=time.monotonic() + seconds_left,
            host_budget=fetch_cfg.host_budget,
            page_cpu_budget=fetch_cfg.page_cpu_budget,
        ) as pools,
    ):
        found = articles.collect(client, batch, specs, pools, max_bytes=fetch_cfg.article_max_bytes)
    _log_fetch_errors(found)
    return found


def _log_fetch_errors(found: Sequence[articles.Article]) -> None:
    logger = get_run_logger()
    for a in found:
        if a.fetch_error:
            logger.info("article %s (feed %s): %s", a.url, a.feed_url, a.fetch_error)


def _article_done(article: articles.Article) -> None:
    progress.advance("articles")


@task(name="store articles", cache_policy=NO_CACHE, timeout_seconds=WRITE_TIMEOUT)
def store_batch(
    db_path: Path, run_id: str, batch: list[articles.Article], topic_version: str, counts: dict[str, int]
) -> None:
    """A batch and the run's counts so far, in one transaction: a run that ends early says what it stored."""
    with store.open_for_write(db_path) as con, store.transaction(con):
        store.save_articles(con, run_id, batch, topic_version, figures.VERSION)
        store.record_counts(con, run_id, counts)


@task(name="record new figures", cache_policy=NO_CACHE, timeout_seconds=WRITE_TIMEOUT)
def record_changes(cfg: config.Config, run_id: str) -> list[history.Change]:
    """New figures and revisions, and their alerts in the outbox: one transaction, none lost or doubled."""
    with store.open_for_write(cfg.database) as con, store.transaction(con):
        changes = history.update(con, run_id, {t.name: t.subject for t in cfg.topics})
        alerts.enqueue(con, run_id, changes, cfg)
    return changes


@task(name="send alerts", cache_policy=NO_CACHE, timeout_seconds=ALERT_TIMEOUT)
def send_alerts(cfg: config.Config) -> alerts.Delivery:
    # each digest shows the chart of every series its run changed, as inline images
    delivery = alerts.send_pending(cfg.database, cfg, charts=charts.for_digest(cfg.database))
    logger = get_run_logger()
    for error in delivery.errors:
        logger.warning("alerts: %s", error)
    return delivery


@flow(name="news-monitor-poll", log_prints=False)
async def poll_cycle(config_path: str) -> State[dict[str, Any]]:
    """One polling cycle for the feeds and topics in the config file.

    Its Prefect state says how it went, so automations and failure notifications see it: Failed when every
    feed failed (or the run itself did), Completed with a `partial: …` message when some did; the summary
    dict is the state's result either way.
    """
    logger = get_run_logger()
    cfg = config.load(config_path)
    if cfg.scale.dask_address is not None:
        _check_dask(cfg)
    run_id = store.new_run_id()
    summary = runs.Summary(run_id)
    try:
        _locked_cycle(cfg, summary)
    except store.RunInProgress as e:
        logger.warning("%s", e)
        summary.status = "skipped"
        summary.notes.append(str(e))
    except Exception as e:
        if summary.status != "failed":  # failed before its `runs` row was written: its first database open
            summary.status = "failed"
            summary.errors.append({"feed_url": "", "error": f"run failed: {e}"})
            _record_failed_start(cfg, summary)
        raise
    finally:  # every run leaves its numbers in the UI, a failed one too
        summary.finish()
        await acreate_markdown_artifact(
            key=ARTIFACT_KEY, markdown=summary.markdown(), description=f"news-monitor run {run_id}: {summary.status}"
        )
    if summary.status != "skipped":
        logger.info("%s", summary.text())
    if summary.status == "failed":
        return Failed(message=summary.state_message(), data=summary.to_dict())
    return Completed(message=summary.state_message(), data=summary.to_dict())


def _record_failed_start(cfg: config.Config, summary: runs.Summary) -> None:
    """The `runs` row of a run that failed before writing it: now if the database opens, else deferred."""
    summary.finish()
    try:
        with store.open_for_write(cfg.database) as con:
            store.start_run(con, summary.run_id, str(cfg.path), _flow_run_id())
            store.finish_run(con, summary.run_id, "failed", summary.counts(), summary.errors)
    except Exception:
        try:
            where = runs.defer(cfg.database, summary, str(cfg.path), _flow_run_id())
        except OSError as e:
            get_run_logger().error("run %s could not be recorded anywhere: %s", summary.run_id, e)
            return
        get_run_logger().warning(
            "run %s is recorded in %s until the next run can open %s", summary.run_id, where, cfg.database
        )


def run(config_path: str) -> dict[str, Any]:
    """One polling cycle, from synchronous code (the CLI): the flow's summary dict (a run whose feeds all
    failed too: its status says so), or the exception that ended it."""
    result = run_state(config_path).result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    summary: dict[str, Any] = result
    return summary


def run_state(config_path: str) -> State[dict[str, Any]]:
    """One polling cycle, from synchronous code: the flow run's final state (its id, its summary)."""
    cfg = config.load(config_path)
    if cfg.scale.dask_address is not None:
        _check_dask(cfg)  # before Prefect starts its temporary API for nothing
    # An async flow run reads the server's result-storage default through a sync client that Prefect
    # 3.9 never closes (an unclosed socket per run); with a sync client for the whole call it uses that.
    with SyncClientContext.get_or_create():
        state: State[dict[str, Any]] = asyncio.run(_call(config_path))
    return state


async def _call(config_path: str) -> State[dict[str, Any]]:
    # the flow returns its final state itself; Prefect's typing would nest it (State[State[…]]), it does not
    return cast(State[dict[str, Any]], await poll_cycle(config_path, return_state=True))


def _locked_cycle(cfg: config.Config, summary: runs.Summary) -> None:
    # One writer per database: a run still going holds this lock; a second one waits
    # store.RUN_LOCK_WAIT seconds for it, then is skipped (works with or without a Prefect server).
    with store.run_lock(cfg.database):
        run_once(cfg, summary)


def run_once(cfg: config.Config, summary: runs.Summary) -> None:
    """One polling cycle, as the README draws it: poll -> select new -> fetch + extract (topics, figures) ->
    store -> history -> alerts. Every stage below is a plain call into `monitor/`, or a task wrapping one."""
    states = _start(cfg, summary)
    head = headstart.take(cfg, states)  # `monitor run`: feeds polled and first pages fetched while Prefect started
    pools = head.pools if head else headstart.pools_for(cfg, budget_from=time.monotonic())
    client = head.client if head else headstart.client_for(cfg)
    try:
        # the client closes first: a run ending early cuts its requests off before the pools wait for them
        with pools, client:
            polls = _poll(client, cfg, states, pools, summary, head.polls if head else None)
            new = _select_new(cfg, summary, polls)
            _fetch_extract_store(cfg, client, pools, new, summary)
        _history(cfg, summary)
        _alerts(cfg, summary)
    except BaseException as e:
        _end_early(cfg, summary, pools, e)
        raise
    summary.finish()
    with store.open_for_write(cfg.database) as con:
        store.finish_run(con, summary.run_id, summary.status, summary.counts(), summary.errors)


def _start(cfg: config.Config, summary: runs.Summary) -> dict[str, FeedState]:
    """The run's `runs` row, the configured feeds, and what the last runs left of each feed."""
    with store.open_for_write(cfg.database) as con:
        store.ensure_feeds(con, [(f.url, f.name) for f in cfg.feeds])
        store.start_run(con, summary.run_id, str(cfg.path), _flow_run_id())
        runs.record_deferred(con, cfg.database)
        return store.feed_states(con)


def _poll(
    client: fetch.Client,
    cfg: config.Config,
    states: dict[str, FeedState],
    pools: articles.Pools,
    summary: runs.Summary,
    polled: list[feeds.Poll] | None,
) -> list[feeds.Poll]:
    """Every feed polled (or `polled` already), and those failing with a retryable error retried (RETRY_DELAYS)."""
    if polled is None:
        progress.start("feeds", len(cfg.feeds))
    polls = poll_feeds(as_is(client), cfg, as_is(states), as_is(pools), as_is(polled))
    failed = [p for p in polls if p.retryable]
    if failed:
        try:
            retried = {
                p.feed_url: p for p in retry_feeds(as_is(client), cfg, as_is(failed), as_is(states), as_is(pools))
            }
        except FeedsStillFailing as e:  # out of retries: the last try's polls are the result
            retried = {p.feed_url: p for p in e.polls}
        polls = [retried.get(p.feed_url, p) for p in polls]
    summary.add_polls(polls)
    progress.done("feeds", f"{summary.feeds_ok} ok, {summary.feeds_failed} failed, {summary.feeds_skipped} backing off")
    return polls


def _select_new(cfg: config.Config, summary: runs.Summary, polls: list[feeds.Poll]) -> tuple[feeds.Entry, ...]:
    """The entries never seen before, chosen and recorded with the polls in one transaction."""
    with store.open_for_write(cfg.database) as con:
        selection = store.select_new(con, summary.run_id, polls, functools.partial(runs.select_new, polls))
    summary.new_entries = len(selection.new)
    return selection.new


def _fetch_extract_store(
    cfg: config.Config, client: fetch.Client, pools: articles.Pools, new: Sequence[feeds.Entry], summary: runs.Summary
) -> None:
    """Each batch's pages fetched, extracted (topics and figures with them) and stored, one batch at a time."""
    specs = [(t.name, t.query) for t in cfg.topics]
    if cfg.scale.dask_address is None:  # the extraction processes start while the first pages are fetched
        pools.prestart(len(new))
    batches = list(articles.batches(new, cfg.fetch.batch_size))
    progress.start("articles", len(new))
    extracted = (
        _extracted_on_dask(cfg, batches, specs, pools.cycle_ends)
        if cfg.scale.dask_address is not None
        else _extracted(cfg, client, pools, batches, specs)
    )
    deferred: set[str] = set()  # feeds with pages left for the next cycle
    for found in extracted:
        kept = [a for a in found if not a.deferred]
        deferred.update(a.feed_url for a in found if a.deferred)
        summary.add_articles(kept, deferred=len(found) - len(kept))
        store_batch(cfg.database, summary.run_id, as_is(kept), topics.version(specs), summary.counts())
        del found, kept  # not held while the next batch is extracted: one batch in memory at a time
    if deferred:
        _leave_for_next_cycle(cfg, summary, deferred)
    progress.done("articles", f"{summary.articles_failed} without a fetched body, {summary.figures} figures")


def _history(cfg: config.Config, summary: runs.Summary) -> None:
    changes = record_changes(cfg, summary.run_id)
    summary.new_figures = sum(c.kind == "new" for c in changes)
    summary.revisions = sum(c.kind != "new" for c in changes)  # revisions and counterclaims: values that moved
    summary.new_figure_rows = [runs.change_row(c) for c in changes]
    progress.done("figures", f"{summary.new_figures} new, {summary.revisions} revised")


def _alerts(cfg: config.Config, summary: runs.Summary) -> None:
    if cfg.email is None and not cfg.channels:  # e-mail digests and channel messages
        return
    delivery = send_alerts(cfg)
    summary.alerts_sent, summary.alerts_pending = delivery.sent, delivery.pending
    progress.done("alerts", f"{delivery.sent} sent, {delivery.pending} pending")
    summary.notes.extend(delivery.errors)


def _end_early(cfg: config.Config, summary: runs.Summary, pools: articles.Pools, e: BaseException) -> None:
    """A run ended by an error or a stop: what was done stored, the `runs` row saying how it ended."""
    if pools.salvaged:  # articles done in the batch that was interrupted: stored, not lost
        _store_salvaged(cfg, summary, pools.salvaged, topics.version([(t.name, t.query) for t in cfg.topics]))
    stopped = isinstance(e, TerminationSignal | KeyboardInterrupt)
    summary.status = "interrupted" if stopped else "failed"
    why = f"signal {e.signal}" if isinstance(e, TerminationSignal) else f"{type(e).__name__}: {e}"
    summary.errors.append({"feed_url": "", "error": f"run {'stopped' if stopped else 'failed'}: {why}"})
    with store.open_for_write(cfg.database) as con:
        store.finish_run(con, summary.run_id, summary.status, summary.counts(), summary.errors)


def _store_salvaged(
    cfg: config.Config, summary: runs.Summary, found: list[articles.Article], topic_version: str
) -> None:
    kept = [a for a in found if not a.deferred]
    summary.add_articles(kept, deferred=len(found) - len(kept))
    try:
        with store.open_for_write(cfg.database) as con, store.transaction(con):
            store.save_articles(con, summary.run_id, kept, topic_version, figures.VERSION)
            store.record_counts(con, summary.run_id, summary.counts())
    except Exception as e:  # the run is ending anyway: its own error is the one to report
        get_run_logger().warning("articles of the interrupted batch not stored: %s", e)


def _leave_for_next_cycle(cfg: config.Config, summary: runs.Summary, feed_urls: set[str]) -> None:
    """Pages the budget left unfetched wait for the next cycle: their feeds are fetched in full then (their
    validators forgotten), so those entries are selected again; the pages stored now are recognised."""
    with store.open_for_write(cfg.database) as con:
        store.forget_validators(con, sorted(feed_urls))
    summary.notes.append(
        f"{summary.articles_deferred} pages of {len(feed_urls)} feeds not fetched within the time budget "
        f"(cycle_budget {cfg.fetch.cycle_budget:g} s, host_budget {cfg.fetch.host_budget:g} s): "
        "left for the next cycle"
    )


def _extracted(
    cfg: config.Config,
    client: fetch.Client,
    pools: articles.Pools,
    batches: Sequence[Sequence[feeds.Entry]],
    specs: Sequence[tuple[str, str]],
) -> Iterator[list[articles.Article]]:
    """Each batch fetched and extracted here: threads for fetching, the process pool for extraction.

    The next batch's first pages are started as each batch ends (`ahead`), so extraction runs on while a
    batch is stored.
    """
    logger = get_run_logger()
    # the budget ends every batch in time; the timeout is for a hang, and must not cut a long budget short
    timeout = max(BATCH_TIMEOUT, cfg.fetch.cycle_budget + cfg.fetch.deadline + 60)
    for i, batch in enumerate(batches, 1):
        logger.info("batch %d/%d: fetching and extracting %d articles", i, len(batches), len(batch))
        yield process_batch.with_options(timeout_seconds=timeout)(
            as_is(client),
            as_is(batch),
            specs,
            as_is(pools),
            cfg.fetch.article_max_bytes,
            ahead=as_is(batches[i] if i < len(batches) else ()),
        )


def _extracted_on_dask(
    cfg: config.Config, batches: Sequence[Sequence[feeds.Entry]], specs: Sequence[tuple[str, str]], cycle_ends: float
) -> Iterator[list[articles.Article]]:
    """Each batch fetched and extracted on the Dask cluster, in order, DASK_AHEAD batches in flight.

    A batch is split across the cluster's threads (one task run each), so a batch of 200 keeps every
    worker busy; the pieces come back in feed order, as in a run without Dask.
    """
    from prefect_dask.task_runners import DaskTaskRunner  # the `dask` extra: imported only when configured

    logger = get_run_logger()
    scale = cfg.scale
    if scale.dask_address == "local":
        # processes, one thread each: extraction is CPU-bound Python. The dashboard on any free port:
        # Dask's 8787 may be taken by another cluster on this machine.
        runner = DaskTaskRunner(
            cluster_kwargs={
                "n_workers": scale.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": "127.0.0.1:0",
            }
        )
    else:
        runner = DaskTaskRunner(address=scale.dask_address)
    if not batches:
        return
    with runner:
        threads: dict[str, int] = runner.client.nthreads()  # type: ignore[no-untyped-call]
        slots = max(1, sum(threads.values()))
        logger.info("Dask cluster %s: %d worker threads", scale.dask_address, slots)
        queued = iter(enumerate(batches, 1))
        in_flight: deque[list[PrefectFuture[list[articles.Article]]]] = deque()

        def submit_next() -> None:
            for i, batch in queued:
                size = math.ceil(len(batch) / slots)
                logger.info(
                    "batch %d/%d: %d articles to Dask in %d parts",
                    i,
                    len(batches),
                    len(batch),
                    math.ceil(len(batch) / size),
                )
                in_flight.append(
                    [
                        runner.submit(
                            process_batch_remote,
                            {
                                "fetch_cfg": cfg.fetch,
                                "batch": list(batch[j : j + size]),
                                "specs": list(specs),
                                "seconds_left": max(0.0, cycle_ends - time.monotonic()),
                            },
                        )
                        for j in range(0, len(batch), size)
                    ]
                )
                return

        for _ in range(DASK_AHEAD):
            submit_next()
        while in_flight:
            parts = in_flight.popleft()
            submit_next()
            found = [a for part in parts for a in part.result()]
            progress.advance("articles", len(found))
            yield found


def _check_dask(cfg: config.Config) -> None:
    """Dask mode needs prefect-dask, and a real Prefect API: the workers report their task runs to it."""
    from prefect.settings import get_current_settings

    try:
        import prefect_dask  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{cfg.path}: [scale] dask_address needs Dask and prefect-dask: "
            "pip install 'news-monitor[dask]', or remove [scale] dask_address."
        ) from None
    if not get_current_settings().api.url:
        raise ConfigError(
            f"{cfg.path}: [scale] dask_address needs a Prefect server for the Dask workers to report to "
            "(with Prefect's temporary API each worker would start its own). Use `monitor run` or "
            "`monitor serve`, which start one, or set PREFECT_API_URL (see docs/scaling.md)."
        )


def _flow_run_id() -> str | None:
    value = runtime.flow_run.id
    return str(value) if value else None
