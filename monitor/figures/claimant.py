"""Figure extraction, claimants: who the text says asserts a figure ("Seoul's intelligence services")."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .lexicon import Lexicon
from .numbers import Token
from .record import Figure

# A claimant is a short noun phrase; longer runs are clauses, not names.
MAX_CLAIMANT_TOKENS = 8
_JOINERS = frozenset({"'", "\u2019", "-", ".", "&"})
_DETERMINERS = frozenset({"a", "an", "the"})
_DASHES = frozenset({"-", "\u2013", "\u2014"})
_PLACE_PREPOSITIONS = frozenset({"in", "from", "of"})
_RELATIVE_OPENERS = frozenset({"where", "which", "who", "that", "when", "while", "whose"})
_WEEKDAYS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday", "tonight"}
)


# Body sentences read for the source of a headline's figures: the lead names it ("..., police said").
LEAD_SENTENCES = 2
# A figure without a source of its own continues the source of a figure up to this many sentences before it,
# in the same paragraph: "At least 19 were killed, the agency said. Another 40 were wounded."
SOURCE_CONTINUES = 3


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimant named in a sentence, and the token where the claim is made."""

    at: int
    claimant: str


def _accounts(text: str, tokens: list[Token], words: list[str], lexicon: Lexicon) -> list[Claim]:
    """ "nach Behördenangaben", "nach Kiewer Angaben", "nach britischen Schätzungen": an account named by whose it
    is, the source as written. Not "nach eigenen Angaben" (the subject's own account) nor "nach Angaben des X"
    (an intro: X is the source)."""
    found = []
    for i, word in enumerate(words[:-1]):
        if word not in lexicon.claim_by or lexicon.own_account.match_at(words, i):
            continue
        for j in (i + 1, i + 2):
            if j >= len(words) or tokens[j].kind != "word":
                break
            w = words[j]
            noun = next((n for n in lexicon.claim_account_nouns if w.endswith(n)), None)
            if noun is None:
                continue
            if w == noun and j == i + 1:
                break  # "nach Angaben …": the source comes after it
            found.append(Claim(i, text[tokens[i + 1].start : tokens[j].end]))
            break
    return found


