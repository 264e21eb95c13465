"""Articles: fetch each new entry's page, extract body and metadata, match topics, find figures.

Fetching is I/O and runs on threads (bounded per host); extraction is CPU and runs on a process pool,
one worker per core, so a batch costs about what trafilatura alone costs on all cores.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Literal
from urllib.parse import urlsplit

from monitor import feeds, fetch, figures, memory, pagemeta, topics
from monitor.errors import FetchError

log = logging.getLogger(__name__)

TEXT_MAX_CHARS = 500_000  # a 5 MiB page rarely holds more than ~100k characters of prose
MIN_BODY_CHARS = 80  # shorter "bodies" are navigation or paywall stubs: keep the feed's summary instead
# Pages per extraction process of the next batch started before a batch ends: enough to keep the processes
# busy through the batch's last pages, while it is stored and while the next batch's task run starts
# (~0.5 s at 500 articles a batch; at 8 the processes ran dry at most batch ends), few enough to add little
# memory (~100 KB a page).
AHEAD_PER_WORKER = 16
# Pages fetched but not yet extracted, at most: the fetch threads' worth plus a queue per process. Page bytes
# wait here for a process, so this, not the batch size, bounds the memory they take (~100 KB each).
QUEUED_PER_WORKER = 16
# Fewer pages than this are extracted in the calling process: starting processes would cost more.
MIN_PAGES_FOR_PROCESSES = 4
# Pages go to the extraction processes in jobs of several: each job is a round trip through the pool (a
# future, a queue, two pickles, wake-ups of the pool's threads), ~1 ms of the flow process's CPU that one
# page per job paid 2,000 times a cycle. A job takes the pages waiting when it is sent, at most this many.
PAGES_PER_JOB = 8
# Jobs sent to the pool and not finished, per process: one running and one waiting, so a process never
# idles between jobs; pages fetched meanwhile gather into the next job.
JOBS_PER_WORKER = 2
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
DEFERRED = "not fetched within this cycle's time budget; left for the next cycle"
_WORD = re.compile(r"\w+")

TopicSpec = tuple[str, str]  # (name, query string): plain strings so jobs pickle cheaply to worker processes


@dataclass(frozen=True, slots=True)
class Article:
    url: str  # canonical URL: the identity of the article
    guid: str
    feed_url: str
    source_url: str  # the link as the feed gave it
    final_url: str  # where the fetch ended after redirects
    outlet: str  # the publisher's host, without www.
    title: str
    author: str | None
    published_at: datetime | None
    fetched_at: datetime
    site_name: str | None
    language: str | None
    text: str
    text_source: TextSource  # how the text was obtained
    summary: str
    fingerprint: str  # digest of the normalised words, to spot reprints under other URLs
    fetch_error: str | None
    http_bytes: int
    matches: tuple[topics.Match, ...] = ()
    figures: tuple[figures.Figure, ...] = ()
    deferred: bool = False  # not fetched within the cycle's budget: not stored, fetched next cycle


@dataclass(frozen=True, slots=True)
class Page:
    """What the fetch stage hands to extraction."""

    entry: feeds.Entry
    body: bytes
    final_url: str
    content_type: str  # the Content-Type header as sent, charset and all
    fetched_at: datetime
    error: str | None = None
    deferred: bool = False  # the cycle's or the host's time budget ran out before it was fetched


@dataclass(slots=True)
class Pools:
    """The fetch threads and extraction processes of one run; reused across batches.

    The run's time budgets live here too: no page is fetched after `cycle_ends` (a `monotonic()`
    value), nor from a host more than `host_budget` seconds after its first page in this run; a request
    in flight is cut at that time. Pages not fetched are returned `deferred`, for the next cycle.
    """

    workers: int = 0
    threads: int = 16
    per_host: int = 4
    cycle_ends: float = float("inf")
    host_budget: float = float("inf")
    page_cpu_budget: float = math.inf  # config.PAGE_CPU_BUDGET in a run
    _process: Executor | None = None
    _thread: ThreadPoolExecutor | None = None
    _host_slots: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)
    _host_ends: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ahead: dict[str, Future[Article]] = field(default_factory=dict)  # the next batch, started early
    _in_flight: threading.BoundedSemaphore | None = None  # pages fetched for the processes, not yet extracted
    salvaged: list[Article] = field(default_factory=list)  # done before collect() was interrupted
    _jobs: _Jobs | None = None  # fetched pages gathered into jobs of several for the processes
    _closed: bool = False  # no extraction processes start after close()

    def in_flight(self) -> threading.BoundedSemaphore:
        """One slot per page between its fetch and the end of its extraction (see QUEUED_PER_WORKER)."""
        with self._lock:
            if self._in_flight is None:
                n = self.workers or os.cpu_count() or 1
                self._in_flight = threading.BoundedSemaphore(self.threads + QUEUED_PER_WORKER * n)
            return self._in_flight

    def process_pool(self) -> Executor:
        if self._closed:  # a page fetched as the run ends (Ctrl-C) starts no process left behind
            raise RuntimeError("the run's extraction processes are stopped")
        if self._process is None:
            self._process = _take_prestarted(self.workers) or _process_pool(self.workers)
        return self._process

    def prestart(self, pages: int) -> None:
        """Start the extraction processes for `pages` new pages (`prestart`), unless this run has its own
        already, or pages started early will take the ones prestarted (a head start's: a second set of
        processes would start for nothing)."""
        if self._process is None and not self._ahead:
            prestart(self.workers, pages=pages)

    def jobs(self) -> _Jobs:
        with self._lock:
            if self._jobs is None:
                self._jobs = _Jobs(self, self.workers or os.cpu_count() or 1)
            return self._jobs

    def thread_pool(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="monitor-fetch")
        return self._thread

    def host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).hostname or ""
        with self._lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = threading.BoundedSemaphore(self.per_host)
            return slot

    def fetch_until(self, url: str) -> float:
        """When fetching `url` must end: the cycle's budget, or its host's (counted from the host's first page)."""
        host = urlsplit(url).hostname or ""
        with self._lock:
            ends = self._host_ends.get(host)
            if ends is None:
                ends = self._host_ends[host] = monotonic() + self.host_budget
        return min(ends, self.cycle_ends)

    def close(self, *, interrupted: bool = False) -> None:
        """Wait for the fetch threads and extraction processes to end; `interrupted` (Ctrl-C): the processes
        are stopped where they stand, and processes still starting are not waited for."""
        self._closed = True
        self._ahead.clear()
        if interrupted:
            if _prestarting is not None and _prestarting.is_alive():
                _stop_forkserver()  # a fetch thread may wait for the processes to start: they give up instead
            if self._process is not None:
                _terminate(self._process)
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
            self._thread = None
        if self._process is not None:
            self._process.shutdown(wait=True, cancel_futures=True)
            self._process = None

    def __enter__(self) -> Pools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    n = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=n, mp_context=_forkserver())


