"""Behavioural tests from the codebook's rules (minimum functionality, invariance, direction).

They run against the quick start's default model (frozen mpnet + MLP heads) trained on the
real training split. Cases it is known to get wrong are listed in KNOWN_FAILURES and run as
strict xfails: if a change makes one pass, the test says so and the entry must go.
"""

import pytest

from stance.data import normalise_text
from stance.predict import Predictor

# (rule, sentence, stance it must have, stance it must not have)
RULE_CASES = [
    ("function over words", "There is no threat to the harbour, the port authority told reporters.", "denial", "threat"),
    ("function over words", "“Nothing is threatening the dam,” the regional governor said on Friday.", "denial", "threat"),
    ("denied = refused", "The appeals court denied the request for bail on Tuesday.", "none", "denial"),
    ("accusations are none", "The ministry accused the rebels of shelling the water plant.", "none", None),
    ("losses are none", "Officials said enemy strikes destroyed the fuel depot overnight.", "none", "claim_of_success"),
    ("own success", "The air force said it had intercepted 27 of 30 missiles overnight.", "claim_of_success", None),
    ("reported appeal", "The UN relief chief called on all parties to let food convoys through.", "appeal", None),
    ("ultimatum", "“Any vessel that enters these waters will be sunk without warning,” the admiral said.", "threat", None),
    ("denial", "The foreign ministry dismissed the report as a crude fabrication by hostile media.", "denial", None),
    ("no statement", "The border town was shelled twice on Tuesday.", "none", None),
    ("conditional offer", "“Lay down your arms and you will be safe,” the colonel told the encircled unit.", "appeal", "threat"),
    ("ultimatum", "“Surrender or be destroyed,” the colonel told the encircled unit.", "threat", "appeal"),
]
# sentences the default model is known to get wrong (strict xfail: a fix shows up as a failure).
# Empty since the 10-layer default reads "Nothing is threatening the dam" as a denial.
KNOWN_FAILURES: set[str] = set()


@pytest.fixture(scope="module")
def predictor(default_model):
    return Predictor(default_model)


def test_probes_are_not_in_the_labels(all_rows):
    seen = {normalise_text(r["text"]) for r in all_rows}
    assert not [s for _, s, _, _ in RULE_CASES if normalise_text(s) in seen]


@pytest.mark.parametrize("rule,sentence,expected,forbidden", [
    pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason="known failure of the default model"))
    if case[1] in KNOWN_FAILURES else case
    for case in RULE_CASES
], ids=[f"{c[0]}:{c[1][:30]}" for c in RULE_CASES])
def test_codebook_rule(predictor, rule, sentence, expected, forbidden):
    got = predictor.predict(sentence)[0]["stance"]
    assert got == expected
    assert got != forbidden


@pytest.mark.parametrize("a,b", [
    ("“We will not retreat from the city,” the commander said.",
     '"We will not retreat from the city," the commander said.'),
    ("The army said it had recaptured the village of Hostra.",
     "The army said it had recaptured the village of Pelynia."),
    ("Colonel Varga urged both sides to return to the talks.",
     "Colonel Mbeki urged both sides to return to the talks."),
])
def test_invariant_to_quote_style_and_names(predictor, a, b):
    pa, pb = predictor.predict([a, b])
    assert pa["stance"] == pb["stance"]
    assert pa["tone"] == pb["tone"]


def test_adding_an_ultimatum_raises_threat(predictor):
    plain, ultimatum = predictor.predict([
        "The commander told the garrison to leave the town.",
        "The commander told the garrison to leave the town or be wiped out.",
    ])
    assert ultimatum["stance_proba"]["threat"] > plain["stance_proba"]["threat"]
