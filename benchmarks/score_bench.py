"""End-to-end speed and memory of `stance score`: reading, splitting, speakers, the model, writing.

Corpus: the labelled articles (`stance labels articles`) repeated under new ids into one JSONL
file of --articles articles (with `date` and `source` fields, which are carried to the output).
Each model is run as a real `stance score` process; wall time, articles/s, sentences/s and the
process's peak RSS are reported in one table beside the model alone (load time, sentences/s at
batch 1, 32 and 128, each model in a fresh process; `bench.measure`), all measured in one run.

    python benchmarks/score_bench.py --model exported/tfidf exported/mpnet --articles 50000 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_corpus(n: int, out: Path) -> Path:
    """``n`` articles written from labels/ into one JSONL file (ids made unique per copy)."""
    from stance.data import article_texts, load_labels

    texts = list(article_texts(load_labels(ROOT / "labels")).items())
    with open(out, "w", encoding="utf-8") as sink:
        for i in range(n):
            doc_id, text = texts[i % len(texts)]
            sink.write(json.dumps({"id": f"{doc_id}-{i}", "text": text, "source": "bench",
                                   "date": f"2026-{1 + i % 12:02d}-01"}) + "\n")
    return out


def run_score(model: str, corpus: Path, out: Path, *extra: str) -> dict:
    """One `stance score` process: wall seconds, its own peak RSS and the counts it printed."""
    log = out.with_suffix(".log")
    started = time.perf_counter()
    with open(log, "w") as sink:
        child = subprocess.Popen([sys.executable, "-m", "stance.cli", "score", str(corpus), "--model", model,
                                  "--out", str(out), "--force", *extra], stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's rusage alone
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"stance score failed:\n{log.read_text()}")
    words = next(line for line in log.read_text().splitlines() if line.startswith("scored")).split()
    return {"wall_s": wall, "articles": int(words[1]), "sentences": int(words[3]),
            "peak_rss_mb": usage.ru_maxrss / 1024}


def model_only(model: str, limit: int, repeat: int) -> dict:
    """The model alone (`bench.measure`, in a fresh process): load time and sentences/s at batch
    1, 32 and 128 on the first ``limit`` sentences of labels/articles."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import measure

    return measure(model, repeat=repeat, limit_batch1=min(limit, 128), sentences=limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, nargs="+", help="exported model folders or models:/ URIs")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000],
                        help="corpus sizes (one value per model, or one for all)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--model-sentences", type=int, default=640, help="sentences for the model-only figures")
    parser.add_argument("--repeat", type=int, default=2, help="model-only: best of this many runs")
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args()
    one_each = len(args.model) > 1 and len(args.articles) == len(args.model)
    sizes = [[n] for n in args.articles] if one_each else [args.articles] * len(args.model)
    rows = []
    with tempfile.TemporaryDirectory(prefix="score-bench-") as tmp:
        for model, ns in zip(args.model, sizes):
            own = model_only(model, args.model_sentences, args.repeat)
            for n in ns:
                corpus = make_corpus(n, Path(tmp) / f"corpus-{n}.jsonl")
                for workers in args.workers:
                    print(f"scoring {n} articles with {model}, {workers} worker(s) ...", flush=True)
                    result = run_score(model, corpus, Path(tmp) / "out.parquet", "--workers", str(workers))
                    rows.append({"model": model, "workers": workers, **result,
                                 **{f"model_{k}": v for k, v in own.items()}})
                    os.unlink(Path(tmp) / "out.parquet")
    print("\n| model | articles | workers | wall s | articles/s | sentences/s end to end | model alone @1 "
          "| @32 | @128 | end to end / model @32 | load s | peak RSS MB (scorer) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rate = r["sentences"] / r["wall_s"]
        print(f"| {Path(r['model']).name} | {r['articles']:,} | {r['workers']} | {r['wall_s']:.1f} "
              f"| {r['articles'] / r['wall_s']:,.0f} | {rate:,.0f} | {r['model_batch_1']:,.0f} "
              f"| {r['model_batch_32']:,.0f} | {r['model_batch_128']:,.0f} | {rate / r['model_batch_32']:.0%} "
              f"| {r['model_load_s']:.1f} | {r['peak_rss_mb']:.0f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
