import pytest

from stance.attribution import attribute, find_speaker


@pytest.mark.parametrize("sentence,speaker", [
    ("“There is no threat to the city,” the mayor said.", "the mayor"),
    ('"We will respond," said Gen. Tomas Varga.', "Gen. Tomas Varga"),
    ("The defence ministry said it had downed 40 drones.", "The defence ministry"),
    ("According to the UN refugee agency, 3,000 people fled.", "the UN refugee agency"),
    ("KHARTOUM, Sudan — The army warned residents to leave the district.", "The army"),
    ("Rwanda has long denied deploying troops inside Congo.", "Rwanda"),
    ("A senior State Department official praised both delegations.", "A senior State Department official"),
    ("The border town was shelled twice on Tuesday.", None),
    # an appositive name, and what follows "said" when it is not a name
    ("“The water is safe,” the authority’s general manager, Carl Denning, said at a news conference.",
     "the authority’s general manager, Carl Denning"),
    ("“Nothing was rigged,” an election spokesman, Zahid Awan, told reporters.", "an election spokesman, Zahid Awan"),
    ('"We were hit twice," said a nurse, who asked not to be named.', "a nurse"),
    ("The head of the delegation, Oleksandr Kravets, said Kyiv had proposed a ceasefire.",
     "The head of the delegation, Oleksandr Kravets"),
    # clauses that are not subjects: nothing rather than a wrong speaker
    ("The ship's operator denied any wrongdoing and said the tanker had sailed legally.", "The ship's operator"),
    ("Tan apologised to customers and said every user would get a refund.", None),
    ("The council asked for more troops in the desert, where it said launch teams moved freely.",
     "The council"),
    ("He said the talks would resume.", None),
    ("In Goma, an M23 spokesman said the group was not bound by the accord.", "an M23 spokesman"),
    ("TEHRAN — Iran’s intelligence ministry said it had arrested eight people, some of whom it said were spies.",
     "Iran’s intelligence ministry"),
    ("A student, who gave only her first name, Nazanin, said she was afraid to talk on the phone.", None),
    ("The agreement that ended the war called for displaced people to return home.", None),
    # headlines and analysis in the present tense; plural nouns that look like verbs are not
    ("Moldova denies plan to expel Russian diplomats", "Moldova"),
    ("Kenya's health ministry calls on striking doctors to return to work", "Kenya's health ministry"),
    ("Calls for a ceasefire grew louder in the capital.", None),
    ("Reports of looting spread across the city overnight.", None),
    ("Kremlin: no talk of a ceasefire at this stage", "Kremlin"),
    ("Tennis: sixth seed survives scare to reach the semi-finals", None),
    ("'No threat to our airspace tonight,' defence minister says after balloon alert", "defence minister"),
    ("Iranian officials continue to insist that the programme is entirely peaceful.", "Iranian officials"),
    ("The moves mark the sharpest escalation in the trade dispute since June.", None),
    ("The group has not claimed an attack since the ceasefire took effect.", None),
    # any act turned into a statement by a participle; a quotation introduced by a colon
    ("Thousands of farmers blocked the motorway on Monday, demanding lower fuel taxes.", "Thousands of farmers"),
    ("Privately, one European diplomat was blunter: “This deal is dead.”", "one European diplomat"),
    ("Asked about the vote, Mr. Oyelaran smiled and said the result spoke for itself.", "Mr. Oyelaran"),
])
def test_find_speaker(sentence, speaker):
    assert find_speaker(sentence) == speaker


def test_pronoun_speakers_take_the_speaker_named_before():
    sentences = ["A senior Russian lawmaker, Gennady Sorokin, said deserters would be punished.",
                 "He added that the offer was a provocation.", "The bridge was closed on Monday.",
                 "“We will answer,” she said."]
    assert attribute(sentences) == ["A senior Russian lawmaker, Gennady Sorokin"] * 2 + [None] + \
        ["A senior Russian lawmaker, Gennady Sorokin"]


def test_quotation_over_two_sentences_takes_the_closing_speaker():
    sentences = ["“We will not retreat.", "Every street will be defended,” the commander said.", "Fighting went on."]
    assert attribute(sentences) == ["the commander", "the commander", None]


def test_a_quotation_paragraph_after_a_quoted_statement_continues_it():
    sentences = ["“The bridge will hold,” said Mayor Ines Talbot.",
                 "“We have repaired worse than this, and we will do it again.”",
                 "The river rose another metre overnight.",
                 "“Stay away from the banks.”"]
    assert attribute(sentences) == ["Mayor Ines Talbot", "Mayor Ines Talbot", None, None]


def test_speakers_agree_with_the_labels():
    """On the labelled statements of the wire articles (rounds 1-2) the finder names the labelled
    speaker (or contains it, or is contained in it) at least 70% of the time (74.3% on the
    3,547 labels of November 2026). Round 3's genres are harder: headlines elide the verb,
    press releases and UN pages speak as their issuer, transcripts in the first person
    (measured: 20.5% on them in December 2026; the floor guards against regressions)."""
    import re
    from collections import Counter, defaultdict
    from pathlib import Path

    from stance.data import load_labels

    def norm(name):
        return re.sub(r"^(the|a|an) ", "", re.sub(r"[^\w ]", "", name.lower())).strip()

    docs = defaultdict(list)
    for row in load_labels(Path(__file__).resolve().parents[2] / "labels"):
        docs[row["doc_id"]].append(row)
    agree, total = Counter(), Counter()
    for rows in docs.values():
        for row, found in zip(rows, attribute([r["text"] for r in rows])):
            if row["speaker"]:
                kind = "genre" if row.get("genre") else "wire"
                total[kind] += 1
                gold, found = norm(row["speaker"]), norm(found or "")
                agree[kind] += bool(found) and (gold in found or found in gold)
    assert agree["wire"] / total["wire"] >= 0.70, f"{agree['wire']}/{total['wire']}"
    assert agree["genre"] / total["genre"] >= 0.18, f"{agree['genre']}/{total['genre']}"
