"""Speed and memory of each model family on 2 CPU cores.

Corpus: the articles in labels/articles, split into sentences exactly as `stance score` does
(the first --sentences of them, default all; mpnet models score ~20 sentences/s, so give them
a sample). For each recipe's newest registered version, in a fresh process: load time,
sentences/s at batch sizes 1, 32 and 128 (best of --repeat runs, default 5, after a warm-up),
peak RSS, and the training wall time logged with the version's run. Writes a Markdown table to
stdout and JSON to --out.

    python benchmarks/bench.py --out benchmarks/results.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZES = (1, 32, 128)


def corpus(folder: Path = ROOT / "labels" / "articles") -> list[str]:
    from stance.articles import read_file, split_sentences

    sentences = []
    for path in sorted(folder.glob("*.txt")):
        for _, text in read_file(path):
            sentences.extend(s.text for s in split_sentences(text))
    return sentences


def _measure(source: str, repeat: int, limit_batch1: int, sentences: int | None, queue) -> None:
    from stance.models import build_model
    from stance.predict import Predictor, load

    texts = corpus()[:sentences]
    started = time.perf_counter()
    if source in ("lexicon", "zeroshot"):
        predictor = Predictor(build_model(source, {}).fit(None, None))
    else:
        predictor = load(source)
    result = {"load_s": time.perf_counter() - started, "sentences": len(texts)}
    for batch in BATCH_SIZES:
        predictor.batch_size = batch
        sample = texts[:limit_batch1] if batch == 1 else texts
        predictor.predict_proba(sample[:batch * 2])  # warm-up
        best = 0.0
        for _ in range(repeat):
            t = time.perf_counter()
            predictor.predict_proba(sample)
            best = max(best, len(sample) / (time.perf_counter() - t))
        result[f"batch_{batch}"] = best
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(result)


def measure(source: str, repeat: int = 5, limit_batch1: int = 600, sentences: int | None = None) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure, args=(source, repeat, limit_batch1, sentences, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def newest_versions() -> dict[str, tuple[str, float | None]]:
    """recipe name -> (models:/stance/N of its newest version, training seconds of that run)."""
    from mlflow import MlflowClient

    from stance import registry

    registry.use_tracking()
    client = MlflowClient()
    found = {}
    for v in registry.list_versions():
        if v["tags"].get("family"):
            run = client.get_run(v["run_id"])
            found[run.info.run_name] = (f"models:/stance/{v['version']}", run.data.metrics.get("train_seconds"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--families", nargs="*", help="only these recipes (run names) or baselines")
    parser.add_argument("--sentences", type=int, help="score only the first N corpus sentences")
    parser.add_argument("--limit-batch1", type=int, default=600, help="sentences scored one at a time")
    args = parser.parse_args()
    sources = {f: s for f, s in newest_versions().items()}
    sources.update({"lexicon": ("lexicon", None), "zeroshot": ("zeroshot", None)})
    rows = []
    for family, (source, train_s) in sources.items():
        if args.families and family not in args.families:
            continue
        print(f"measuring {family} ({source}) ...", flush=True)
        rows.append({"family": family, "source": source, "train_s": train_s, **measure(source, args.repeat, args.limit_batch1, args.sentences)})
    Path(args.out).write_text(json.dumps(rows, indent=2))
    print("\n| recipe | source | sentences/s @1 | @32 | @128 | load s | peak RSS MB | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        train = f"{r['train_s']:.0f}" if r["train_s"] else "—"
        print(f"| {r['family']} | {r['source']} | {r['batch_1']:.0f} | {r['batch_32']:.0f} | {r['batch_128']:.0f} "
              f"| {r['load_s']:.1f} | {r['peak_rss_mb']:.0f} | {train} |")


if __name__ == "__main__":
    main()
