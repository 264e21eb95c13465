"""Docs held to the code: every command has help with an example, every config key and every column of
the database is documented, every error a user can meet is in the troubleshooting guide."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import monitor
from monitor import cli, config, store
from monitor.errors import ConfigError, MonitorError

DOCS = Path(__file__).resolve().parents[1] / "docs"
# each config table, and a line that makes it exist in TOML
SECTIONS = {
    "": "",
    "schedule": "[schedule]",
    "fetch": "[fetch]",
    "feeds": "[[feeds]]\nurl = 'https://a.example/rss'",
    "topics": "[[topics]]\nname = 't'\nquery = 'x'",
    "email": "[email]",
    "scale": "[scale]",
    "alerts": "[alerts]",
    # a channel's `topics` example names this topic; its name line is indented so that the `name` row's
    # example (which replaces `name = …` lines) leaves it alone
    "alerts.channels": "[[topics]]\n  name = 'North Korean troops in Russia'\nquery = 'x'\n"
    "[[alerts.channels]]\nurl = 'json://127.0.0.1/hook'",
}
HEADINGS = {
    "": "Top-level keys",
    "schedule": "`[schedule]`",
    "fetch": "`[fetch]`",
    "feeds": "`[[feeds]]`",
    "topics": "`[[topics]]`",
    "email": "`[email]`",
    "scale": "`[scale]`",
    "alerts": "`[alerts]`",
    "alerts.channels": "`[[alerts.channels]]`",
}


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out += commands(cmd, (*path, name))
        else:
            out.append((*path, name))
    return out


@pytest.mark.parametrize("path", commands(cli.main), ids=lambda p: " ".join(("monitor", *p)))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli.main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert re.search(r"^\s*Examples?:\s*$", text, re.M), f"`monitor {' '.join(path)} --help` has no example"
    example = text[re.search(r"^\s*Examples?:\s*$", text, re.M).end() :]  # type: ignore[union-attr]
    assert re.search(r"^\s+(\S+=\S+ )*monitor\b", example, re.M), "the example does not show a command line"


def known_keys(section: str, tmp_path: Path) -> set[str]:
    """The keys the config reader accepts in a table, as its own error message lists them."""
    path = tmp_path / "probe.toml"
    head = SECTIONS[section]
    path.write_text(f"{head}\nzqxjkvw = 1\n" if head else "zqxjkvw = 1\n")
    with pytest.raises(ConfigError) as e:
        config.load(path, environ={})
    found = re.search(r"Known keys: (.*)\.$", str(e.value))
    assert found, str(e.value)
    return set(found.group(1).split(", "))


def test_configuration_doc_lists_every_key_with_default_and_example(tmp_path: Path) -> None:
    doc = (DOCS / "configuration.md").read_text()
    tables = {name: _section(doc, rf"^## {re.escape(HEADINGS[name])}$") for name in SECTIONS}
    missing = []
    for name, text in tables.items():
        for key in sorted(known_keys(name, tmp_path)):
            if not re.search(rf"^\| `{key}` \|[^|]*\|[^|]*\S[^|]*\|", text, re.M):
                missing.append(f"{HEADINGS[name]} {key}")
    assert not missing, f"docs/configuration.md lacks a row (key | default | meaning) for: {missing}"


def test_configuration_doc_examples_are_valid_configs(tmp_path: Path) -> None:
    doc = (DOCS / "configuration.md").read_text()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "relay-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")  # ca_file's example
    files = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert len(files) >= 2
    for i, block in enumerate(files):  # the whole-file examples load as they are
        (tmp_path / f"file{i}.toml").write_text(block)
        config.load(tmp_path / f"file{i}.toml", environ={})
    checked = 0
    for name, head in SECTIONS.items():  # and every `key = value` example of the tables, in its table
        table = _section(doc, rf"^## {re.escape(HEADINGS[name])}$")
        for row in re.findall(r"^\| `(\w+)` \|.*$", table, re.M):
            line = next(r for r in table.splitlines() if r.startswith(f"| `{row}` |"))
            for example in re.findall(rf"`({row} = [^`]+)`", line):
                lines = [x for x in head.splitlines() if not x.startswith(f"{row} =")]
                path = tmp_path / "example.toml"
                path.write_text("\n".join([*lines, example]) + "\n")
                config.load(path, environ={})
                checked += 1
    assert checked >= 30


def public_columns() -> dict[str, list[str]]:
    """Every table and view of a freshly migrated database, with its columns."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, store.open_for_write(Path(tmp) / "schema.duckdb") as con:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def test_schema_doc_describes_every_table_view_and_column() -> None:
    doc = (DOCS / "schema.md").read_text()
    missing = []
    for table, columns in public_columns().items():
        text = _section(doc, rf"^### `{table}`")
        if not text:
            missing.append(f"{table} (no section)")
            continue
        missing += [f"{table}.{c}" for c in columns if not re.search(rf"^\| `{c}` \|[^|]*\|\s*\S", text, re.M)]
    assert not missing, f"docs/schema.md lacks: {missing}"


def error_classes() -> list[type[MonitorError]]:
    for mod in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if not mod.name.startswith("monitor.__main__"):
            importlib.import_module(mod.name)
    seen: list[type[MonitorError]] = []
    todo: list[type[MonitorError]] = [MonitorError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("monitor"):
            seen.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(seen), key=lambda c: c.__name__)


def test_troubleshooting_names_every_error_a_user_can_meet() -> None:
    doc = (DOCS / "troubleshooting.md").read_text()
    missing = [c.__name__ for c in error_classes() if f"`{c.__name__}`" not in doc]
    assert not missing, f"docs/troubleshooting.md does not explain: {missing}"


def test_docs_links_point_at_files_that_exist() -> None:
    broken = []
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert not broken, broken
    index = (DOCS / "index.md").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"


def _section(doc: str, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    m = re.search(heading, doc, re.M)
    if not m:
        return ""
    level = len(re.match(r"#+", doc[m.start() :]).group())  # type: ignore[union-attr]
    end = re.search(rf"^#{{1,{level}}} ", doc[m.end() :], re.M)
    return doc[m.end() : m.end() + end.start()] if end else doc[m.end() :]


def test_readme_offers_the_demo_right_after_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    first_block = re.search(r"```sh\n(.*?)```\n(.*?)\n\n", readme, re.S)
    assert first_block, "README has no command block"
    commands, after = first_block.groups()
    assert "monitor run" in commands and "pytest" in commands
    assert "monitor demo" in after


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.slow
def test_scheduling_step_1_starts_a_prefect_server_in_a_fresh_clone(tmp_path: Path) -> None:
    """docs/scheduling.md, worker route, step 1: its lines as written, in a directory with no data/ yet."""
    doc = (DOCS / "scheduling.md").read_text()
    step = re.search(r"^1\. \*\*A server\.\*\*.*?```sh\n(.*?)```", doc, re.S | re.M)
    assert step, "docs/scheduling.md: no step 1 with a sh block"
    port = _free_port()
    script = textwrap.dedent(step.group(1)).replace("--port 4200", f"--port {port}")
    assert f"--port {port}" in script and "prefect server start" in script
    # the shell a user has: no Prefect settings of this test session, the project's prefect on PATH
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "server.out"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-euc", script],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        healthy = False
        while not healthy and server.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    healthy = r.status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, log.read_text()[-3000:]
        assert (tmp_path / "data" / "prefect").is_dir()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the session this test started: bash and its server
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
