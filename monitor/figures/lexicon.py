"""Figure extraction, lexicons: the language-specific words, loaded from `lexicon_<lang>.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from . import language as languages
from .record import CATEGORIES

# Languages whose lexicon ships with the package.
LANGUAGES = ("en", "de", "es", "fr", "it", "pt", "cs", "pl", "uk", "ru")
# Top-level keys that are settings, not words: never mapped to dictionary forms.
_SETTINGS = frozenset({"language", "number_words", "adjectives_follow", "apostrophe_words", "abbreviations"})


class LexiconError(ValueError):
    """A lexicon file is missing a key or has a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class PhraseSet:
    """Phrases (token tuples) indexed by first and by last token, for matching at a token position."""

    by_first: Mapping[str, tuple[tuple[str, ...], ...]]
    by_last: Mapping[str, tuple[tuple[str, ...], ...]]

    @classmethod
    def of(cls, phrases: Iterable[str]) -> PhraseSet:
        first: dict[str, list[tuple[str, ...]]] = {}
        last: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            words = tuple(phrase.lower().split())
            if words:
                first.setdefault(words[0], []).append(words)
                last.setdefault(words[-1], []).append(words)
        # Longest first, so "killed or wounded" wins over "killed".
        return cls(
            {k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in first.items()},
            {k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in last.items()},
        )

    def match_at(self, words: Sequence[str], i: int) -> int:
        """Length in tokens of the longest phrase starting at words[i], or 0."""
        if i < 0 or i >= len(words):
            return 0
        for phrase in self.by_first.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                return len(phrase)
        return 0

    def match_before(self, words: Sequence[str], j: int) -> int:
        """Length in tokens of the longest phrase ending just before words[j], or 0."""
        if j <= 0 or j > len(words):
            return 0
        for phrase in self.by_last.get(words[j - 1], ()):
            start = j - len(phrase)
            if start >= 0 and tuple(words[start:j]) == phrase:
                return len(phrase)
        return 0