def _forkserver() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, its server started now when called from the main thread.

    forkserver: the flow process runs threads (Prefect's API client); forking it is unsafe. The server
    imports trafilatura once and builds its lazy state (monitor.warmup); each worker forked from it shares
    those pages (less memory, faster start, no per-process warm-up on the first pages).

    The server is started with SIGINT ignored, which it and every process it forks inherit: a Ctrl-C at the
    terminal reaches only the command, which stops them, instead of printing a KeyboardInterrupt traceback
    from each (issue 18). Signal handlers can only be set from the main thread; elsewhere the server starts
    on first use, as before.
    """
    _main_left_alone()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["monitor.warmup", "monitor.articles", "trafilatura"])  # warmup imports the others
    if threading.current_thread() is threading.main_thread():
        from multiprocessing import forkserver

        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, previous)
    return ctx


def _main_left_alone() -> None:
    """Keep each extraction process from running the `monitor` script again as it starts.

    A process that forkserver starts runs its parent's main script first (as `__mp_main__`), unless that is a
    package's `__main__`. The `monitor` command is a script that imports the CLI, and with it the database's
    modules and DuckDB: ~0.2 s of CPU and ~20 MB in every extraction process, for nothing. Named as what it
    runs (`python -m monitor`), it is left alone.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is not None and getattr(main, "__spec__", None) is None and path and os.path.basename(path) == "monitor":
        main.__spec__ = importlib.util.find_spec("monitor.__main__")


_prestarted: tuple[int, ProcessPoolExecutor] | None = None
_prestarting: threading.Thread | None = None


def prestart(workers: int = 0, pages: int | None = None) -> None:
    """Start the extraction processes, for the next Pools of this worker count to take over; returns at once.

    `monitor run` calls it while Prefect's API starts, so the processes are up when the first page is; the
    flow calls it again once it knows `pages` new articles are coming (a no-op if they are too few for
    processes, or if processes are already started), so their start overlaps the first fetches. They
    start on a thread: the forkserver answers only once it has loaded trafilatura and warmed it up (~3 s),
    and the caller has its own work to do meanwhile.
    """
    global _prestarting
    n = workers or os.cpu_count() or 1
    if _prestarted is not None or _prestarting is not None or n < 2:  # one worker extracts in collect()
        return
    if pages is not None and pages < MIN_PAGES_FOR_PROCESSES:
        return
    _forkserver()  # here, on the main thread: see _forkserver

    def start() -> None:
        global _prestarted
        try:
            pool = _process_pool(workers)
            for _ in range(n):  # each job starts a process
                pool.submit(_ready)
        except Exception as e:  # Pools starts its own pool then, and reports what fails
            log.debug("extraction processes not prestarted: %s", e)
            return
        _prestarted = (workers, pool)

    _prestarting = threading.Thread(target=start, name="prestart extraction processes", daemon=True)
    _prestarting.start()


def _take_prestarted(workers: int) -> ProcessPoolExecutor | None:
    global _prestarted, _prestarting
    if _prestarting is not None:
        _prestarting.join()
        _prestarting = None
    if _prestarted is None or _prestarted[0] != workers:
        return None
    pool, _prestarted = _prestarted[1], None
    return pool


def stop_prestarted(*, interrupted: bool = False) -> None:
    """Stop the extraction processes prestarted and never taken (a run with too few new pages for them).

    Waits until they have started: a process the forkserver is still starting when the command exits finds
    its queue's semaphore gone and prints a FileNotFoundError traceback (under cron, a mail every run).
    """
    global _prestarted, _prestarting
    if _prestarting is not None:
        if interrupted and _prestarting.is_alive():
            _stop_forkserver()  # still loading trafilatura: seconds the user who pressed Ctrl-C need not wait
        _prestarting.join()
        _prestarting = None
    if _prestarted is not None:
        pool, _prestarted = _prestarted[1], None
        if interrupted:  # its processes may still wait for the forkserver's warm-up: not worth waiting for
            _stop_forkserver()
            _terminate(pool)
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: Executor) -> None:
    """SIGTERM to each of a process pool's processes (Ctrl-C: their work is given up)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):  # no public accessor
        with contextlib.suppress(OSError, AttributeError):
            process.terminate()


def _stop_forkserver() -> None:
    """SIGTERM to the forkserver while it preloads: the prestart's connection then fails, and it gives up."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)  # no public accessor
    if isinstance(pid, int):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _ready() -> None:
    import trafilatura  # noqa: F401  (preloaded by the forkserver: already there)


