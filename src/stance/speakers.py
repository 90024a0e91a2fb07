"""One name per actor: canonical speakers within an article and a key across articles.

`attribution` finds speakers as written ("Chief Executive Annika Brandt", later "Brandt";
"Russia's defence ministry", later "the ministry"). `canonical_speakers` gives every mention of
one actor in one article the same name; `speaker_key` folds case, titles, articles,
possessives and demonyms ("Russian" -> "russia") into a key that groups actors across articles.
Titles come from nameparser's list, demonyms from countryinfo's country data.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache

_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# attribution leaves these after a subject: "Russia's defence ministry on Thursday", "Islamabad, for its part"
_TRAILING = re.compile(
    rf"(?:,?\s+(?:(?:late|early)\s+)?on\s+(?:{_WEEKDAYS})|,?\s+(?:this|last|on|late|earlier)\s+"
    rf"(?:week|month|year|morning|afternoon|evening|night|weekend|{_WEEKDAYS})|,\s+for\s+(?:its|his|her|their)\s+part"
    rf"|,?\s+(?:also|too|again|however|meanwhile|separately))\s*$", re.IGNORECASE)
_ARTICLES = {"the", "a", "an"}
# small words dropped from keys: "a spokesman for the ministry" ~ "ministry spokesman"
_KEY_STOPWORDS = _ARTICLES | {"of", "for", "in", "at", "on", "from", "its", "his", "her", "their"}
# role words nameparser does not list as titles
_MORE_TITLES = {"spokesman", "spokeswoman", "spokesperson", "chairwoman", "chairman", "chairperson",
                "brig", "cmdr", "sen", "daw", "u", "cabinet", "commissioner", "councillor", "deputy", "envoy",
                "head", "chief", "official", "adviser", "advisor", "manager", "founder", "coordinator",
                "prosecutor", "lawmaker", "analyst", "researcher", "activist", "resident", "commander"}
# capitalised words that make a run of capitals an organisation, not a person
_ORG_WORDS = {"ministry", "army", "forces", "force", "agency", "office", "council", "police",
              "government", "committee", "party", "department", "movement", "union", "court",
              "commission", "bank", "company", "group", "guard", "guards", "navy", "command",
              "authority", "administration", "association", "federation", "organisation",
              "organization", "front", "fund", "institute", "service", "services", "embassy",
              "mission", "corporation", "university", "parliament", "assembly", "cartel",
              "brigade", "battalion", "corps", "alliance", "coalition", "network", "center",
              "centre", "house", "senate", "congress"}
_PARTICLES = {"al", "el", "bin", "ibn", "de", "da", "di", "du", "del", "der", "van", "von", "la", "le", "lo"}


@lru_cache(maxsize=1)
def _titles() -> frozenset[str]:
    from nameparser.config import CONSTANTS

    return frozenset(CONSTANTS.titles) | _MORE_TITLES


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """Lower-case demonym -> country ("russian" -> "russia") and capital -> country ("moscow" ->
    "russia"), both lower-case: news names a government by its capital."""
    from countryinfo import all_countries

    demonyms, capitals = {}, {}
    # most populous first: "Chinese" is China's before Macau's
    for country in sorted(all_countries(), key=lambda c: -(c.info().get("population") or 0)):
        try:
            name, demonym, capital = country.name().lower(), country.demonym(), country.capital()
        except (KeyError, AttributeError):
            continue
        adjectives = [_plain(demonym).lower()] if demonym else []
        if name.endswith("s"):  # "Philippine government", "Netherland" is harmless
            adjectives.append(name[:-1])
        for adjective in adjectives:
            if adjective != name:
                demonyms.setdefault(adjective, name)
        for code in country.alt_spellings() or []:  # "US", "UK": the short names wire copy uses
            if isinstance(code, str) and code.isupper() and len(code) <= 3:
                demonyms.setdefault(code.lower(), name)
        for city in capital if isinstance(capital, list) else [capital]:  # a few have several
            if isinstance(city, str):
                capitals.setdefault(_plain(city).lower(), name)
    return demonyms, capitals


@lru_cache(maxsize=1 << 16)  # names repeat across the articles of a batch
def _plain(text: str) -> str:
    """Accents stripped and curly apostrophes straightened: "Cedeño" -> "Cedeno"."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)
def clean(name: str | None) -> str | None:
    """A found speaker without what trails it ("on Thursday", ", for its part") or
    surrounding punctuation; None when nothing is left."""
    if not name:
        return None
    name = " ".join(name.split()).strip(" ,.;:\"“”'")
    while True:
        shorter = _TRAILING.sub("", name).strip(" ,")
        if shorter == name:
            break
        name = shorter
    return name or None


def _is_title(word: str) -> bool:
    return any(part.lower().strip(".") in _titles() for part in word.split("-"))


