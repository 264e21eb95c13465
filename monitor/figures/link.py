"""Figure extraction, linking: whether a number counts people, whom, and which category its trigger gives."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from .lexicon import Lexicon, PhraseSet
from .numbers import Expression, Token

# How far (in tokens) a trigger may sit from its number.
MAX_MODIFIERS = 4  # "3,000 North Korean soldiers": words between the number and the counted noun
MAX_FILLER_STEPS = 8  # "600 soldiers have reportedly been killed"
MAX_TOLL_DISTANCE = 24  # "the death toll from the shelling of the convoy in X increased to 31"
MAX_PARENTHESIS = 12  # "7 (2 of them soldiers) were wounded"

_POSSESSIVES = frozenset({"his", "her", "its", "their", "the", "our", "those", "these", "whose", "my", "your"})
_DETERMINERS = frozenset({"the", "those", "these"})
_DETERMINERS_PLURAL = frozenset({"those", "these"})
_DASHES = frozenset({"-", "\u2013", "\u2014"})
_OPEN, _CLOSE = frozenset({"(", "["}), frozenset({")", "]"})
_HASHES = frozenset({"#", "@", "№"})
_DIRECTIONS = frozenset({"in", "to", "at", "along", "near", "on", "inside", "into", "across"})

_AND_OR = frozenset({"and", "or"})


@dataclass(frozen=True, slots=True)
class Who:
    """The counted people after a number: tokens [first, last), the head noun at head_at, where the clause
    goes on (cont)."""

    first: int
    last: int
    head: tuple[str, ...]
    cont: int
    head_at: int
    selection: bool = False  # "one of the injured": the noun names the group chosen from, not what happened


@dataclass(frozen=True, slots=True)
class Link:
    """A category and the trigger tokens [first, last) that gave it; kind says how it was found."""

    category: str
    first: int
    last: int
    kind: str  # noun | right | left | toll | total | part | list | troops


@dataclass(slots=True)
class Candidate:
    """A number that may count people: its expression, the counted noun phrase, and the category's link (None
    when no rule gives one)."""

    expr: Expression
    who: Who | None
    link: Link | None


@dataclass(frozen=True, slots=True)
class Earlier:
    """What the text's earlier sentences spoke of, for a sentence that counts without saying it again."""

    captive: bool = False  # hostages or captivity: "Nine were released the next day"
    deploying: bool = False  # troops sent (a deployment the rules found): "A second group of 75 is expected"
    harm: str = ""  # the category of the last killed, wounded or casualties count: "Two of the victims were …"
    last: str = ""  # the category of the text's last figure: "Fifteen hostages escaped. Eight of them were children."


NOTHING_EARLIER = Earlier()


@dataclass(slots=True)
class Sentence:
    """One sentence's tokens with per-token lookups computed once (keeps the work per number constant)."""

    tokens: list[Token]
    lex: Lexicon
    words: list[str] = field(init=False)
    has_troops: bool = field(init=False)
    _after: dict[int, tuple[str, int]] = field(init=False, default_factory=dict)  # after-trigger at a token
    _cues: dict[str, bool] = field(init=False, default_factory=dict)  # war, captive, title case: computed once
    memo: dict[str, object] = field(init=False, default_factory=dict)  # per-sentence values other modules compute once
    numbers_at: frozenset[int] = frozenset()  # first tokens of the sentence's numbers (words included)
    earlier: Earlier = NOTHING_EARLIER

    def __post_init__(self) -> None:
        self.words = [t.low for t in self.tokens]
        self.has_troops = any(w in self.lex.troops for w in self.words)

    def trigger_at(self, k: int, head: tuple[str, ...] = ()) -> tuple[str, int]:
        """(category, length) of the longest after-trigger at k, `head` adding its own ("bodies found")."""
        if k < 0 or k >= len(self.words):
            return "", 0
        best = self._after.get(k)
        if best is None:
            best = self._after[k] = self.lex.after.match_at(self.words, k)
            if not best[1] and self.earlier.harm and self.words[k] in self.lex.victim_words:
                # "Four people died in the fire. Two of the victims were firefighters": the victims of the harm
                # counted before
                best = self._after[k] = (self.earlier.harm, 1)
        if head:
            key = " ".join(head)
            for cat in self.lex.categories:
                special = cat.after_who.get(key)
                if special is not None:
                    m = special.match_at(self.words, k)
                    if m >= best[1] and m:
                        best = (cat.name, m)
        return best

    @property
    def title_case(self) -> bool:
        """Whether the sentence is a Title Case headline (capitals say nothing about names there)."""
        found = self._cues.get("title")
        if found is None:
            longer = [t for t in self.tokens if t.kind == "word" and len(t.text) > 3]
            found = self._cues["title"] = len(longer) >= 3 and sum(t.text[:1].isupper() for t in longer) >= 0.75 * len(
                longer
            )
        return found

    def _anywhere(self, name: str, phrases: PhraseSet) -> bool:
        """Whether one of `phrases` stands anywhere in the sentence, computed once per sentence under `name`."""
        found = self._cues.get(name)
        if found is None:
            firsts, words = phrases.by_first, self.words
            found = self._cues[name] = not firsts.keys().isdisjoint(words) and any(
                phrases.match_at(words, k) for k, word in enumerate(words) if word in firsts
            )
        return found

    @property
    def war_cue(self) -> bool:
        """Whether the sentence speaks of war captives (prisoners of war, a swap, soldiers)."""
        return self._anywhere("war", self.lex.war_cues)

    @property
    def captive_cue(self) -> bool:
        """Whether the sentence speaks of hostages or captivity ("prisoner swap", "kidnapped", "captives")."""
        return self._anywhere("captive", self.lex.captive_cues)

    @property
    def captive_before(self) -> bool:
        """Whether an earlier sentence of the text spoke of hostages or captivity."""
        return self.earlier.captive

    @property
    def deploying_before(self) -> bool:
        """Whether an earlier sentence of the text counted troops sent."""
        return self.earlier.deploying

    @property
    def mission_cue(self) -> bool:
        """Whether the sentence names a mission abroad ("the multinational security mission", "a contingent")."""
        return self._anywhere("mission", self.lex.mission_cues)

    @property
    def intake_cue(self) -> bool:
        """Whether the sentence speaks of an intake (recruiting, drafting)."""
        return self._anywhere("intake", self.lex.intake)

    @property
    def deploy_cue(self) -> bool:
        """Whether the sentence speaks of sending, stationing or fighting."""
        return self._anywhere("deploy", self.lex.deploy_cues)