def fetch_page(client: fetch.Client, entry: feeds.Entry, max_bytes: int, pools: Pools) -> Page:
    """Fetch one article page; a failure becomes a Page with an error, never an exception.

    A page the run's time budget (or its stopping) leaves unfetched, or cuts off, comes back `deferred`.
    """
    now = datetime.now(UTC)
    with pools.host_slot(entry.link):
        until = pools.fetch_until(entry.link)
        if monotonic() >= until or client.stopped:
            return Page(entry, b"", entry.link, "", now, error=DEFERRED, deferred=True)
        try:
            response = client.get(
                entry.link, max_bytes=max_bytes, until=until, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
            )
        except FetchError as e:
            if monotonic() >= until or client.stopped:
                return Page(entry, b"", entry.link, "", now, error=DEFERRED, deferred=True)
            return Page(entry, b"", entry.link, "", now, error=e.reason)
    return Page(entry, response.body, response.url, response.content_type_header, now)


def collect(
    client: fetch.Client,
    entries: Sequence[feeds.Entry],
    topic_specs: Sequence[TopicSpec],
    pools: Pools,
    *,
    max_bytes: int | None = None,  # fetch.ARTICLE_MAX_BYTES
    progress: Callable[[Article], None] | None = None,
    ahead: Sequence[feeds.Entry] = (),
) -> list[Article]:
    """Fetch and analyse a batch of entries; pages are extracted as soon as they arrive.

    The first pages of `ahead` (the next batch) are fetched and queued for extraction behind this batch,
    so the extraction processes do not idle at the end of this batch and while the caller stores it; the
    next call picks their results up.
    """
    if not entries:
        return []
    out: list[Article] = []
    try:
        limit = fetch.ARTICLE_MAX_BYTES if max_bytes is None else max_bytes
        _collect(client, entries, tuple(topic_specs), pools, limit, progress, ahead, out)
    except BaseException:  # SIGTERM, a timeout: end the requests in flight now, not at their deadlines,
        client.stop()  # and keep the articles done so far for the caller to store (Pools.salvaged)
        pools.salvaged.extend(out)
        raise
    # as_completed order is arbitrary; keep the feed order so runs are reproducible
    order = {e.link: i for i, e in enumerate(entries)}
    out.sort(key=lambda art: order.get(art.url, 0))
    memory.release_freed()  # the batch's page bytes, passed through this process to the extraction processes
    return out


