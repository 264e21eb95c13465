"""memory: freed memory handed back to the system, and fewer heaps for a process that runs many threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from monitor import memory


def test_arenas_are_limited_in_the_processes_started_unless_the_user_chose() -> None:
    env: dict[str, str] = {}
    memory.limit_arenas(env)
    assert env == {"MALLOC_ARENA_MAX": str(memory.ARENAS)}
    chosen = {"MALLOC_ARENA_MAX": "4"}
    memory.limit_arenas(chosen)
    assert chosen == {"MALLOC_ARENA_MAX": "4"}


def test_memory_freed_by_pages_goes_back_to_the_system() -> None:
    """Page-sized blocks freed below a block still in use stay with the process until release_freed()."""
    script = textwrap.dedent("""
        import psutil
        from monitor import memory

        rss = lambda: psutil.Process().memory_info().rss
        pages = [bytes(100_000) + bytes([i % 256]) for i in range(600)]  # ~60 MB, below glibc's mmap size
        pinned = bytes(100_000) + b"x"  # above them on the heap: the heap's top stays in use
        before = rss()
        del pages
        freed = rss()
        memory.release_freed()
        print(before >> 20, freed >> 20, rss() >> 20, len(pinned))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    before, freed, released, _ = (int(v) for v in out.split())
    assert freed > before - 20  # freed, yet still the process's
    assert released < freed - 40  # handed back


def test_long_lived_state_is_built_with_rare_collections_then_frozen() -> None:
    """In the block the collector runs rarely; after it what was built is frozen and the thresholds are back.
    In a process of its own: freezing the test process's objects would outlive the test."""
    script = textwrap.dedent("""
        import gc
        from monitor import memory

        before = gc.get_threshold()
        with memory.long_lived():
            during = gc.get_threshold()
            kept = [[i] for i in range(10_000)]  # containers: tracked by the collector
        print(during == memory.BUILD_GC_THRESHOLD, gc.get_threshold() == before, gc.get_freeze_count() >= len(kept))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]


def test_a_build_that_fails_still_restores_the_collector() -> None:
    script = textwrap.dedent("""
        import gc
        from monitor import memory

        before = gc.get_threshold()
        try:
            with memory.long_lived():
                raise ImportError("a module that is not there")
        except ImportError:
            pass
        print(gc.get_threshold() == before, gc.isenabled())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_extraction_processes_do_not_run_the_monitor_script_again(tmp_path: Path) -> None:
    """multiprocessing runs a parent's main script again in each process it starts, unless that is a package's
    `__main__`: run from the `monitor` script, the extraction processes would each import the CLI and DuckDB.
    Nor do they load the HTTP client (httpx): they extract pages, they never fetch."""
    script = tmp_path / "monitor"  # the console script's name, as pip writes it: a file, not a package
    script.write_text(
        textwrap.dedent("""
            import sys
            from monitor.cli import main  # what the real script imports first: the CLI, and DuckDB with it
            if __name__ == "__main__":
                from monitor import articles
                pool = articles._process_pool(2)
                probe = "sorted(m for m in ('duckdb', 'monitor.cli', 'httpx') if m in __import__('sys').modules)"
                print([pool.submit(eval, probe).result() for _ in range(2)], "duckdb" in sys.modules)
                pool.shutdown()
        """)
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[[],", "[]]", "True"], done.stdout  # the command has DuckDB; its workers not
