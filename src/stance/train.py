"""Recipe -> fitted model -> metrics on the genre-shift and test splits -> MLflow run and a
registered version.

No CLI parsing here: `train(recipe_path)` is what `stance train` and the tests call.
"""

from __future__ import annotations

import json
import shutil
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
        raise RecipeError(f"{path}: a recipe needs a 'family' key (one of: {', '.join(models.FAMILY_NAMES)})")
    if recipe["family"] not in models.FAMILY_NAMES:
        raise RecipeError(f"{path}: unknown family {recipe['family']!r} (known: {', '.join(models.FAMILY_NAMES)})")
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


def _dataset_input(rows: list[dict], name: str):
    """An MLflow dataset of ``rows`` with its own name and a digest of its own content."""
    import hashlib

    import mlflow
    import pandas as pd

    frame = pd.DataFrame([{k: r.get(k) for k in ("id", "doc_id", "text", "stance", "tone")} for r in rows])
    digest = hashlib.sha256(frame.to_json(orient="records").encode()).hexdigest()[:16]
    source = ",".join(sorted({str(r.get("_file", "")) for r in rows}))
    return mlflow.data.from_pandas(frame, source=source, name=name, targets="stance", digest=digest)


def _throughput(model, texts: list[str], limit: int = 256) -> float:
    """Sentences/s on up to ``limit`` test sentences, with any embedding cache switched off."""
    texts = texts[:limit]
    cache_key = getattr(model, "cache_key_", None)
    if cache_key:
        model.cache_key_ = None
    try:
        started = time.perf_counter()
        model.predict_proba(texts)
        return len(texts) / (time.perf_counter() - started)
    finally:
        if cache_key:
            model.cache_key_ = cache_key