def _collect(
    client: fetch.Client,
    entries: Sequence[feeds.Entry],
    specs: tuple[TopicSpec, ...],
    pools: Pools,
    max_bytes: int,
    progress: Callable[[Article], None] | None,
    ahead: Sequence[feeds.Entry],
    out: list[Article],
) -> None:
    multi = (pools.workers or os.cpu_count() or 1) > 1
    started = {e.link: early for e in entries if (early := pools._ahead.pop(e.link, None)) is not None}
    entries = by_host_in_turn(entries)
    if not started and not (multi and len(entries) >= MIN_PAGES_FOR_PROCESSES):
        fetches = [pools.thread_pool().submit(fetch_page, client, e, max_bytes, pools) for e in entries]
        for f in as_completed(fetches):  # extracted as they arrive: a stalled page holds up none of the others
            out.append(analyse(f.result(), specs, pools.page_cpu_budget))
            if progress:
                progress(out[-1])
        return
    # Each page is queued for extraction the moment it arrives (at most the in-flight limit wait), and
    # each article reported the moment it is done, so progress moves while the batch is still fetched.
    pending = [started.get(e.link) or _chain(client, e, specs, pools, max_bytes) for e in entries]
    if multi:
        _start_ahead(client, ahead, specs, pools, max_bytes)
    for a in as_completed(pending):
        article = a.result()
        out.append(article)
        if progress:
            progress(article)


def by_host_in_turn(entries: Sequence[feeds.Entry]) -> list[feeds.Entry]:
    """The entries with their hosts taking turns (a, b, c, a, b, c, …): the fetch threads wait for a host's
    few slots in this order, so a slow host's hundred pages cannot hold every thread while the pages of
    other hosts wait behind them."""
    queues: dict[str, deque[feeds.Entry]] = {}
    for e in entries:
        queues.setdefault(urlsplit(e.link).hostname or "", deque()).append(e)
    out: list[feeds.Entry] = []
    while queues:
        for host in list(queues):
            out.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return out


