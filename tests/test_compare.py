"""`stance compare`: registered versions and baselines in one table; champion chosen by evidence."""

import pytest
import yaml
from mlflow import MlflowClient

from stance.cli import main
from stance.compare import COLUMNS, best_version

from .conftest import RECIPES


@pytest.mark.slow
def test_compare_table_and_promotion_by_evidence(mlflow_store, small_labels, tmp_path, capsys):
    weak = yaml.safe_load((RECIPES / "tfidf.yaml").read_text())
    weak["model"].update({"C": 0.01, "word_ngrams": [1, 1], "char_ngrams": [3, 3]})
    (tmp_path / "weak.yaml").write_text(yaml.safe_dump(weak))
    assert main(["train", "--recipe", str(tmp_path / "weak.yaml"), "--labels", str(small_labels)]) == 0
    assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
    capsys.readouterr()

    assert main(["compare", "--labels", str(small_labels), "--promote"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert all(column in header for column in COLUMNS)
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"stance/1", "stance/2", "baseline:lexicon", "baseline:zeroshot"} <= set(rows)

    def f1(name):
        return float(rows[name].split("|")[2])

    best = "2" if (f1("stance/2"), ) >= (f1("stance/1"), ) else "1"
    client = MlflowClient()
    champion = client.get_model_version_by_alias("stance", "champion")
    assert str(champion.version) == best
    assert champion.tags["compare.decision"].startswith("champion by evidence: best stance macro-F1")
    assert "on the genre-shift split" in champion.tags["compare.decision"]
    assert "| stance/1 |" in champion.tags["compare.table"]
    run = client.get_run(champion.tags["compare.run_id"])
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"compare.md", "compare.json"}


def test_champion_is_chosen_by_the_genre_shift_split_not_the_test_split():
    """The test split ranks stance/1 first; the genre-shift split (real-feed genres) ranks stance/2."""
    rows = [{"model": "stance/1", "stance_macro_f1": 0.85, "tone_macro_f1": 0.7,
             "gs_stance_macro_f1": 0.55, "gs_tone_macro_f1": 0.5},
            {"model": "stance/2", "stance_macro_f1": 0.78, "tone_macro_f1": 0.6,
             "gs_stance_macro_f1": 0.74, "gs_tone_macro_f1": 0.55},
            {"model": "baseline:lexicon", "stance_macro_f1": 0.5, "tone_macro_f1": 0.3,
             "gs_stance_macro_f1": 0.9, "gs_tone_macro_f1": 0.9}]
    assert best_version(rows)["model"] == "stance/2"
    without_shift = [{k: v for k, v in r.items() if not k.startswith("gs_")} for r in rows]
    assert best_version(without_shift)["model"] == "stance/1"
