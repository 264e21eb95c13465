"""Figure extraction, the scope: does a figure count a running total or one incident, read from its sentence.

`total` is a running or cumulative count ("have been killed so far", "the death toll rose to", "in total",
"since October") and the default: a count a story attributes to itself is its toll. `incident` is one event
("in Tuesday's strike", "one of whom later died", "in an attack on a convoy", "when a drone struck").
The clause around the figure decides first (incident cues, then total cues), then the sentence (total cues,
then incident cues), so "a strike killed 12, bringing the death toll to 300" reads 12 as an incident and
300 as a total. docs/history.md#scope lists the rules.
"""

from __future__ import annotations

import re

TOTAL = "total"
INCIDENT = "incident"
SCOPES: tuple[str, ...] = (TOTAL, INCIDENT)
SENTENCE_MAX = 600  # characters looked at on each side: a figure's sentence, not its article

_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|last night"
_EVENTS = (
    r"strike|airstrike|air strike|drone strike|missile strike|attack|raid|ambush|assault|explosion|blast|"
    r"bombing|shelling|incident|crash|collision|battle|clash|skirmish|shootout|shooting"
)

# One event: a singular event noun with a determiner or a day ("in Tuesday's strike", "an attack on a
# convoy"), a relative count of people just named ("one of whom"), a single moment ("when a drone struck").
_INCIDENT_PARTS = [
    rf"\b(?:a|an|the|one|this|that|single|(?:{_DAYS})['\u2019]s)\s+(?:[\w-]+\s+){{0,2}}?(?:{_EVENTS})\b(?!s\b)",
    r"\b(?:one|two|three|four|five|some|all|many|most|none|several|\d+)\s+of\s+(?:whom|them|those)\b",
    r"\bwhen\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:struck|hit|exploded|detonated|attacked|crashed|fired|opened fire)\b",
    r"\bin\s+a\s+single\b",
    # German: "by the attack", "of whom one"
    r"\b(?:bei|beim)\s+(?:dem|einem)?\s*(?:angriff|anschlag|luftangriff|beschuss|gefecht|explosion)\b",
    r"\bvon\s+denen\s+(?:einer|eine|zwei|drei)\b",
]
# Korean, Russian, Ukrainian: "by the attack", "in the strike", "of whom one" (each needs its own script)
_INCIDENT_OTHER_SCRIPTS = [
    r"(?:공격|공습|폭격|습격|교전|사고)(?:으로|로|에서|때)|그\s*중|이\s*중",
    r"\b(?:в\s+результате|при|во\s+время|в\s+ходе)\s+(?:удара|атаки|обстрела|взрыва|нападения|налета|налёта|боя)\b",
    r"\b(?:один|одна|двое|трое)\s+из\s+(?:которых|них)\b",
    r"\b(?:внаслідок|під\s+час|в\s+ходi|в\s+ході)\s+(?:удару|атаки|обстрілу|вибуху|нападу|бою)\b",
    r"\b(?:один|одна|двоє|троє)\s+з\s+(?:яких|них)\b",
]

# A running count: a toll, a total, a period up to now.
_TOTAL_PARTS = [
    r"\b(?:so\s+far|thus\s+far|to\s+date|until\s+now|up\s+to\s+now|in\s+total|a\s+total\s+of|total(?:ling|ing)?"
    r"|overall|altogether|all\s+told|in\s+all|cumulative(?:ly)?|since|toll|tally|tallies|combined)\b",
    r"\b(?:rose|risen|rising|climbed|climbing|reached|increased|jumped)\s+to\b",
    r"\b(?:insgesamt|bisher|bislang|seit|zahl\s+der\s+toten)\b",
]
_TOTAL_OTHER_SCRIPTS = [
    r"누적|지금까지|현재까지|총\s*\d|모두\s*합|이래",
    r"\b(?:всего|в\s+общей\s+сложности|с\s+начала|с\s+(?:января|февраля|марта|апреля|мая|июня|июля|августа"
    r"|сентября|октября|ноября|декабря)|на\s+сегодняшний\s+день|к\s+настоящему\s+времени|общее\s+число)\b",
    r"\b(?:загалом|усього|всього|з\s+початку|станом\s+на|на\s+сьогодні)\b",
]
# Matched on lower-cased text: case-insensitive matching of a long alternation costs several times more. Text
# with no Hangul or Cyrillic letter cannot match the alternatives written in them: it is read with the shorter
# patterns (the same answers, a third less time on Latin-script pages).
_OTHER_SCRIPTS = re.compile(r"[\uac00-\ud7a3\u3131-\u318e\u0400-\u04ff]")
_INCIDENT = re.compile("|".join(_INCIDENT_PARTS + _INCIDENT_OTHER_SCRIPTS))
_TOTAL = re.compile("|".join(_TOTAL_PARTS + _TOTAL_OTHER_SCRIPTS))
_INCIDENT_LATIN = re.compile("|".join(_INCIDENT_PARTS))
_TOTAL_LATIN = re.compile("|".join(_TOTAL_PARTS))

_SENTENCE_END = re.compile(r"[.!?。！？]+(?=\s|$)|\n")
_CLAUSE_BREAK = re.compile(
    r"[,;:\u2014]|\s\u2013\s|\s-\s|\b(?:while|whereas|but|bringing|including|and\s+that)\b", re.IGNORECASE
)


def sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the sentence holding text[start:end]."""
    lo = max(0, start - SENTENCE_MAX)
    before = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    first = before[-1] if before else lo
    after = _SENTENCE_END.search(text, end, min(len(text), end + SENTENCE_MAX))
    last = after.start() if after else min(len(text), end + SENTENCE_MAX)
    return first, max(last, end)


def clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the clause holding text[start:end]: its sentence cut at commas, semicolons, dashes and
    joining words outside the figure's own words."""
    first, last = sentence(text, start, end)
    breaks_before = [m.end() for m in _CLAUSE_BREAK.finditer(text, first, start)]
    after = _CLAUSE_BREAK.search(text, end, last)
    return (breaks_before[-1] if breaks_before else first), (after.start() if after else last)


_STEPS = ((clause, ((_INCIDENT, INCIDENT), (_TOTAL, TOTAL))), (sentence, ((_TOTAL, TOTAL), (_INCIDENT, INCIDENT))))
_STEPS_LATIN = (
    (clause, ((_INCIDENT_LATIN, INCIDENT), (_TOTAL_LATIN, TOTAL))),
    (sentence, ((_TOTAL_LATIN, TOTAL), (_INCIDENT_LATIN, INCIDENT))),
)


def decide(text: str, start: int, end: int, seen: dict[tuple[int, int, int], str | None] | None = None) -> str:
    """`total` or `incident` for the figure at text[start:end] (see the module docstring). `seen` keeps the
    answers of clauses and sentences already read, for the figures of one text that share them."""
    # the clause decides first, incident cues before total cues; then the sentence, total cues first
    lo, hi = sentence(text, start, end)
    steps = _STEPS if _OTHER_SCRIPTS.search(text, lo, hi) else _STEPS_LATIN
    for step, (span, cues) in enumerate(steps):
        lo, hi = span(text, start, end)
        key = (step, lo, hi)
        if seen is not None and key in seen:
            found = seen[key]
        else:
            words = text[lo:hi].lower()
            found = next((scope for pattern, scope in cues if pattern.search(words)), None)
            if seen is not None:
                seen[key] = found
        if found is not None:
            return found
    return TOTAL
