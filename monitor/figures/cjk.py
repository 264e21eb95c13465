"""Figure extraction, Korean and Japanese: counts written with a counter (명, 人), categorised by their clause.

These languages do not separate words the way the token rules of extract.py need (Japanese has no spaces;
Korean glues particles and endings to every word: "사망자가", "사망했다"). Their figures have a regular shape
instead: a number in digits, Sino-Korean or kanji numerals and the scales 천/만/억 (千/万/億), then a counter
for people, with the predicate in the same clause. So a candidate is every number-and-counter, and the
category is the nearest category stem in its clause: a noun stem right before it ("사망자 600명",
"死者600人"), otherwise the predicate after it ("600명이 숨졌다", "600人が死亡した"), otherwise a stem
further back. Stems cover every ending a predicate takes, so no analyser is needed; lexicon_ko.toml and
lexicon_ja.toml hold them.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from . import claimant as claimants
from .lexicon import LexiconError
from .record import CATEGORIES, Figure

LANGUAGES = ("ja", "ko")
# How far (characters) a category stem may stand from its count: one clause.
CLAUSE_CHARS = 30
MAX_COUNT = 8_200_000_000
# Sentences end at these; a clause also ends at a comma.
_SENTENCE_RE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|(?=\n)|$)")
_CLAUSE_BREAKS = frozenset(",，、;；")
_KO_PARTICLE_ENDS = ("은", "는", "이", "가", "에", "를", "을", ",")
_DIGITS = "0123456789０１２３４５６７８９"
_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "两": 2,
}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000, "십": 10, "백": 100, "천": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "億": 100_000_000, "만": 10_000, "억": 100_000_000}
_NUMBER_CHARS = "".join(_KANJI_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)
# A number: digits (grouped with commas, or decimal) and numerals, scales between them, spaces inside
# ("1만 5000", "1万2千", "三千", "4,700", "1.5万").
_NUMBER_RE = re.compile(
    rf"(?<![0-9A-Za-z.,])(?:[{_DIGITS}]+(?:[,，][{_DIGITS}]{{3}})*(?:\.[{_DIGITS}]+)?|[{_NUMBER_CHARS}])"
    rf"(?:\s?(?:[{_DIGITS}]+(?:[,，][{_DIGITS}]{{3}})*|[{_NUMBER_CHARS}]))*"
)


@dataclass(frozen=True, slots=True)
class CjkLexicon:
    """The word lists of one language (lexicon_<lang>.toml)."""

    language: str
    counters: tuple[str, ...]
    native: dict[str, int]
    native_re: re.Pattern[str] | None  # a native number word right before a counter
    range_words: tuple[str, ...]
    before: tuple[tuple[str, str], ...]  # (phrase, qualifier), longest first
    after: tuple[tuple[str, str], ...]
    stems: tuple[tuple[str, str], ...]  # (stem, category), longest first
    stems_re: re.Pattern[str]  # any stem, longest first
    stem_category: dict[str, str]
    not_figures: tuple[str, ...]
    dead_or_missing: tuple[str, ...]
    standing: tuple[str, ...]
    ordinal_after: tuple[str, ...]
    vague_before: tuple[str, ...]
    group_after: tuple[str, ...]  # "1만1000여명 가운데": the count is the group, a part follows
    increment_after: tuple[str, ...]  # "59人増え": an increase, not a count
    not_who: frozenset[str]
    case_particles: str
    part_markers: tuple[str, ...]  # "이 가운데", "このうち": the next count is a part of the one before
    including: tuple[str, ...]  # "2명을 포함해", "2人を含む": the count is a part of the next one
    joiners: tuple[str, ...]  # "1천 명과 5천 명", "1000人と": a list sharing the next count's predicate
    topic_particles: str
    noun_links: re.Pattern[str]
    either: tuple[str, ...]
    according: tuple[str, ...]
    claim_verbs: tuple[str, ...]
    particles: tuple[str, ...]
    back: tuple[str, ...]  # "…" 국정원은 이같이 밝혔다: the source of the sentence before (a quote)


def _list(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: key {key!r} must be a list of strings. Fix the lexicon file.")
    return tuple(value)


@cache
def load(language: str) -> CjkLexicon:
    """The packaged lexicon of `language` ("ko", "ja"), parsed once."""
    name = f"lexicon_{language}.toml"
    data = tomllib.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    quals = data.get("qualifiers", {})
    cats = data.get("categories", {})
    context = data.get("context", {})
    claim = data.get("claimant", {})

    def bounds(side: str) -> tuple[tuple[str, str], ...]:
        pairs = [(p, q) for q in ("approximate", "at_least", "at_most") for p in _list(quals, f"{q}_{side}", name)]
        return tuple(sorted(pairs, key=lambda pq: -len(pq[0])))

    stems = [(s, c) for c in CATEGORIES for s in _list(cats, c, name)]
    native = data.get("native", {})
    if not isinstance(native, dict) or not all(isinstance(v, int) for v in native.values()):
        raise LexiconError(f"{name}: key 'native' must be a table of integers. Fix the lexicon file.")
    return CjkLexicon(
        language=language,
        counters=_list(data, "counters", name),
        native={str(k): int(v) for k, v in native.items()},
        native_re=re.compile(
            rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in sorted(native, key=len, reverse=True))})"
            rf"(?= ?(?:{'|'.join(map(re.escape, _list(data, 'counters', name)))}))"
        )
        if native
        else None,
        range_words=_list(data, "range_words", name),
        before=bounds("before"),
        after=bounds("after"),
        stems=tuple(sorted(stems, key=lambda sc: -len(sc[0]))),
        stems_re=re.compile("|".join(re.escape(st) for st, _ in sorted(stems, key=lambda sc: -len(sc[0])))),
        stem_category={st: c for st, c in reversed(sorted(stems, key=lambda sc: -len(sc[0])))},
        not_figures=_list(context, "not_figures", name),
        dead_or_missing=_list(context, "dead_or_missing", name),
        standing=_list(context, "standing", name),
        ordinal_after=_list(context, "ordinal_after", name),
        vague_before=_list(context, "vague_before", name),
        group_after=_list(context, "group_after", name),
        increment_after=_list(context, "increment_after", name),
        not_who=frozenset(_list(context, "not_who", name)),
        case_particles="".join(_list(context, "case_particles", name)),
        part_markers=_list(context, "part_markers", name),
        including=_list(context, "including", name),
        joiners=_list(context, "joiners", name),
        topic_particles="".join(_list(claim, "particles", name)),
        noun_links=re.compile("|".join(f"(?:{p})" for p in _list(context, "noun_links", name)) or "$^"),
        either=_list(context, "either", name),
        according=_list(claim, "according", name),
        claim_verbs=_list(claim, "verbs", name),
        particles=_list(claim, "particles", name),
        back=_list(claim, "back", name),
    )


@dataclass(frozen=True, slots=True)
class _Count:
    low: int | None
    high: int | None
    qualifier: str
    start: int  # of the hedge or the number
    end: int  # past the counter and any bound after it
    counter_end: int


def value(numeral: str) -> int | None:
    """The value of a number written with digits, numerals and scales: "1만5천" 15000, "三千" 3000,
    "1.5万" 15000, "4,700" 4700, "十二" 12; None when it is no whole count."""
    total = section = 0.0
    current: float | None = None
    for part in re.findall(rf"[{_DIGITS}]+(?:\.[{_DIGITS}]+)?|\S", numeral.replace(",", "").replace("，", "")):
        if part[0] in _DIGITS:
            current = float(part.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
        elif part in _KANJI_DIGITS:
            current = float(_KANJI_DIGITS[part]) if current is None else current * 10 + _KANJI_DIGITS[part]
        elif part in _SMALL_UNITS:
            section += (1 if current is None else current) * _SMALL_UNITS[part]
            current = None
        elif part in _BIG_UNITS:
            section += current or 0
            total += (section or 1) * _BIG_UNITS[part]
            section, current = 0, None
    total += section + (current or 0)
    if total != int(total) or not 0 < total <= MAX_COUNT:
        return None
    return int(total)


def _scale(numeral: str) -> int:
    """The scale a numeral ends in ("4천" 1000, "1万" 10000), 1 when none: "3-4천" carries it to the 3."""
    last = numeral.strip()[-1:]
    return _SMALL_UNITS.get(last) or _BIG_UNITS.get(last) or 1


def _skip_space(text: str, k: int) -> int:
    while k < len(text) and text[k] == " ":
        k += 1
    return k


def _counts(text: str, start: int, end: int, lex: CjkLexicon) -> list[_Count]:
    """Every number followed by a people counter in text[start:end], with its bounds and hedges."""
    spans: list[tuple[int, int, int | None]] = [
        (m.start(), m.end(), value(m.group())) for m in _NUMBER_RE.finditer(text, start, end)
    ]
    if lex.native_re is not None:  # "두 명", "다섯 명"
        for m in lex.native_re.finditer(text, start, end):
            spans.append((m.start(), m.end(), lex.native[m.group()]))
    spans.sort()
    found = _counts_of(text, spans, lex)
    merged: list[_Count] = []
    for count in found:
        prev = merged[-1] if merged else None
        # "1만 명에서 1만2천 명 사이", "1万人から1万2千人": a range written with the counter twice
        if (
            prev is not None
            and prev.qualifier == "exact"
            and count.qualifier in {"exact", "approximate"}
            and text[prev.counter_end : count.start].strip() in lex.range_words
            and prev.low is not None
            and count.high is not None
            and prev.low < count.high
        ):
            merged[-1] = _Count(prev.low, count.high, "range", prev.start, count.end, count.counter_end)
            continue
        merged.append(count)
    return merged


def _counts_of(text: str, spans: list[tuple[int, int, int | None]], lex: CjkLexicon) -> list[_Count]:
    found: list[_Count] = []
    k = 0
    while k < len(spans):
        first, last, v = spans[k]
        low_value = v
        range_start = first
        # "3-4천 명", "3000~4000명", "1万から2万人": a range when a joiner links two numbers
        nxt = spans[k + 1] if k + 1 < len(spans) else None
        if nxt is not None:
            between = text[last : nxt[0]].strip()
            if between in lex.range_words and nxt[2] is not None and v is not None:
                low_v = v * _scale(text[nxt[0] : nxt[1]]) if _scale(text[first:last]) == 1 else v
                if low_v < nxt[2]:
                    first, last, v = nxt
                    k += 1
                    low_value = low_v
        k += 1
        if v is None or any(text.endswith(w, 0, range_start) for w in lex.vague_before):
            continue  # "수천 명", "数百人": a vague count
        pos = _skip_space(text, last)
        after_q, pos = _bound_after(text, pos, lex)
        counter = next((c for c in lex.counters if text.startswith(c, pos)), None)
        if counter is None:
            continue
        counter_end = pos + len(counter)
        if any(text.startswith(o, counter_end) for o in lex.ordinal_after):
            continue  # "세 명째", "3人目": an ordinal
        # "인" counts people only standing alone ("5인"), not inside a word ("인사", "인도")
        if (
            counter == "인"
            and counter_end < len(text)
            and ("\uac00" <= text[counter_end] <= "\ud7a3")
            and text[counter_end] not in "이은을의과도"
        ):
            continue
        q2, stop = _bound_after(text, _skip_space(text, counter_end), lex)
        qualifier = after_q if after_q != "exact" else q2
        stop = stop if q2 != "exact" else counter_end
        hedge_start = range_start
        if range_start == first:
            before_q, hedge_start = _bound_before(text, first, lex)
            qualifier = before_q if before_q != "exact" else qualifier
        if range_start != first and low_value is not None and low_value < v:
            found.append(_Count(low_value, v, "range", range_start, stop, counter_end))
            continue
        low: int | None = v if qualifier != "at_most" else None
        high: int | None = v if qualifier != "at_least" else None
        found.append(_Count(low, high, qualifier, hedge_start, stop, counter_end))
    return found


def _bound_after(text: str, pos: int, lex: CjkLexicon) -> tuple[str, int]:
    """The bound after a count: "1만 명 이상", "5천 명을 넘었다", "1000人を超えた" (a case particle may come
    first)."""
    starts = [pos]
    if pos < len(text) and text[pos] in lex.case_particles:
        starts.append(_skip_space(text, pos + 1))
    for at in starts:
        for phrase, qualifier in lex.after:
            if at != pos and len(phrase) < 2:
                continue  # "2명이 여전히": past a particle a one-syllable bound is the next word's start
            if text.startswith(phrase, at):
                return qualifier, _skip_space(text, at + len(phrase))
    return "exact", pos


def _bound_before(text: str, first: int, lex: CjkLexicon) -> tuple[str, int]:
    k = first
    while k > 0 and text[k - 1] == " ":
        k -= 1
    for phrase, qualifier in lex.before:
        if text.endswith(phrase, 0, k):
            return qualifier, k - len(phrase)
    return "exact", first


def _stem_at(text: str, k: int, lex: CjkLexicon) -> tuple[str, int] | None:
    m = lex.stems_re.match(text, k)
    return (lex.stem_category[m.group()], m.end() - k) if m else None


def _clause(text: str, start: int, end: int, at: int, stop_at: int, topic: str = "") -> tuple[int, int]:
    """The clause around position `at`: back to a comma or the sentence start, on to a comma or the end."""
    left = at
    while left > start and at - left < CLAUSE_CHARS:
        if text[left - 1] in _CLAUSE_BREAKS and not (left > 1 and text[left - 2] in topic):
            break  # a comma after a topic ("死者は、…") does not end the clause
        left -= 1
    right = stop_at
    # "北朝鮮の兵士1人が、…捕虜になった": a comma right after the count's own particle does not end its clause
    if right + 1 < end and text[right] in topic and text[right + 1] in _CLAUSE_BREAKS:
        right += 2
    elif right + 1 < end and text[right] in _CLAUSE_BREAKS:
        right += 1  # a headline's "自衛隊員約180人、ジブチへ派遣": the comma right after a count joins its predicate
    while right < end and text[right] not in _CLAUSE_BREAKS and right - stop_at < CLAUSE_CHARS:
        right += 1
    return left, right


def _category(
    text: str, start: int, end: int, count: _Count, bounds: tuple[int, int], lex: CjkLexicon
) -> tuple[str | None, str]:
    """The category of a count and how it was found (noun, after, before): a noun right before it
    ("사망자는 약 600명"), else the nearest predicate after it ("600명이 숨졌다"), else the nearest stem before it."""
    left, right = _clause(text, start, end, count.start, count.end, lex.topic_particles)
    left = max(left, bounds[0])
    right = min(right, bounds[1])
    before: tuple[str, int] | None = None  # (category, end of the stem)
    for k in range(count.start - 1, left - 1, -1):
        hit = _stem_at(text, k, lex)
        if hit and k + hit[1] <= count.start:
            before = (hit[0], k + hit[1])
            break
    gap = text[before[1] : count.start] if before else ""
    # Japanese writes no spaces inside a phrase: a space between a stem and a count ("死亡　五人が重軽傷") parts a
    # headline's clauses, it links no noun to its count
    if before and lex.noun_links.fullmatch(gap.strip()) and not (lex.language == "ja" and gap and gap.isspace()):
        return before[0], "noun"
    if _starts_with_any(text[count.end : right].lstrip(), lex.group_after):
        right = count.end  # "파병된 북한군 1만1000여명 가운데 사상자가 …": what follows is said of a part
    found = lex.stems_re.search(text, count.end, right)
    if found:
        k = found.start()
        hit = (lex.stem_category[found.group()], found.end() - k)
        # "전사하거나 다쳤다", "死亡または負傷": killed or wounded together are casualties
        rest = text[k + hit[1] : min(right, k + hit[1] + 10)]
        if hit[0] in {"killed", "wounded"} and any(rest.startswith(e) or e in rest[:6] for e in lex.either):
            other = next(
                (
                    j
                    for j in range(len(rest))
                    if (h := _stem_at(rest, j, lex)) and {h[0], hit[0]} == {"killed", "wounded"}
                ),
                None,
            )
            if other is not None:
                return "casualties", "after"
        return hit[0], "after"
    return (before[0], "before") if before else (None, "")


def _excluded(text: str, count: _Count, left: int, right: int, lex: CjkLexicon) -> bool:
    """Counts of people who are no figure: arrested, evacuated, rescued, withdrawn; dead and missing together;
    a standing force."""
    window = text[max(left, count.start - 20) : min(right, count.end + 14)]
    if any(p in window for p in lex.dead_or_missing):
        return True
    if any(p in window for p in lex.standing):
        return True
    near_after = text[count.end : min(right, count.end + 10)]
    return any(p in near_after for p in lex.not_figures)


def _claimant(text: str, start: int, end: int, lex: CjkLexicon) -> str | None:
    """The source a sentence names: "X에 따르면", "Xによると", or the topic X of "X는 … 밝혔다"."""
    sentence = text[start:end]
    for phrase in lex.according:
        k = sentence.find(phrase)
        if k > 0:
            return _name_before(sentence, k, lex)
    subject = _subject_before_verb(sentence, lex)
    if subject:
        return subject
    if any(v in sentence for v in lex.claim_verbs):
        for particle in lex.particles[:1] if lex.language == "ja" else lex.particles[:2]:
            k = _topic(sentence, particle, lex)
            if k > 0:
                return _name_before(sentence, k, lex)
    return None


_DAY_BEFORE_VERB_RE = re.compile(
    r"\s*(?:\d{1,2}|[一二三]?十?[一二三四五六七八九]?)(?:日|일)(?:\s*[(（]현지\s*시간[)）])?,?\s*$"
)


def _subject_before_verb(sentence: str, lex: CjkLexicon) -> str | None:
    """The source named right before the sentence's last claim verb: "…라고 국정원이 밝혔다",
    "…と防衛省が発表した"."""
    at = max((sentence.rfind(v) for v in lex.claim_verbs), default=-1)
    if at <= 0:
        return None
    # "…라고 현지 당국이 16일 밝혔다", "…と防衛省が28日発表した": the day of the statement between source and verb
    before = _DAY_BEFORE_VERB_RE.sub("", sentence[:at].rstrip())
    if any(before.endswith(b) for b in lex.back):
        return None  # "국방부는 … 이같이 밝혔다": the source is the topic, not the word pointing back
    if not before or before[-1] not in lex.topic_particles:
        return None
    if lex.language == "ko":
        words = before[:-1].split()
        if not words or not words[-1]:
            return None
        name = words[-1]
        # "현지 재난당국이": a short modifier word before the name belongs to it
        if (
            len(words) > 1
            and len(words[-2]) <= 3
            and not words[-2].endswith(("다", "고", "며", "서", "면", "을", "를", "에", "의", "은", "는", "이", "가"))
        ):
            name = words[-2] + " " + name
        return name if not _NUMBER_RE.search(name) else None
    j = len(before) - 1
    while j > 0 and before[j - 1] not in "、。「」『』（）() ,とでにを":
        j -= 1
    name = before[j:-1]
    return name or None


def _topic(sentence: str, particle: str, lex: CjkLexicon) -> int:
    """Where the first topic particle stands after a noun (Korean: at a word's end)."""
    for m in re.finditer(re.escape(particle), sentence):
        k = m.start()
        if k == 0:
            continue
        if lex.language == "ko" and not (m.end() == len(sentence) or sentence[m.end()] == " "):
            continue
        if _NUMBER_RE.fullmatch(sentence[k - 1]):
            continue  # "600명은": a count, not a source
        if any(sentence.endswith(c, 0, k) for c in lex.counters):
            continue
        return k
    return -1


def _name_before(sentence: str, k: int, lex: CjkLexicon) -> str | None:
    """The noun phrase ending at k: up to three words (Korean) or back to a punctuation mark (Japanese)."""
    if lex.language == "ko":
        words = sentence[:k].split()
        # up to two words before the last belong to the name while they carry no particle of their own
        take = 1
        while take < min(3, len(words)) and not words[-take - 1].endswith(_KO_PARTICLE_ENDS):
            take += 1
        name = " ".join(words[-take:]) if words else ""
    else:
        j = k
        while j > 0 and sentence[j - 1] not in "、。「」『』（）() ,":
            j -= 1
        name = sentence[j:k]
    name = name.strip(" 「」\"'")
    return name or None


def find(text: str, language: str) -> list[Figure]:
    """Every casualty or troop figure in a Korean or Japanese text, in order of position."""
    lex = load(language)
    best: dict[tuple[str, int | None, int | None], Figure] = {}
    mentions: list[Figure] = []
    before: str | None = None  # the category of the last count of the sentence before, if it had one
    sourced: tuple[int, int, str] | None = None  # the last figure's source: its sentence's number and end
    for index, m in enumerate(_SENTENCE_RE.finditer(text)):
        start, end = m.start(), m.end()
        sentence = text[start:end]
        last, before = before, None
        if not any(c in sentence for c in lex.counters):
            continue
        counts = _counts(text, start, end, lex)
        if not counts:
            continue
        # "…다쳤다고 주 당국이 밝혔다. 부상자 가운데 3명은 위독하다": a sentence that names no source continues
        # the source of the figures just before it (claimant.SOURCE_CONTINUES sentences, one paragraph)
        claimant = _claimant(text, start, end, lex) or _back_claimant(text, end, lex)
        if (
            claimant is None
            and sourced is not None
            and index - sourced[0] <= claimants.SOURCE_CONTINUES
            and "\n\n" not in text[sourced[1] : start]
        ):
            claimant = sourced[2]
        categories: list[str | None] = []
        found_by: list[str] = []
        keep: list[bool] = []
        for i, count in enumerate(counts):
            # a stem belongs to the nearer count: the clause of one count ends where the next begins
            lo = counts[i - 1].end if i > 0 else start
            hi = counts[i + 1].start if i + 1 < len(counts) else end
            left, right = _clause(text, start, end, count.start, count.end, lex.topic_particles)
            keep.append(not _excluded(text, count, max(left, lo), min(right, hi), lex))
            category, how = _category(text, start, end, count, (lo, hi), lex)
            categories.append(category)
            found_by.append(how)
        # "공병 1천 명과 건설병 5천 명을 보냈다", "子ども2人を含む25人が負傷した": a count listed before another,
        # or included in it, shares its predicate; "이 가운데 어린이가 100명" is a part of the count before
        for i in range(len(counts) - 2, -1, -1):
            after = text[counts[i].counter_end : counts[i + 1].start]
            if (
                _starts_with_any(after.lstrip(), lex.joiners + lex.including)
                and categories[i + 1]
                and found_by[i] in {"", "before"}
            ):
                categories[i] = categories[i + 1]
        for i in range(1, len(counts)):
            between = text[counts[i - 1].end : counts[i].start]
            if categories[i] is None and categories[i - 1] and any(p in between for p in lex.part_markers):
                categories[i] = categories[i - 1]
        # "…6명을 납치해 갔다. 이 가운데 3명은 중국 국적": a sentence opening on a part of the count before
        opening = text[start : counts[0].start]
        if (
            categories[0] is None
            and last
            and (
                any(p in opening for p in lex.part_markers)
                or any(opening.rstrip().endswith(g.strip()) for g in lex.group_after)  # "피랍자 가운데 3명"
            )
        ):
            categories[0] = last
        for i, count in enumerate(counts):
            # "死者は59人増え、1486人となった": an increase is no count; the total it leads to is
            if _starts_with_any(text[count.counter_end : count.counter_end + 4].lstrip(), lex.increment_after):
                if i + 1 < len(counts) and categories[i] and categories[i + 1] in {None, categories[i]}:
                    categories[i + 1] = categories[i]
                keep[i] = False
        for i, count in enumerate(counts):
            category = categories[i]
            if category is None or not keep[i]:
                continue
            lo = counts[i - 1].end if i > 0 else start
            left, _ = _clause(text, start, end, count.start, count.end, lex.topic_particles)
            fig = Figure(
                category=category,
                low=count.low,
                high=count.high,
                qualifier=count.qualifier,
                who=_who(text, max(left, lo), count.start, lex),
                quote=text[count.start : count.end],
                start=count.start,
                end=count.end,
                claimant=claimant,
            )
            mentions.append(fig)
            before = category
            if claimant is not None:
                sourced = (index, end, claimant)
    head_end = claimants.headline_end(text, mentions)
    if head_end is not None:
        lead = None
        for m in itertools.islice(
            (m for m in _SENTENCE_RE.finditer(text) if m.start() > head_end), claimants.LEAD_SENTENCES
        ):
            lead = _claimant(text, m.start(), m.end(), lex)
            if lead:
                break
        mentions = claimants.from_body(mentions, head_end, lead)
    for fig in mentions:
        key = (fig.category, fig.low, fig.high)
        if key not in best or (best[key].claimant is None and fig.claimant is not None):
            best[key] = fig  # a count restated with a source, listed once
    return sorted(best.values(), key=lambda f: (f.start, f.end))


def _back_claimant(text: str, end: int, lex: CjkLexicon) -> str | None:
    """The source the next sentence gives for this one: "국방부는 이같이 밝혔다", "防衛省はこのように発表した"."""
    after = _SENTENCE_RE.search(text, end)
    if after is None or "\n\n" in text[end : after.start()] or not any(b in after.group() for b in lex.back):
        return None
    return _claimant(text, after.start(), after.end(), lex)


def _starts_with_any(text: str, phrases: tuple[str, ...]) -> bool:
    return any(text.startswith(p) for p in phrases)


def _who(text: str, left: int, at: int, lex: CjkLexicon) -> str | None:
    """The people named right before the count ("북한군 600명", "北朝鮮兵600人"), when there is a noun."""
    before = text[left:at].rstrip()
    if lex.language == "ko":
        words = before.split()
        word = words[-1] if words else ""
        if (
            word
            and not word.endswith(("은", "는", "이", "가", "에", "를", "을", "의", "서", "로"))
            and word not in lex.not_who
            and not _stem_at(word, 0, lex)
            and not any(word == p for p, _ in lex.before)
            and not any(word == a.split()[-1] for a in lex.according)
        ):
            return word
        return None
    m = re.search(r"[\u30a0-\u30ff\u4e00-\u9fff]{2,8}$", before)
    if m and not _stem_at(m.group(), 0, lex) and not any(m.group().endswith(p) for p, _ in lex.before):
        return m.group()
    return None


__all__ = ["LANGUAGES", "find", "load", "value"]
