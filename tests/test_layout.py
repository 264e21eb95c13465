"""The package's shape, read from its source: the import graph of monitor/ has no cycle, only the CLI reaches into
flows/, and storage imports no pipeline stage. Every import counts, also one inside a function (a lazy import
is still a dependency: it only hides a cycle until the function runs)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MONITOR = ROOT / "monitor"
# what storage may import of the package: errors, and the claimant lexicon (a pure lookup of canonical names,
# applied as figures are written so that every stored row carries its key)
STORE_MAY_IMPORT = {"monitor.errors", "monitor.claimants"}


def unit(module: str) -> str:
    """The unit a module belongs to: a top-level module of monitor/, or a package (monitor.figures.extract ->
    monitor.figures); flows.poll -> flows."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "monitor" else parts[0]


def is_unit(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """The monitor/ units and flows/ a source file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from monitor import figures, store` names modules; `from monitor.series import Decision` a module
            names = [f"{node.module}.{a.name}" for a in node.names if is_unit(f"{node.module}.{a.name}")]
            names.append(node.module)
        else:
            continue
        found |= {unit(n) for n in names if n.split(".")[0] in ("monitor", "flows") and n != "monitor"}
    return found


def graph() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted(MONITOR.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out.setdefault(unit(module), set()).update(imports(path) - {unit(module)})
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one unit (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    edges = graph()
    assert {"monitor.store", "monitor.cli", "monitor.figures", "monitor.fetch"} <= set(edges)
    assert "monitor.series" in edges["monitor.report"] and "monitor.store" in edges["monitor.history"]
    assert "flows" in edges["monitor.cli"]  # lazy imports inside functions count


def test_monitor_has_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, f"import cycles in monitor/: {found}"


def test_only_the_cli_imports_flows() -> None:
    offenders = sorted(m for m, deps in graph().items() if "flows" in deps and m != "monitor.cli")
    assert not offenders, f"monitor/ modules importing flows/ (only monitor.cli may): {offenders}"


def test_store_imports_no_stage() -> None:
    stages = graph()["monitor.store"] - STORE_MAY_IMPORT
    assert not stages, f"monitor/store.py imports pipeline stages: {sorted(stages)}"


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_cycles_are_found(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_readme_module_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| module | stage |") :]
    table = table[: table.index("\n\n")]
    modules = {p.name for p in MONITOR.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {f"{p.parent.name}/" for p in MONITOR.glob("*/__init__.py")}
    missing = sorted(m for m in modules | packages if f"{m}`" not in table)
    assert not missing, f"README's module table lacks: {missing}"
    named = set(re.findall(r"`(?:monitor/)?([a-z_]+\.py|[a-z_]+/)`", table)) - {
        "flows/",
        "bench/",
        "queries/",
        "migrations/",
        "views/",
    }
    assert named <= modules | packages, f"README names modules that do not exist: {sorted(named - modules - packages)}"