def excluded(s: Sentence, e: Expression) -> bool:
    """Numbers that are no count of people: money, percentages, ages, years, times, names, codes."""
    tokens, words, lex = s.tokens, s.words, s.lex
    n = len(tokens)
    prev = e.num_first - 1
    if lex.vague_before.match_before(words, e.first):
        return True  # "several hundred"
    if prev >= 0:
        if words[prev] in lex.currency_before or words[prev] in lex.negations:
            return True
        if lex.not_count_before.match_before(words, e.first):
            return True  # "sentenced five to death", "an annual rate of 200 murders"
        if e.first == e.num_first and words[prev] in lex.label_before:
            return True  # "day 601", "Brigade 128", "aged 34"
        if (
            e.first == e.num_first
            and words[prev] == "."
            and prev > 0
            and tokens[prev - 1].end == tokens[prev].start
            and words[prev - 1] in lex.label_before
        ):
            return True  # "since Oct. 7", "No. 4": an abbreviated label
        if _listed_age(s, prev):
            return True  # "two children, aged four and six, died": the second age too
        touching = tokens[prev].end == tokens[e.num_first].start
        if touching and (
            tokens[prev].text in _HASHES
            or (
                words[prev] == "-"
                and prev > 0
                and tokens[prev - 1].kind == "word"
                and tokens[prev - 1].end == tokens[prev].start
            )
        ):
            return True  # "#QZ8501", "T-72", "COVID-19"
    after = e.last
    if after < n:
        word = words[after]
        if (
            word == "-"
            and after + 1 < n
            and tokens[after].start == tokens[after - 1].end
            and tokens[after + 1].kind == "word"
            and tokens[after + 1].start == tokens[after].end
            and not _strong_unit(s, e)
        ):
            return True  # "15-year-old", "a 10-member team": a compound modifier, not a count
        if (
            word == "-"
            and after + 3 < n
            and tokens[after].start == tokens[after - 1].end
            and words[after + 1] in _SUSPENDED_JOINERS
            and tokens[after + 2].kind == "num"
            and words[after + 3] == "-"
            and tokens[after + 3].start == tokens[after + 2].end
        ):
            return True  # "16- i 17-latka", "15- and 16-year-olds": the first half of two compounds
        if word in lex.not_count_after:
            return True  # money, percent, years, times
        if word == ":" and _tight(tokens, after - 1) and _tight(tokens, after) and tokens[after + 1].kind == "num":
            return True  # "9:30": a time; "kills at least 30: officials say ..." is a count
    if (
        prev >= 1
        and words[prev] == ":"
        and tokens[prev - 1].kind == "num"
        and _tight(tokens, prev - 1)
        and _tight(tokens, prev)
    ):
        return True  # the minutes of "9:30"
    first_tok = tokens[e.num_first]
    for k in range(after, min(n, after + 6)):
        if words[k] in lex.not_people and tokens[k].text[:1].islower():
            return True  # "100,000 dead fish", "200 pilot whales": animals are not figures (not "Buffalo")
        if tokens[k].kind == "punct":
            break  # "one person injured, trees uprooted": the counted phrase ends first
    if (after >= n or not lex.people.match_at(words, after)) and any(
        words[k] in lex.not_people and tokens[k].text[:1].islower() for k in range(max(0, e.first - 8), e.first)
    ):
        return True  # "32 whales rescued after around 200 die": a bare count goes on counting the animals
    if any(words[k] in lex.rate_words for k in range(after, min(n, after + 4))):
        return True  # "one woman dies every two minutes": a rate, no count
    if (
        e.last - e.num_first == 1
        and words[e.num_first] in lex.pronoun_numbers
        and after < n
        and lex.pronoun_after.match_at(words, after)
    ):
        return True  # "killed one after the other", "one by one": "one" is a pronoun
    counted = bool(
        lex.people.match_at(words, after) or (s.trigger_at(after)[1] and words[after] not in lex.event_nouns)
    )
    years = e.qualifier == "range" and e.low is not None and e.high is not None and 1800 <= e.low < e.high <= 2100
    if years and not counted:
        return True  # "from 2001 to 2010": years
    if e.qualifier != "range" and e.last - e.num_first == 1 and first_tok.text.isdigit():
        value = int(first_tok.text) if len(first_tok.text) <= 4 else 0
        if len(first_tok.text) == 4 and 1800 <= value <= 2100 and not counted:
            return True  # a year
        if value < 130 and prev >= 1 and after < n and _is_age(tokens, words, prev, after):
            return True
    return False


_AGE_LIST_LINKS = frozenset({"and", "or", ",", "to", "-", "\u2013"})


def _listed_age(s: Sentence, prev: int) -> bool:
    """Whether the number after words[prev] closes a list of ages opened by "aged" ("aged four and six")."""
    k = prev
    if s.words[k] not in _AGE_LIST_LINKS:
        return False

    def number(j: int) -> bool:
        return s.tokens[j].kind == "num" or j in s.numbers_at

    while k >= 0 and k > prev - 8 and (s.words[k] in _AGE_LIST_LINKS or number(k)):
        k -= 1
    return k >= 0 and k < prev and s.words[k] in s.lex.age_asides and number(k + 1)


def _tight(tokens: list[Token], k: int) -> bool:
    """Whether token k touches the token after it (no space between)."""
    return k + 1 < len(tokens) and tokens[k].end == tokens[k + 1].start


def _is_age(tokens: list[Token], words: list[str], prev: int, after: int) -> bool:
    """'Hawkins, 19, opened fire' / 'Hawkins (19)': a number set off right after a name."""
    before_name = tokens[prev - 1]
    if before_name.kind != "word" or not before_name.text[:1].isupper():
        return False
    return (words[prev] == "," and words[after] in {",", ")"}) or (words[prev] == "(" and words[after] == ")")


