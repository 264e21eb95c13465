"""The app of `monitor run`'s temporary Prefect API (flows.serve.TemporaryAPI), built in `memory.long_lived()`.

Built on the API's own thread of the command's process. Importing Prefect's server package (~2,000 modules)
with Python's collector at its default thresholds took a quarter of the import's CPU, and a cycle waits for
the API's start (monitor/memory.py).
"""

from __future__ import annotations

from typing import Any

from monitor import memory


def create_app() -> Any:
    """`prefect.server.api.server.create_app()`, built with the cyclic garbage collector held back."""
    with memory.long_lived():
        from prefect.server.api.server import create_app as prefect_app

        return prefect_app()
