"""The distill family (a student trained on a teacher's probabilities) and the int8 frozen encoder."""

import numpy as np
import pytest

from stance.quantize import INT8_FILE
from stance.schema import HEADS


@pytest.fixture(scope="module")
def teacher_dir(tfidf_model, tmp_path_factory):
    from stance.models import save_model_dir

    return save_model_dir(tfidf_model, tmp_path_factory.mktemp("teacher") / "tfidf")


def test_corpus_sentences_are_split_deduplicated_and_skip_labelled_text(tmp_path):
    from stance.models.distilled import corpus_sentences

    (tmp_path / "a.txt").write_text("The army warned of strikes. Talks resumed on Monday.")
    (tmp_path / "b.jsonl").write_text('{"id": 1, "text": "Talks resumed on Monday. Prices rose."}\n')
    found = corpus_sentences(tmp_path, limit=10, known={"Prices rose."})
    assert found == ["The army warned of strikes.", "Talks resumed on Monday."]
    assert corpus_sentences(tmp_path, limit=1, known=set()) == ["The army warned of strikes."]


def test_lexical_weight_is_chosen_by_dev_f1():
    from stance.models.distilled import LEXICAL_WEIGHTS, best_weight

    truth = np.array([0, 1, 2, 0, 1, 2])
    student = np.array([[2.0, 1, 0], [0, 2, 1], [0, 1, 2], [1, 1.2, 0], [1.1, 1, 0], [0, 1.3, 1.2]])
    helpful = np.log(np.eye(3)[truth] * 0.8 + 0.1)  # an expert that knows the rows the student misses
    assert best_weight(student, helpful, truth) > 0
    # an expert that only disagrees: the student alone (weight 0) is best
    assert best_weight(student, np.log(np.eye(3)[(truth + 1) % 3] * 0.8 + 0.1), truth) == 0
    # fixed weights: every row already right, so the smallest weight wins the tie
    assert best_weight(np.eye(3)[truth] * 5, helpful, truth) == LEXICAL_WEIGHTS[0]


@pytest.mark.slow
def test_student_learns_the_teachers_probabilities_on_labelled_and_corpus_text(all_rows, teacher_dir, tmp_path):
    from stance.models import build_model, load_model_dir, save_model_dir
    from stance.predict import load

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.txt").write_text(" ".join(r["text"] for r in all_rows[400:480]))
    rows = all_rows[:96]
    student = build_model("distill", {"teacher": str(teacher_dir), "corpus": str(corpus), "layers": 1,
                                      "epochs": 4, "patience": 4, "lr": 3e-4, "head_lr": 1e-2, "quantize": False})
    dev = all_rows[96:140]
    student.fit([r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS},
                dev=([r["text"] for r in dev], {h: [r[h] for r in dev] for h in HEADS}))
    losses = [e["loss"] for e in student.history_]
    assert len(losses) == 4 and losses[-1] < losses[0]
    # the student moved towards the teacher on text it saw only through the teacher
    seen = [r["text"] for r in all_rows[400:480]]
    teacher = load(teacher_dir).predict_proba(seen)["stance"].argmax(1)
    agree = (student.predict_proba(seen)["stance"].argmax(1) == teacher).mean()
    assert agree > 0.5
    # the word-n-gram expert was fitted and its weight per head chosen on the dev split
    assert student.lexical_ is not None and set(student.params()["lexical"]) == set(HEADS)
    save_model_dir(student, tmp_path / "student")
    assert (tmp_path / "student" / "tfidf.joblib").exists()
    again = load_model_dir(tmp_path / "student")
    assert again.family == "distill" and again.lexical_ is not None
    np.testing.assert_allclose(again.predict_proba(seen[:5])["stance"], student.predict_proba(seen[:5])["stance"],
                               atol=1e-5)


@pytest.mark.slow
def test_int8_frozen_encoder_stays_close_and_ships_alone(all_rows, tmp_path):
    from stance.models import build_model, load_model_dir, save_model_dir

    rows = all_rows[:150]
    model = build_model("embed", {"C": 1.0}).fit([r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS})
    int8 = model.quantized()
    texts = [r["text"] for r in all_rows[300:380]]
    fp32_vectors, int8_vectors = model.encoder_.run(texts)["embedding"], int8.encoder_.run(texts)["embedding"]
    cosine = (fp32_vectors * int8_vectors).sum(1) / np.linalg.norm(int8_vectors, axis=1)
    assert cosine.mean() > 0.95  # the AVX2 overflow this quantisation avoids gave ~0
    same = (model.predict_proba(texts)["stance"].argmax(1) == int8.predict_proba(texts)["stance"].argmax(1)).mean()
    assert same > 0.85
    save_model_dir(int8, tmp_path / "int8")
    assert (tmp_path / "int8" / INT8_FILE).exists() and not (tmp_path / "int8" / "encoder.onnx").exists()
    again = load_model_dir(tmp_path / "int8")
    int8.cache_key_ = None  # as loaded: encode, not the training cache (int8 results depend on the batch)
    np.testing.assert_allclose(again.predict_proba(texts[:5])["tone"], int8.predict_proba(texts[:5])["tone"], atol=1e-6)


def test_quantize_train_fits_the_heads_on_int8_embeddings(all_rows, tmp_path):
    """``quantize: train`` (the default recipe): the heads are fitted on the int8 encoder's
    embeddings and the model ships that graph alone; fitting the same heads on fp32 embeddings
    gives different coefficients, so the int8 embeddings really were used."""
    from stance.models import build_model, load_model_dir, save_model_dir

    rows = all_rows[:150]
    texts, targets = [r["text"] for r in rows], {h: [r[h] for r in rows] for h in HEADS}
    int8 = build_model("embed", {"C": 1.0, "quantize": "train"}).fit(texts, targets)
    fp32 = build_model("embed", {"C": 1.0}).fit(texts, targets)
    assert int8.model_file_ == INT8_FILE and int8.cache_key_.endswith("-int8-smooth")
    assert not np.allclose(int8.heads_["stance"].coef_, fp32.heads_["stance"].coef_)
    unseen = [r["text"] for r in all_rows[300:380]]
    agree = (int8.predict_proba(unseen)["stance"].argmax(1) == fp32.predict_proba(unseen)["stance"].argmax(1)).mean()
    assert agree > 0.85
    save_model_dir(int8, tmp_path / "m")
    assert (tmp_path / "m" / INT8_FILE).exists() and not (tmp_path / "m" / "encoder.onnx").exists()
    assert load_model_dir(tmp_path / "m").model_file_ == INT8_FILE
