"""The TF-IDF family's fast scoring path gives scikit-learn's numbers exactly."""

import numpy as np
import pytest

from stance.models import build_model
from stance.schema import HEADS

ODD = ["", "   ", "a b c", "Zzqx qqq!", "ÉCOLE Straße ÄRGER über", "two\x00sentences in one\x00here",
       "snake_case and 3,000 troops", "“There is no threat,” he said — twice.", "ΟΔΟΣ ΣΟΦΟΣ", "x" * 500]


def test_fast_path_matches_scikit_learn(tfidf_model, all_rows):
    assert tfidf_model.fast_ is not None
    texts = [r["text"] for r in all_rows[::5]] + ODD
    fast, reference = tfidf_model._fast_logits(texts), tfidf_model.sklearn_logits(texts)
    for head in HEADS:
        np.testing.assert_allclose(fast[head], reference[head], atol=1e-9)
    # order and batch boundaries do not matter
    one_by_one = [tfidf_model._fast_logits([t])["stance"][0] for t in texts[:40]]
    np.testing.assert_allclose(np.array(one_by_one), reference["stance"][:40], atol=1e-9)


@pytest.mark.parametrize("params", [{"word_ngrams": [1, 1]}, {"word_ngrams": [1, 2], "min_df": 2}])
def test_fast_path_for_other_word_settings_and_a_missing_class(params, all_rows):
    rows = all_rows[:400]
    targets = {h: [r[h] for r in rows] for h in HEADS}
    targets["tone"] = ["neutral" if t == "alarmed" else t for t in targets["tone"]]  # a label never seen
    model = build_model("tfidf", params).fit([r["text"] for r in rows], targets)
    texts = [r["text"] for r in all_rows[400:600]] + ODD
    fast, reference = model._fast_logits(texts), model.sklearn_logits(texts)
    for head in HEADS:
        np.testing.assert_allclose(fast[head], reference[head], atol=1e-9)


def test_character_ngrams_keep_the_scikit_learn_path(all_rows):
    rows = all_rows[:200]
    model = build_model("tfidf", {"char_ngrams": [2, 4]}).fit(
        [r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS})
    assert model.fast_ is None
    assert model.logits(["A test sentence."])["stance"].shape == (1, len(HEADS["stance"]))