def _start_ahead(
    client: fetch.Client, entries: Sequence[feeds.Entry], specs: tuple[TopicSpec, ...], pools: Pools, max_bytes: int
) -> None:
    """Fetch the first of `entries` on the threads and queue each page for extraction as it arrives;
    collect() takes the results by link. Chained with callbacks: nothing here waits."""
    for entry in entries[: AHEAD_PER_WORKER * (pools.workers or os.cpu_count() or 1)]:
        if entry.link not in pools._ahead:
            pools._ahead[entry.link] = _chain(client, entry, specs, pools, max_bytes)


def start_early(
    client: fetch.Client,
    entries: Sequence[feeds.Entry],
    specs: Sequence[TopicSpec],
    pools: Pools,
    max_bytes: int,
) -> None:
    """Fetch `entries` on the threads and queue each page for extraction as it arrives, before the collect()
    that will take them by link (a cycle's first batch, while Prefect starts). Returns at once."""
    for entry in entries:
        if entry.link not in pools._ahead:
            pools._ahead[entry.link] = _chain(client, entry, tuple(specs), pools, max_bytes)


def _chain(
    client: fetch.Client, entry: feeds.Entry, specs: tuple[TopicSpec, ...], pools: Pools, max_bytes: int
) -> Future[Article]:
    """The entry's article, to come: fetched on a thread, then extracted by a process (callbacks: no waiting)."""
    result: Future[Article] = Future()
    fetched = pools.thread_pool().submit(_fetch_for_pool, client, entry, max_bytes, pools)
    fetched.add_done_callback(functools.partial(_extract_fetched, pools, specs, result))
    return result


def _fetch_for_pool(client: fetch.Client, entry: feeds.Entry, max_bytes: int, pools: Pools) -> Page:
    """fetch_page, once fewer than the limit of pages wait for extraction; the slot is freed when this
    page's extraction job ends (_Jobs), or here if the fetch itself fails."""
    slots = pools.in_flight()
    slots.acquire()
    try:
        return fetch_page(client, entry, max_bytes, pools)
    except BaseException:
        slots.release()
        raise


