"""Throughput of `stance score` on Spark against the local scorer, on the same articles.

Corpus: the articles of labels/articles, repeated under new ids up to --articles, in one
JSONL file. Both engines score it into Parquet with the same model; each is timed end to end
(loading the model, reading, splitting, speakers, prediction, writing). The Spark time
excludes starting the JVM (once per job on a cluster), reported on its own.

    python benchmarks/spark_bench.py --model models/champion --articles 4000 --master local[2]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_corpus(path: Path, n: int) -> None:
    """``n`` articles (labels/articles repeated under new ids) as JSONL."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "labels" / "articles").glob("*.txt"))]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"a{i}", "text": texts[i % len(texts)]}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="an exported model folder, e.g. models/champion")
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workers", type=int, default=1, help="the local scorer's --workers")
    args = parser.parse_args()

    from stance.predict import load
    from stance.score import score_articles
    from stance.spark import score_spark, session

    with tempfile.TemporaryDirectory(prefix="stance-spark-bench-") as tmp:
        tmp = Path(tmp)
        write_corpus(tmp / "corpus.jsonl", args.articles)
        started = time.perf_counter()
        predictor = load(args.model)
        local = score_articles([tmp / "corpus.jsonl"], tmp / "local.parquet", predictor, workers=args.workers)
        local_s = time.perf_counter() - started

        started = time.perf_counter()
        session(args.master)
        jvm_s = time.perf_counter() - started
        started = time.perf_counter()
        spark = score_spark([tmp / "corpus.jsonl"], tmp / "spark.parquet", args.model, master=args.master,
                            log=io.StringIO())
        spark_s = time.perf_counter() - started
    assert spark.sentences == local.sentences, (spark.sentences, local.sentences)
    print(f"model {predictor.version}, {local.documents} articles, {local.sentences} sentences")
    print(f"local (workers={args.workers}): {local_s:.1f} s, {local.sentences / local_s:,.0f} sentences/s")
    print(f"spark ({args.master}): {spark_s:.1f} s, {spark.sentences / spark_s:,.0f} sentences/s "
          f"(+ {jvm_s:.1f} s starting the JVM); spark/local time {spark_s / local_s:.2f}x")


if __name__ == "__main__":
    main()