def claims(text: str, tokens: list[Token], lexicon: Lexicon) -> list[Claim]:
    """Every claimant a sentence names: "X said", "according to X", ", said X", "... - X" (headline)."""
    words = [t.low for t in tokens]
    found: list[Claim] = []
    lenient: set[int] = set()
    title_case = _title_case(tokens)
    intros = lexicon.claim_intros
    intro_firsts = intros.by_first
    back = lexicon.claim_back.match_at(words, 0)  # "Das sagte X": the verb after the opener, its source after it
    for i, tok in enumerate(tokens):
        n = intros.match_at(words, i) if tok.low in intro_firsts else 0
        if n:
            span = _by_author(tokens, _with_seat(tokens, _right_phrase(tokens, i + n, lexicon, True), lexicon), lexicon)
            if span:
                found.append(Claim(i, _text(text, tokens, span)))
            continue
        if tok.low in lexicon.claim_toll_verbs and _puts_toll(words, i, lexicon):
            # "Police put the number at 21", "Officials revised the death toll down to 31": the subject's count
            span = _left_phrase(tokens, i, lexicon)
            if span:
                found.append(Claim(i, _text(text, tokens, span)))
            continue
        if tok.low not in lexicon.claim_verbs or not (tok.text[:1].islower() or title_case):
            continue  # capitalised "Reports" is a noun, not the verb (but in a Title Case headline it is)
        if (
            i > 0
            and (words[i - 1] in lexicon.articles or words[i - 1] in lexicon.claim_noun_before)
            and (not lexicon.claim_verb_nouns or tok.low in lexicon.claim_verb_nouns)
            and not (words[i - 1] in lexicon.claim_noun_before and _closes_clause(tokens, i))
        ):
            continue  # "an estimated 500", "following reports of": an adjective or a noun ("media say" is a claim)
        if word_claims_lives(words, i, tokens, lexicon):
            continue  # "wildfires claim 93 lives", "claimed the lives of": no one speaks
        if words[i] in _CLAIM_LIVES and words[i + 1 : i + 2] in (["responsibility"], ["credit"]):
            continue  # "IS claimed responsibility for attacks that killed 3": a deed owned, no count asserted
        opened = bool(back) and i == back  # "Das teilte …", "O tym poinformowała …": the source follows the verb
        span = (
            None
            if opened
            else _appositive(tokens, i, lexicon) or _relative(tokens, i, lexicon) or _left_phrase(tokens, i, lexicon)
        )
        if i > 1 and words[i - 1] in lexicon.claim_coordinators:
            span = _subject(tokens, lexicon)  # "Yerevan denied opening fire and said …": the sentence's subject
            span = span if span and _plausible(_text(text, tokens, span), lexicon) else None
        whole = _closing_clause(tokens, i, lexicon)
        if whole and (span is None or (span[1] == i and whole[0] < span[0])):
            # ", officials on both sides said.", ", a local official and the charity Save the Children said.": the
            # whole phrase between the comma and the verb closing the sentence is its source
            span = whole
            lenient.add(len(found))
        elif span and span[1] == i and _closing(tokens, span[0], i):
            lenient.add(len(found))  # ", the municipal corporation said.": the clause's source, whatever its head
        if span is None and (i == 0 or tokens[i - 1].kind == "punct" or opened):
            # ", said Yevgeny Prigozhin", ", повідомила поліція": after a comma the subject follows the verb,
            # a time between them skipped ("- poinformowała w poniedziałek policja")
            first = i + 1 + lexicon.claim_time.match_at(words, i + 1)
            span = _right_phrase(tokens, first, lexicon, after_intro=opened)
            if opened:
                span = _with_seat(tokens, span, lexicon)
            if span is None and i > 0 and not opened:
                # a lower-case subject only when it closes the clause (", повідомила поліція."), never a
                # clause the verb governs (", claimed the building made him sick")
                span = _right_phrase(tokens, first, lexicon, after_intro=True)
                if span and span[1] + 1 < len(tokens) and tokens[span[1]].low in lexicon.place_prepositions:
                    # ", сообщил источник в силовых структурах.": the source's place or body after a preposition
                    rest = _right_phrase(tokens, span[1] + 1, lexicon, after_intro=True)
                    span = (span[0], rest[1]) if rest else span
                if span and span[1] < len(tokens) and tokens[span[1]].kind != "punct":
                    span = None
        if span:
            found.append(Claim(i, _text(text, tokens, span)))
    if lexicon.claim_by and not found:
        found.extend(_accounts(text, tokens, words, lexicon))
    firsts = lexicon.own_account.by_first
    own = (
        next((i for i, w in enumerate(words) if w in firsts and lexicon.own_account.match_at(words, i)), None)
        if firsts and not found
        else None
    )
    if own is not None:
        # "… haben ukrainische Fallschirmjäger nach eigenen Angaben …": the subject right before the phrase,
        # else the one opening the sentence ("Die Armee will nach eigenen Angaben …")
        near = _left_phrase(tokens, own, lexicon)
        near = near if near and any(t.text[:1].isupper() for t in tokens[near[0] : near[1]]) else None
        subject = near or _subject_before(tokens, own, lexicon)
        if subject:
            found.append(Claim(own, _text(text, tokens, subject)))
    dash = _headline_source(tokens)
    if dash:
        found.append(Claim(dash[0], _text(text, tokens, dash)))
    colon = None if found else _colon_source(tokens, lexicon)
    if colon:
        found.append(Claim(colon[0], _text(text, tokens, colon)))
    return [c for k, c in enumerate(found) if _plausible(c.claimant, lexicon, lenient=k in lenient)]


_AFTER_CLOSING_VERB = frozenset({"on", "in", "late", "early", "last", "this", "overnight", "at", "after"}) | _WEEKDAYS