def who(s: Sentence, e: Expression) -> Who | None:
    """The counted noun phrase after the number; None when the number counts things, not people."""
    tokens, words, lex = s.tokens, s.words, s.lex
    n = len(tokens)
    pos = e.last
    if _strong_unit(s, e):
        return Who(pos, pos, (), pos, pos)  # "a 200-strong missile unit": the unit is counted, see _unit_of
    part = lex.part_after.match_at(words, pos)
    if part:
        pos += part  # "about 600 of them deaths"
        if not (lex.people.match_at(words, pos) or s.trigger_at(pos)[1]):
            return Who(pos, pos, (), pos, pos)  # "two of them seriously": a part, counted noun unsaid
    first = pos
    selection = False
    if pos + 1 < n and words[pos] == "of" and words[pos + 1] in _POSSESSIVES:
        first, pos = pos + 1, pos + 2  # "20,000 of his fighters"
        selection = words[pos - 1] in _DETERMINERS
    j = pos
    saw_lower = False
    saw_content = False  # a word other than a modifier ("more", "other") between number and here
    while j < n and j - pos <= MAX_MODIFIERS:
        m = lex.people.match_at(words, j)
        tok = tokens[j]
        if j == pos == e.last and tok.start == tokens[pos - 1].end and tok.kind == "word" and not m:
            break  # "Killing 10Re...": a word glued to the number is a cut-off, not the counted noun
        while (
            m
            and not lex.adjectives_follow
            and j + m < n
            and lex.people.match_at(words, j + m)
            and not s.trigger_at(j)[1]
        ):
            j += m  # "4,000 rebel fighters", "100 government troops": the last noun of a compound is its head
            m = lex.people.match_at(words, j)
        if m:
            cont = j + m
            if lex.adjectives_follow:
                # "soldados norte-coreanos mortos": adjectives after the noun, up to the next trigger
                for _ in range(4):
                    if cont < n and (
                        (words[cont] == "-" and _tight(tokens, cont - 1) and _tight(tokens, cont))
                        or (
                            tokens[cont].kind == "word"
                            and words[cont] not in lex.function_single
                            and not s.trigger_at(cont)[1]
                        )
                    ):
                        cont += 1
                    else:
                        break
            if cont + 1 < n and words[cont] in _AND_OR and " ".join(words[j : j + m]) not in lex.troops:
                m2 = lex.people.match_at(words, cont + 1)
                if m2 and " ".join(words[cont + 1 : cont + 1 + m2]) in lex.troops:
                    # "100,000 police and soldiers deployed": one count of both; the troops make it a deployment
                    end = cont + 1 + m2
                    return Who(first, end, tuple(words[cont + 1 : end]), end, cont + 1, selection)
            return Who(first, cont, tuple(words[j : j + m]), cont, j, selection)
        if tok.kind == "word" and tok.low.endswith(lex.people_suffixes) and tok.low not in lex.not_suffixed:
            return Who(first, j + 1, (tok.low,), j + 1, j)  # "270 schoolgirls", "40 activists"
        if (
            tok.kind == "word"
            and tok.text[:1].isupper()
            and tok.low.endswith("s")
            and len(tok.low) > 3
            and tok.low not in lex.function_single
            and not s.trigger_at(j)[1]
            and not lex.people.match_at(words, j + 1)  # "10 ISIS operatives": the noun comes after
            and not (j + 1 < n and words[j + 1] in lex.trigger_modifiers)  # "two Dallas hospital workers"
        ):
            return Who(first, j + 1, (tok.low,), j + 1, j)  # "249 Palestinians", "two Swedes"
        if (
            tok.low == "of"
            and j > pos
            and tokens[j - 1].text[:1].isupper()
            and j + 1 < n
            and tokens[j + 1].text[:1].isupper()
        ):
            j += 1  # "four University of Idaho students": "of" inside a name
            continue
        if tok.kind == "punct":
            if tok.text in _HASHES and not any(lex.people.match_at(words, k) for k in (j + 1, j + 2)):
                break  # "2,500 #NepalEarthquake": a hashtag after the count names no people
            if tok.text in _HASHES or (tok.text == "-" and j > 0 and tokens[j - 1].end == tok.start):
                j += 1  # "#TSA agents", "pro-Russian fighters"
                continue
            break
        if tok.low in lex.modifiers:
            j += 1  # "1,000 more troops"
            continue
        if tok.low == "and" and 0 < j < n - 1 and tokens[j - 1].text[:1].isupper() and tokens[j + 1].text[:1].isupper():
            j += 1  # "50,000 North Korean and Russian soldiers"
            continue
        if tok.low in lex.trigger_modifiers and lex.people.match_at(words, j + 1):
            j += 1  # "2 hospital workers": the trigger word names the people's work, not what befell them
            continue
        if tok.kind == "num" or j in s.numbers_at or tok.low in lex.function_single or s.trigger_at(j)[1]:
            break  # "two buses carrying sixty prisoners": another count starts
        saw_lower = saw_lower or not tok.text[:1].isupper()
        saw_content = True
        j += 1
    if not saw_content:
        return Who(j, j, (), j, j)  # a bare number, maybe with "more": "injuring 30 more"
    if not saw_lower and j < n and s.trigger_at(j)[1]:
        return Who(first, j, (), j, j)  # a bare number, or "5 Ukrainian killed"
    if saw_lower and j - pos <= 2 and lex.person_verbs.match_before(words, e.first):
        return Who(first, j, (), j, j)  # "killed 10 bandits": these verbs only ever count people
    if saw_lower and j - pos <= 3 and j > pos and words[j - 1].endswith("s") and _befalls_people(s, j):
        return Who(first, j, (words[j - 1],), j, j - 1)  # "17 missionaries have been kidnapped"
    return None  # "12 tanks", "38 runs", "9 mm"


def _befalls_people(s: Sentence, k: int) -> bool:
    """Whether a verb that befalls only people follows (through fillers): killed, wounded, kidnapped …"""
    for _ in range(MAX_FILLER_STEPS):
        if k >= len(s.words):
            return False
        cat, m = s.trigger_at(k)
        if m:
            return cat != "deployed" and s.words[k] in s.lex.person_verbs_after
        f = s.lex.filler.match_at(s.words, k)
        if not f:
            return False
        k += f
    return False


def categorise(s: Sentence, e: Expression, w: Who | None, counted: set[int]) -> Link | None:
    """The category of a number, from the nearest trigger: its counted noun ("600 fatalities"), a trigger
    right after ("600 soldiers were killed"), before ("killed 600"), a toll ("the death toll rose to 600"),
    or troops in a sentence about deployment. Troops withdrawn are no deployment."""
    link = _categorise(s, e, w, counted)
    if link is not None and link.category == "deployed" and _withdrawn(s, e, w):
        return None
    if link is not None and link.category == "deployed" and _taken_in(s, link):
        return None
    if link is not None and link.category == "deployed" and s.lex.trained_before.match_before(s.words, e.first):
        return None  # "has trained more than 30,000 soldiers": people trained, not sent
    if (
        link is not None
        and link.category == "deployed"
        and link.kind == "toll"
        and s.lex.standing.match_before(s.words, e.first)
    ):
        return None  # "soldiers, short of its goal of 11,800": a planned size, not troops sent
    if (
        link is not None
        and link.category == "deployed"
        and link.kind == "right"
        and link.first == (w.cont if w else e.last)
    ):
        later = _later_outcome(s, link.last)
        if later is not None:
            return later  # "300 soldiers sent to Kursk have died": the participle names them, the verb says
    if link is not None and link.category == "captured" and w is not None and _state_held(s, w):
        return None  # "freed 30 political prisoners": a state's detainees (guideline)
    if link is not None and any(
        s.lex.no_category.match_at(s.words, k) for k in range(max(0, link.first - 1), link.last + 1)
    ):
        return None  # "120 dead or missing", "die Zahl der Toten und Vermissten": no category (guideline)
    if (
        link is not None
        and link.kind == "left"
        and link.category != "deployed"
        and s.lex.hypothetical.match_before(s.words, link.first)
    ):
        return None  # "attempted to kill six others", "threatened to kill 10": nobody died
    return link


