"""The polling flow: feeds -> new entries -> articles -> topics and figures -> DuckDB -> alerts.

Orchestration only: every stage is a library call in `monitor/`. Tasks are batches, never single
articles (a Prefect task run costs milliseconds in the flow and more in the API's bookkeeping).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from monitor import alerts, articles, config, feeds, fetch, figures, history, runs, store, topics
from monitor.store import FeedState

RETRY_DELAYS = [1.0, 4.0]  # transient resets and 5xx: two more tries within the cycle


class FeedsStillFailing(Exception):
    """Raised by the retry task while some feeds fail with a retryable error; carries the last polls."""

    def __init__(self, polls: list[feeds.Poll]) -> None:
        super().__init__(", ".join(f"{p.feed_url}: {p.error}" for p in polls if p.retryable))
        self.polls = polls


def _poll_all(client: fetch.Client, cfg: config.Config, urls: Sequence[str],
              states: dict[str, FeedState], pools: articles.Pools) -> list[feeds.Poll]:
    def one(url: str) -> feeds.Poll:
        s = states.get(url)
        with pools.host_slot(url):
            return feeds.poll(client, url, etag=s.etag if s else None,
                              last_modified=s.last_modified if s else None,
                              previous_hash=s.body_hash if s else None,
                              failures=s.consecutive_failures if s else 0,
                              backoff_until=s.backoff_until if s else None,
                              max_bytes=cfg.fetch.feed_max_bytes, max_items=cfg.fetch.max_items_per_feed)

    with ThreadPoolExecutor(max_workers=min(cfg.fetch.concurrency, max(1, len(urls)))) as ex:
        return list(ex.map(one, urls))


@task(name="poll feeds", cache_policy=NO_CACHE)
def poll_feeds(client: fetch.Client, cfg: config.Config, states: dict[str, FeedState],
               pools: articles.Pools) -> list[feeds.Poll]:
    logger = get_run_logger()
    polls = _poll_all(client, cfg, [f.url for f in cfg.feeds], states, pools)
    for p in polls:
        if p.status == "failed":
            logger.warning("feed %s failed: %s", p.feed_url, p.error)
        elif p.warning:
            logger.info("feed %s: %s", p.feed_url, p.warning)
        else:
            logger.debug("feed %s: %s, %d entries", p.feed_url, p.status, len(p.entries))
    return polls


def _retry_worth_it(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except FeedsStillFailing:
        return True
    except Exception:
        return False
    return False


@task(name="retry failed feeds", cache_policy=NO_CACHE, retries=len(RETRY_DELAYS),
      retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_retry_worth_it)
def retry_feeds(client: fetch.Client, cfg: config.Config, failed: list[feeds.Poll],
                states: dict[str, FeedState], pools: articles.Pools) -> list[feeds.Poll]:
    logger = get_run_logger()
    for p in failed:
        logger.info("retrying feed %s after: %s", p.feed_url, p.error)
    polls = _poll_all(client, cfg, [p.feed_url for p in failed], states, pools)
    if any(p.retryable for p in polls):
        raise FeedsStillFailing(polls)
    return polls


@task(name="fetch and extract articles", cache_policy=NO_CACHE)
def process_batch(client: fetch.Client, batch: Sequence[feeds.Entry], specs: Sequence[tuple[str, str]],
                  pools: articles.Pools, max_bytes: int) -> list[articles.Article]:
    logger = get_run_logger()
    found = articles.collect(client, batch, specs, pools, max_bytes=max_bytes)
    for a in found:
        if a.fetch_error:
            logger.info("article %s (feed %s): %s", a.url, a.feed_url, a.fetch_error)
    return found


@task(name="store articles", cache_policy=NO_CACHE)
def store_batch(db_path: Path, run_id: str, batch: list[articles.Article], topic_version: str) -> None:
    with store.open_for_write(db_path) as con, store.transaction(con):
        store.save_articles(con, run_id, batch, topic_version, figures.VERSION)


@task(name="record new figures", cache_policy=NO_CACHE)
def record_changes(cfg: config.Config, run_id: str) -> list[history.Change]:
    """New figures and revisions, and their alerts in the outbox: one transaction, so none is lost or doubled."""
    with store.open_for_write(cfg.database) as con, store.transaction(con):
        changes = history.update(con, run_id)
        alerts.enqueue(con, run_id, changes, cfg)
    return changes


@task(name="send alerts", cache_policy=NO_CACHE)
def send_alerts(cfg: config.Config) -> alerts.Delivery:
    delivery = alerts.send_pending(cfg.database, cfg)
    logger = get_run_logger()
    for error in delivery.errors:
        logger.warning("alerts: %s", error)
    return delivery


@flow(name="news-monitor-poll", log_prints=False)
def poll_cycle(config_path: str) -> dict[str, Any]:
    """One polling cycle for the feeds and topics in the config file."""
    logger = get_run_logger()
    cfg = config.load(config_path)
    run_id = store.new_run_id()
    summary = runs.Summary(run_id)
    try:
        with store.run_lock(cfg.database):
            _cycle(cfg, summary)
    except store.RunInProgress as e:
        logger.warning("%s", e)
        summary.status = "skipped"
        summary.notes.append(str(e))
        return summary.to_dict()
    summary.finish()
    create_markdown_artifact(key="news-monitor-run", markdown=summary.markdown(),
                             description=f"news-monitor run {run_id}")
    logger.info("%s", summary.text())
    return summary.to_dict()


def _cycle(cfg: config.Config, summary: runs.Summary) -> None:
    logger = get_run_logger()
    run_id = summary.run_id
    specs = [(t.name, t.query) for t in cfg.topics]
    topic_version = topics.version(specs)
    with store.open_for_write(cfg.database) as con:
        store.ensure_feeds(con, [(f.url, f.name) for f in cfg.feeds])
        store.start_run(con, run_id, str(cfg.path), _flow_run_id())
        states = store.feed_states(con)
    try:
        with fetch.Client(allow_networks=cfg.fetch.allow_networks, limits=cfg.fetch.limits) as client, \
                articles.Pools(workers=cfg.fetch.workers, threads=cfg.fetch.concurrency,
                               per_host=cfg.fetch.per_host) as pools:
            polls = poll_feeds(client, cfg, states, pools)
            failed = [p for p in polls if p.retryable]
            if failed:
                state = retry_feeds(client, cfg, failed, states, pools, return_state=True)
                try:
                    retried = {p.feed_url: p for p in state.result()}
                except FeedsStillFailing as e:
                    retried = {p.feed_url: p for p in e.polls}
                polls = [retried.get(p.feed_url, p) for p in polls]
            summary.add_polls(polls)
            with store.open_for_write(cfg.database) as con:
                store.save_polls(con, run_id, polls)
                entries = [e for p in polls for e in p.entries]
                by_url, by_guid = store.known_entries(con, [e.link for e in entries], [e.guid for e in entries])
                pairs = store.link_pairs(con, [p.feed_url for p in polls if p.entries])
                selection = runs.select_new(polls, by_url, by_guid, pairs)
                with store.transaction(con):
                    store.save_links(con, run_id, selection.known_links)
                    store.set_new_items(con, run_id, selection.new_per_feed)
            summary.new_entries = len(selection.new)
            batches = list(articles.batches(selection.new, cfg.fetch.batch_size))
            for i, batch in enumerate(batches, 1):
                logger.info("batch %d/%d: fetching and extracting %d articles", i, len(batches), len(batch))
                found = process_batch(client, batch, specs, pools, cfg.fetch.article_max_bytes)
                store_batch(cfg.database, run_id, found, topic_version)
                summary.new_articles += len(found)
                summary.articles_failed += sum(1 for a in found if a.fetch_error)
                summary.topic_matches += sum(len(a.matches) for a in found)
                summary.figures += sum(len(a.figures) for a in found)
        changes = record_changes(cfg, run_id)
        summary.new_figures = sum(c.kind == "new" for c in changes)
        summary.revisions = sum(c.kind == "revision" for c in changes)
        summary.new_figure_rows = [runs.change_row(c) for c in changes]
        if cfg.email is not None:
            delivery = send_alerts(cfg)
            summary.alerts_sent, summary.alerts_pending = delivery.sent, delivery.pending
            summary.notes.extend(delivery.errors)
    except BaseException as e:
        summary.status = "failed"
        summary.errors.append({"feed_url": "", "error": f"run failed: {type(e).__name__}: {e}"})
        with store.open_for_write(cfg.database) as con:
            store.finish_run(con, run_id, "failed", summary.counts(), summary.errors)
        raise
    summary.finish()
    with store.open_for_write(cfg.database) as con:
        store.finish_run(con, run_id, summary.status, summary.counts(), summary.errors)


def _flow_run_id() -> str | None:
    value = runtime.flow_run.id
    return str(value) if value else None
