"""What one `stance train` leaves in a real MLflow store, read back: separate datasets with
their own digests, the git commit, descriptions, reliability plots and the misclassified table."""

import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import pytest
from mlflow import MlflowClient

from stance.cli import main
from stance.data import load_genre_shift_rows, read_test_docs

from .conftest import RECIPES, ROOT


@pytest.mark.slow
def test_train_leaves_a_complete_record(mlflow_store, small_labels, capsys):
    assert main(["train", "--recipe", str(RECIPES / "tfidf.yaml"), "--labels", str(small_labels)]) == 0
    assert plt.get_fignums() == []  # every logged figure was closed
    client = MlflowClient()
    version = client.get_model_version("stance", "1")
    run = client.get_run(version.run_id)

    datasets = {i.dataset.name: i for i in run.inputs.dataset_inputs}
    assert set(datasets) == {"train", "test", "genre-shift"}
    assert len({d.dataset.digest for d in datasets.values()}) == 3
    contexts = {name: {t.key: t.value for t in d.tags}["mlflow.data.context"] for name, d in datasets.items()}
    assert contexts == {"train": "training", "test": "test", "genre-shift": "evaluation"}
    test_rows = run.data.params["test_rows"]
    assert f'"num_rows": {test_rows}' in datasets["test"].dataset.profile
    assert f'"num_rows": {len(load_genre_shift_rows(small_labels))}' in datasets["genre-shift"].dataset.profile

    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert run.data.tags["mlflow.source.git.commit"] == head
    assert run.data.tags["stance.git_dirty"] in ("true", "false")

    assert "news sentences" in client.get_registered_model("stance").description
    assert version.description.startswith("tfidf (tfidf family")
    assert f"{run.data.metrics['gs_stance_macro_f1']:.3f}" in version.description

    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"reliability_stance.png", "reliability_tone.png", "misclassified.json",
            "confusion_stance.png", "confusion_tone_genre_shift.png"} <= artifacts
    png = client.download_artifacts(run.info.run_id, "reliability_stance.png")
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    wrong = mlflow.load_table("misclassified.json", run_ids=[run.info.run_id])
    assert set(wrong["split"]) == {"test", "genre-shift"}
    assert ((wrong["stance"] != wrong["predicted_stance"]) | (wrong["tone"] != wrong["predicted_tone"])).all()
    for split, prefix, rows in (("test", "", int(test_rows)),
                                ("genre-shift", "gs_", len(load_genre_shift_rows(small_labels)))):
        part = wrong[wrong["split"] == split]
        for h in ("stance", "tone"):
            errors = (part[h] != part[f"predicted_{h}"]).sum()
            assert errors == round((1 - run.data.metrics[f"{prefix}{h}_accuracy"]) * rows)
    assert set(wrong.loc[wrong["split"] == "test", "doc_id"]) <= read_test_docs(small_labels)
