import pytest

from stance.baselines import LexiconModel
from stance.predict import Predictor


@pytest.mark.parametrize("sentence,stance", [
    ("“Any ship that enters will be sunk,” the admiral warned that night.", "threat"),
    ("The ministry rejected the report as baseless.", "denial"),
    ("The UN chief urged all parties to let aid through.", "appeal"),
    ("The air force said it shot down 31 drones.", "claim_of_success"),
    ("The border town was shelled twice on Tuesday.", "none"),
    # the dictionary coder's blind spot: cue words decide, not function
    ("The court denied the request for bail on Tuesday.", "denial"),
])
def test_lexicon_follows_cues_in_codebook_order(sentence, stance):
    assert Predictor(LexiconModel().fit(None, None)).predict(sentence)[0]["stance"] == stance
