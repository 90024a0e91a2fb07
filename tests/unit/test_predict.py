import numpy as np
import pytest

from stance.models import load_model_dir, save_model_dir
from stance.predict import Predictor, load
from stance.schema import PREDICTION_COLUMNS, STANCES, TONES


def test_predict_one_string_and_a_list(tfidf_model):
    predictor = Predictor(tfidf_model)
    one = predictor.predict("The defence ministry said it shot down 40 drones overnight.")
    assert len(one) == 1
    many = predictor.predict(["“You will be destroyed,” the general said.", "Talks resumed on Monday."])
    assert len(many) == 2
    for item in one + many:
        assert item["stance"] in STANCES and item["tone"] in TONES
        assert set(item["stance_proba"]) == set(STANCES) and set(item["tone_proba"]) == set(TONES)
        assert sum(item["stance_proba"].values()) == pytest.approx(1.0)
        assert item["stance"] == max(item["stance_proba"], key=item["stance_proba"].get)


def test_predict_frame_columns_and_order(tfidf_model):
    texts = ["A short one.", "A much longer sentence that the army said came from the front line today.", "Mid."]
    frame = Predictor(tfidf_model, batch_size=2).predict_frame(texts)
    assert list(frame.columns) == PREDICTION_COLUMNS
    # sorting by length for batching must not change the order of the rows
    direct = tfidf_model.predict_proba(texts)["stance"]
    np.testing.assert_allclose(frame[[f"p_stance_{s}" for s in STANCES]].to_numpy(), direct)


def test_saved_model_dir_round_trip(tmp_path, tfidf_model):
    save_model_dir(tfidf_model, tmp_path / "m")
    again = load_model_dir(tmp_path / "m")
    text = ["The rebels denied shelling the market."]
    np.testing.assert_allclose(again.predict_proba(text)["tone"], tfidf_model.predict_proba(text)["tone"])
    assert load(tmp_path / "m").predict(text)[0]["stance"] == Predictor(tfidf_model).predict(text)[0]["stance"]


def test_not_a_model_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a stance model directory"):
        load_model_dir(tmp_path)