_SUSPENDED_JOINERS = frozenset(
    {"and", "or", "to", "i", "lub", "albo", "oraz", "und", "oder", "y", "o", "et", "ou", "и", "или", "і", "та", "або"}
)


def vetoed(s: Sentence, e: Expression, w: Who | None, category: str) -> bool:
    """Whether the guideline rules `category` out for this count whatever the words around it suggest: a
    deployment needs troops and is no withdrawal, intake or standing force; captives are no state's detainees;
    dead-or-missing has no category; an attempt harmed nobody. The learned decider (decide.py) never overrules it."""
    words, lex = s.words, s.lex
    if category == "deployed":
        troop = bool(w and " ".join(w.head) in lex.troops) or bool(
            w and any(words[k] in lex.troop_modifiers for k in range(w.first, w.last))
        )
        if not _allowed(s, category, troop, w, explicit=True) or _withdrawn(s, e, w):
            return True
        if any(lex.withdraw.match_at(words, k) for k in range(e.last, len(words))):
            return True  # "Around 200 of the 1,000 troops sent there have returned": the clause is about leaving
        if s.intake_cue or lex.trained_before.match_before(words, e.first):
            return True
        if lex.standing.match_before(words, e.first) or (w is not None and _other_business(s, w)):
            return True
    if (
        category == "captured"
        and w is not None
        and (_state_held(s, w) or (" ".join(w.head) in lex.held_by_states and not s.war_cue and not s.captive_cue))
    ):
        return True
    if any(lex.no_category.match_at(words, k) for k in range(max(0, e.first - 3), min(len(words), e.last + 3))):
        return True
    if _group_opening(s, e, w):
        return True  # "Of the 40 passengers, 12 were killed": the group a part is taken from
    return bool(lex.hypothetical.match_before(words, e.first))


def _group_opening(s: Sentence, e: Expression, w: Who | None) -> bool:
    """Whether a count opens its sentence as the group a part is taken from ("Of the 40 passengers, 12 …"), with no
    trigger of its own before the comma."""
    words = s.words
    k = e.first
    if (
        k < 2
        or words[k - 1] not in s.lex.determiners
        or words[k - 2] != "of"
        or (k > 2 and words[k - 3] not in {",", ";"})
    ):
        return False
    end = w.last if w else e.last
    for j in range(end, min(len(words), end + 4)):
        if s.trigger_at(j)[1]:
            return False  # "Of the 40 passengers killed, 12 were children": the group has its own category
        if words[j] == ",":
            return True
    return False


def _other_business(s: Sentence, w: Who) -> bool:
    """Whether the verb after counted troops is about something other than a deployment ("were arrested",
    "are accused")."""
    k = w.last
    for _ in range(3):
        f = s.lex.filler.match_at(s.words, k) if k < len(s.words) else 0
        if not f:
            break
        k += f
    return bool(s.lex.not_deployed_after.match_at(s.words, k))


def _later_outcome(s: Sentence, k: int) -> Link | None:
    """A killed/wounded/captured/casualties verb later in the clause, after an auxiliary ("… have died"): what
    befell people a participle only described ("soldiers sent to Kursk")."""
    words, lex = s.words, s.lex
    partitive = bool(words) and words[0] == "of"  # "Of 15,000 soldiers sent …, a third were killed": a part's
    for j in range(k, min(len(words), k + 15)):
        if s.tokens[j].kind == "num" or words[j] in {";", ":"} or (partitive and words[j] == ","):
            return None
        cat, m = s.trigger_at(j)
        if m and cat != "deployed" and j > k and lex.filler.match_before(words, j):
            return Link(cat, j, j + m, "right")
    return None


def _noun_after(s: Sentence, k: int) -> int:
    """Where a people noun at k ends, names before it allowed ("RCAF members"); 0 when there is none."""
    for j in range(k, min(k + 3, len(s.words))):
        m = s.lex.people.match_at(s.words, j)
        if m:
            return j + m
        if not (s.tokens[j].kind == "word" and s.tokens[j].text[:1].isupper()) or s.trigger_at(j)[1]:
            return 0
    return 0


def _part_aside(s: Sentence, k: int) -> bool:
    """Whether the aside opened at k names a part of the count before it: "23 people, four of them children,
    were killed", "18 people, most of them tourists, were killed"."""
    for j in range(k, min(len(s.words), k + 4)):
        if s.words[j] == ",":
            return False
        if s.words[j] in {"of", "among"} and s.lex.part_after.match_at(s.words, j):
            return True
    return False


_CALL_UP = frozenset({"called", "call", "calling", "calls"})


def _taken_in(s: Sentence, link: Link) -> bool:
    """Troops recruited, enlisted or drafted, counted by the sentence's cue or a call-up rather than by an explicit
    deployment verb: an intake, not a deployment."""
    if link.kind != "troops" and s.words[link.first] not in _CALL_UP:
        return False
    return s.intake_cue


def _withdrawn(s: Sentence, e: Expression, w: Who | None) -> bool:
    """'will withdraw 2,000 troops', '2,000 troops were pulled out': a count of troops leaving."""
    words, lex = s.words, s.lex
    for k in range(max(0, e.first - 6), e.first):
        if lex.withdraw.match_at(words, k):
            return True
    k = w.cont if w else e.last
    for _ in range(MAX_FILLER_STEPS):
        if k >= len(words):
            return False
        if lex.withdraw.match_at(words, k):
            return True
        f = lex.filler.match_at(words, k)
        if not f:
            return False
        k += f
    return False