def _closing(tokens: list[Token], start: int, verb: int) -> bool:
    """Whether a subject and its claim verb close the clause after a comma (", the army's media wing said on
    Saturday."): the position of a source, so a lower-case head need not be a listed word for one."""
    if start == 0 or tokens[start - 1].text not in {",", "\u2014", "\u2013"} or tokens[start].low not in _DETERMINERS:
        return False
    after = tokens[verb + 1] if verb + 1 < len(tokens) else None
    return after is None or after.text in {".", ",", ";", "!"} or after.low in _AFTER_CLOSING_VERB


# The longest phrase taken whole as the source closing a sentence (", Ukraine's coordination headquarters for the
# treatment of prisoners of war said.").
MAX_CLOSING_TOKENS = 12


def _closing_clause(tokens: list[Token], verb: int, lexicon: Lexicon) -> tuple[int, int] | None:
    """The phrase between the last comma and a claim verb that ends the sentence (", officials on both sides
    said.", ", two local officials and a community association said on Sunday."): a name or people who speak,
    never a clause ("…, which the ministry said")."""
    after = tokens[verb + 1] if verb + 1 < len(tokens) else None
    if not (after is None or after.text in {".", "!"} or after.low in _AFTER_CLOSING_VERB):
        return None
    if after is not None and after.text not in {".", "!"}:
        # a time after the verb must close the sentence too: ", officials said on Wednesday."
        rest = tokens[verb + 1 :]
        if any(t.text in {",", ";"} or (t.kind == "num" and t.low.isdigit() and len(t.low) != 4) for t in rest):
            return None
    k = verb - 1
    while k >= 0 and tokens[k].text != ",":
        t = tokens[k]
        if (
            (t.kind != "word" and t.text not in _JOINERS)
            or t.low in lexicon.claim_verbs
            or verb - k > MAX_CLOSING_TOKENS
        ):
            return None
        k -= 1
    first = k + 1
    if k < 0 or verb - first < 2:
        return None
    head = tokens[first]
    if head.low in _RELATIVE_OPENERS or (head.low in lexicon.claim_stop and head.low not in _DETERMINERS):
        return None
    if not (
        head.low in _DETERMINERS
        or head.low in lexicon.determiners
        or head.text[:1].isupper()
        or _number_word(head.low, lexicon)
        or _source_noun(head.low, lexicon)
    ):
        return None
    end = verb
    words = [t.low for t in tokens]
    while end > first and lexicon.filler.match_at(words, end - 1) == 1:
        end -= 1  # ", news agency TASS is reporting": the auxiliary is no part of the source
    phrase = tokens[first:end]
    if end - first < 2:
        return None
    if not any(t.text[:1].isupper() for t in phrase[1:]) and not any(_source_noun(t.low, lexicon) for t in phrase):
        return None
    return (first, end)


def _subject_before(tokens: list[Token], at: int, lexicon: Lexicon) -> tuple[int, int] | None:
    """The noun phrase opening the sentence, before its first verb and before `at` ("Die russische Armee will
    nach eigenen Angaben …"): the subject a phrase such as "by its own account" points to."""
    end = 0
    while end < min(at, MAX_CLAIMANT_TOKENS) and _is_name_word(tokens[end], lexicon):
        end += 1
    return (0, end) if end and any(t.text[:1].isupper() for t in tokens[:end]) else None


def _closes_clause(tokens: list[Token], i: int) -> bool:
    """Whether tokens[i] ends its clause (", local media report."): then it is the verb, not a noun."""
    return i + 1 >= len(tokens) or tokens[i + 1].text in {".", ",", ";", "!", "?"}


_CLAIM_LIVES = frozenset({"claim", "claims", "claimed", "claiming"})


def word_claims_lives(words: list[str], i: int, tokens: list[Token], lexicon: Lexicon) -> bool:
    """Whether words[i] is "claim" in the sense of taking lives ("claimed 12 lives", "claimed the lives of")."""
    if words[i] not in _CLAIM_LIVES or i + 1 >= len(tokens):
        return False
    return (
        tokens[i + 1].kind == "num" or _number_word(words[i + 1], lexicon) or words[i + 1 : i + 3] == ["the", "lives"]
    )


