"""The polling cycle has one home (issue 19, item 1): `flows/poll.py`'s `run_once` reads like the pipeline."""

from __future__ import annotations

import ast
import inspect
import textwrap

from flows import poll

# Decision points, as radon and McCabe count them: each adds a path through the function.
BRANCHES = (
    ast.If,
    ast.IfExp,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ExceptHandler,
    ast.With,
    ast.AsyncWith,
    ast.Assert,
    ast.comprehension,
    ast.match_case,
)


def complexity(fn: ast.FunctionDef) -> int:
    n = 1
    for node in ast.walk(fn):
        if isinstance(node, BRANCHES) and not isinstance(node, ast.With | ast.AsyncWith):
            n += 1
        elif isinstance(node, ast.BoolOp):
            n += len(node.values) - 1
        if isinstance(node, ast.comprehension):
            n += len(node.ifs)
    return n


def run_once() -> ast.FunctionDef:
    [fn] = ast.parse(textwrap.dedent(inspect.getsource(poll.run_once))).body
    assert isinstance(fn, ast.FunctionDef)
    return fn


def test_run_once_is_short_and_simple() -> None:
    fn = run_once()
    body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body  # the docstring aside
    lines = body[-1].end_lineno - body[0].lineno + 1  # type: ignore[operator]
    assert lines <= 30, lines
    assert complexity(fn) <= 8, complexity(fn)


def test_run_once_calls_the_stages_in_the_pipelines_order() -> None:
    calls = sorted(
        (node.lineno, node.col_offset, node.func.id)
        for node in ast.walk(run_once())
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    )
    called = [name for _, _, name in calls]
    stages = ["_start", "_poll", "_select_new", "_fetch_extract_store", "_history", "_alerts"]
    assert [c for c in called if c in stages] == stages, called


def test_selecting_new_entries_is_one_store_call() -> None:
    select = inspect.getsource(poll._select_new)
    assert select.count("store.") == 2 and "store.select_new(" in select  # open, then the one call
