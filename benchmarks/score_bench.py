"""End-to-end speed and memory of `stance score`: reading, splitting, speakers, the model, writing.

Corpus: the labelled articles (`stance labels articles`) repeated under new ids into one JSONL
file of --articles articles (with `date` and `source` fields, which are carried to the output).
Each model is run as a real `stance score` process; wall time, articles/s, sentences/s and the
process's peak RSS are reported, beside the model's own sentences/s on the same sentences.

    python benchmarks/score_bench.py --model /path/to/exported/tfidf --articles 1000 50000
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


def model_only(model: str, corpus: Path, limit: int) -> dict:
    """The model's own sentences/s at batch 32 on the corpus's sentences, and its load time."""
    from stance.articles import split_sentences
    from stance.predict import load

    started = time.perf_counter()
    predictor = load(model, batch_size=32)
    load_s = time.perf_counter() - started
    texts = []
    with open(corpus, encoding="utf-8") as rows:
        for line in rows:
            texts.extend(s.text for s in split_sentences(json.loads(line)["text"]))
            if len(texts) >= limit:
                break
    texts = texts[:limit]
    predictor.predict_proba(texts[:64])
    t = time.perf_counter()
    predictor.predict_proba(texts)
    return {"load_s": load_s, "model_sentences_per_s": len(texts) / (time.perf_counter() - t)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="exported model folder or models:/ URI")
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--model-sentences", type=int, default=20000,
                        help="sentences for the model-only figure (give mpnet models ~600)")
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="score-bench-") as tmp:
        for n in args.articles:
            corpus = make_corpus(n, Path(tmp) / f"corpus-{n}.jsonl")
            own = model_only(args.model, corpus, args.model_sentences)
            for workers in args.workers:
                result = run_score(args.model, corpus, Path(tmp) / "out.parquet", "--workers", str(workers))
                rows.append({"model": args.model, "workers": workers, **result, **own})
                os.unlink(Path(tmp) / "out.parquet")
    print("| model | articles | workers | wall s | articles/s | sentences/s | model-only sentences/s "
          "| end-to-end / model | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rate = r["sentences"] / r["wall_s"]
        print(f"| {Path(r['model']).name} | {r['articles']:,} | {r['workers']} | {r['wall_s']:.1f} "
              f"| {r['articles'] / r['wall_s']:,.0f} | {rate:,.0f} | {r['model_sentences_per_s']:,.0f} "
              f"| {rate / r['model_sentences_per_s']:.0%} | {r['peak_rss_mb']:.0f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