def closes(tokens: list[Token], claim: Claim) -> bool:
    """Whether a claim closes its sentence (", the agency said on Tuesday."): only a time may follow the verb."""
    rest = tokens[claim.at + 1 :]
    for t in rest:
        if t.text in {".", "!", "\u201d", '"'}:
            continue
        if t.kind == "punct" or (t.kind == "word" and t.low not in _AFTER_CLOSING_VERB and t.text[:1].islower()):
            return False
    return claim.at > 0 and any(t.text == "," for t in tokens[: claim.at])


def back(tokens: list[Token], found: list[Claim], lexicon: Lexicon) -> str | None:
    """The source a sentence gives for the sentence before it: it opens on words pointing back and names a
    source ("Das teilte das Ministerium mit.", "Об этом сообщил губернатор.", "That is according to X.")."""
    opener = lexicon.claim_back.match_at([t.low for t in tokens], 0)
    if not found or not opener or found[0].at > opener + 1:
        return None  # "Das russische Ministerium meldete …": an article, not a word pointing back
    return found[0].claimant


def anaphoric(name: str, lexicon: Lexicon) -> bool:
    """Whether a source names one named before ("the agency", "según sus datos"), not a body of its own."""
    return " ".join(name.lower().split()) in lexicon.claim_anaphors


def opening_subject(text: str, tokens: list[Token], lexicon: Lexicon) -> str | None:
    """The named body opening a sentence ("El Ministerio de Sanidad de Gaza, controlado por Hamás, actualizó
    …", "Kabul's defence ministry rejected the claim."); see _subject."""
    span = _subject(tokens, lexicon)
    name = _text(text, tokens, span) if span else None
    return name if name and _plausible(name, lexicon) else None


def _subject(tokens: list[Token], lexicon: Lexicon) -> tuple[int, int] | None:
    """The source phrase opening a sentence, followed by its verb or an apposition: a name ("Yerevan", "El
    Ministerio de Sanidad de Gaza") or a phrase ending in a word for a source ("Kabul's defence ministry", "A police
    spokesman"): the longest such phrase before the first comma or number. Not in a Title Case headline."""
    words = [t.low for t in tokens]
    if _title_case(tokens) or words[:1] == [] or words[0] in lexicon.vague or lexicon.vague_before.match_at(words, 0):
        return None  # "Several buses caught fire": a vague count, no source
    found = None
    for k in range(1, min(len(tokens), MAX_SUBJECT_TOKENS + 1)):
        last, after = tokens[k - 1], tokens[k]
        if last.kind != "word" or _number_word(last.low, lexicon):
            break  # a count: the subject ends before it
        if not (after.text == "," or (after.kind == "word" and after.text[:1].islower())):
            continue
        if last.low in lexicon.determiners or last.low in _DETERMINERS or last.text[-2:] in ("'s", "\u2019s"):
            continue  # "A police spokesman", "Kabul's defence ministry": the phrase goes on
        inside = after.text != "," and k + 1 < len(tokens) and tokens[k + 1].text[:1].isupper()
        name = all(
            t.text[:1].isupper()
            or t.low in lexicon.claim_stop
            or t.low in lexicon.determiners
            or t.text in _JOINERS
            or tokens[j + 1].text[:1].isupper()  # "de" inside "El Ministerio de Sanidad"
            for j, t in enumerate(tokens[:k])
        )
        if not inside and name and last.text[:1].isupper() and not _source_noun(after.low, lexicon):
            return (0, k)  # a name, then its verb: "Yerevan denied …" (not "Greek authorities")
        if not inside and _source_noun(last.low, lexicon):
            found = (0, k)  # "A police spokesman": a longer one may follow ("… spokesman for the army")
        if after.text == ",":
            break
    return found


def pronoun(tokens: list[Token], lexicon: Lexicon) -> bool:
    """Whether the sentence attributes its content to a pronoun ("it said", "they added"): a source named
    before is meant."""
    words = [t.low for t in tokens]
    for i, word in enumerate(words):
        if word in lexicon.claim_verbs and i > 0 and words[i - 1] in lexicon.claim_pronouns:
            return True
        if word in lexicon.claim_pronouns and i > 0 and words[i - 1] in lexicon.claim_verbs:
            return True
    return False


_ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)\b")


def _plausible(name: str, lexicon: Lexicon, lenient: bool = False) -> bool:
    """A source is named by words, not by a pronoun or a number ("four said", "it said"; an ordinal names a
    unit: "the 57th brigade"), and its head is no word for the people counted ("fresh cases reported").
    `lenient`: the phrase closes a clause as its source (", the municipal corporation said"), so a lower-case
    head need not be a listed word for a source."""
    low = name.lower()
    if low in lexicon.claim_pronouns or any(ch.isdigit() for ch in _ORDINAL_RE.sub("", low)):
        return False
    words = low.split()
    if words and words[0] in _RELATIVE_OPENERS:
        return False  # "where they said": a clause, no source
    if (
        not words
        # a head for the people counted, not a name ("… and the charity Save the Children said" is one)
        or (words[-1] in lexicon.people_victims and not (lenient and name.split()[-1][:1].isupper()))
        or (
            _number_word(words[0], lexicon)
            and not (len(words) > 1 and words[0] in lexicon.determiners)  # "un député", "ein Sprecher"
            and not _counted_sources(words[1:], lexicon)
        )
    ):
        return False
    if (
        lexicon.source_nouns
        and not lenient
        and name.split()[-1][:1].islower()
        and not any(_source_noun(" ".join(words[k:]), lexicon) for k in range(len(words)))
        and not any(w in lexicon.claim_source_idioms for w in words)  # "people familiar with the matter"
        and not _owned_by_name(name)
    ):
        return False  # a lower-case head must be a word for a source ("officials", "state media"), not "air"
    return not all(
        w in lexicon.word_values
        or w in lexicon.claim_stop
        or w in lexicon.count_words
        or w in lexicon.people_victims
        or w in lexicon.determiners  # "The confirmed death toll": an article, no source
        or w in _DETERMINERS
        for w in words
    )


def _counted_sources(words: list[str], lexicon: Lexicon) -> bool:
    """Whether the words after a number name sources, not the people counted: "two senior security officials",
    "three witnesses and a health worker", "two people familiar with the matter"."""
    return any(_source_noun(w, lexicon) for w in words) or any(w in lexicon.claim_source_idioms for w in words)


def _source_noun(phrase: str, lexicon: Lexicon) -> bool:
    """Whether a phrase is a word for a source, in the singular or the plural ("rights groups", "governments")."""
    nouns = lexicon.source_nouns
    return phrase in nouns or (phrase.endswith("s") and (phrase[:-1] in nouns or phrase[:-2] in nouns))


def _owned_by_name(name: str) -> bool:
    """Whether a phrase is a named owner's body: "Jordan's civil defence", "the IRGC's news portal"."""
    return any(w[:1].isupper() and w.lower().endswith(("'s", "\u2019s")) and len(w) > 3 for w in name.split()[:-1])


def _number_word(word: str, lexicon: Lexicon) -> bool:
    from .numbers import is_number_word  # numbers imports lexicon; claimant stays import-light

    return word in lexicon.word_values or (lexicon.number_words and is_number_word(word, lexicon.language))


def _title_case(tokens: list[Token]) -> bool:
    """Whether a sentence is a Title Case headline: most of its longer words capitalised."""
    longer = [t for t in tokens if t.kind == "word" and len(t.text) > 3]
    return len(longer) >= 3 and sum(t.text[:1].isupper() for t in longer) >= 0.75 * len(longer)


def _appositive(tokens: list[Token], verb: int, lexicon: Lexicon) -> tuple[int, int] | None:
    """ "Phanindra Mani Pokharel, a spokesperson for the ministry, said": the name before the apposition."""
    if verb < 4 or tokens[verb - 1].text != ",":
        return None
    for k in range(verb - 2, max(0, verb - 2 - 2 * MAX_CLAIMANT_TOKENS), -1):
        if tokens[k].text == "," and tokens[k + 1].low in _DETERMINERS:
            span = _left_phrase(tokens, k, lexicon)
            if span and all(t.text[:1].isupper() for t in tokens[span[0] : span[1]] if t.kind == "word"):
                return span
            return None
    return None


