"""Canonical speakers on real labelled articles, and agreement with the labelled speakers."""

import random
from functools import lru_cache
from pathlib import Path

import pytest

from stance.attribution import attribute
from stance.data import load_genre_shift_rows, load_labels
from stance.speakers import agreement, canonical_speakers, person, same_speaker, speaker_key

LABELS = Path(__file__).resolve().parents[2] / "labels"


@lru_cache(maxsize=1)
def _labels() -> tuple[dict, ...]:
    return tuple(load_labels(LABELS))


def _article(doc_id: str) -> list[dict]:
    return [r for r in _labels() if r["doc_id"] == doc_id]


def _found(doc_id: str) -> dict[str, str | None]:
    """Raw found speaker -> its canonical name, over one labelled article."""
    found = attribute([r["text"] for r in _article(doc_id)])
    return dict(zip(found, canonical_speakers(found)))


def test_titles_and_surnames_become_the_full_name():
    # pbz-011: "Chief Executive Annika Brandt said ...", then "Brandt rejected ...", "Brandt urged ..."
    names = _found("pbz-011")
    assert names["Chief Executive Annika Brandt"] == "Annika Brandt"
    assert names["Brandt"] == "Annika Brandt"
    # pel-001: "Interior Cabinet Secretary Daniel Mwangangi told ..." and later "Mwangangi"
    names = _found("pel-001")
    assert names["Interior Cabinet Secretary Daniel Mwangangi"] == names["Mwangangi"] == "Daniel Mwangangi"


def test_apposed_names_and_ranks():
    # asi-001: "An Indian army spokesman, Col. Rajiv Mehra, said ..." then "Col. Mehra said."
    names = _found("asi-001")
    assert names["An Indian army spokesman, Col. Rajiv Mehra"] == names["Col. Mehra"] == "Rajiv Mehra"
    assert names["Islamabad, for its part"] == "Islamabad"
    assert person("Col. Rajiv Mehra, an Indian army spokesman") == "Rajiv Mehra"
    assert person("a woman trying to get back to Lisbon") is None


def test_the_ministry_takes_the_full_name_said_before():
    # ukr-001: "Russia’s defence ministry on Thursday called on ...", later "the ministry said ..."
    names = _found("ukr-001")
    assert names["the ministry"] == names["Russia’s defence ministry on Thursday"] == "Russia’s defence ministry"
    # a generic mention with no earlier name holding its words stays as it is
    assert canonical_speakers(["the ministry", "the Railway Association of Canada", "the railway"]) == \
        ["the ministry", "the Railway Association of Canada", "the railway"]


def test_case_variants_share_one_spelling():
    assert canonical_speakers(["Police", None, "police", "The army", "the army"]) == \
        ["police", None, "police", "the army", "the army"]


@pytest.mark.parametrize("a,b", [
    ("the Russian defence ministry", "Russia's defence ministry"),
    ("Chief Executive Annika Brandt", "Annika Brandt"),
    ("the US State Department", "The U.S. State Department"),
    ("Maj. Gen. Aníbal Cedeño", "Anibal Cedeno"),
])
def test_speaker_key_groups_forms_of_one_actor(a, b):
    assert speaker_key(a) == speaker_key(b)


def test_speaker_key_keeps_actors_apart():
    assert speaker_key("Russia's defence ministry") != speaker_key("Ukraine's defence ministry")
    assert speaker_key(None) is None and speaker_key("  ") is None


def test_same_speaker_matches_forms_not_strangers():
    assert same_speaker("an IMO spokesperson", "A spokesperson for the International Maritime Organization")
    assert same_speaker("Beijing", "the Chinese government")
    assert not same_speaker("Peter Kollár", "a Pakistani security official")
    # control: each labelled speaker against a random other one matches about as rarely as containment
    rows = [r for r in _labels() if r["speaker"]]
    others = [r["speaker"] for r in rows]
    random.Random(0).shuffle(others)
    matches = sum(same_speaker(r["speaker"], o) for r, o in zip(rows, others))
    assert matches / len(rows) < 0.01, matches


def test_speakers_agree_with_the_labels():
    """The wire articles' labelled statements (rounds 1-2, stance other than none): the finder
    names the labelled speaker 78.9% of the time by containment and 88.8% once both sides are
    canonical, and nobody on 3.0% (December 2026; before present-tense verbs, participles,
    headline "Kremlin: ..." and quotation paragraphs: 75.9%, 85.5%, 7.0%). Round 3's genres
    (headlines, press releases, transcripts) often have no attribution the finder can read:
    38.2% raw, 41.3% canonical."""
    counts = agreement(list(_labels()))
    wire, genre = counts["wire+statements"], counts["genre+statements"]
    assert wire["raw"] / wire["rows"] >= 0.77, wire
    assert wire["canonical"] / wire["rows"] >= 0.87, wire
    assert wire["nobody"] / wire["rows"] <= 0.05, wire
    assert genre["canonical"] / genre["rows"] >= 0.40, genre
    for group in counts.values():
        assert group["canonical"] >= group["raw"], counts


def test_speakers_agree_on_the_genre_shift_split():
    """The genre-shift split was never looked at while the rules were written: 38.2% canonical
    on its statements (22.3% before the rules above), so the rules are not fitted to the
    training labels alone."""
    counts = agreement(list(load_genre_shift_rows(LABELS)))
    genre = counts["genre+statements"]
    assert genre["canonical"] / genre["rows"] >= 0.35, genre


def test_agreement_on_one_article_counts_its_labelled_speakers():
    doc = _article("pbz-011")
    counts = agreement(doc)
    assert counts["wire"]["rows"] == sum(1 for r in doc if r["speaker"]) == 9
    assert counts["wire"]["raw"] < counts["wire"]["canonical"] <= 9, counts