def train(recipe_path: str | Path, labels: str | Path = "labels", limit: int | None = None,
          register: bool = True, log=print) -> dict:
    """Train a recipe on the training split, calibrate on dev, evaluate on the genre-shift split
    (metrics ``gs_*``) and the frozen test split, log everything to MLflow and register a version.

    The dev split is carved from the training split by document (never the test split); it
    drives early stopping and temperature calibration. ``limit`` keeps only the first N
    training rows (quick checks). Returns run id, version, metrics and the logged model's URI.
    """
    import mlflow

    recipe = load_recipe(recipe_path)
    settings = {"dev_fraction": 0.15, "seed": 13, "calibrate": True, "hard_weight": 1.0, "refit": False,
                **(recipe.get("train") or {})}
    files = data.label_files(labels)
    rows, conflicts = data.load_training_labels(labels)
    for a, b in conflicts:
        log(f"left out of training until resolved: {data.conflict_message(a, b)}")
    test_docs = data.read_test_docs(labels)
    train_rows, test_rows = data.split_by_doc(rows, test_docs)
    if not test_rows:
        raise data.LabelError([f"{labels}: empty test split (list test document ids in {data.TEST_DOCS_FILE})"])
    shift_rows = data.load_genre_shift_rows(labels)
    train_rows = data.drop_texts(train_rows, shift_rows)
    fit_rows, dev_rows = data.dev_split(train_rows, settings["dev_fraction"], settings["seed"])
    if limit:
        fit_rows, dev_rows = fit_rows[:limit], dev_rows[: max(limit // 4, 8)]
    digest = data.content_hash(files)

    def texts(rs):
        return [r["text"] for r in rs]

    def targets(rs):
        return {h: [r[h] for r in rs] for h in HEADS}

    model = models.build_model(recipe["family"], recipe["model"])
    log(f"training {recipe['name']} on {len(fit_rows)} sentences (dev {len(dev_rows)}, test {len(test_rows)}, "
        f"genre-shift {len(shift_rows)}) ...")
    started = time.perf_counter()
    # rows written to trip bag-of-words models ("hard") can count more in the loss
    weights = [settings["hard_weight"] if r.get("hard") else 1.0 for r in fit_rows]
    model.fit(texts(fit_rows), targets(fit_rows), dev=(texts(dev_rows), targets(dev_rows)) if dev_rows else None,
              sample_weight=weights)
    train_seconds = time.perf_counter() - started
    raw = evaluate.evaluate(test_rows, model.predict_proba(texts(test_rows)))
    if settings["calibrate"] and dev_rows:
        model.calibrate(texts(dev_rows), targets(dev_rows))
    if settings["refit"] and dev_rows:
        # cheap families: refit on training + dev rows, keeping the temperatures fitted on dev
        temperature = model.temperature_
        fit_rows = fit_rows + dev_rows
        weights = [settings["hard_weight"] if r.get("hard") else 1.0 for r in fit_rows]
        model = models.build_model(recipe["family"], recipe["model"])
        model.fit(texts(fit_rows), targets(fit_rows), sample_weight=weights)
        raw = evaluate.evaluate(test_rows, model.predict_proba(texts(test_rows)))  # uncalibrated
        model.temperature_ = temperature
    proba = model.predict_proba(texts(test_rows))
    metrics = evaluate.evaluate(test_rows, proba)
    metrics.update({f"{h}_ece_uncalibrated": raw[f"{h}_ece"] for h in HEADS})
    metrics["train_seconds"] = train_seconds
    metrics["test_sentences_per_second"] = _throughput(model, texts(test_rows))

    def score_shift(scorer):
        """``scorer``'s probabilities on the genre-shift split, its ``gs_*`` metrics recorded."""
        if not shift_rows:
            return None
        shift = scorer.predict_proba(texts(shift_rows))
        metrics.update(evaluate.evaluate(shift_rows, shift, prefix="gs_"))
        return shift

    shift_proba = score_shift(model)

    # int8 weights: kept only if they cost less than 1 point of stance macro-F1 on the test split
    quantize = (recipe["model"] or {}).get("quantize", "auto")
    if hasattr(model, "quantized") and quantize:
        int8 = model.quantized()
        int8_proba = int8.predict_proba(texts(test_rows))
        int8_metrics = evaluate.evaluate(test_rows, int8_proba)
        int8_metrics["test_sentences_per_second"] = _throughput(int8, texts(test_rows))
        drop = metrics["stance_macro_f1"] - int8_metrics["stance_macro_f1"]
        metrics.update({f"fp32_{k}": v for k, v in metrics.items() if not k.startswith("fp32_")})
        metrics.update({f"int8_{k}": v for k, v in int8_metrics.items()})
        metrics["int8_stance_macro_f1_drop"] = drop
        if quantize == "always" or drop < 0.01:
            log(f"using int8 weights (stance macro-F1 drop {drop:+.4f} < 0.01)")
            model, proba = int8, int8_proba
            metrics.update(int8_metrics)
            shift_proba = score_shift(model)
        else:
            log(f"keeping fp32 weights (int8 would cost {drop:.4f} stance macro-F1)")

    registry.use_tracking()
    warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
    mlflow.set_experiment(recipe.get("experiment", "stance"))
    with mlflow.start_run(run_name=recipe["name"]) as run:
        mlflow.log_params(_flat_params(recipe))
        mlflow.log_params({"train_rows": len(fit_rows), "dev_rows": len(dev_rows), "test_rows": len(test_rows),
                           "genre_shift_rows": len(shift_rows),
                           "data_sha256": digest, **{f"train.{k}": v for k, v in settings.items()
                                                     if k not in (recipe.get("train") or {})}})
        mlflow.set_tags({"family": recipe["family"], "data_sha256": digest})
        mlflow.log_input(_dataset_input(fit_rows, "train"), context="training")
        mlflow.log_input(_dataset_input(test_rows, "test"), context="test")
        if shift_rows:
            mlflow.log_input(_dataset_input(shift_rows, "genre-shift"), context="evaluation")
        mlflow.log_metrics(metrics)
        for entry in getattr(model, "history_", []):
            mlflow.log_metrics({f"epoch_{k}": v for k, v in entry.items() if k != "epoch"}, step=entry["epoch"])
        for head in HEADS:
            fig = evaluate.confusion_figure(head, [r[head] for r in test_rows], proba[head],
                                            title=f"{recipe['name']}: {head} (test split)")
            mlflow.log_figure(fig, f"confusion_{head}.png")
            if shift_rows:
                fig = evaluate.confusion_figure(head, [r[head] for r in shift_rows], shift_proba[head],
                                                title=f"{recipe['name']}: {head} (genre-shift split)")
                mlflow.log_figure(fig, f"confusion_{head}_genre_shift.png")
        mlflow.log_artifact(recipe["_path"], artifact_path="recipe")
        trail = data.lineage(files, rows, conflicts)
        mlflow.log_dict(trail, "lineage.json")
        mlflow.log_params({"labels.batches": ",".join(b["file"] for b in trail["batches"])[:6000],
                           "labels.conflicts_left_out": len(conflicts)})
        with tempfile.TemporaryDirectory(prefix="stance-model-") as tmp:
            model_uri = registry.log_model(models.save_model_dir(model, Path(tmp) / "model"), texts(test_rows[:2]))
        version = None
        if register:
            version = registry.register(model_uri, run.info.run_id,
                                        tags={"family": recipe["family"], "data_sha256": digest,
                                              "labels.batches": ",".join(f.name for f in files)[:4000],
                                              "promotion": json.dumps(recipe.get("promotion") or {})})
    if getattr(model, "work_dir_", None):  # the fine-tuned ONNX files now live in the MLflow store
        shutil.rmtree(model.work_dir_, ignore_errors=True)
    return {"run_id": run.info.run_id, "version": version, "metrics": metrics, "model_uri": model_uri}
