"""Run Prefect flows inside one process and time each call: a bare empty flow, or the polling flow.

Run by bench/run.py in a fresh subprocess; prints one JSON document. The first call pays for importing
and starting Prefect's temporary API; later calls show what a warm process (a served deployment) pays.

    python bench/prefect_probe.py empty DATA_DIR --repeat 3 [--async]
    python bench/prefect_probe.py poll CONFIG --repeat 3
    python bench/prefect_probe.py poll CONFIG --warmup OTHER_CONFIG   # one warm cycle of CONFIG

The empty flow is async when the polling flow is (`--async`): Prefect ends a sync flow run by waiting for
its heartbeat thread, an async one not, and the comparison should not hinge on that.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["empty", "poll"])
    parser.add_argument("target", help="the data directory (empty) or the config file (poll)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--async", dest="is_async", action="store_true", help="an async empty flow")
    parser.add_argument("--warmup", help="poll: run this config's cycle first (untimed), to start Prefect")
    args = parser.parse_args()

    import flows

    if args.kind == "poll":
        from monitor import config

        cfg = config.load(args.target)
        flows.prepare_environment(cfg.data_dir)
        from flows import poll

        def cycle(path: str) -> Any:
            summary = poll.run(path) if hasattr(poll, "run") else poll.poll_cycle(path)
            if inspect.iscoroutine(summary):
                summary = asyncio.run(summary)
            return {
                k: summary[k]
                for k in ("status", "feeds_total", "feeds_not_modified", "new_entries", "new_articles", "seconds")
            }

        def call() -> Any:
            return cycle(args.target)

        if args.warmup:
            cycle(args.warmup)
    else:
        flows.prepare_environment(Path(args.target))
        from prefect import flow

        @flow(name="bench-empty")
        def empty() -> None:
            return None

        @flow(name="bench-empty")
        async def empty_async() -> None:
            return None

        def call() -> Any:
            if args.is_async:
                asyncio.run(empty_async())
            else:
                empty()
            return None

    imported = time.perf_counter() - STARTED
    calls: list[float] = []
    results: list[Any] = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        results.append(call())
        calls.append(time.perf_counter() - t)
    print(json.dumps({"kind": args.kind, "import_s": imported, "calls": calls, "results": results}))


if __name__ == "__main__":
    sys.exit(main())
