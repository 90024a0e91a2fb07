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
from .errors import RecipeError  # defined there so the CLI can catch it without importing mlflow
from .schema import HEADS


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


def _git_commit() -> dict[str, str]:
    """Tags naming the commit of the code that trains (and whether the tree had uncommitted
    changes), when it runs from a git checkout; MLflow only finds it for scripts run directly."""
    import subprocess

    where = Path(__file__).parent
    try:
        sha = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"mlflow.source.git.commit": sha, "stance.git_dirty": str(bool(dirty)).lower()}


def _log_evaluation(name: str, splits: dict[str, tuple[list[dict], dict]]) -> None:
    """Into the active run: a confusion matrix per head and split, a reliability diagram per
    head, and the misclassified sentences of every split as a table."""
    import matplotlib.pyplot as plt
    import mlflow
    import pandas as pd

    def log_figure(fig, path):
        mlflow.log_figure(fig, path)
        plt.close(fig)

    for head in HEADS:
        for split, (rows, proba) in splits.items():
            suffix = "" if split == "test" else f"_{split.replace('-', '_')}"
            log_figure(evaluate.confusion_figure(head, [r[head] for r in rows], proba[head],
                                                 title=f"{name}: {head} ({split} split)"),
                       f"confusion_{head}{suffix}.png")
        log_figure(evaluate.reliability_figure(head, {s: ([r[head] for r in rows], proba[head])
                                                      for s, (rows, proba) in splits.items()},
                                               title=f"{name}: {head} reliability"), f"reliability_{head}.png")
    wrong = [m for split, (rows, proba) in splits.items() for m in evaluate.misclassified(rows, proba, split)]
    mlflow.log_table(pd.DataFrame(wrong, columns=["split", "doc_id", "id", "text", "stance", "predicted_stance",
                                                  "stance_confidence", "tone", "predicted_tone",
                                                  "tone_confidence"]), "misclassified.json")


def _description(recipe: dict, rows: int, digest: str, metrics: dict, commit: dict) -> str:
    """A registered version's description: what it is, what it learnt from, how it scored."""
    scores = [f"{label} stance/tone macro-F1 {metrics[p + 'stance_macro_f1']:.3f}/{metrics[p + 'tone_macro_f1']:.3f}"
              for label, p in (("genre-shift", "gs_"), ("test split", "")) if p + "stance_macro_f1" in metrics]
    code = f"; code {commit['mlflow.source.git.commit'][:12]}" if commit else ""
    return (f"{recipe['name']} ({recipe['family']} family, {recipe['_path']}), trained on {rows} labelled "
            f"sentences (labels sha256 {digest[:12]}){code}. " + "; ".join(scores) + ".")


def train(recipe_path: str | Path, labels: str | Path = "labels", limit: int | None = None,
          register: bool = True, log=print, corpus: str | Path | None = None) -> dict:
    """Train a recipe on the training split, calibrate on dev, evaluate on the genre-shift split
    (metrics ``gs_*``) and the frozen test split, log everything to MLflow and register a version.

    The dev split is carved from the training split by document (never the test split); it
    drives early stopping and temperature calibration. ``limit`` keeps only the first N
    training rows (quick checks). Returns run id, version, metrics and the logged model's URI.
    """
    import mlflow

    recipe = load_recipe(recipe_path)
    if corpus is not None:  # unlabelled articles for the distill family
        recipe["model"] = {**(recipe.get("model") or {}), "corpus": str(corpus)}
    settings = {"dev_fraction": 0.15, "seed": 13, "calibrate": True, "hard_weight": 1.0, "refit": False,
                **(recipe.get("train") or {})}
    log(f"loading labels from {labels} ...")
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
    log(f"fitted in {train_seconds:.0f} s; evaluating on the test split ({len(test_rows)} sentences) ...")
    raw = evaluate.evaluate(test_rows, model.predict_proba(texts(test_rows)))
    if settings["calibrate"] and dev_rows:
        log(f"calibrating on the dev split ({len(dev_rows)} sentences) ...")
        model.calibrate(texts(dev_rows), targets(dev_rows))
    if settings["refit"] and dev_rows:
        log(f"refitting on training + dev ({len(fit_rows) + len(dev_rows)} sentences) ...")
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

    # int8 weights: kept only if they cost less than 1 point of stance macro-F1 on the
    # genre-shift split (the test split when there is none); "train": int8 from the start
    quantize = (recipe["model"] or {}).get("quantize", "auto")
    if hasattr(model, "quantized") and quantize and quantize != "train":
        log("quantising the encoder to int8 and scoring it on both splits ...")
        int8 = model.quantized()
        int8_proba = int8.predict_proba(texts(test_rows))
        int8_metrics = evaluate.evaluate(test_rows, int8_proba)
        int8_metrics["test_sentences_per_second"] = _throughput(int8, texts(test_rows))
        drop = metrics["stance_macro_f1"] - int8_metrics["stance_macro_f1"]
        if shift_rows:
            int8_metrics.update(evaluate.evaluate(shift_rows, int8.predict_proba(texts(shift_rows)), prefix="gs_"))
            drop = metrics["gs_stance_macro_f1"] - int8_metrics["gs_stance_macro_f1"]
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

    log(f"logging the run and the model to {registry.use_tracking()} ...")
    registry.fail_abandoned_runs(log)
    warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
    mlflow.set_experiment(recipe.get("experiment", "stance"))
    with mlflow.start_run(run_name=recipe["name"], tags=registry.owner_tags()) as run:
        mlflow.log_params(_flat_params(recipe))
        mlflow.log_params({"train_rows": len(fit_rows), "dev_rows": len(dev_rows), "test_rows": len(test_rows),
                           "genre_shift_rows": len(shift_rows),
                           "data_sha256": digest, **{f"train.{k}": v for k, v in settings.items()
                                                     if k not in (recipe.get("train") or {})}})
        mlflow.set_tags({"family": recipe["family"], "data_sha256": digest})
        commit = _git_commit()
        mlflow.set_tags(commit)
        mlflow.log_input(_dataset_input(fit_rows, "train"), context="training")
        mlflow.log_input(_dataset_input(test_rows, "test"), context="test")
        if shift_rows:
            mlflow.log_input(_dataset_input(shift_rows, "genre-shift"), context="evaluation")
        mlflow.log_metrics(metrics)
        for entry in getattr(model, "history_", []):
            mlflow.log_metrics({f"epoch_{k}": v for k, v in entry.items() if k != "epoch"}, step=entry["epoch"])
        _log_evaluation(recipe["name"], {"test": (test_rows, proba),
                                         **({"genre-shift": (shift_rows, shift_proba)} if shift_rows else {})})
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
            registry.describe(version, _description(recipe, len(fit_rows), digest, metrics, commit))
    if getattr(model, "work_dir_", None):  # the fine-tuned ONNX files now live in the MLflow store
        shutil.rmtree(model.work_dir_, ignore_errors=True)
    return {"run_id": run.info.run_id, "version": version, "metrics": metrics, "model_uri": model_uri}
