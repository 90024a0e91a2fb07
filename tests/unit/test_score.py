import pandas as pd
import pytest

from stance.outputs import read_parts, work_dir
from stance.predict import Predictor
from stance.schema import SCORE_COLUMNS
from stance.score import score_articles


class StopAfter:
    """Wraps the real predictor and interrupts the run like Ctrl-C after N documents."""

    def __init__(self, predictor, documents):
        self.inner, self.left, self.version = predictor, documents, predictor.version

    def predict_proba(self, texts):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.inner.predict_proba(texts)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_score_writes_one_row_per_sentence(tmp_path, articles_dir, tfidf_model, suffix):
    out = tmp_path / f"scores{suffix}"
    report = score_articles([articles_dir], out, Predictor(tfidf_model, version="stance/7"))
    frame = {".jsonl": lambda p: pd.read_json(p, lines=True), ".csv": pd.read_csv,
             ".parquet": pd.read_parquet}[suffix](out)
    assert list(frame.columns) == SCORE_COLUMNS
    assert report.documents == 4 and report.sentences == len(frame) > 40
    assert set(frame["model_version"]) == {"stance/7"}
    first = frame[frame["sentence_index"] == 0].iloc[0]
    assert first["start"] == 0 and first["end"] == len(first["text"])
    assert not work_dir(out).exists() and not out.with_name(f".{out.name}.lock").exists()


def test_bad_files_are_skipped_and_named(tmp_path, articles_dir, tfidf_model):
    (articles_dir / "binary.txt").write_bytes(b"\x00\x01\x02")
    (articles_dir / "latin1.txt").write_bytes(b"Caf\xe9 society met.")
    (articles_dir / "empty.txt").write_text("")
    out = tmp_path / "scores.jsonl"
    report = score_articles([articles_dir], out, Predictor(tfidf_model))
    assert len(report.skipped) == 3
    assert any("binary.txt: binary file" in s for s in report.skipped)
    assert report.documents == 4 and out.exists()


def test_never_overwrites_without_force(tmp_path, articles_dir, tfidf_model):
    out = tmp_path / "scores.jsonl"
    out.write_text("precious\n")
    with pytest.raises(FileExistsError, match="already exists \\(use --force to overwrite\\)"):
        score_articles([articles_dir], out, Predictor(tfidf_model))
    assert out.read_text() == "precious\n"
    score_articles([articles_dir], out, Predictor(tfidf_model), force=True)
    assert out.read_text() != "precious\n"


def test_interrupted_run_resumes_without_losing_or_repeating(tmp_path, articles_dir, tfidf_model):
    predictor = Predictor(tfidf_model)
    out = tmp_path / "scores.jsonl"
    with pytest.raises(KeyboardInterrupt):  # one article per batch: two batches finish
        score_articles([articles_dir], out, StopAfter(predictor, 2), batch_sentences=1)
    assert not out.exists()
    finished, _ = read_parts(work_dir(out), predictor.version)
    assert len(finished) == 2
    report = score_articles([articles_dir], out, predictor)
    assert report.resumed == 2
    fresh = tmp_path / "fresh.jsonl"
    score_articles([articles_dir], fresh, predictor)
    resumed, full = pd.read_json(out, lines=True), pd.read_json(fresh, lines=True)
    key = ["doc_id", "sentence_index"]
    pd.testing.assert_frame_equal(resumed.sort_values(key).reset_index(drop=True),
                                  full.sort_values(key).reset_index(drop=True))


def test_unknown_output_format(tmp_path, articles_dir, tfidf_model):
    with pytest.raises(ValueError, match="unknown output format '.xlsx'"):
        score_articles([articles_dir], tmp_path / "x.xlsx", Predictor(tfidf_model))
