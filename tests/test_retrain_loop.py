"""The users' loop in a temporary project: train, score, suggest, label, import, retrain, promote."""

import json
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

from stance.cli import main
from stance.data import normalise_text, read_test_docs

from .conftest import LABELS, RECIPES


@pytest.mark.slow
def test_whole_loop(mlflow_store, small_labels, all_rows, tmp_path, capsys):
    project = tmp_path / "project"
    shutil.copytree(small_labels, project / "labels")
    used = {json.loads(x)["doc_id"] for x in (project / "labels" / "slice.jsonl").read_text().splitlines()}
    fresh = sorted({r["doc_id"] for r in all_rows} - used - read_test_docs(LABELS))[:8]
    (project / "new").mkdir()
    for doc in fresh:
        shutil.copy(LABELS / "articles" / f"{doc}.txt", project / "new" / f"{doc}.txt")
    recipe = str(RECIPES / "tfidf.yaml")
    labels = str(project / "labels")

    assert main(["train", "--recipe", recipe, "--labels", labels]) == 0
    assert main(["score", str(project / "new"), "--out", str(project / "scores.jsonl")]) == 0
    assert main(["suggest", "--scores", str(project / "scores.jsonl"), "-n", "40",
                 "--out", str(project / "tasks.json"), "--format", "label-studio"]) == 0
    tasks = json.loads((project / "tasks.json").read_text())
    assert len(tasks) == 40 and len({t["data"]["doc_id"] for t in tasks}) >= 8
    assert len({t["predictions"][0]["result"][0]["value"]["choices"][0] for t in tasks}) >= 3  # spread over labels

    # "label" the tasks the way an annotator would in Label Studio: the true labels from labels/
    truth = {normalise_text(r["text"]): r for r in all_rows}
    for i, task in enumerate(tasks):
        known = truth.get(normalise_text(task["data"]["text"]))
        if known is None:  # the splitter cut this one differently from the labelled rows
            task["annotations"] = [{"was_cancelled": True, "result": []}]
            continue
        task["id"] = i
        task["annotations"] = [{"id": i, "result": [
            {"from_name": h, "to_name": "text", "type": "choices", "value": {"choices": [known[h]]}}
            for h in ("stance", "tone")]}]
    labelled = [t for t in tasks if not t["annotations"][0].get("was_cancelled")]
    (project / "export.json").write_text(json.dumps(labelled))
    capsys.readouterr()
    assert main(["labels", "import", str(project / "export.json"), "--batch", "round-1", "--labels", labels]) == 0
    assert f"{len(labelled)} new rows" in capsys.readouterr().out

    assert main(["train", "--recipe", recipe, "--labels", labels]) == 0
    client = MlflowClient()
    run = client.get_run(client.get_model_version("stance", "2").run_id)
    params = run.data.params
    assert params["labels.batches"] == "round-1.jsonl,slice.jsonl"
    trail = json.loads(Path(client.download_artifacts(run.info.run_id, "lineage.json")).read_text())
    assert [b["file"] for b in trail["batches"]] == ["round-1.jsonl", "slice.jsonl"]
    assert trail["batches"][0]["rows"] == len(labelled) and len(trail["batches"][0]["sha256"]) == 64

    code = main(["promote", "--labels", labels])
    out = capsys.readouterr().out
    assert "champion v1" in out and "challenger v2" in out
    if code == 1:  # refused by the gate: forcing records that too
        assert main(["promote", "--labels", labels, "--force"]) == 0
    version = client.get_model_version("stance", "2")
    assert client.get_model_version_by_alias("stance", "champion").version in (2, "2")
    assert client.get_model_version_by_alias("stance", "previous").version in (1, "1")
    assert version.tags["promote.decision"].split(":")[0] in ("promoted", "forced")
    assert float(version.tags["promote.stance_macro_f1"]) > 0

    assert main(["rollback"]) == 0
    assert client.get_model_version_by_alias("stance", "champion").version in (1, "1")