_DOCUMENTS = frozenset(
    {
        "assessment",
        "report",
        "investigation",
        "analysis",
        "study",
        "review",
        "estimate",
        "estimates",
        "survey",
        "count",
        "tally",
        "statement",
        "figures",
        "data",
        "findings",
        "records",
        "audit",
        "inquiry",
        "probe",
    }
)


def _by_author(tokens: list[Token], span: tuple[int, int] | None, lexicon: Lexicon) -> tuple[int, int] | None:
    """ "according to a new investigation by Amnesty International": the author, not the document."""
    if span is None:
        return None
    end = span[1]
    if end < len(tokens) and tokens[end].low in _DOCUMENTS:
        end += 1  # "a new report by ...": "report" reads as a claim verb and ends the phrase before it
    if end + 1 < len(tokens) and tokens[end].low == "by" and tokens[end - 1].low in _DOCUMENTS:
        return _right_phrase(tokens, end + 1, lexicon, after_intro=True) or span
    return span


def _relative(tokens: list[Token], verb: int, lexicon: Lexicon) -> tuple[int, int] | None:
    """ "a hospital official who asked not to be named said": the person before the relative clause."""
    for k in range(verb - 2, max(0, verb - 2 - MAX_CLAIMANT_TOKENS), -1):
        tok = tokens[k]
        if tok.kind != "word":
            return None  # a comma, a number: no clause of this kind
        if tok.low == "who":
            span = _left_phrase(tokens, k, lexicon)
            return span if span and span[1] == k else None
    return None


def _colon_source(tokens: list[Token], lexicon: Lexicon) -> tuple[int, int] | None:
    """A headline attributed with a colon: "Reports: militants kill 26", "... died of exposure: Coroner"."""

    def source(first: int, last: int) -> bool:
        # a headline's topic stands before a colon as often as its source ("Strep A: ...", "Live Updates:"):
        # only a word for a source or an acronym ("Reports:", "NTSB:", ": Coroner") is taken for one
        words = tokens[first:last]
        return (
            bool(words)
            and all(t.kind == "word" for t in words)
            and (
                words[-1].low in lexicon.colon_sources
                or (len(words) == 1 and words[0].text.isupper() and len(words[0].text) >= 2)
            )
        )

    if len(tokens) > 2:
        for k in range(1, min(4, len(tokens) - 1)):
            if tokens[k].text == ":":
                if source(0, k):
                    return (0, k)
                break
    last = len(tokens) - (1 if tokens and tokens[-1].kind == "punct" and tokens[-1].text in ".!?" else 0)
    for k in range(last - 1, max(0, last - 5), -1):
        if tokens[k].text == ":":
            return (k + 1, last) if source(k + 1, last) else None
    return None


def nearest(
    found: list[Claim], at: int, tokens: list[Token] | None = None, lexicon: Lexicon | None = None
) -> str | None:
    """The claimant whose claim is closest to token `at`, or None when the sentence names none.

    A claim made before the figure does not reach into a background clause that opens between them ("the
    minister said …, after 12 were killed", "X says … as the death toll rises to 78")."""
    if tokens is not None and lexicon is not None:
        words = [t.low for t in tokens]
        found = [c for c in found if c.at > at or not any(w in lexicon.claim_blockers for w in words[c.at + 1 : at])]
        if _in_relative(words, at, lexicon):
            # "hostel fire that killed 6 was arson, police say": the claim is about the fire, the toll a given
            found = [c for c in found if c.at < at]
    if not found:
        return None
    return min(found, key=lambda c: abs(c.at - at)).claimant


def _in_relative(words: list[str], at: int, lexicon: Lexicon) -> bool:
    """Whether the count at `at` sits in a relative clause on a noun ("the fire that killed 6")."""
    for k in range(at - 1, max(-1, at - 4), -1):
        if words[k] in {"that", "which"}:
            return k > 0 and words[k - 1] not in lexicon.claim_verbs and words[k - 1] not in {",", "and"}
    return False