def _state_held(s: Sentence, w: Who) -> bool:
    """Whether the counted people are a state's detainees (guideline: never figures): a word in their phrase
    ("political prisoners") or the place they are held right after it ("240 prisoners in Israeli jails")."""
    words, lex = s.words, s.lex
    if any(words[k] in lex.state_detainees for k in range(w.first, w.last)):
        return True
    if " ".join(w.head) in lex.held_by_states and not lex.state_releases.isdisjoint(words):
        return True  # "will free 3,100 prisoners in an amnesty"
    if (
        " ".join(w.head) in lex.held_by_states
        and not lex.war_cues.match_at(words, w.cont)
        and any(word in lex.hostage_words for word in words)
    ):
        return True  # "Hamas frees four hostages as Israel releases 200 prisoners": the other side's detainees
    if w.cont >= len(words) or words[w.cont] not in lex.custody_prepositions:
        return False
    return any(words[k] in lex.state_custody for k in range(w.cont + 1, min(len(words), w.cont + 4)))


def _released_captives(s: Sentence, k: int, w: Who | None) -> Link | None:
    """'Thirteen Israelis and four Thai nationals … were released' in a sentence about hostages: captives."""
    words, lex = s.words, s.lex
    if not (s.captive_cue or s.captive_before):
        return None
    if (w is None or not w.head) and not s.captive_before:
        return None  # "Nine were released the next day" is about captives only after a sentence that says so
    if w is not None and _state_held(s, w):
        return None
    steps = 0
    while k < len(words) and steps <= MAX_FILLER_STEPS:
        m = lex.release_verbs.match_at(words, k)
        if m:
            if lex.release_not_after.match_at(words, k + m):
                return None  # "released from hospital"
            return Link("captured", k, k + m, "right")
        pp = _prepositional_phrase(s, k) or (k + 1 if words[k] in {"held", "since"} else 0)
        f = lex.filler.match_at(words, k)
        aside = _aside_end(s, k)  # "Eighty-four Ukrainians, 22 of them civilians, returned home"
        if not (f or pp or (aside is not None and aside > 0)):
            return None
        k = pp or (k + f if f else aside or k + 1)
        steps += 1
    return None


def _strong_unit(s: Sentence, e: Expression) -> bool:
    """ "a 200-strong missile unit", "an 850-strong battalion": the strength of a unit, in a sentence about sending."""
    words, j = s.words, e.last
    return (
        j + 1 < len(words)
        and words[j] == "-"
        and words[j + 1] in s.lex.strength_words
        and any(words[k] in s.lex.units for k in range(j + 2, min(len(words), j + 6)))
        and s.deploy_cue
    )


def _unit_of(s: Sentence, e: Expression, w: Who | None) -> Link | None:
    """'a detachment of about 250 engineers', 'will deploy a force of some 2,000': the count of a unit sent
    somewhere is a deployment; so is 'a second group of 75' after a sentence about troops sent (a bare count, or
    one of troops)."""
    j = e.first
    if _strong_unit(s, e):
        return Link("deployed", e.last, e.last + 2, "troops")
    if j < 2 or s.words[j - 1] != "of" or s.words[j - 2] not in s.lex.units:
        return None
    if w is not None and w.head and " ".join(w.head) not in s.lex.troops:
        return None  # "a group of 45 protesters gathered": a unit of no troops
    if not s.deploy_cue and not (s.deploying_before and not s.lex.standing.match_before(s.words, j)):
        return None  # after troops sent, still no force size ("hope to reach a force of 260,000")
    return Link("deployed", j - 2, j, "troops")


def _categorise(s: Sentence, e: Expression, w: Who | None, counted: set[int]) -> Link | None:
    head = w.head if w else ()
    # "2 of them are in serious condition": the trigger follows the part phrase
    cont = w.cont if w else e.last + s.lex.part_after.match_at(s.words, e.last)
    troop = " ".join(head) in s.lex.troops or bool(
        w and any(s.words[k] in s.lex.troop_modifiers for k in range(w.first, w.last))
    )
    left = _left_trigger(s, e, head) or (_left_list_trigger(s, e, head) if w and head else None)
    right = _right_trigger(s, cont, head)
    if right and (_object_follows(s, right.last, counted) or _transitive(s, right)):
        right = None  # "two gunmen killed 5 people": the verb's count is its object, not its subject
    noun: Link | None = None
    if w and head:
        cat, m = s.trigger_at(w.head_at)
        if (
            m
            and m >= len(head)
            and _allowed(s, cat, troop, w)
            and not (
                cat == "captured" and " ".join(head) in s.lex.held_by_states and (not s.war_cue or _state_held(s, w))
            )
        ):
            noun = Link(cat, w.head_at, w.head_at + m, "noun")  # "1,000 prisoners freed in an amnesty": no
    # "executed 18 hostages", "two hostages died": a verb says what happened to counted captives;
    # "one of the injured died": the noun names the group chosen from, the verb what happened.
    other = (left and left.category != "captured") or (right and right.category != "captured")
    if noun and noun.category == "missing" and w is not None and (held := _noun_after(s, w.cont)):
        later = _right_trigger(s, held, ())
        if later is not None and later.category != "missing":
            return later  # "Two missing hikers were found dead": the verb says what happened to them
    if noun and noun.category == "wounded" and right is not None and right.category == "killed" and right.first == cont:
        return right  # "two wounded die in hospital": the wounded counted have died
    if noun and not (w and w.selection) and not (noun.category in {"captured", "missing"} and other):
        return noun
    if (
        right
        and right.first == cont
        and (
            _allowed(s, right.category, troop, w, explicit=True)
            or (right.category == "deployed" and _mobilised(s, right, w))
        )
    ):
        return right  # "300,000 people mobilised": people called up are troops, as before the number
    if left and left.category == "casualties" and right and right.category in {"killed", "wounded"}:
        return right  # "the loss of eight service members likely killed": the verb says what the loss was
    if left and _allowed(s, left.category, troop, w, explicit=True):
        return left
    if left and left.category == "deployed" and _mobilised(s, left, w):
        return left  # "mobilised 300,000", "mobilised 1 million people": people called up are troops
    if right and _allowed(s, right.category, troop, w, explicit=True):
        return right
    among = _among_group(s, cont)
    if among:
        return among
    released = _released_captives(s, cont, w)
    if released:
        return released
    unit = _unit_of(s, e, w)
    if unit:
        return unit
    toll = _toll_after(s, e) or _toll(s, e)
    if toll:
        return toll
    group = _group_trigger(s, e)
    if group:
        return group
    if troop and w and _deployed(s, e, w):
        return Link("deployed", e.first, cont, "troops")
    if w and " ".join(w.head) in s.lex.deployed_nouns and not noun and not _other_business(s, w):
        return Link("deployed", e.first, cont, "troops")  # "14,000 peacekeepers": a mission's troops
    return noun  # "six of the dead were children"