@lru_cache(maxsize=1 << 16)
def _is_name_word(word: str) -> bool:
    bare = word.strip(".,")
    return (bare[:1].isupper() or bare.lower().split("-")[0] in _PARTICLES) and not _is_title(bare) \
        and bare.lower() not in _ORG_WORDS and "'" not in _plain(bare)


def _person_in(part: str) -> str | None:
    """The personal name at the end of one phrase ("Finance Minister Rui Valadares" ->
    "Rui Valadares", "Gen. Cedeño" -> "Cedeño"), or None."""
    words = part.split()
    start = len(words)
    while start > 0 and _is_name_word(words[start - 1]):
        start -= 1
    run = words[start:]
    if not run or not run[0][:1].isupper():
        return None
    if start == 0:  # no title before it: only "Firstname Lastname" forms count
        return " ".join(run) if 2 <= len(run) <= 4 else None
    return " ".join(run) if _is_title(words[start - 1]) else None


@lru_cache(maxsize=1 << 16)
def person(name: str | None) -> str | None:
    """The person a speaker names, titles and apposed roles dropped: "Col. Rajiv Mehra, an
    Indian army spokesman" and "the agency's director, Carl Denning" give the bare name."""
    name = clean(name)
    if not name:
        return None
    parts = name.split(", ")
    candidates = [parts[0]] if len(parts) == 1 else parts if len(parts) == 2 else []
    for part in candidates:  # "Rachel Odu of the charity National Energy Action": the name before "of"
        found = _person_in(part.split(" of ")[0]) or _person_in(part)
        if found:
            return found
    return None


