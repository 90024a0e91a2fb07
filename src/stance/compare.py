"""`stance compare`: every registered version and the two baselines on the genre-shift split
(``gs_*`` columns: text in the genres real feeds carry) beside the frozen test split.

Each model is evaluated in a fresh subprocess so that load time, throughput and peak memory
(RSS) are its own. The table is printed, logged to MLflow as an artifact of a `compare` run,
and with ``promote=True`` the best version gets the `champion` alias: best stance macro-F1 on
the genre-shift split (tone breaks ties), or on the test split when there is no genre-shift
split. The decision and the table are recorded as tags on that version.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

from .schema import STANCES

BASELINES = ("lexicon", "zeroshot")
SPLIT_COLUMNS = (["stance_macro_f1", "tone_macro_f1", "hard_stance_macro_f1"]
                 + [f"stance_f1_{s}" for s in STANCES] + ["stance_ece", "tone_ece"])
COLUMNS = (["model"] + [f"gs_{c}" for c in SPLIT_COLUMNS] + SPLIT_COLUMNS
           + ["sentences_per_s", "load_s", "peak_rss_mb"])


def _evaluate_one(source: str, labels: str, tracking: str | None, batch_size: int, queue) -> None:
    """Child process: load one model, score the test split, report metrics and resources."""
    import os
    import resource

    if tracking:
        os.environ["MLFLOW_TRACKING_URI"] = tracking
    from . import data, evaluate
    from .predict import Predictor, load

    try:
        test = data.load_test_rows(labels)
        shift = data.load_genre_shift_rows(labels)
        texts = [r["text"] for r in test]
        started = time.perf_counter()
        if source in BASELINES:
            from .models import build_model

            predictor = Predictor(build_model(source, {}).fit(None, None), version=source, batch_size=batch_size)
        else:
            predictor = load(source, batch_size=batch_size)
        load_s = time.perf_counter() - started
        predictor.predict_proba(texts[:batch_size])  # warm-up
        # best of up to 3 passes (stopping after 5 s): one pass is too noisy on a shared machine
        seconds = []
        while len(seconds) < 3 and sum(seconds) < 5.0:
            started = time.perf_counter()
            proba = predictor.predict_proba(texts)
            seconds.append(time.perf_counter() - started)
        speed = len(texts) / min(seconds)
        metrics = evaluate.evaluate(test, proba)
        if shift:
            metrics.update(evaluate.evaluate(shift, predictor.predict_proba([r["text"] for r in shift]), prefix="gs_"))
        metrics.update({"sentences_per_s": speed, "load_s": load_s,
                        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        queue.put(metrics)
    except Exception as err:  # noqa: BLE001 - reported in the table, the comparison goes on
        queue.put({"error": f"{type(err).__name__}: {err}"})


def evaluate_in_subprocess(source: str, labels: str = "labels", batch_size: int = 32) -> dict:
    from .registry import tracking_uri

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_evaluate_one, args=(source, str(labels), tracking_uri(), batch_size, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def compare(labels: str | Path = "labels", baselines: bool = True, log=print) -> list[dict]:
    """One row per registered version (``stance/N``) and per baseline, with the table's columns."""
    from . import registry

    registry.use_tracking()
    registry.fail_abandoned_runs(log)
    rows = []
    sources = [(f"stance/{v['version']}", f"models:/stance/{v['version']}", v) for v in registry.list_versions()]
    if baselines:
        sources += [(f"baseline:{b}", b, None) for b in BASELINES]
    for name, source, version in sources:
        log(f"evaluating {name} ...")
        result = evaluate_in_subprocess(source, labels)
        row = {"model": name, **{c: result.get(c) for c in COLUMNS[1:]}}
        # every metric (tone per class, precision and recall too) goes to compare.json
        row["all_metrics"] = {k: v for k, v in result.items() if k != "error"}
        if version:
            row["family"] = version["tags"].get("family", "")
            row["aliases"] = ",".join(version["aliases"])
        if "error" in result:
            row["error"] = result["error"]
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """A Markdown table of the comparison."""
    def cell(value):
        return f"{value:.3f}" if isinstance(value, float) else ("" if value is None else str(value))

    header = COLUMNS + ["aliases"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(c)) for c in header) + " |")
    return "\n".join(lines)


def selection_split(rows: list[dict]) -> str:
    """The metric prefix champion selection uses: ``gs_`` (genre-shift) when it was measured."""
    return "gs_" if any(r.get("gs_stance_macro_f1") is not None for r in rows) else ""


def best_version(rows: list[dict]) -> dict | None:
    """The registered version with the best stance macro-F1 on the genre-shift split (the test
    split when there is none); tone macro-F1, then the other split, break ties."""
    prefix = selection_split(rows)
    other = "" if prefix else "gs_"
    candidates = [r for r in rows if r["model"].startswith("stance/") and r.get(f"{prefix}stance_macro_f1") is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r[f"{prefix}stance_macro_f1"], r[f"{prefix}tone_macro_f1"],
                                          r.get(f"{other}stance_macro_f1") or 0.0))


def log_and_promote(rows: list[dict], promote: bool = False) -> dict:
    """Log the table to MLflow (a `compare` run); with ``promote``, move `champion` to the best version."""
    import mlflow

    from . import registry

    table = format_table(rows)
    best = best_version(rows)
    decision = {}
    mlflow.set_experiment("stance-compare")
    with mlflow.start_run(run_name="compare", tags=registry.owner_tags()) as run:
        mlflow.log_text(table, "compare.md")
        mlflow.log_text(json.dumps(rows, indent=2), "compare.json")
        for row in rows:
            name = row["model"].replace(":", "_").replace("/", "_")
            for key in ("gs_stance_macro_f1", "gs_tone_macro_f1", "stance_macro_f1", "tone_macro_f1"):
                if row.get(key) is not None:
                    mlflow.log_metric(f"{name}_{key}", row[key])
    if promote and best:
        version = best["model"].split("/", 1)[1]
        previous = registry.alias_version("champion")
        prefix = selection_split(rows)
        split = "genre-shift split" if prefix else "test split"
        decision = {"version": version, "previous": previous, "run_id": run.info.run_id,
                    "reason": f"best stance macro-F1 {best[prefix + 'stance_macro_f1']:.4f} on the {split} "
                              f"(tone macro-F1 {best[prefix + 'tone_macro_f1']:.4f} breaks ties)"}
        from .promote import move_champion

        move_champion(version)
        registry.set_version_tags(version, {
            "compare.decision": f"champion by evidence: {decision['reason']}; previous champion {previous}",
            "compare.run_id": run.info.run_id,
            "compare.table": table[:7500],
        })
    return {"run_id": run.info.run_id, "table": table, "best": best, "decision": decision}
