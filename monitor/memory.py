"""Memory: hand back to the system what a long run's processes have freed (glibc keeps it otherwise).

glibc's allocator returns only the top of a heap to the system, and gives each thread that allocates its own
heap ("arena", up to 8 per core). In the flow process 16 fetch threads each pass page bytes (~100 KB, below
the size glibc maps on its own) through their own arena, and the freed pages stayed with the process: it
grew with the number of pages, ~35 MB over a cycle of 600. In an extraction process each page's libxml2
tree and texts are freed after the job, and ~15 MB stayed. Elsewhere (macOS, musl) these are no-ops.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

ARENAS = 2  # heaps per process: enough for a few busy threads; glibc's default is 8 per core
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


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