def _allowed(s: Sentence, category: str, troop: bool, w: Who | None, explicit: bool = False) -> bool:
    """Deployments are counts of troops: a counted troop noun, or a bare number in a sentence about troops;
    men count when a deployment verb says so ("5,000 men deployed"), police when it sends them on a mission."""
    if category != "deployed" or troop or (w is None and (s.has_troops or s.deploying_before)):
        return True
    if not explicit or w is None:
        return False
    head = " ".join(w.head)
    return head in s.lex.troops_if_sent or (head in s.lex.police and s.mission_cue)


def person_end(s: Sentence, j: int, stop: int) -> int | None:
    """The end of a person noun phrase without a number starting at j ("driver", "local commander")."""
    return _coordinated_person(s, j, stop)


def _coordinated_person(s: Sentence, j: int, stop: int) -> int | None:
    """The end of a person noun phrase starting at j ("a civilian", "the local commander"), or None."""
    while j < min(stop, len(s.words)) and s.tokens[j].kind == "word" and not s.trigger_at(j)[1]:
        m = s.lex.people.match_at(s.words, j)
        if m:
            return j + m
        if s.words[j].endswith(s.lex.people_suffixes) and s.words[j] not in s.lex.not_suffixed:
            return j + 1
        j += 1
    return None


def _mobilised(s: Sentence, left: Link, w: Who | None) -> bool:
    phrase = " ".join(s.words[left.first : left.last])
    return phrase in s.lex.mobilise and (w is None or not w.head or bool(s.lex.people.match_at(list(w.head), 0)))


def _among_group(s: Sentence, k: int) -> Link | None:
    """'4 residents (were) among those killed': people counted as part of a group the trigger names."""
    words, lex = s.words, s.lex
    for _ in range(3):
        f = lex.filler.match_at(words, k)
        if not f or lex.among.match_at(words, k):
            break
        k += f
    m = lex.among.match_at(words, k)
    if not m:
        return None
    k += m
    if k < len(words) and words[k] in lex.determiners:
        k += 1
    cat, t = s.trigger_at(k)
    if not t or cat == "deployed":
        return None
    return Link(cat, k, k + t, "right")


def _group_trigger(s: Sentence, e: Expression) -> Link | None:
    """'Among the dead were 3 children', 'Those injured included 4 officers': the group names the category."""
    words, lex = s.words, s.lex
    j = e.first
    m = lex.group_links.match_before(words, j)
    if not m:
        return None
    j -= m
    name, t = lex.after.match_before(words, j)
    if not t and j > 0 and s.earlier.harm and words[j - 1] in lex.victim_words:
        name, t = s.earlier.harm, 1  # "Among the victims were 3 children", after a count of the harmed
    if not t and (s.captive_cue or s.captive_before):
        # "Those freed included 80 soldiers", "Among those released were two nurses": parts of the released
        name, t = "captured", lex.release_verbs.match_before(words, j)
    if not t or name == "deployed" or j - t < 1:
        return None
    if words[j - t - 1] not in lex.determiners and not lex.among.match_before(words, j - t):
        return None  # "among the dead were", "среди раненых — двое детей"
    return Link(name, j - t, j, "left")


def _aside_end(s: Sentence, k: int) -> int | None:
    """Where an aside opened at k ends (the word after it): None when none opens there, -1 when it never closes.

    "Twelve people, including three children, were killed", "23 people, four of them children, …" (a part),
    "7 bodies - 4 men, 3 women - recovered" (spaced dashes), "7 (2 of them soldiers) were wounded"."""
    words, tokens, lex = s.words, s.tokens, s.lex
    n = len(words)
    if words[k] == "," and (
        lex.part_before.match_at(words, k + 1)
        or (k + 1 < n and words[k + 1] in lex.age_asides)
        or _part_aside(s, k + 1)
    ):
        closing: Container[str] = {","}
    elif words[k] in _DASHES and k > 0 and tokens[k - 1].end < tokens[k].start:
        closing = _DASHES
    elif words[k] in _OPEN:
        closing = _CLOSE
    else:
        return None
    return next((j + 1 for j in range(k + 1, min(n, k + MAX_PARENTHESIS)) if words[j] in closing), -1)


def _right_trigger(s: Sentence, k: int, head: tuple[str, ...]) -> Link | None:
    tokens, words, lex = s.tokens, s.words, s.lex
    n = len(tokens)
    steps = 0
    relative = False  # the clause went on through "who" / "that": its verb may have its own object
    while k < n and steps <= MAX_FILLER_STEPS:
        cat, m = s.trigger_at(k, head)
        if not m and k + 2 < n and words[k].endswith("ed") and words[k + 1] == "and" and tokens[k].kind == "word":
            cat, m2 = s.trigger_at(k + 2, head)  # "were ambushed and killed": the outcome after "and"
            if m2:
                if relative and _has_object(s, k + 2 + m2):
                    return None  # "eight boys who attacked and killed Declan": they killed
                return Link(cat, k + 2, k + 2 + m2, "right")
        if m and relative and _has_object(s, k + m):
            return None  # "the two boys who allegedly murdered Brandy": the count did the killing
        if m:
            j = k + m
            pm = lex.people.match_at(words, j) if cat == "missing" else 0
            if pm:
                # "Two missing hikers were found dead": "missing" describes them, the verb says what happened
                later = _right_trigger(s, j + pm, head)
                if later is not None and later.category != "missing":
                    return later
            if cat in {"killed", "wounded"} and j + 1 < n and words[j] in _OR_WORDS:
                # "murieron o resultaron heridos", "tués ou blessés": killed or wounded, one count, casualties
                for q in range(j + 1, min(n, j + 3)):
                    if tokens[q].kind == "num" or q in s.numbers_at:
                        break
                    other, m3 = s.trigger_at(q, head)
                    if m3 and {other, cat} == {"killed", "wounded"}:
                        return Link("casualties", k, q + m3, "right")
            if cat == "casualties" and j + 1 < n and words[j] in {"and", ",", "then"}:
                then, m2 = s.trigger_at(j + 1, head)
                if m2 and then in {"killed", "wounded"}:
                    return Link(then, j + 1, j + 1 + m2, "right")  # "two shot and injured": the outcome counts
            return Link(cat, k, k + m, "right")
        steps += 1
        pp = _prepositional_phrase(s, k, allow_of=bool(head))
        if pp:
            k = pp  # "100,000 troops on each side had been killed", "11 people in Burma's western Chin state"
            continue
        f = lex.filler.match_at(words, k)
        if f:
            relative = relative or words[k] in _RELATIVES
            k += f
            continue
        aside = _aside_end(s, k)
        if aside is not None:
            if aside < 0:
                return None
            k = aside
            continue
        if (
            words[k] == ","
            and k + 1 < n
            and (m := lex.people.match_at(words, k + 1))
            and not (k + 1 + m < n and tokens[k + 1 + m].kind == "num")
        ):
            k += 1 + m  # "28 soldiers, civilians killed": a list of counted nouns shares the count
            continue
        if words[k] in lex.coordinators and k + 1 < n and words[k + 1] in lex.determiners - _DETERMINERS_PLURAL:
            # "Five soldiers and a civilian were killed": a co-ordinated person without a number
            person = _coordinated_person(s, k + 2, k + 5)
            if person is None:
                return None
            k = person
            continue
        if words[k] in lex.place_prepositions and k + 1 < n and tokens[k + 1].text[:1].isupper():
            k += 1  # "8 people in Donetsk region killed"
            while k < n and (tokens[k].text[:1].isupper() or words[k] in {"'s", "\u2019s", "-"}):
                k += 1
            if k < n and words[k] in lex.place_nouns:
                k += 1
            continue
        return None
    return None