@dataclass(frozen=True, slots=True)
class PhraseMap:
    """Phrases of several categories in one index, so one lookup per token finds the longest of any."""

    by_first: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]
    by_last: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]

    @classmethod
    def of(cls, named: Iterable[tuple[str, Iterable[str]]]) -> PhraseMap:
        first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        last: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        seen: set[tuple[str, ...]] = set()
        for name, phrases in named:
            for phrase in phrases:
                words = tuple(phrase.lower().split())
                if words and words not in seen:  # a phrase listed twice keeps its first category
                    seen.add(words)
                    first.setdefault(words[0], []).append((words, name))
                    last.setdefault(words[-1], []).append((words, name))
        return cls(
            {k: tuple(sorted(v, key=lambda p: len(p[0]), reverse=True)) for k, v in first.items()},
            {k: tuple(sorted(v, key=lambda p: len(p[0]), reverse=True)) for k, v in last.items()},
        )

    def match_at(self, words: Sequence[str], i: int) -> tuple[str, int]:
        """(name, length) of the longest phrase starting at words[i], or ("", 0)."""
        if 0 <= i < len(words):
            for phrase, name in self.by_first.get(words[i], ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    return name, len(phrase)
        return "", 0

    def match_before(self, words: Sequence[str], j: int) -> tuple[str, int]:
        """(name, length) of the longest phrase ending just before words[j], or ("", 0)."""
        if 0 < j <= len(words):
            for phrase, name in self.by_last.get(words[j - 1], ()):
                start = j - len(phrase)
                if start >= 0 and tuple(words[start:j]) == phrase:
                    return name, len(phrase)
        return "", 0


@dataclass(frozen=True, slots=True)
class Category:
    """Trigger phrases of one category."""

    name: str
    after: PhraseSet  # "N people killed"
    before: PhraseSet  # "killed N people"
    toll: PhraseSet  # "death toll rose to N"
    after_who: Mapping[str, PhraseSet]  # "5 bodies found": only after these counted nouns
    before_who: Mapping[str, PhraseSet]  # "recovered 5 bodies": only before these counted nouns
    before_needs_who: frozenset[str]  # "freed 50 prisoners": the before-trigger needs a counted noun


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every word list the extractor uses for one language."""

    language: str
    number_words: bool  # whether text2num reads this language's number words
    adjectives_follow: bool  # "soldados rusos": adjectives may stand after the counted noun
    apostrophe_words: bool  # "п'ятеро": apostrophes stand inside words
    abbreviations: frozenset[str]
    scales: Mapping[str, int]
    suffixes: Mapping[str, int]
    approximate_numbers: Mapping[str, int]
    halves: frozenset[str]  # "medio centenar": half the approximate number word after it
    one_and_half: frozenset[str]  # "півтори тисячі", "полтора десятка": one and a half of the scale after it
    word_values: Mapping[str, int]  # number words of a language text2num does not read
    vague: frozenset[str]
    negations: frozenset[str]
    not_count_before: PhraseSet  # "sentenced five to death", "a rate of 200": no count of people
    articles: frozenset[str]  # "a dozen": an article that belongs to an approximate number word
    not_people: frozenset[str]  # "100,000 dead fish", "200 whales died": counts of animals
    hypothetical: PhraseSet  # "attempted to kill six": no one was killed
    trigger_modifiers: frozenset[str]  # "hospital workers": a trigger word naming people's work
    no_category: PhraseSet  # "dead or missing": counted together, no category (guideline)
    pronoun_numbers: frozenset[str]  # "one" in "one after the other"
    rate_words: frozenset[str]  # "one woman dies every two minutes": a rate
    pronoun_after: PhraseSet
    event_nouns: frozenset[str]  # "the 2016 death of ...": a singular event noun after a year
    vague_before: PhraseSet
    hedges: Mapping[str, PhraseSet]  # qualifier -> phrases before the number
    after_at_least: PhraseSet
    after_approximate: PhraseSet
    particle_verbs: frozenset[str]  # "handed over 32": "over" is the verb's particle, no bound
    range_joiners: frozenset[str]
    range_pairs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    currency_before: frozenset[str]
    not_count_after: frozenset[str]
    label_before: frozenset[str]
    function_words: PhraseSet
    function_single: frozenset[str]
    filler: PhraseSet
    before_filler: PhraseSet
    part_after: PhraseSet
    part_before: PhraseSet
    toll_links: PhraseSet
    change_verbs: frozenset[str]  # "збільшила … до 17 тисяч": after these "до"/"do" joins a change to its value
    change_bounds: PhraseSet  # the bounds that mean "to" after a verb of change ("до", "up to")
    fatal_parts: frozenset[str]  # "29 were shot, four of them fatally": a part that died
    toll_open: PhraseSet
    toll_total: PhraseSet
    toll_bare: frozenset[str]  # "put the figure at 4,200": a toll named by no category, that of the text before
    place_prepositions: frozenset[str]
    place_nouns: frozenset[str]
    ellipsis_after: frozenset[str]  # "... and 3 more on Tuesday": words after a bare number that repeats a figure
    among: PhraseSet  # "three policemen were among the 15 killed"
    determiners: frozenset[str]  # articles and possessives opening a noun phrase ("the", "his")
    transitive_after: frozenset[str]  # "150 families who lost their homes": with an object, no trigger
    coordinators: frozenset[str]  # "five soldiers and a civilian were killed"
    age_asides: frozenset[str]  # "Two boys, aged 13 and 15, were shot": an aside of ages, skipped
    earlier_value: PhraseSet  # "1,494 people kidnapped, up from about 1,100": the figure's earlier value
    intake: PhraseSet  # "recruit 10,000 soldiers", "a draft of 160,000 men": troops taken in, not sent
    troop_modifiers: frozenset[str]  # "5,000 military construction workers": people of an army are troops
    group_links: PhraseSet  # "among the dead were 3 children", "the injured included 4 officers"
    mobilise: frozenset[str]  # verbs whose count is troops whatever the noun ("mobilised 300,000 men")
    deployed_nouns: frozenset[str]  # counted people who are deployed by definition ("peacekeepers")
    modifiers: frozenset[str]
    people: PhraseSet
    people_suffixes: tuple[str, ...]
    not_suffixed: frozenset[str]
    troops: frozenset[str]
    troops_if_sent: frozenset[str]
    police: frozenset[str]  # troops when sent on a mission the sentence names (mission_cues)
    victim_words: frozenset[str]  # "the victims": those harmed in the count before (Earlier.harm)
    mission_cues: PhraseSet
    person_verbs: PhraseSet
    person_verbs_after: frozenset[str]  # "17 missionaries were kidnapped": verbs whose subject is people
    before_needs_people: frozenset[str]
    standing: PhraseSet
    trained_before: PhraseSet  # "has trained 30,000 soldiers": people trained are no deployment
    deploy_cues: PhraseSet
    units: frozenset[str]  # "a detachment of 250", "a force of 2,000": military units counted
    strength_words: frozenset[str]  # "a 200-strong unit": the word after a count's hyphen that gives a strength
    withdraw: PhraseSet  # "withdraw 2,000 troops": troops leaving are no deployment
    not_deployed_after: PhraseSet  # "seven commandos were arrested": troops counted for something else
    held_by_states: frozenset[str]  # "prisoners": captives only in a sentence about war (war_cues)
    state_detainees: frozenset[str]  # "political prisoners": a state's detainees, never captives
    state_custody: frozenset[str]  # "prisoners in Israeli jails": where a state holds its detainees
    state_releases: frozenset[str]  # "freed in an amnesty": a state releasing its own detainees
    custody_prepositions: frozenset[str]  # "in" before those places
    hostage_words: frozenset[str]  # prisoners counted beside hostages are the state's detainees
    release_verbs: PhraseSet  # "13 Israelis were released": captives, in a sentence about hostages
    release_not_after: PhraseSet  # "released from hospital": a release that frees no captive
    captive_cues: PhraseSet
    war_cues: PhraseSet
    categories: tuple[Category, ...]
    after: PhraseMap  # every category's after-triggers
    before: PhraseMap  # every category's before-triggers
    tolls: PhraseMap  # every category's toll phrases
    claim_verbs: frozenset[str]
    claim_intros: PhraseSet
    claim_by: frozenset[str]  # "nach": before a noun of account that is the source ("nach Behördenangaben")
    claim_account_nouns: tuple[str, ...]  # "angaben", "erkenntnissen": that noun, or a compound ending in it
    claim_pronouns: frozenset[str]
    claim_stop: frozenset[str]
    claim_adverbs: frozenset[str]
    claim_blockers: frozenset[str]  # "said …, after 12 were killed": a background clause the claim misses
    colon_sources: frozenset[str]  # "Reports: ...", "...: Coroner": words that name a source before a colon
    source_nouns: frozenset[str]  # heads of sources written in lower case ("officials", "state media")
    claim_source_idioms: frozenset[str]  # words that make counted people sources ("two people familiar with")
    own_account: PhraseSet  # "nach eigenen Angaben": the sentence's subject is the source
    claim_time: PhraseSet  # "- poinformowała w poniedziałek policja": a time between the verb and its subject
    claim_noun_before: frozenset[str]  # "following reports of": a claim verb after these is a noun
    claim_aside_openers: frozenset[str]  # "X, in a statement, said": an aside between a source and its verb
    claim_back: PhraseSet  # "Das teilte X mit", "Об этом сообщил X": a sentence sourcing the one before it
    claim_seat_prepositions: frozenset[str]  # "das Verteidigungsministerium in Berlin": a source and its seat
    claim_anaphors: frozenset[str]  # "the agency said", "según el organismo": a source named before is meant
    claim_coordinators: frozenset[str]  # "Yerevan denied it and said …": the verb shares the sentence's subject
    claim_toll_verbs: frozenset[str]  # "Police put the toll at 21": the subject gives the count ...
    claim_toll_nouns: frozenset[str]  # ... of the toll, number or figure the verb puts
    claim_verb_nouns: frozenset[str]  # the claim verbs that can be nouns (all of them when empty)
    people_victims: frozenset[str]  # people nouns that name the counted, never a source ("adults", "infants")
    trigger_words: frozenset[str]  # one word of every trigger phrase, for the sentence prefilter
    count_words: frozenset[str]  # scale and approximate number words, for the sentence prefilter
    lemma: Callable[[str], str] | None  # word -> the dictionary form it is matched on (inflected languages)


def _lowered(table: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    """A list of words under `key`, lower-cased, as a set."""
    return frozenset(w.lower() for w in _strings(table, key, where))


def _strings(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])  # a language may leave a list out: it then has no such words
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: key {key!r} must be a list of strings. Fix the lexicon file.")
    return list(value)


def _ints(table: Mapping[str, Any], key: str, where: str) -> dict[str, int]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, int) for v in value.values()):
        raise LexiconError(f"{where}: key {key!r} must be a table of integers. Fix the lexicon file.")
    return {str(k).lower(): int(v) for k, v in value.items()}


def _table(table: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise LexiconError(f"{where}: [{key}] must be a table. Fix the lexicon file.")
    return value


def _key_word(phrase: str) -> str:
    """The word of a phrase the sentence prefilter looks for: its longest, the last among equals, as the
    least common ("lost at sea" -> "lost", "number of people killed" -> "killed")."""
    words = [w for w in phrase.lower().split() if w.isalpha()]
    return max(reversed(words), key=len) if words else ""


def _words(value: Any) -> Iterator[str]:
    """Every word in a lexicon value (nested lists and tables, keys included)."""
    if isinstance(value, str):
        yield from value.lower().split()
    elif isinstance(value, list):
        for v in value:
            yield from _words(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _words(str(k))
            yield from _words(v)


# Tables whose keys are phrases: counted nouns ("bodies"), number and scale words. Every other key is a name.
_PHRASE_KEYED = frozenset({"after_who", "before_who", "scales", "words", "approximate", "suffixes"})


def _mapped(value: Any, phrase: Callable[[str], str], keyed: bool = False) -> Any:
    """A lexicon value with every phrase (and every key of a phrase-keyed table) mapped through `phrase`."""
    if isinstance(value, str):
        return phrase(value)
    if isinstance(value, list):
        return [_mapped(v, phrase) for v in value]
    if isinstance(value, dict):
        return {(phrase(str(k)) if keyed else k): _mapped(v, phrase, k in _PHRASE_KEYED) for k, v in value.items()}
    return value


def parse(data: Mapping[str, Any], where: str) -> Lexicon:
    """Build a Lexicon from a parsed TOML document; `where` names it in error messages.

    In an inflected language (language.lemmatised) every phrase is stored as dictionary forms, and texts are
    matched the same way (Lexicon.lemma)."""
    lemma: Callable[[str], str] | None = None
    code = data.get("language")
    if isinstance(code, str) and languages.lemmatised(code):
        body = {k: v for k, v in data.items() if k not in _SETTINGS}
        lemmatiser = languages.Lemmatiser(code, _words(body))
        lemma = lemmatiser.lemma
        data = {**{k: v for k, v in data.items() if k in _SETTINGS}, **_mapped(body, lemmatiser.phrase)}
    numbers = _table(data, "numbers", where)
    quals = _table(data, "qualifiers", where)
    context = _table(data, "context", where)
    people = _table(data, "people", where)
    claim = _table(data, "claimant", where)
    cats_table = _table(data, "categories", where)
    categories = []
    # a bare toll noun ("put the figure at 4,200") passes the sentence prefilter as a trigger does
    trigger_words: set[str] = {w.lower() for w in _strings(context, "toll_bare", where)}
    trigger_words.update(_key_word(p) for p in _strings(context, "toll_total", where))  # "bring the total to 45"
    for name in CATEGORIES:
        cat = _table(cats_table, name, f"{where} [categories]")
        lists = {key: _strings(cat, key, f"{where} [categories.{name}]") for key in ("after", "before", "toll")}
        if name != "deployed":  # deployment verbs ("keep", "move") only count with troop nouns, listed below
            for phrases in lists.values():
                trigger_words.update(_key_word(p) for p in phrases)
        after_who = {str(k).lower(): PhraseSet.of(v) for k, v in cat.get("after_who", {}).items()}
        before_who = {str(k).lower(): PhraseSet.of(v) for k, v in cat.get("before_who", {}).items()}
        needs = frozenset(p.lower() for p in cat.get("before_needs", []))
        categories.append(
            Category(
                name,
                PhraseSet.of(lists["after"]),
                PhraseSet.of(lists["before"]),
                PhraseSet.of(lists["toll"]),
                after_who,
                before_who,
                needs,
            )
        )
    troops = _strings(people, "troops", where)
    trigger_words.update(_key_word(p) for p in troops)
    trigger_words.update(_key_word(p) for p in _strings(people, "troops_if_sent", where))
    trigger_words.update(_key_word(p) for p in _strings(people, "police", where))
    trigger_words.update(w.lower() for w in _strings(people, "victim_words", where))  # after a count of harm
    trigger_words.update(_key_word(p) for p in _strings(people, "troop_modifiers", where))
    trigger_words.update(_key_word(p) for p in _strings(people, "mobilise", where))
    trigger_words.update(_key_word(p) for p in _strings(people, "deployed_nouns", where))
    trigger_words.update(_key_word(p) for p in _strings(people, "units", where))
    # "The remaining 11 are still being held": people released or still held after a sentence about captivity
    # (their key word, or their verb when that is a function word: "still being held" -> "held")
    function = {w.lower() for w in _strings(_table(data, "context", where), "function_words", where)}
    for phrase in _strings(people, "release_verbs", where):
        key = _key_word(phrase)
        trigger_words.add(phrase.lower().split()[-1] if key in function else key)
    for category in categories:
        trigger_words.update(category.after_who)  # "5 bodies found", "claimed 12 lives"
        trigger_words.update(category.before_who)
    trigger_words.discard("")
    trigger_words.difference_update(
        w.lower() for w in _strings(_table(data, "context", where), "function_words", where)
    )
    pairs = []
    for pair in quals.get("range_pairs", []):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise LexiconError(f"{where}: range_pairs entries must be [opening, joiner]. Fix the lexicon file.")
        pairs.append((tuple(pair[0].lower().split()), tuple(pair[1].lower().split())))
    function_words = _strings(context, "function_words", where)
    language = data.get("language")
    if not isinstance(language, str):
        raise LexiconError(f"{where}: key 'language' must be a language code string. Fix the lexicon file.")
    return Lexicon(
        language=language,
        number_words=bool(data.get("number_words", True)),
        adjectives_follow=bool(data.get("adjectives_follow", False)),
        apostrophe_words=bool(data.get("apostrophe_words", False)),
        abbreviations=frozenset(a.lower() for a in _strings(data, "abbreviations", where)),
        scales=_ints(numbers, "scales", where),
        suffixes=_ints(numbers, "suffixes", where),
        approximate_numbers=_ints(numbers, "approximate", where),
        halves=_lowered(numbers, "halves", where),
        one_and_half=_lowered(numbers, "one_and_half", where),
        word_values=_ints(numbers, "words", where),
        vague=_lowered(numbers, "vague", where),
        negations=_lowered(numbers, "negations", where),
        not_count_before=PhraseSet.of(_strings(context, "not_count_before", where)),
        articles=_lowered(numbers, "articles", where),
        not_people=_lowered(people, "not_people", where),
        hypothetical=PhraseSet.of(_strings(context, "hypothetical", where)),
        trigger_modifiers=_lowered(people, "trigger_modifiers", where),
        no_category=PhraseSet.of(_strings(context, "no_category", where)),
        pronoun_numbers=_lowered(numbers, "pronoun_numbers", where),
        rate_words=_lowered(numbers, "rate_words", where),
        pronoun_after=PhraseSet.of(_strings(numbers, "pronoun_after", where)),
        event_nouns=_lowered(context, "event_nouns", where),
        vague_before=PhraseSet.of(_strings(numbers, "vague_before", where)),
        hedges={q: PhraseSet.of(_strings(quals, q, where)) for q in ("approximate", "at_least", "at_most")},
        after_at_least=PhraseSet.of(_strings(quals, "after_at_least", where)),
        after_approximate=PhraseSet.of(_strings(quals, "after_approximate", where)),
        particle_verbs=_lowered(quals, "particle_verbs", where),
        range_joiners=frozenset(_strings(quals, "range_joiners", where)),
        range_pairs=tuple(pairs),
        currency_before=_lowered(context, "currency_before", where),
        not_count_after=_lowered(context, "not_count_after", where),
        label_before=_lowered(context, "label_before", where),
        function_words=PhraseSet.of(function_words),
        function_single=frozenset(w.lower() for w in function_words if " " not in w),
        filler=PhraseSet.of(_strings(context, "filler", where)),
        before_filler=PhraseSet.of(_strings(context, "before_filler", where)),
        part_after=PhraseSet.of(_strings(context, "part_after", where)),
        part_before=PhraseSet.of(_strings(context, "part_before", where)),
        toll_links=PhraseSet.of(_strings(context, "toll_links", where)),
        change_verbs=_lowered(context, "change_verbs", where),
        change_bounds=PhraseSet.of(_strings(context, "change_bounds", where)),
        fatal_parts=_lowered(context, "fatal_parts", where),
        toll_open=PhraseSet.of(_strings(context, "toll_open", where)),
        toll_total=PhraseSet.of(_strings(context, "toll_total", where)),
        toll_bare=_lowered(context, "toll_bare", where),
        place_prepositions=_lowered(context, "place_prepositions", where),
        place_nouns=_lowered(context, "place_nouns", where),
        ellipsis_after=frozenset(
            w.lower()
            for w in _strings(context, "place_prepositions", where) + _strings(context, "ellipsis_after", where)
        ),
        among=PhraseSet.of(_strings(context, "among", where)),
        determiners=_lowered(context, "determiners", where),
        transitive_after=_lowered(people, "transitive_after", where),
        coordinators=_lowered(context, "coordinators", where),
        age_asides=_lowered(context, "age_asides", where),
        earlier_value=PhraseSet.of(_strings(context, "earlier_value", where)),
        intake=PhraseSet.of(_strings(people, "intake", where)),
        troop_modifiers=_lowered(people, "troop_modifiers", where),
        group_links=PhraseSet.of(_strings(context, "group_links", where)),
        mobilise=_lowered(people, "mobilise", where),
        deployed_nouns=_lowered(people, "deployed_nouns", where),
        modifiers=_lowered(context, "modifiers", where),
        people=PhraseSet.of(_strings(people, "nouns", where)),
        people_suffixes=tuple(w.lower() for w in _strings(people, "suffixes", where)),
        not_suffixed=_lowered(people, "not_suffixed", where),
        troops=frozenset(w.lower() for w in troops),
        troops_if_sent=_lowered(people, "troops_if_sent", where),
        police=_lowered(people, "police", where),
        victim_words=_lowered(people, "victim_words", where),
        mission_cues=PhraseSet.of(_strings(people, "mission_cues", where)),
        person_verbs=PhraseSet.of(_strings(people, "person_verbs", where)),
        person_verbs_after=_lowered(people, "person_verbs_after", where),
        before_needs_people=_lowered(people, "before_needs_people", where),
        standing=PhraseSet.of(_strings(people, "standing", where)),
        trained_before=PhraseSet.of(_strings(people, "trained_before", where)),
        deploy_cues=PhraseSet.of(_strings(people, "deploy_cues", where)),
        units=_lowered(people, "units", where),
        strength_words=_lowered(people, "strength_words", where),
        withdraw=PhraseSet.of(_strings(people, "withdraw", where)),
        not_deployed_after=PhraseSet.of(_strings(people, "not_deployed_after", where)),
        held_by_states=_lowered(people, "held_by_states", where),
        state_detainees=_lowered(people, "state_detainees", where),
        state_custody=_lowered(people, "state_custody", where),
        state_releases=_lowered(people, "state_releases", where),
        custody_prepositions=_lowered(people, "custody_prepositions", where),
        hostage_words=_lowered(people, "hostage_words", where),
        release_verbs=PhraseSet.of(_strings(people, "release_verbs", where)),
        release_not_after=PhraseSet.of(_strings(people, "release_not_after", where)),
        captive_cues=PhraseSet.of(_strings(people, "captive_cues", where)),
        war_cues=PhraseSet.of(_strings(people, "war_cues", where)),
        categories=tuple(categories),
        after=PhraseMap.of((name, cats_table.get(name, {}).get("after", [])) for name in CATEGORIES),
        before=PhraseMap.of((name, cats_table.get(name, {}).get("before", [])) for name in CATEGORIES),
        tolls=PhraseMap.of((name, cats_table.get(name, {}).get("toll", [])) for name in CATEGORIES),
        claim_verbs=_lowered(claim, "verbs", where),
        claim_intros=PhraseSet.of(_strings(claim, "intros", where)),
        claim_by=_lowered(claim, "by", where),
        claim_account_nouns=tuple(w.lower() for w in _strings(claim, "account_nouns", where)),
        claim_pronouns=_lowered(claim, "pronouns", where),
        claim_stop=_lowered(claim, "stop_words", where),
        claim_adverbs=_lowered(claim, "adverbs", where),
        people_victims=_lowered(claim, "not_sources", where),
        claim_noun_before=_lowered(claim, "noun_before", where),
        claim_aside_openers=_lowered(claim, "aside_openers", where),
        claim_back=PhraseSet.of(_strings(claim, "back", where)),
        claim_seat_prepositions=_lowered(claim, "seat_prepositions", where),
        claim_anaphors=_lowered(claim, "anaphors", where),
        claim_coordinators=_lowered(claim, "coordinators", where),
        claim_toll_verbs=_lowered(claim, "toll_verbs", where),
        claim_toll_nouns=_lowered(claim, "toll_nouns", where),
        claim_verb_nouns=_lowered(claim, "verb_nouns", where),
        colon_sources=_lowered(claim, "colon_sources", where),
        source_nouns=_lowered(claim, "source_nouns", where),
        claim_source_idioms=_lowered(claim, "source_idioms", where),
        own_account=PhraseSet.of(_strings(claim, "own_account", where)),
        claim_time=PhraseSet.of(_strings(claim, "time", where)),
        claim_blockers=_lowered(claim, "blockers", where),
        trigger_words=frozenset(trigger_words),
        count_words=frozenset(_ints(numbers, "scales", where)) | frozenset(_ints(numbers, "approximate", where)),
        lemma=lemma,
    )


@cache
def load(language: str) -> Lexicon:
    """The packaged lexicon for `language` (e.g. "en"), parsed once."""
    name = f"lexicon_{language}.toml"
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return parse(tomllib.loads(text), name)


@cache
def load_all() -> tuple[Lexicon, ...]:
    """Every packaged lexicon, in LANGUAGES order (missing files are skipped)."""
    found = []
    for language in LANGUAGES:
        if resources.files(__package__).joinpath(f"lexicon_{language}.toml").is_file():
            found.append(load(language))
    return tuple(found)
