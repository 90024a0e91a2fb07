"""Shared fixtures: real label files, a real MLflow store in a temp dir, real trained models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "labels"
RECIPES = ROOT / "training"

SEED_LABELS = [
    {"id": "a-00", "doc_id": "a", "text": "The army said it had repelled the attack on the bridge.",
     "stance": "claim_of_success", "tone": "neutral", "speaker": "the army"},
    {"id": "t-00", "doc_id": "t", "text": "“There is no threat to the harbour,” the port chief said.",
     "stance": "denial", "tone": "confident", "speaker": "the port chief"},
]


@pytest.fixture
def seed_rows():
    """The rows of the `labels` fixture's ``seed.jsonl``."""
    return [dict(r) for r in SEED_LABELS]


@pytest.fixture
def labels(tmp_path):
    """A labels folder of two rows (`SEED_LABELS`: document "a" trains, "t" is the test split)
    in ``seed.jsonl``, for the label import tests."""
    import json

    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "seed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in SEED_LABELS))
    (folder / "test_docs.txt").write_text("t\n")
    return folder


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    """An empty MLflow SQLite store in a temp dir, used through MLFLOW_TRACKING_URI."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return uri


@pytest.fixture(scope="session")
def all_rows():
    from stance.data import load_labels

    return load_labels(LABELS)


@pytest.fixture(scope="session")
def shift_rows():
    from stance.data import load_genre_shift_rows

    return load_genre_shift_rows(LABELS)


@pytest.fixture(scope="session")
def small_labels(tmp_path_factory, all_rows, shift_rows):
    """A small real slice of labels/: 24 training articles, 6 frozen test articles and
    8 genre-shift documents."""
    from stance.data import read_test_docs

    test_docs = sorted(read_test_docs(LABELS))[:6]
    train_docs = sorted({r["doc_id"] for r in all_rows} - set(read_test_docs(LABELS)))[::6][:24]
    keep = set(test_docs) | set(train_docs)
    folder = tmp_path_factory.mktemp("labels")
    import json

    with open(folder / "slice.jsonl", "w", encoding="utf-8") as out:
        for row in all_rows:
            if row["doc_id"] in keep:
                clean = {k: v for k, v in row.items() if not k.startswith("_")}
                out.write(json.dumps(clean, ensure_ascii=False) + "\n")
    (folder / "test_docs.txt").write_text("\n".join(test_docs) + "\n")
    shift_docs = sorted({r["doc_id"] for r in shift_rows})[::10][:8]
    (folder / "genre_shift").mkdir()
    with open(folder / "genre_shift" / "slice.jsonl", "w", encoding="utf-8") as out:
        for row in shift_rows:
            if row["doc_id"] in shift_docs:
                out.write(json.dumps({k: v for k, v in row.items() if not k.startswith("_")}, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture(scope="session")
def tfidf_model(all_rows):
    """The default recipe's TF-IDF model fitted on the real training split (a few seconds)."""
    from stance.data import read_test_docs, split_by_doc
    from stance.models import build_model
    from stance.schema import HEADS
    from stance.train import load_recipe

    train, _ = split_by_doc(all_rows, read_test_docs(LABELS))
    recipe = load_recipe(RECIPES / "tfidf.yaml")
    model = build_model("tfidf", recipe["model"])
    return model.fit([r["text"] for r in train], {h: [r[h] for r in train] for h in HEADS})


@pytest.fixture
def articles_dir(tmp_path):
    """A folder with two real example articles and one jsonl of articles."""
    folder = tmp_path / "articles"
    folder.mkdir()
    examples = sorted((ROOT / "examples" / "articles").glob("*.txt"))[:2]
    for path in examples:
        shutil.copy(path, folder / path.name)
    shutil.copy(ROOT / "examples" / "articles" / "more_articles.jsonl", folder)
    return folder


@pytest.fixture(scope="session")
def default_model(all_rows):
    """The quick start's default recipe (frozen mpnet in int8 + TF-IDF, LR heads) fitted on the real training
    split, without calibration. The first run encodes ~9,000 sentences (~4 min on 2 cores); the
    embedding cache makes later runs take seconds."""
    from stance.data import read_test_docs, split_by_doc
    from stance.models import build_model
    from stance.schema import HEADS
    from stance.train import load_recipe

    train, _ = split_by_doc(all_rows, read_test_docs(LABELS))
    recipe = load_recipe(RECIPES / "embed_mpnet.yaml")
    model = build_model(recipe["family"], recipe["model"])
    return model.fit([r["text"] for r in train], {h: [r[h] for r in train] for h in HEADS})
