"""The promotion gate reads the genre-shift split first."""

from stance.promote import gate
from stance.schema import STANCES


def _metrics(test_f1, shift_f1, shift_threat=None):
    out = {"stance_macro_f1": test_f1, "gs_stance_macro_f1": shift_f1}
    for s in STANCES:
        out[f"stance_f1_{s}"] = test_f1
        out[f"gs_stance_f1_{s}"] = shift_f1
    if shift_threat is not None:
        out["gs_stance_f1_threat"] = shift_threat
    return out


def test_a_challenger_better_on_the_test_split_but_worse_on_the_genre_shift_split_is_refused():
    champion, challenger = _metrics(0.78, 0.80), _metrics(0.86, 0.74)
    assert gate(challenger, champion, 0.01, 0.05) == (True, [])  # the test split alone would promote it
    passes, reasons = gate(challenger, champion, 0.01, 0.05, prefix="gs_")
    assert not passes
    assert reasons[0] == "genre-shift stance macro-F1 0.7400 < champion 0.8000 - tolerance 0.01"


def test_a_class_that_collapses_on_the_genre_shift_split_is_named():
    passes, reasons = gate(_metrics(0.8, 0.81, shift_threat=0.70), _metrics(0.8, 0.80), 0.01, 0.05, prefix="gs_")
    assert not passes and reasons == ["genre-shift threat F1 drops by 0.1000 (> 0.05)"]