def _text(text: str, tokens: list[Token], span: tuple[int, int]) -> str:
    return text[tokens[span[0]].start : tokens[span[1] - 1].end]


def _is_name_word(tok: Token, lexicon: Lexicon) -> bool:
    return tok.kind == "word" and tok.low not in lexicon.claim_stop and tok.low not in lexicon.claim_verbs


def _left_phrase(tokens: list[Token], verb: int, lexicon: Lexicon) -> tuple[int, int] | None:
    """The noun phrase ending right before the claim verb (adverbs and an aside between are skipped)."""
    end = _aside_start(tokens, verb, lexicon)
    while end > 0:
        if tokens[end - 1].low in lexicon.claim_adverbs:
            end -= 1
        elif end > 1 and tokens[end - 2].low in {"on", "late", "early"} and tokens[end - 1].low in _WEEKDAYS:
            end -= 2  # "Philippine authorities on Monday reported"
        else:
            break
    start = end
    while start > 0 and end - start < MAX_CLAIMANT_TOKENS:
        prev = tokens[start - 1]
        if _is_name_word(prev, lexicon) or (prev.text in _JOINERS and start < end):
            start -= 1
            if prev.low in _DETERMINERS:
                break
            continue
        if (
            prev.low in {"for", "of"}
            and start < end
            and tokens[start].text[:1].isupper()
            and start >= 2
            and tokens[start - 2].text[:1].isupper()
            and tokens[start - 2].kind == "word"
        ):
            start -= 1  # "the Syrian Observatory for Human Rights": a preposition inside a name
            continue
        break
    while start < end and tokens[start].text in _JOINERS:
        start += 1
    if start == end:
        return None
    k = start - 1 if start > 0 and tokens[start - 1].low in _DETERMINERS else start
    if k >= 2 and tokens[k - 1].low in _PLACE_PREPOSITIONS and _is_name_word(tokens[k - 2], lexicon):
        head = _left_phrase(tokens, k - 1, lexicon)  # "Authorities in the state of X say": the authorities
        if head:
            last = tokens[head[1] - 1]
            if end - start == 1 and tokens[k - 1].low in lexicon.claim_seat_prepositions:
                return (head[0], end)  # "das Verteidigungsministerium in Berlin": a body named by its seat
            if last.text[:1].isupper() or _source_noun(last.low, lexicon) or end - head[0] > MAX_CLAIMANT_TOKENS + 2:
                return head
            return (head[0], end)  # "the head of the regional military administration": the whole title
    has_name = any(t.text[:1].isupper() for t in tokens[start:end])
    words = end - start - (tokens[start].low in _DETERMINERS)  # "the country's health ministry": three words
    # a longer lower-case phrase is a source when its head is a word for one ("the state emergency management agency")
    return (
        (start, end)
        if has_name or words <= 3 or _source_noun(tokens[end - 1].low, lexicon) or _closing(tokens, start, verb)
        else None
    )


# How far after a verb the toll it puts may be named: "raised the number of dead", "put the overall death toll".
TOLL_AFTER_VERB = 4


def _puts_toll(words: list[str], verb: int, lexicon: Lexicon) -> bool:
    return any(w in lexicon.claim_toll_nouns for w in words[verb + 1 : verb + 1 + TOLL_AFTER_VERB])


# The longest source phrase taken as the subject opening a sentence.
MAX_SUBJECT_TOKENS = 6
# The longest aside skipped between a source and its verb, in tokens.
MAX_ASIDE_TOKENS = 10


def _aside_start(tokens: list[Token], verb: int, lexicon: Lexicon) -> int:
    """Where an aside right before the verb opens (", in a statement on its website,", ", reached by phone,",
    ", who visited the site,"), else the verb: the source stands before it. An aside holds no number."""
    if verb < 4 or tokens[verb - 1].text != "," or not lexicon.claim_aside_openers:
        return verb
    j = verb - 2
    while j > 0 and tokens[j].text != ",":
        if (tokens[j].kind != "word" and tokens[j].text not in _JOINERS) or verb - 1 - j > MAX_ASIDE_TOKENS:
            return verb
        j -= 1
    if j == 0 or verb - 1 - j < 2 or tokens[j + 1].low not in lexicon.claim_aside_openers:
        return verb
    return j


