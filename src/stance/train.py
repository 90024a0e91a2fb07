"""Recipe -> fitted model -> test-split metrics -> MLflow run and a registered version.

No CLI parsing here: `train(recipe_path)` is what `stance train` and the tests call.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import yaml

from . import data, evaluate, models, registry
from .schema import HEADS


class RecipeError(ValueError):
    """A recipe file that cannot be used; the message names the file."""


def load_recipe(path: str | Path) -> dict:
    """Read a YAML recipe and check the keys every recipe needs."""
    path = Path(path)
    if path.is_dir():
        raise RecipeError(f"{path}: is a folder; name a recipe file such as training/tfidf.yaml")
    try:
        recipe = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe") from None
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(recipe, dict) or "family" not in recipe:
        raise RecipeError(f"{path}: a recipe needs a 'family' key (one of: {', '.join(models.FAMILIES)})")
    if recipe["family"] not in models.FAMILIES:
        raise RecipeError(f"{path}: unknown family {recipe['family']!r} (known: {', '.join(models.FAMILIES)})")
    recipe.setdefault("name", path.stem)
    recipe.setdefault("model", {})
    recipe["_path"] = str(path)
    return recipe


def _flat_params(recipe: dict) -> dict:
    out = {"family": recipe["family"], "recipe": recipe["_path"]}
    for key, value in (recipe.get("model") or {}).items():
        out[f"model.{key}"] = value
    for key, value in (recipe.get("train") or {}).items():
        out[f"train.{key}"] = value
    return out


def _dataset_input(rows: list[dict], files: list[Path], digest: str):
    import mlflow
    import pandas as pd

    frame = pd.DataFrame([{k: r.get(k) for k in ("id", "doc_id", "text", "stance", "tone")} for r in rows])
    source = ",".join(str(f) for f in files)
    return mlflow.data.from_pandas(frame, source=source, name="labels", targets="stance", digest=digest[:16])


def train(recipe_path: str | Path, labels: str | Path = "labels", limit: int | None = None,
          register: bool = True) -> dict:
    """Train a recipe on the training split, evaluate on the frozen test split, log and register.

    ``limit`` keeps only the first N training rows (for quick checks). Returns run id, version,
    metrics and the local model directory.
    """
    import mlflow

    recipe = load_recipe(recipe_path)
    files = data.label_files(labels)
    rows = data.load_labels(labels)
    test_docs = data.read_test_docs(labels)
    train_rows, test_rows = data.split_by_doc(rows, test_docs)
    if not test_rows:
        raise data.LabelError([f"{labels}: empty test split (list test document ids in {data.TEST_DOCS_FILE})"])
    if limit:
        train_rows = train_rows[:limit]
    digest = data.content_hash(files)

    model = models.build_model(recipe["family"], recipe["model"])
    started = time.perf_counter()
    model.fit([r["text"] for r in train_rows], {h: [r[h] for r in train_rows] for h in HEADS})
    train_seconds = time.perf_counter() - started
    proba = model.predict_proba([r["text"] for r in test_rows])
    metrics = evaluate.evaluate(test_rows, proba)
    metrics["train_seconds"] = train_seconds

    registry.use_tracking()
    warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
    mlflow.set_experiment(recipe.get("experiment", "stance"))
    with mlflow.start_run(run_name=recipe["name"]) as run:
        mlflow.log_params(_flat_params(recipe))
        mlflow.log_params({"train_rows": len(train_rows), "test_rows": len(test_rows), "data_sha256": digest})
        mlflow.set_tags({"family": recipe["family"], "data_sha256": digest})
        mlflow.log_input(_dataset_input(train_rows, files, digest), context="training")
        mlflow.log_input(_dataset_input(test_rows, files, digest), context="test")
        mlflow.log_metrics(metrics)
        for head in HEADS:
            fig = evaluate.confusion_figure(head, [r[head] for r in test_rows], proba[head],
                                            title=f"{recipe['name']}: {head} (test split)")
            mlflow.log_figure(fig, f"confusion_{head}.png")
        mlflow.log_artifact(recipe["_path"], artifact_path="recipe")
        model_dir = models.save_model_dir(model, Path(tempfile.mkdtemp(prefix="stance-model-")) / "model")
        model_uri = registry.log_model(model_dir, [r["text"] for r in test_rows[:2]])
        version = None
        if register:
            version = registry.register(model_uri, run.info.run_id,
                                        tags={"family": recipe["family"], "data_sha256": digest})
    return {"run_id": run.info.run_id, "version": version, "metrics": metrics,
            "model_uri": model_uri, "model_dir": str(model_dir)}