class _Jobs:
    """Fetched pages on their way to the extraction processes, sent in jobs of up to PAGES_PER_JOB.

    A page is sent at once while fewer than JOBS_PER_WORKER jobs per process are out (a process would
    otherwise wait for it); otherwise it waits for the next job to finish, and the pages waiting then go
    together. So jobs are small while pages trickle in and large when fetching runs ahead of extraction, and
    no page waits for a job to fill up. Each page's in-flight slot is freed when its job ends.
    """

    def __init__(self, pools: Pools, workers: int) -> None:
        self._pools = pools
        self._workers = workers
        self._limit = JOBS_PER_WORKER * workers
        self._lock = threading.Lock()
        self._waiting: list[tuple[Page, tuple[TopicSpec, ...], Future[Article]]] = []
        self._out = 0  # jobs sent, not finished

    def add(self, page: Page, specs: tuple[TopicSpec, ...], result: Future[Article]) -> None:
        with self._lock:
            self._waiting.append((page, specs, result))
            job = self._take() if self._out < self._limit else []
        self._send(job)

    def _take(self) -> list[tuple[Page, tuple[TopicSpec, ...], Future[Article]]]:
        """The waiting pages of the first one's topic specs, a job's worth (the lock held): shared out among
        the processes when few are waiting, so the last pages of a batch do not queue behind one process."""
        if not self._waiting:
            return []
        specs = self._waiting[0][1]
        same = [w for w in self._waiting if w[1] == specs]
        job = same[: max(1, min(PAGES_PER_JOB, len(same) // self._workers))]
        taken = {id(w[2]) for w in job}
        self._waiting = [w for w in self._waiting if id(w[2]) not in taken]
        self._out += 1
        return job

    def _send(self, job: list[tuple[Page, tuple[TopicSpec, ...], Future[Article]]]) -> None:
        if not job:
            return
        try:
            sent = self._pools.process_pool().submit(
                analyse_pages, [page for page, _, _ in job], job[0][1], self._pools.page_cpu_budget
            )
        except BaseException as e:  # the pool is shut down (the run is ending) or broken
            self._done(job, None, e)
            return
        sent.add_done_callback(functools.partial(self._finished, job))

    def _finished(
        self, job: list[tuple[Page, tuple[TopicSpec, ...], Future[Article]]], sent: Future[list[Article | Exception]]
    ) -> None:
        if sent.cancelled():
            self._done(job, None, None)
            return
        error = sent.exception()
        self._done(job, None if error is not None else sent.result(), error)

    def _done(
        self,
        job: list[tuple[Page, tuple[TopicSpec, ...], Future[Article]]],
        found: list[Article | Exception] | None,
        error: BaseException | None,
    ) -> None:
        slots = self._pools.in_flight()
        for _ in job:
            slots.release()
        # The job's slots and its place in the pool are given back whatever happens below: held, they would
        # leave the fetch threads waiting for slots forever, and the run waiting for them as it closes.
        try:
            for i, (_, _, result) in enumerate(job):
                if result.done():  # given up on by whoever waited for it (cancelled): nothing to hand over
                    continue
                if found is not None:
                    got = found[i]
                    if isinstance(got, Exception):
                        result.set_exception(got)
                    else:
                        result.set_result(got)
                elif error is not None:
                    result.set_exception(error)
                else:
                    result.cancel()
        finally:
            with self._lock:
                self._out -= 1
                more = self._take()
            self._send(more)


def _extract_fetched(
    pools: Pools, specs: tuple[TopicSpec, ...], result: Future[Article], fetched: Future[Page]
) -> None:
    try:
        page = fetched.result()
    except BaseException as e:  # the fetch was cancelled or the pool shut down: the run is ending
        result.set_exception(e)
        return
    pools.jobs().add(page, specs, result)


def analyse_pages(
    pages: Sequence[Page], topic_specs: Iterable[TopicSpec], cpu_budget: float = math.inf
) -> list[Article | Exception]:
    """analyse() for each page of a job (each with its own `cpu_budget`); a page that raises does not take
    the others with it."""
    specs = tuple(topic_specs)
    out: list[Article | Exception] = []
    for page in pages:
        try:
            out.append(analyse(page, specs, cpu_budget))
        except Exception as e:
            out.append(e)
    memory.release_freed()  # the job's trees and texts: freed, but kept by glibc otherwise
    return out


def analyse(page: Page, topic_specs: Iterable[TopicSpec], cpu_budget: float = math.inf) -> Article:
    """Extract text and metadata from a fetched page, then topics and figures. Runs in a worker process.

    Extraction stops after `cpu_budget` CPU seconds (in a process's main thread, where a timer signal can
    stop it); the page is then kept with the feed's summary and the reason.
    """
    entry = page.entry
    error = page.error
    extracted = NOT_EXTRACTED
    if page.deferred:
        return _deferred(page)
    if error is None:
        media_type = page.content_type.split(";")[0].strip().lower()
        if media_type not in HTML_TYPES:
            error = f"not an HTML page ({media_type}); kept the feed's summary"
        else:
            try:
                # the page's title, author and date are looked for only when the feed item lacks them
                wanted = pagemeta.Wanted(
                    title=not entry.title, author=not entry.author, date=entry.published_at is None
                )
                with _cpu_budget(cpu_budget):
                    extracted = extract(page.body, page.final_url, content_type=page.content_type, wanted=wanted)
            except _OverBudget:
                extracted = NOT_EXTRACTED
                error = (
                    f"extraction took more than {cpu_budget:g} s of CPU ({len(page.body):,} bytes); "
                    "skipped, kept the feed's summary"
                )
            if error is None and len(extracted.text or "") < MIN_BODY_CHARS:
                why = f" ({extracted.error})" if extracted.error else ""
                error = f"no article body found on the page{why}; kept the feed's summary"
                extracted = replace(extracted, text=None)
    body = feeds.clean_text(extracted.text or "", TEXT_MAX_CHARS)
    source: TextSource
    if body:
        text, source = body, "extracted"
    elif entry.summary:
        text, source = entry.summary, "summary"
    else:
        text, source = "", "title"
    title = entry.title or feeds.clean_text(extracted.title or "", feeds.TITLE_MAX_CHARS)
    published = entry.published_at or _page_date(extracted.date)
    matches = tuple(topics.match_all(_queries(topic_specs), title, text))
    # The page's declared language (<html lang>), else the text's detected one: figures are read in it. A
    # feed summary kept instead of the body is detected: the page's declaration need not describe it.
    language = (
        figures.language.declared(_str(extracted.language) or declared_language(page.body))
        if source == "extracted"
        else None
    ) or (figures.detect(text)[0] if text else None)
    found = tuple(figures.find(text, language)) if text else ()
    host = (urlsplit(page.final_url or entry.link).hostname or "").lower()
    return Article(
        url=entry.link,
        guid=entry.guid,
        feed_url=entry.feed_url,
        source_url=entry.source_link,
        final_url=page.final_url,
        outlet=host.removeprefix("www."),
        title=title,
        author=entry.author or _str(extracted.author),
        published_at=published,
        fetched_at=page.fetched_at,
        site_name=_str(extracted.sitename),
        language=language,
        text=text,
        text_source=source,
        summary=entry.summary,
        fingerprint=fingerprint(text) if source != "title" else fingerprint(title),
        fetch_error=error,
        http_bytes=len(page.body),
        matches=matches,
        figures=found,
    )


def _deferred(page: Page) -> Article:
    entry = page.entry
    return Article(
        url=entry.link,
        guid=entry.guid,
        feed_url=entry.feed_url,
        source_url=entry.source_link,
        final_url=entry.link,
        outlet="",
        title=entry.title,
        author=entry.author,
        published_at=entry.published_at,
        fetched_at=page.fetched_at,
        site_name=None,
        language=None,
        text="",
        text_source="title",
        summary=entry.summary,
        fingerprint="",
        fetch_error=page.error,
        http_bytes=0,
        deferred=True,
    )


class _OverBudget(BaseException):
    """Raised by the CPU timer inside extraction (a BaseException: trafilatura's `except Exception` must not
    swallow it)."""


def _over_budget(signum: int, frame: object) -> None:
    raise _OverBudget


@contextlib.contextmanager
def _cpu_budget(seconds: float) -> Iterator[None]:
    """Raise _OverBudget once this process has spent `seconds` of CPU in the block (ITIMER_PROF)."""
    if threading.current_thread() is not threading.main_thread() or not math.isfinite(seconds):
        yield  # signals reach only the main thread: a page extracted on another one has no CPU budget
        return
    previous = signal.signal(signal.SIGPROF, _over_budget)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)", re.IGNORECASE)
# The <html> tag is near the start of a page: the declared language is looked for there only.
LANG_SCAN_BYTES = 4096


def declared_language(html: bytes) -> str | None:
    """The language a page declares on its <html> element ("en-GB"), or None."""
    m = _HTML_LANG.search(html, 0, LANG_SCAN_BYTES)
    return m.group(1).decode("ascii") if m else None


TextSource = Literal["extracted", "summary", "title"]


@dataclass(frozen=True, slots=True)
class Extracted:
    """What extraction made of a page: its body and metadata (any may be None), or why there is none."""

    outcome: Literal["extracted", "nothing", "failed", "not_tried"]  # nothing: trafilatura found no body
    text: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    language: str | None = None
    error: str | None = None  # why it failed, for the article's fetch_error


NOT_EXTRACTED = Extracted("not_tried")


def extract(
    html: bytes, url: str, *, content_type: str = "", wanted: pagemeta.Wanted = pagemeta.EVERYTHING
) -> Extracted:
    """trafilatura's body and metadata; `outcome` says whether it found any ("nothing" for its None) or failed.

    The page is decoded as a browser decodes it (BOM, else the charset of ``content_type``, the header as
    sent, else the page's <meta charset>); trafilatura guesses only for a page that declares nothing, since
    it reads neither the header nor <meta> and guesses EUC-KR or KOI8-R text wrong. Of the title, author and
    date, only those `wanted` are looked for (the others are None): the body and the fields wanted are
    those of ``trafilatura.bare_extraction(..., with_metadata=True)``.
    """
    import trafilatura  # imported here: a 0.5 s import the CLI's other commands should not pay
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.utils import load_html

    page = fetch.decode_html(html, content_type)
    try:
        with warnings.catch_warnings():
            # dateutil warns on page dates with zone names like "EST": page noise, not the user's to act on
            warnings.filterwarnings("ignore", message="tzname .* identified but not understood")
            if not pagemeta.available():
                doc = trafilatura.bare_extraction(
                    page,
                    url=url or None,
                    with_metadata=True,
                    include_comments=False,
                    include_tables=True,
                    deduplicate=False,
                )
                meta = None
            else:
                # trafilatura's own sequence: parse, metadata from the tree, the body from a copy of it
                tree = load_html(page, DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE"))
                if tree is None:
                    return Extracted("nothing")
                try:
                    meta = pagemeta.find(tree, url or None, wanted)
                except (TypeError, ValueError):  # bare_extraction discards the page on these
                    return Extracted("nothing")
                doc = trafilatura.bare_extraction(
                    tree,
                    url=url or meta.url,
                    with_metadata=False,  # the same options otherwise
                    include_comments=False,
                    include_tables=True,
                    deduplicate=False,
                )
    except Exception as e:  # trafilatura/lxml raise many kinds on hostile markup; one page must not stop a run
        log.info("%s: extraction failed: %s", url, e)
        return Extracted("failed", error=f"extraction failed: {type(e).__name__}")
    if doc is None:
        return Extracted("nothing")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    if meta is not None:
        data |= {"title": meta.title, "author": meta.author, "date": meta.date, "sitename": meta.sitename}
    found = {
        k: v if isinstance(v := data.get(k), str) else None
        for k in ("text", "title", "author", "date", "sitename", "language")
    }
    return Extracted("extracted", **found)


def fingerprint(text: str) -> str:
    """Digest of the lower-cased word sequence: the same wire story reprinted verbatim gets the same one."""
    words = _WORD.findall(text.casefold())
    return hashlib.sha1(" ".join(words).encode()).hexdigest()


_QUERY_CACHE: dict[tuple[TopicSpec, ...], list[tuple[str, topics.Query]]] = {}


def _queries(specs: Iterable[TopicSpec]) -> list[tuple[str, topics.Query]]:
    key = tuple(specs)
    cached = _QUERY_CACHE.get(key)
    if cached is None:
        cached = _QUERY_CACHE[key] = [(name, topics.parse(q)) for name, q in key]
    return cached


def _page_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    when = datetime.combine(day, time(12, 0), UTC)  # day precision only: noon keeps the date in any zone
    return when if when <= datetime.now(UTC) else None


def _str(value: object) -> str | None:
    return feeds.clean_text(value, 300) or None if isinstance(value, str) else None


def batches(items: Sequence[feeds.Entry], size: int) -> Iterator[Sequence[feeds.Entry]]:
    """Consecutive slices of at most `size` entries."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