@lru_cache(maxsize=1 << 16)
def speaker_key(name: str | None) -> str | None:
    """A key for one actor across articles: a person's bare name, or the words of a
    description, lower-case, accents, articles, possessives and small words dropped and
    demonyms folded: "the Russian defence ministry" and "Russia's defence ministry" give
    "russia defence ministry"."""
    name = clean(name)
    if not name:
        return None
    who = person(name)
    text = _plain(who or name).lower()
    text = re.sub(r"\b(\w)\.(?=\w\b)", r"\1", text)  # "u.s." -> "us."
    text = re.sub(r"'s\b|'|-", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    demonyms, capitals = _countries()
    if text.strip() in capitals:
        return capitals[text.strip()]
    words = [w for w in text.split() if w not in _KEY_STOPWORDS]
    out, i = [], 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if who is None and len(words) > i + 1 and pair in demonyms:
            out.append(demonyms[pair])
            i += 2
            continue
        out.append(demonyms.get(words[i], words[i]) if who is None else words[i])
        i += 1
    return " ".join(out) or None


_ABBREVIATIONS = {"gen": "general", "col": "colonel", "lt": "lieutenant", "maj": "major", "brig": "brigadier",
                  "cmdr": "commander", "adm": "admiral", "sgt": "sergeant", "capt": "captain", "gov": "governor"}


def _words(name: str) -> set[str]:
    """Lower-case words of a name, abbreviated ranks spelled out ("Gen." -> "general")."""
    words = re.sub(r"'s\b|[^\w\s-]", " ", _plain(name).lower()).split()
    return {_ABBREVIATIONS.get(w, w) for w in words} | set((speaker_key(name) or "").split())


def is_generic(name: str | None) -> bool:
    """Whether a speaker is a bare description that names no one: "the company", "a ministry
    spokesman", "The Prime Minister" (one per article; not the same actor across articles)."""
    words = _plain(clean(name) or "").split()
    if len(words) < 2 or words[0].lower() not in _ARTICLES:
        return False
    return all(w[:1].islower() or _is_title(w) for w in words[1:])


def _generic(name: str) -> set[str] | None:
    """The words of a generic mention ("the ministry", "the Saudi adviser"), or None."""
    words = _plain(name).split()
    if len(words) < 2 or len(words) > 4 or words[0].lower() != "the" or not words[-1].islower():
        return None
    return {w.lower() for w in words[1:]}


def _head(name: str) -> str:
    """The head noun of a description: "a spokesman for the ministry" -> "spokesman"."""
    return re.split(r",| (?:for|of|in|at|with|from|by) ", _plain(name))[0].split()[-1].lower()


def _refers_to(generic: str, earlier: str | None, earlier_person: str | None) -> bool:
    """Whether "the ministry" can mean an earlier speaker: all its words are in that name, and
    its head noun heads it (a person's title counts: "the general" -> "Brig. Gen. Qubati")."""
    if not earlier or _generic(earlier) or not _generic(generic) <= _words(earlier):
        return False
    return earlier_person is not None or _head(generic) == _head(earlier)


def _surname(name: str) -> str:
    """"Jabbar al-Fartousi" -> "fartousi": how a later mention shortens a name."""
    return _plain(name.split()[-1]).lower().split("-")[-1]


def canonical_speakers(names: list[str | None]) -> list[str | None]:
    """One name per actor for the speakers of one article, in order.

    Surnames and titled forms become the fullest personal name in the article ("Brandt",
    "Chief Executive Annika Brandt" -> "Annika Brandt"); a generic mention takes the latest
    name before it holding all its words ("the ministry" after "Russia's defence ministry",
    "the general" after "Brig. Gen. Nasser al-Qubati"); forms with one key share one
    spelling, the first or the one with fewer capitals ("police" over "Police").
    """
    cleaned = [clean(n) for n in names]
    people = [person(n) for n in cleaned]
    full: dict[str, str] = {}  # surname -> the longest personal name ending with it
    for who in people:
        if who and len(who.split()) >= 2 and len(who) > len(full.get(_surname(who), "")):
            full[_surname(who)] = who
    resolved: list[str | None] = []
    for i, (name, who) in enumerate(zip(cleaned, people)):
        if name is None:
            resolved.append(None)
        elif who or (re.fullmatch(r"[A-Z][\w'-]+", _plain(name)) and _surname(name) in full):
            resolved.append(full.get(_surname(who or name), who or name))
        elif _generic(name):
            earlier = next((resolved[j] for j in reversed(range(i)) if _refers_to(name, cleaned[j], people[j])),
                           None)
            resolved.append(earlier or name)
        else:
            resolved.append(name)
    spelling: dict[str, str] = {}
    for name in resolved:  # first form, or one with fewer capitals ("police" over "Police")
        key = speaker_key(name)
        if key and (key not in spelling or _capitals(name) < _capitals(spelling[key])):
            spelling[key] = name
    return [spelling.get(speaker_key(n), n) if n else None for n in resolved]


def _capitals(name: str) -> int:
    return sum(c.isupper() for c in name)


def _acronyms(name: str) -> str:
    """Runs of capitalised words as their initials: "the Rapid Support Forces" -> "the RSF"."""
    return re.sub(r"\b(?!(?:The|A|An)\b)[A-Z][\w-]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w-]*)+",
                  lambda m: "".join(w[0] for w in m.group(0).split() if w[0].isupper()), _plain(name))


def _aliases(name: str | None) -> list[set[str]]:
    """Word sets a speaker can be recognised by: its key, its acronym form, and for an
    apposed name each side."""
    cleaned = clean(name)
    if not cleaned:
        return []
    forms = [cleaned] + (cleaned.split(", ") if cleaned.count(", ") == 1 else [])
    forms += [_acronyms(f) for f in forms if not person(f)]  # "Peter Kollár" is not "PK"
    return [set(k.split()) for k in map(speaker_key, forms) if k]


def same_speaker(a: str | None, b: str | None) -> bool:
    """Whether two speaker names name the same actor: the words of one key are all in the
    other's ("ministry spokesman" ~ "a spokesman for the defence ministry")."""
    return any(x <= y or y <= x for x in _aliases(a) for y in _aliases(b))


def _raw_match(gold: str, found: str | None) -> bool:
    """The README's original measure: one name contains the other, case, punctuation and a
    leading article aside."""
    def norm(name: str) -> str:
        return re.sub(r"^(the|a|an) ", "", re.sub(r"[^\w ]", "", name.lower())).strip()

    gold, found = norm(gold), norm(found or "")
    return bool(found) and (gold in found or found in gold)


def agreement(rows: list[dict]) -> dict[str, dict[str, int]]:
    """How often the speaker finder names the labelled speaker, per group of labelled rows
    ("wire": rounds 1-2, "genre": round 3's genres; "+statements": stance other than none).

    Rows are label rows in article order. Counts per group: ``rows`` with a labelled
    speaker, ``raw`` matches by containment, ``canonical`` matches once both sides are
    canonical (`same_speaker` on the raw or the canonical names), ``nobody`` found.
    """
    from .attribution import attribute

    docs: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        docs[row["doc_id"]].append(row)
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"rows": 0, "raw": 0, "canonical": 0, "nobody": 0})
    for doc in docs.values():
        found = attribute([r["text"] for r in doc])
        gold_canon = canonical_speakers([r["speaker"] for r in doc])
        found_canon = canonical_speakers(found)
        for row, f, gc, fc in zip(doc, found, gold_canon, found_canon):
            if not row["speaker"]:
                continue
            group = "genre" if row.get("genre") else "wire"
            for name in [group] + ([group + "+statements"] if row["stance"] != "none" else []):
                c = counts[name]
                c["rows"] += 1
                c["raw"] += _raw_match(row["speaker"], f)
                c["canonical"] += same_speaker(row["speaker"], f) or same_speaker(gc, fc)
                c["nobody"] += f is None
    return dict(counts)