def _right_phrase(
    tokens: list[Token], first: int, lexicon: Lexicon, after_intro: bool = False
) -> tuple[int, int] | None:
    """The noun phrase starting at `first` (", said Yevgeny Prigozhin, who ...", "according to the NIS")."""
    end = first
    while end < len(tokens) and end - first < MAX_CLAIMANT_TOKENS:
        tok = tokens[end]
        if (
            (
                _is_name_word(tok, lexicon)
                # "according to federal investigators": after an intro a lower-case phrase is the source too
                and (tok.text[:1].isupper() or tok.low in _DETERMINERS or tok.low == "of" or end > first or after_intro)
            )
            or (tok.text in _JOINERS and end > first)
            # ", sagte ein Sprecher der Armee": an article opens the source after an intro, even one kept out of
            # sources elsewhere
            or (end == first and after_intro and tok.low in lexicon.determiners and tok.kind == "word")
        ):
            end += 1
            continue
        break
    while end > first and tokens[end - 1].text in _JOINERS:
        end -= 1
    return (first, end) if end > first else None


def _with_seat(tokens: list[Token], span: tuple[int, int] | None, lexicon: Lexicon) -> tuple[int, int] | None:
    """A source phrase with the one-word place after it: "das Verteidigungsministerium in Berlin"."""
    if span is None or span[1] + 1 >= len(tokens) or tokens[span[1]].low not in lexicon.claim_seat_prepositions:
        return span
    seat = tokens[span[1] + 1]
    after = tokens[span[1] + 2] if span[1] + 2 < len(tokens) else None
    if (
        seat.kind != "word"
        or not seat.text[:1].isupper()
        or any(j in seat.text for j in _JOINERS)  # "in Tigray's interim administration": the seat's own body
        or seat.text[0].isascii() != tokens[span[1] - 1].text[0].isascii()  # "источник в Telegram": a channel
        or (after is not None and (after.text[:1].isupper() or after.text[:1] in _JOINERS))
    ):
        return span
    return (span[0], span[1] + 2)


def _headline_source(tokens: list[Token]) -> tuple[int, int] | None:
    """Headline attribution after a spaced dash at the end: "... in a day - Russian Defense Ministry"."""
    for k in range(len(tokens) - 1, max(-1, len(tokens) - MAX_CLAIMANT_TOKENS - 2), -1):
        if tokens[k].text in _DASHES and k > 0 and tokens[k - 1].end < tokens[k].start:
            rest = tokens[k + 1 :]
            if rest and all(t.text[:1].isupper() or t.text in _JOINERS or t.low == "of" for t in rest):
                return (k + 1, len(tokens))
            return None
    return None


def headline_end(text: str, mentions: list[Figure]) -> int | None:
    """Where the text's headline ends (its first line break), when it has a body and a figure in it."""
    end = text.find("\n")
    if end < 0 or not text[end:].strip() or not any(f.start < end for f in mentions):
        return None
    return end


def from_body(mentions: list[Figure], head_end: int, lead: str | None, ignore: str = "") -> list[Figure]:
    """A headline's figures take their source from the body: a headline abbreviates it ("Seoul says",
    "monitor says") or drops it, and the body names it in full. A figure the body states again takes that
    mention's source; any other the source `lead` (the lead's first claim), else keeps its own."""
    restated: dict[tuple[str, int], str] = {}
    for f in mentions:
        if f.start > head_end and f.claimant is not None and f.claimant != ignore:
            for value in (f.low, f.high):
                if value is not None:
                    restated.setdefault((f.category, value), f.claimant)
    out = []
    for f in mentions:
        if f.start < head_end:
            named = [
                restated[(f.category, v)] for v in (f.low, f.high) if v is not None and (f.category, v) in restated
            ]
            source = named[0] if named else lead
            if source is not None:
                f = replace(f, claimant=source)
        out.append(f)
    return out
