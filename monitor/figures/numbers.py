"""Figure extraction, numbers: tokens, and the number expressions (values, ranges, hedges) among them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from text_to_num import find_numbers as _t2n_find_numbers
from text_to_num import text2num

from .lexicon import Lexicon

# No count of people exceeds the world's population; larger values are misread numbers.
MAX_COUNT = 8_200_000_000
# Longer digit runs are identifiers or noise; also keeps int() far below Python's digit limit.
MAX_DIGITS = 13

# One token: a number in digits (grouped with , . space, thin or no-break space; or decimal), a word,
# or one other character. Every branch is bounded or possessive-free, so scanning is linear.
_TOKEN_RE = re.compile(
    r"""
    (?P<num>(?<![\w.,])
        (?:\d{1,3}(?:,\d{3})+(?![\d])
          |\d{1,3}(?:\.\d{3})+(?![\d])
          |\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?![\d])
          |\d+(?:[.,]\d+)?)
        (?P<suffix>[kK])?(?:(?=[A-Z][a-z])|(?![^\W_])))
    |(?P<word>(?:[A-Z]\.){2,}(?![^\W\d_])|[^\W\d_]+(?:['\u2019][^\W\d_]+)?|\w+)
    |(?P<punct>\S)
    """,
    re.VERBOSE,
)

_GROUPED_RE = re.compile(r"\d{1,3}(?:([,. \u00a0\u202f\u2009])\d{3})+")
_GROUP_SEPARATORS = str.maketrans("", "", ",. \u00a0\u202f\u2009")
# Quotation marks carry nothing for figures ('"killed" or "wounded"'): tokenize drops them.
_QUOTES = frozenset("\"'\u201c\u201d\u2018\u2019\u00ab\u00bb\u201e\u201f\u2039\u203a`")


class Token(NamedTuple):
    """A token of a sentence: its text, lower-cased text, kind and char offsets into the whole text.

    A NamedTuple rather than a frozen dataclass: tokens are made by the thousand per page, and a frozen
    dataclass's __init__ costs several times more.
    """

    text: str
    low: str
    kind: str  # "num" | "word" | "punct"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Number:
    """One number: value and the tokens [first, last) that state it."""

    value: int
    first: int
    last: int
    approximate: bool  # stated with an approximate number word ("a dozen")


@dataclass(frozen=True, slots=True)
class Expression:
    """A number, range or bound as stated: values, qualifier and the tokens [first, last) incl. hedges."""

    low: int | None
    high: int | None
    qualifier: str
    first: int  # first token, including the hedge
    num_first: int  # first token of the number itself
    last: int  # one past the last token, including a trailing "+" or "or more"


def tokenize(text: str, start: int, end: int, lemma: Callable[[str], str] | None = None) -> list[Token]:
    """Tokens of text[start:end], with offsets into text; a word's `low` is lemma(its lower case) when given
    (an inflected language's dictionary form)."""
    tokens: list[Token] = []
    append = tokens.append
    for m in _TOKEN_RE.finditer(text, start, end):
        kind = m.lastgroup or "punct"
        token_text = m.group()
        if kind == "word":
            low = token_text.lower()
            append(Token(token_text, lemma(low) if lemma is not None else low, kind, *m.span()))
            continue
        if kind == "suffix":
            kind = "num"
        elif kind == "punct" and token_text in _QUOTES:
            continue
        append(Token(token_text, token_text.lower(), kind, *m.span()))
    return tokens


def _digits_value(text: str, lexicon: Lexicon, before_scale: bool) -> float | None:
    """Value of a digit token ("15,000", "15.000", "1.5", "11k"), or None when it is no plain count."""
    multiplier = 1
    if text[-1:].lower() in lexicon.suffixes:
        multiplier = lexicon.suffixes[text[-1:].lower()]
        text = text[:-1]
    if text.isdigit():  # the common case, without the regex below
        return float(int(text)) * multiplier if len(text) <= MAX_DIGITS else None
    if len(text) > MAX_DIGITS + 4:
        return None
    grouped = _GROUPED_RE.fullmatch(text)
    if grouped and not (before_scale and grouped.group(1) in ".," and text.count(grouped.group(1)) == 1):
        return float(int(text.translate(_GROUP_SEPARATORS))) * multiplier
    if len(text) > MAX_DIGITS:
        return None
    return float(text.replace(",", ".")) * multiplier


class _T2NToken:
    """Adapter giving text2num's find_numbers the Token protocol it expects."""

    __slots__ = ("_block", "_text")

    def __init__(self, text: str, block: bool) -> None:
        self._text = text
        self._block = block

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: _T2NToken) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return self._block


@lru_cache(maxsize=4096)
def _maybe_number_word(word: str) -> bool:
    # Cheap guard before calling text2num: number words are short and alphabetic.
    return word.isalpha() and len(word) < 40


def _encodable(text: str) -> str:
    """The token text, or U+FFFD when it holds a lone surrogate: text2num (Rust) panics on those."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "\ufffd"
    return text


@lru_cache(maxsize=65536)
def is_number_word(word: str, language: str) -> bool:
    """Whether text2num reads the lower-cased word alone as a number in `language` (cached: a prefilter)."""
    if not _maybe_number_word(word) or _encodable(word) != word:
        return False
    try:
        text2num(word, language)
    except ValueError:
        return False
    return True


def numbers(tokens: list[Token], lexicon: Lexicon, number_words: bool = True) -> list[Number]:
    """Every cardinal number in the tokens: digits (with scale words and suffixes) and number words.

    `number_words=False` says the caller knows the sentence has no number word (skips text2num).
    """
    found: list[Number] = []
    words = [t.low for t in tokens]
    used = [False] * len(tokens)
    done = 0
    for i in [k for k, t in enumerate(tokens) if t.kind == "num"]:
        if i < done:
            continue  # consumed as the tail of "5 mil 600"
        tok = tokens[i]
        scale = lexicon.scales.get(words[i + 1], 0) if i + 1 < len(tokens) else 0
        value = _digits_value(tok.text, lexicon, before_scale=bool(scale))
        if value is None:
            continue
        last = i + 1
        if scale:
            value *= scale
            last = i + 2
            if last < len(tokens) and tokens[last].text == "." and words[i + 1] in lexicon.abbreviations:
                last += 1  # "12,5 тыс. военнослужащих": the abbreviation's full stop belongs to the number
            # "5 mil 600" (Spanish "5,600"): digits, scale, then digits below the scale.
            if last < len(tokens) and tokens[last].kind == "num" and tokens[last].text.isdigit():
                rest = int(tokens[last].text)
                if rest < scale:
                    value += rest
                    last += 1
        for k in range(i, last):
            used[k] = True
        if value == int(value) and 0 < value <= MAX_COUNT:
            found.append(Number(int(value), i, last, False))
        done = last
    if (
        number_words
        and lexicon.number_words
        and any(t.kind == "word" and is_number_word(t.low, lexicon.language) for t in tokens)
    ):
        found.extend(_word_numbers(tokens, words, used, lexicon))
    if lexicon.one_and_half:
        for k, word in enumerate(words[:-1]):
            scale = lexicon.scales.get(words[k + 1], 0)
            if word in lexicon.one_and_half and scale >= 10 and not used[k]:
                used[k] = used[k + 1] = True
                found.append(Number(scale * 3 // 2, k, k + 2, False))  # "півтори тисячі" = 1,500
    if lexicon.word_values:
        found.extend(_listed_numbers(words, used, lexicon))
    found = _scale_then_digits(tokens, found, lexicon)
    for k, word in enumerate(words):
        if word in lexicon.approximate_numbers and not used[k]:
            value = lexicon.approximate_numbers[word]
            before = next((n for n in found if n.last == k and not n.approximate), None)
            if before is not None:  # "two dozen": the number counts dozens
                found.remove(before)
                found.append(Number(before.value * value, before.first, k + 1, True))
                continue
            last = k + 1
            # "une dizaine de milliers", "una decena de miles": the approximate count of a scale
            scale = lexicon.scales.get(words[k + 2], 0) if k + 2 < len(words) and words[k + 1] in _OF else 0
            if scale and scale > value:
                value, last = value * scale, k + 3
            half = k - 2 if k > 1 and words[k - 1] in lexicon.articles else k - 1  # "half a dozen"
            if half >= 0 and words[half] in lexicon.halves and not used[half]:
                found.append(Number(value // 2, half, last, True))  # "medio centenar", "medio millar"
                continue
            # "a dozen", "up to a dozen": the article belongs to the number, so a bound before it applies
            first = k - 1 if k > 0 and words[k - 1] in lexicon.articles else k
            found.append(Number(value, first, last, True))
    found.sort(key=lambda n: n.first)
    return found


# Between an approximate number word and its scale: "une dizaine de milliers", "una decena de miles".
_OF = frozenset({"de", "d'", "of"})


def _scale_then_digits(tokens: list[Token], found: list[Number], lexicon: Lexicon) -> list[Number]:
    """A scale word then digits below it is one number: "mil 200 militares" (Mexican press: 1,200)."""
    if not found:
        return found
    by_first = {n.first: n for n in found}
    out = []
    skip: set[int] = set()
    for n in sorted(found, key=lambda n: n.first):
        if n.first in skip:
            continue
        nxt = by_first.get(n.last)
        if (
            nxt is not None
            and n.last - n.first == 1
            and lexicon.scales.get(tokens[n.first].low) == n.value
            and tokens[nxt.first].kind == "num"
            and nxt.last - nxt.first == 1
            and 0 < nxt.value < n.value
        ):
            out.append(Number(n.value + nxt.value, n.first, nxt.last, n.approximate))
            skip.add(nxt.first)
            continue
        out.append(n)
    return out


def _listed_numbers(words: list[str], used: list[bool], lexicon: Lexicon) -> list[Number]:
    """Number words from the lexicon's own table ("три тисячі" = 3 x 1000), for languages text2num lacks."""
    found = []
    k = 0
    while k < len(words):
        value = lexicon.word_values.get(words[k])
        if value is None or used[k]:
            k += 1
            continue
        last = k + 1
        # "двадцать три", "dwudziestu trzech": tens and units written as two words add up
        unit = lexicon.word_values.get(words[last]) if last < len(words) and not used[last] else None
        if unit is not None and value >= 20 and value % 10 == 0 and value < 100 and 0 < unit < 10:
            value, last = value + unit, last + 1
        scale = lexicon.scales.get(words[last], 0) if last < len(words) else 0
        if scale and value < scale:
            value, last = value * scale, last + 1
        found.append(Number(value, k, last, False))
        k = last
    return found


def _word_numbers(tokens: list[Token], words: list[str], used: list[bool], lexicon: Lexicon) -> list[Number]:
    found = []
    stream = [
        _T2NToken(_encodable(t.text), used[k] or t.kind == "num" or t.low in lexicon.vague)
        for k, t in enumerate(tokens)
    ]
    for occ in _t2n_find_numbers(stream, lexicon.language, 0.0):
        first, last = int(occ.start), int(occ.end)
        if occ.is_ordinal or any(used[first:last]) or tokens[first].kind == "num":
            continue
        if any(words[k] in lexicon.vague for k in range(first, last)):
            continue
        value = float(occ.value)
        if value == int(value) and 0 < value <= MAX_COUNT:
            found.append(Number(int(value), first, last, False))
    return found


def expressions(tokens: list[Token], nums: list[Number], lexicon: Lexicon) -> list[Expression]:
    """Group numbers into ranges and attach the hedge or bound each one stands after or before."""
    words = [t.low for t in tokens]
    out: list[Expression] = []
    k = 0
    while k < len(nums):
        num = nums[k]
        nxt = nums[k + 1] if k + 1 < len(nums) else None
        # Range "A-B", "A to B", "between A and B", "from A to B".
        if nxt is not None:
            between = words[num.last : nxt.first]
            pair_open = 0
            joined = False
            for opening, joiner in lexicon.range_pairs:
                n = len(opening)
                if tuple(between) == joiner and tuple(words[max(0, num.first - n) : num.first]) == opening:
                    pair_open, joined = n, True
                    break
            if not joined and len(between) == 1 and between[0] in lexicon.range_joiners:
                joined = not _is_score_chain(tokens, nums, k, lexicon)
                # "2-3" must be written tight or spaced on both sides, never "2 -3".
                if joined and between[0] != "to" and _tight(tokens, num.last) != _tight(tokens, nxt.first - 1):
                    joined = False
            low, high = num.value, nxt.value
            if joined and num.last == num.first + 1 and nxt.last - nxt.first > 1:
                # "10 to 12 million": the scale of the second number carries over to the first.
                scale = max((lexicon.scales.get(w, 1) for w in words[nxt.first + 1 : nxt.last]), default=1)
                if scale > 1 and low * scale <= high:
                    low *= scale
            if joined and low >= high and between[0] in {"-", "\u2013"} and not pair_open:
                k += 2  # "losing 3-2", "a 4-1 vote": a score or ratio, neither number a count
                continue
            if joined and low < high:
                first = num.first - pair_open
                last = _after_bound(words, nxt.last, lexicon)[0]
                out.append(Expression(low, high, "range", first, first + pair_open, last))
                k += 2
                continue
        first, qualifier = _hedge(words, num.first, lexicon)
        last, after_qualifier = _after_bound(words, num.last, lexicon)
        if qualifier == "exact":
            qualifier = after_qualifier
        if qualifier == "exact" and num.approximate:
            qualifier = "approximate"
        low_v: int | None = num.value if qualifier != "at_most" else None
        high_v: int | None = num.value if qualifier != "at_least" else None
        out.append(Expression(low_v, high_v, qualifier, first, num.first, last))
        k += 1
    return out


def _tight(tokens: list[Token], k: int) -> bool:
    """Whether token k touches the next token (no space between)."""
    return k + 1 < len(tokens) and tokens[k].end == tokens[k + 1].start


def _is_score_chain(tokens: list[Token], nums: list[Number], k: int, lexicon: Lexicon) -> bool:
    """'1-6-2' or '9-2-1' (sports records, codes): a third number joined the same way is no range."""
    a, b = nums[k], nums[k + 1]
    if k + 2 < len(nums) and nums[k + 2].first == b.last + 1 and tokens[b.last].low in lexicon.range_joiners:
        return True
    return k > 0 and nums[k - 1].last + 1 == a.first and tokens[a.first - 1].low in lexicon.range_joiners


def _hedge(words: list[str], first: int, lexicon: Lexicon) -> tuple[int, str]:
    """Start token and qualifier of the hedge or bound right before token `first`."""
    best_len, best = 0, "exact"
    for qualifier, phrases in lexicon.hedges.items():
        n = phrases.match_before(words, first)
        if n > best_len:
            best_len, best = n, qualifier
    if best_len == 1 and first >= 2 and words[first - 2] in lexicon.particle_verbs:
        return first, "exact"  # "hands over 32 servicemen": the verb's particle
    return first - best_len, best


def _after_bound(words: list[str], last: int, lexicon: Lexicon) -> tuple[int, str]:
    """End token and qualifier of a bound right after the number ("325+", "50 or more")."""
    n = lexicon.after_at_least.match_at(words, last)
    if n:
        return last + n, "at_least"
    n = lexicon.after_approximate.match_at(words, last)
    if n:
        return last + n, "approximate"
    return last, "exact"
