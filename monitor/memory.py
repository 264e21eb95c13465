"""Memory: hand back to the system what a long run's processes have freed (glibc keeps it otherwise), and keep
Python's cyclic garbage collector off what a process keeps for its whole life.

glibc's allocator returns only the top of a heap to the system, and gives each thread that allocates its own
heap ("arena", up to 8 per core). In the flow process 16 fetch threads each pass page bytes (~100 KB, below
the size glibc maps on its own) through their own arena, and the freed pages stayed with the process: it
grew with the number of pages, ~35 MB over a cycle of 600. In an extraction process each page's libxml2
tree and texts are freed after the job, and ~15 MB stayed. Elsewhere (macOS, musl) these are no-ops.

Python's collector runs every 700 net allocations and walks the objects of the generations it collects. While
a process imports Prefect (~1,300 modules in the flow process, ~2,000 in the temporary API) or builds the
extraction processes' warm state, it walks the same long-lived objects again and again and frees almost
nothing: ~25% of the temporary API's import CPU (1.9–2.1 → ~1.5 s), ~0.2 s in the flow process and in the
forkserver. `long_lived()` holds it back while they are built, then freezes them (gc.freeze: left out of
every later collection, the process's exit included).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import gc
import logging
import threading
from collections.abc import Iterator, MutableMapping

log = logging.getLogger(__name__)

ARENAS = 2  # heaps per process: enough for a few busy threads; glibc's default is 8 per core
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
# While long-lived objects are built: generation 0 collected every 100,000 net allocations (Python's default 700)
BUILD_GC_THRESHOLD = (100_000, 10, 10)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim, libc.mallopt  # noqa: B018  (glibc's, not every C library's)
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(environ: MutableMapping[str, str], arenas: int = ARENAS) -> None:
    """At most `arenas` heaps in this process (call before it starts threads) and in the processes it starts
    (through MALLOC_ARENA_MAX in `environ`, unless the user set it)."""
    environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    libc = _libc()
    if libc is not None and not libc.mallopt(_M_ARENA_MAX, int(environ["MALLOC_ARENA_MAX"])):
        log.debug("mallopt(M_ARENA_MAX) refused")


def release_freed() -> None:
    """Return the free memory at the ends of every heap of this process to the system (~1 ms)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


_build_lock = threading.Lock()
_building = 0  # blocks of long_lived() open in this process
_threshold_before = gc.get_threshold()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Build in the block what this process keeps until it exits (imports, warm state): the cyclic garbage
    collector runs rarely meanwhile, and what exists at the end is frozen, out of every later collection."""
    global _building, _threshold_before
    with _build_lock:  # two threads may build at once (`monitor run`'s imports and its temporary API's)
        if _building == 0:
            _threshold_before = gc.get_threshold()
            gc.set_threshold(*BUILD_GC_THRESHOLD)
        _building += 1
    try:
        yield
    finally:
        gc.freeze()
        with _build_lock:
            _building -= 1
            if _building == 0:
                gc.set_threshold(*_threshold_before)


@functools.cache
def skip_collection_at_exit() -> None:
    """Leave out, when this process exits, the last collection over everything it holds (~0.2–0.4 s for a
    cycle's flow process; the system takes the memory back whole). Runs after the exit handlers registered
    later (Prefect's, the temporary API's stop): register it early."""
    atexit.register(gc.freeze)
