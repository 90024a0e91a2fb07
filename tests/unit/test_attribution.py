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
])
def test_find_speaker(sentence, speaker):
    assert find_speaker(sentence) == speaker


def test_quotation_over_two_sentences_takes_the_closing_speaker():
    sentences = ["“We will not retreat.", "Every street will be defended,” the commander said.", "Fighting went on."]
    assert attribute(sentences) == ["the commander", "the commander", None]