_PP_PREPOSITIONS = frozenset(
    {"in", "on", "at", "near", "from", "across", "outside", "inside", "aboard", "along", "around", "within"}
)
_RELATIVES = frozenset({"who", "that", "which", "whom", "whose", "when", "where"})
_CLAUSE_OPENERS = frozenset({"after", "before", "because", "while", "following", "amid", "until", "unless"})
# "or" in the languages with lexicons: killed or wounded counted together are casualties.
_OR_WORDS = frozenset({"or", "o", "u", "ou", "oder", "или", "або", "чи", "lub", "albo", "nebo", "ou seja"})
_OBJECT_PRONOUNS = frozenset({"him", "her", "them", "me", "us", "himself", "herself", "themselves"})
MAX_PP_WORDS = 6


def _prepositional_phrase(s: Sentence, k: int, allow_of: bool = False) -> int:
    """Where a short prepositional phrase starting at k ends, when the clause goes on after it (an aside,
    a filler or a trigger follows); 0 when words[k] opens none. "of" opens one only after a counted noun
    ("two officers of Iran's Revolutionary Guard were killed"), never after a bare number ("one of fear")."""
    words, tokens, lex = s.words, s.tokens, s.lex
    if (
        not (allow_of and words[k] == "of")
        and words[k] not in _PP_PREPOSITIONS
        and words[k] not in lex.place_prepositions
    ):
        return 0
    j = k + 1
    while j < len(words) and j - k <= MAX_PP_WORDS:
        tok = tokens[j]
        if j > k + 1 and (
            (words[j] == "," and lex.part_before.match_at(words, j + 1))
            or lex.filler.match_at(words, j)
            or (s.trigger_at(j)[1] and words[j] not in lex.trigger_modifiers)  # "at a hospital": its object
        ):
            return j
        noun_trigger = words[j] in lex.trigger_modifiers  # "at a hospital": the phrase's own object
        if tok.kind == "num" or words[j] in _RELATIVES or (s.trigger_at(j)[1] and not noun_trigger):
            return 0
        if words[j] in _CLAUSE_OPENERS:
            return 0  # "rose to 52 on Wednesday after several of the injured died": another clause, its own people
        if tok.kind == "punct" and tok.text not in {"-", "'s", "\u2019s", "'", "\u2019"}:
            return 0
        j += 1
    return 0


def _has_object(s: Sentence, k: int) -> bool:
    """Whether a verb ending before token k takes an object there: a determiner, a name, a pronoun, people."""
    if k >= len(s.words) or s.tokens[k].kind != "word":
        return False
    word = s.words[k]
    return (
        word in s.lex.determiners
        or word in _OBJECT_PRONOUNS
        or s.tokens[k].text[:1].isupper()
        or bool(s.lex.people.match_at(s.words, k))
    )


def _object_follows(s: Sentence, k: int, counted: set[int]) -> bool:
    for _ in range(3):
        f = s.lex.before_filler.match_at(s.words, k)
        if not f:
            break
        k += f
    return k in counted


def _left_trigger(s: Sentence, e: Expression, head: tuple[str, ...]) -> Link | None:
    first = s.tokens[e.first]
    if (
        first.kind == "word"
        and first.text[:1].isupper()
        and e.first > 0
        and s.tokens[e.first - 1].kind == "word"
        and not s.title_case
    ):
        return None  # "… jailed for the killing Two days after …", "School Shooting At least six": a run-on
    j = e.first
    for _ in range(3):
        f = s.lex.before_filler.match_before(s.words, j)
        if not f or _best_before(s, j, head)[1]:
            break  # "killing of" is itself a trigger: do not skip its "of"
        j -= f
    name, m = _best_before(s, j, head)
    if not m:
        return None
    phrase = " ".join(s.words[j - m : j])
    cat = next(c for c in s.lex.categories if c.name == name)
    if phrase in s.lex.before_needs_people and not (head and s.lex.people.match_at(list(head), 0)):
        return None  # "lost two matches", "shot 3 goals": these verbs count people only with a person noun
    if head and any(c.name != name and " ".join(head) in c.after_who for c in s.lex.categories):
        return None  # "hands over 757 bodies": the counted noun belongs to another category (the dead)
    if phrase in cat.before_needs_who:
        # "freed 50 prisoners", never "freed 50": these verbs need the counted noun of their category, or
        # counted people in a sentence about captivity ("prisoner swap frees 215 Ukrainians")
        head_cat, hm = s.lex.after.match_at(list(head), 0)
        if (head_cat != name or not hm) and not (head and (s.captive_cue or s.war_cue or s.captive_before)):
            return (
                None  # (after a sentence about captivity too: "They were seized in March. Pirates freed the 17 crew")
            )
        if " ".join(head) in s.lex.held_by_states and not (s.captive_cue or s.war_cue):
            return None  # "Sri Lanka frees 1,000 prisoners in an amnesty": a state's prisoners (guideline)
    return Link(name, j - m, j, "left")


