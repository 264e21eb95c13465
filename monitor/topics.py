"""Topics: boolean search strings ("North Korea" OR DPRK) AND Russia, matched over title and body.

Grammar (case-insensitive, whole-word):
    query  := or
    or     := and ("OR" and)*
    and    := unary (["AND"] unary)*          -- adjacent terms mean AND
    unary  := "NOT" unary | "-" unary | atom
    atom   := '"' phrase '"' | word | word* | "(" or ")"
A word ending in `*` matches any word starting with it (`deploy*`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.errors import MonitorError

VERSION = "1"  # bump when matching semantics change: stored with every match, for `monitor reprocess`
_OPERATORS = {"AND", "OR", "NOT"}
_WORD_START = r"(?<!\w)"  # every term starts here: \b fails next to punctuation ("U.S.")
_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))')


class QuerySyntaxError(MonitorError):
    """A topic query cannot be parsed; the message gives the position."""

    def __init__(self, query: str, position: int, message: str) -> None:
        pointer = f"{query}\n{' ' * position}^"
        super().__init__(f"{message} at position {position + 1}:\n{pointer}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Node:
    op: str  # "term" | "and" | "or" | "not"
    children: tuple[Node, ...] = ()
    term: Term | None = None


@dataclass(frozen=True, slots=True)
class Query:
    source: str
    root: Node
    terms: tuple[Term, ...]
    # Where any term matches: one pass over the text instead of one per term (a text is scanned once,
    # its word starts checked against every term), then each term tried only at those places.
    scan: re.Pattern[str] | None = None

    def match(self, text: str) -> tuple[str, ...] | None:
        """The terms found when the query matches the text (possibly empty for a pure NOT), else None."""
        if self.scan is None:
            found = {t.text for t in self.terms if t.pattern.search(text)}
        else:
            found = set()
            for m in self.scan.finditer(text):
                found.update(t.text for t in self.terms if t.text not in found and t.pattern.match(text, m.start()))
                if len(found) == len(self.terms):
                    break
        return tuple(sorted(found)) if _evaluate(self.root, found) else None


@dataclass(frozen=True, slots=True)
class Match:
    topic: str
    terms: tuple[str, ...]


def parse(query: str) -> Query:
    """Parse a boolean search string; raise QuerySyntaxError with the position of the problem."""
    tokens = _tokenize(query)
    if not tokens:
        raise QuerySyntaxError(query, 0, "empty query")
    parser = _Parser(query, tokens)
    root = parser.parse_or()
    if parser.i < len(tokens):
        kind, _, pos = tokens[parser.i]
        raise QuerySyntaxError(query, pos, "unexpected ')'" if kind == ")" else "unexpected text")
    terms: dict[str, Term] = {}
    _collect(root, terms)
    # every term's own pattern, as one lookahead: matches (empty) exactly where some term matches; the
    # terms' common start, no word character before, is tested once per place, not once per term
    bodies = [t.pattern.pattern.removeprefix(_WORD_START) for t in terms.values()]
    scan = re.compile(_WORD_START + "(?=" + "|".join(f"(?:{b})" for b in bodies) + ")", re.IGNORECASE)
    return Query(source=query, root=root, terms=tuple(terms.values()), scan=scan)


def version(queries: Iterable[tuple[str, str]]) -> str:
    """A stable version string for a set of (name, query) topics: changes when any query changes."""
    digest = hashlib.sha1(VERSION.encode())
    for name, query in sorted(queries):
        digest.update(f"\0{name}\0{query}".encode())
    return f"{VERSION}:{digest.hexdigest()[:12]}"


def match_all(queries: Iterable[tuple[str, Query]], title: str, body: str) -> list[Match]:
    """Every topic whose query matches the title and body of an article."""
    text = f"{title}\n{body}"
    out = []
    for name, q in queries:
        terms = q.match(text)
        if terms is not None:
            out.append(Match(topic=name, terms=terms))
    return out


def _tokenize(query: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None or m.end() == pos:
            break
        if m.group("phrase") is not None:
            start = m.start("phrase")
            phrase = m.group("phrase")
            if len(phrase) < 2 or not phrase.endswith('"'):
                raise QuerySyntaxError(query, start, "unclosed quote")
            words = phrase[1:-1].split()
            if not words:
                raise QuerySyntaxError(query, start, "empty phrase")
            tokens.append(("term", " ".join(words), start))
        elif m.group("paren") is not None:
            tokens.append((m.group("paren"), m.group("paren"), m.start("paren")))
        else:
            word = m.group("word")
            start = m.start("word")
            if word in _OPERATORS:
                tokens.append((word, word, start))
            elif word.startswith("-") and len(word) > 1:
                tokens.append(("NOT", "-", start))
                tokens.append(("term", word[1:], start + 1))
            else:
                tokens.append(("term", word, start))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, query: str, tokens: list[tuple[str, str, int]]) -> None:
        self.query = query
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.i += 1
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Node("or", tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.peek() in ("AND", "NOT", "term", "("):
            if self.peek() == "AND":
                self.i += 1
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else Node("and", tuple(children))

    def parse_unary(self) -> Node:
        if self.peek() == "NOT":
            self.i += 1
            return Node("not", (self.parse_unary(),))
        return self.parse_atom()

    def parse_atom(self) -> Node:
        if self.i >= len(self.tokens):
            raise QuerySyntaxError(self.query, len(self.query), "query ends where a search term was expected")
        kind, text, pos = self.tokens[self.i]
        if kind == "term":
            self.i += 1
            return Node("term", term=_term(text))
        if kind == "(":
            self.i += 1
            node = self.parse_or()
            if self.peek() != ")":
                raise QuerySyntaxError(self.query, pos, "unclosed '('")
            self.i += 1
            return node
        if kind == ")":
            raise QuerySyntaxError(self.query, pos, "unexpected ')' where a search term was expected")
        raise QuerySyntaxError(self.query, pos, f"{text} where a search term was expected")


def _term(text: str) -> Term:
    words = text.split()
    parts = [re.escape(w) for w in words]
    tail = r"\w*" if words[-1].endswith("*") and len(words[-1]) > 1 else ""
    if tail:
        parts[-1] = re.escape(words[-1][:-1])
    # \b fails next to punctuation ("U.S."), so whole-word means: no word character on either side
    body = r"\s+".join(parts)
    pattern = re.compile(rf"{_WORD_START}{body}{tail}(?!\w)", re.IGNORECASE)
    return Term(text=text, pattern=pattern)


def _collect(node: Node, terms: dict[str, Term]) -> None:
    if node.term is not None:
        terms.setdefault(node.term.text, node.term)
    for child in node.children:
        _collect(child, terms)


def _evaluate(node: Node, found: set[str]) -> bool:
    if node.op == "term":
        assert node.term is not None
        return node.term.text in found
    if node.op == "and":
        return all(_evaluate(c, found) for c in node.children)
    if node.op == "or":
        return any(_evaluate(c, found) for c in node.children)
    return not _evaluate(node.children[0], found)
