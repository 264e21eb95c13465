"""House style as a test: ruff's rule set and formatting on the whole tree, mypy --strict on the library and the
flows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' brings it)")
    return path


def test_ruff_finds_nothing() -> None:
    out = subprocess.run(
        [tool("ruff"), "check", "monitor", "flows", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    out = subprocess.run(
        [tool("ruff"), "format", "--check", "monitor", "flows", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr + "\nrun: ruff format monitor flows tests bench"


def test_mypy_strict_on_library_and_flows() -> None:
    out = subprocess.run([tool("mypy"), "monitor", "flows"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