def _left_list_trigger(s: Sentence, e: Expression, head: tuple[str, ...]) -> Link | None:
    """'killed a commander and 3 of his bodyguards', 'injured a woman and 2 children': a count listed after
    a noun phrase without a number shares the verb before that phrase."""
    words, tokens, lex = s.words, s.tokens, s.lex
    j = e.first - 1
    if j >= 1 and words[j] in _POSSESSIVES and (words[j - 1] in lex.coordinators or words[j - 1] == ","):
        j -= 1  # "injured a mother and her two children"
    if j < 1 or (words[j] not in lex.coordinators and words[j] != ",") or not lex.people.match_at(list(head), 0):
        return None
    k = j
    while k > 0 and j - k < MAX_MODIFIERS + 1:
        tok = tokens[k - 1]
        if (
            tok.kind == "word"
            and not s.trigger_at(k - 1)[1]
            and (tok.low in lex.determiners or tok.low not in lex.function_single)
        ):
            k -= 1
            if tok.low in lex.determiners:
                break  # the noun phrase opens with its article or possessive
            continue
        if tok.text in {"-", "'s", "\u2019s"} and k < j:
            k -= 1  # "ex-wife", "the mayor's bodyguard"
            continue
        break
    if k == j:
        return None
    name, m = lex.before.match_before(words, k)
    if not m or name == "deployed" or not lex.person_verbs.match_before(words, k):
        return None
    return Link(name, k - m, k, "left")


def _transitive(s: Sentence, right: Link) -> bool:
    """'150 families who lost their homes': a transitive after-trigger followed by its own object."""
    if right.last - right.first != 1 or s.words[right.first] not in s.lex.transitive_after:
        return False
    k = right.last
    if k >= len(s.tokens) or s.tokens[k].kind != "word":
        return False
    if s.words[k] in s.lex.place_prepositions or s.words[k] in _PP_PREPOSITIONS:
        return False  # "three commandos shot outside a hotel": where, not whom
    return s.words[k] in s.lex.determiners or s.words[k] not in s.lex.function_single


def _best_before(s: Sentence, j: int, head: tuple[str, ...]) -> tuple[str, int]:
    best = s.lex.before.match_before(s.words, j)
    if head:
        key = " ".join(head)
        for cat in s.lex.categories:
            special = cat.before_who.get(key)
            if special is not None:
                m = special.match_before(s.words, j)
                if m and m >= best[1]:  # "lost his two brothers": the counted noun decides on a tie
                    best = (cat.name, m)
    return best


def _toll_after(s: Sentence, e: Expression) -> Link | None:
    """A toll named after its value: "elevó a 112 la cifra de muertos", "évalue à 1,2 million les pertes"."""
    words, lex = s.words, s.lex
    k = e.last
    if k < len(words) and words[k] in lex.determiners:
        name, m = lex.tolls.match_at(words, k + 1)
        if m and name:
            return Link(name, k + 1, k + 1 + m, "toll")
        for j in (k + 1, k + 2):  # "y a 260 la de heridos": the toll's noun left out, its trigger kept
            name, m = s.trigger_at(j)
            if m and name != "deployed":
                return Link(name, j, j + m, "toll")
    return None


def _toll(s: Sentence, e: Expression) -> Link | None:
    """Tolls: 'the death toll rose to 45', 'the number of dead reached 600', 'put the number killed at N'."""
    tokens, words, lex = s.tokens, s.words, s.lex
    link = lex.toll_links.match_before(words, e.first)
    if not link and e.first == e.num_first:
        return None  # a verb-like bound needs no link of its own: "death toll passes 10,000"
    stop = max(0, e.first - MAX_TOLL_DISTANCE)
    labelled = False  # passed a labelled number ("the death toll from the magnitude 7.7 earthquake rose to")
    for k in range(e.first - link - 1, stop - 1, -1):
        if tokens[k].kind == "num" and k > 0 and words[k - 1] in lex.label_before:
            labelled = True
            continue
        if tokens[k].kind == "num" or (words[k] in {";", ":"} and k != e.first - 1):
            return None
        name, m = lex.tolls.match_at(words, k)
        if m and labelled and name == "deployed":
            return None  # "withdraw troops by September 11": a date, and the troops' count is not this one
        if m and k + m <= e.first and (link or words[k] not in lex.troops):
            if name == "deployed":  # "the number of soldiers killed in combat rose to 17": killed, not sent
                for j in range(k + m, e.first - link):
                    cat_name, tm = s.trigger_at(j)
                    if tm and cat_name != "deployed":
                        return Link(cat_name, k, j + tm, "toll")
            return Link(name, k, k + m, "toll")  # "troops in Estonia to 1,800": a bare noun needs its "to"
        m = lex.toll_total.match_at(words, k)
        if m and k + m <= e.first and words[e.first - 1] != "of":  # "a total of 58 soldiers" is no toll
            return Link("", k, k + m, "total")  # category from the figure before, see extract._inherit
        if (
            link
            and words[k] in lex.toll_bare
            and k + 1 < e.first
            and words[k + 1] != "of"  # "the number of protesters": a toll_open, or none
            and words[e.first - 1] != "of"
            and k > 0
            and words[k - 1] in lex.determiners
        ):
            return Link("", k, k + 1, "total")  # "put the figure at about 4,200": see extract._inherit
        m = lex.toll_open.match_at(words, k)
        if m:
            troops_at = None
            for j in range(k + m, min(k + m + 5, e.first)):
                cat_name, tm = s.trigger_at(j)
                if tm and cat_name != "deployed":
                    return Link(cat_name, k, j + tm, "toll")  # "the number of soldiers killed … rose to 17"
                if troops_at is None and (words[j] in lex.troops or " ".join(words[j : j + 2]) in lex.troops):
                    troops_at = j + (" ".join(words[j : j + 2]) in lex.troops)  # "service members": two words
            if troops_at is not None:
                return Link("deployed", k, troops_at + 1, "toll")
    return None


def _deployed(s: Sentence, e: Expression, w: Who) -> bool:
    """Troops counted in a sentence about sending, stationing or fighting; not a standing force size."""
    words, lex = s.words, s.lex
    if lex.standing.match_before(words, e.first) or any(
        lex.standing.match_at(words, k) for k in range(w.first, w.last)
    ):
        return False
    if _other_business(s, w):
        return False  # "seven commandos were arrested", "three troops collapse during a parade"
    if s.deploy_cue:
        return True
    k = w.last
    for _ in range(3):  # "troops are currently in Kursk"
        if k < len(words) and words[k] not in _DIRECTIONS:
            k += lex.filler.match_at(words, k)
    if k + 2 < len(s.tokens) and words[k] in _DIRECTIONS and words[k + 1] == "the":
        # "troops in the combat zone": a place noun within a few words
        if any(words[j] in lex.place_nouns for j in range(k + 2, min(len(words), k + 6))):
            return True
        k += 1  # "troops in the Middle East"
    return k + 1 < len(s.tokens) and words[k] in _DIRECTIONS | {"the"} and s.tokens[k + 1].text[:1].isupper()
