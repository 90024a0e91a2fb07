"""Scoring on Spark (`stance score --engine spark`): the local scorer's rows, computed on executors.

Executors read the article files (`articles.iter_articles`), then split, attribute and
predict each article with `score.score_documents` inside `mapInPandas`, so both engines share
one code path and write the same rows. The fitted model's folder is shipped to every
executor with `SparkContext.addFile`; input files must be readable at the same path on every node
(on one machine they are; on a cluster, use shared storage). Executors need this package
and the model's requirements installed.

Output: a Parquet folder. Articles with a ``date`` field are partitioned by its day
(``day=YYYY-MM-DD/``, from the first 10 characters), since an archive is read by date;
otherwise the folder is flat, one file per Spark partition.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from .articles import ArticleError, find_inputs
from .score import ScoreReport

TEXT_SUFFIXES = (".txt", ".md", ".text")  # one article per file: a repeated id is renamed to its path
ARTICLES_PER_CALL = 256  # articles scored together on an executor (bounds its memory)
ARTICLES_PER_PARTITION = 2000
_PREDICTORS: dict = {}  # per Python worker: the loaded model, reused across tasks


def session(master: str | None = None):
    """A SparkSession: ``master`` if given, else the one spark-submit set, else ``local[*]``."""
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError:
        raise ValueError("--engine spark needs pyspark: pip install -c constraints.txt pyspark") from None
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    if not master and not SparkConf().contains("spark.master"):
        master = "local[*]"
    if master and master.startswith("local"):
        # workers on this machine run in this environment, not whatever `python3` is on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("stance score").config("spark.ui.showConsoleProgress", "false")
    try:
        spark = (builder.master(master) if master else builder).getOrCreate()
    except Exception as err:  # pyspark's error when the JVM cannot start
        if "JAVA_GATEWAY_EXITED" in str(err) or "JAVA_HOME" in str(err):
            raise ValueError("Spark could not start Java: install a JRE 17+ (e.g. apt-get install "
                             "openjdk-17-jre-headless) or set JAVA_HOME") from None
        raise
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _read_file(item):
    """Article rows of one input file; a problem (bad file or row) is a row too, for the report."""
    from .articles import ArticleError, iter_articles

    index, name, path = item
    problems: list[str] = []
    try:
        for row, article in enumerate(iter_articles(Path(path), problems)):
            yield name, index, row, article.doc_id, article.text, json.dumps(article.meta), None
    except (ArticleError, OSError) as err:
        problems.append(str(err))
    for line in problems:
        yield name, index, -1, None, None, None, line


def read_articles(spark, files: list[Path]):
    """A DataFrame of the articles (or problems) in ``files``, read on the executors."""
    schema = ("file string, file_index int, row int, doc_id string, text string, meta string, "
              "problem string")
    items = [(i, str(f), str(Path(f).resolve())) for i, f in enumerate(files)]
    slices = max(1, min(len(items), 4 * spark.sparkContext.defaultParallelism))
    return spark.createDataFrame(spark.sparkContext.parallelize(items, slices).flatMap(_read_file), schema)


def unique_ids(articles):
    """Rename repeated ids as the local scorer does: the file's path for a text file, else
    ``id#N`` for the N-th article with that id (in input order)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    n = F.row_number().over(Window.partitionBy("doc_id").orderBy("file_index", "row"))
    suffix = F.lower(F.regexp_extract("file", r"(\.[^./]+)$", 1))
    renamed = (F.when(n == 1, F.col("doc_id")).when(suffix.isin(*TEXT_SUFFIXES), F.col("file"))
               .otherwise(F.concat_ws("#", "doc_id", n.cast("string"))))
    return articles.withColumn("doc_id", renamed)


def _meta_keys(articles) -> list[str]:
    """Every metadata field of the input, in input order."""
    from pyspark.sql import functions as F

    keys = F.map_keys(F.from_json("meta", "map<string,string>"))
    found = (articles.select("file_index", "row", F.posexplode(keys).alias("pos", "key"))
             .groupBy("key").agg(F.min(F.struct("file_index", "row", "pos")).alias("first"))
             .orderBy("first").collect())
    return [r.key for r in found]


def output_schema(predictor, keys: list[str]):
    """The Spark schema of the output rows: `outputs.BASE_SCHEMA`, then metadata as strings,
    named as `score_documents` names them (it renames a field that clashes with a column)."""
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StringType, StructField

    from .outputs import BASE_SCHEMA
    from .score import score_documents

    probe = score_documents(predictor, [("probe", "A probe sentence.", dict.fromkeys(keys))])[0]
    schema = from_arrow_schema(BASE_SCHEMA)
    for name in list(probe)[len(BASE_SCHEMA):]:
        schema = schema.add(StructField(name, StringType()))
    return schema


def _predictor(model_name: str, version: str, batch_size: int | None):
    """The shipped fitted model, loaded once per Python worker (without importing mlflow)."""
    from pyspark import SparkFiles

    from .models import load_model_dir
    from .predict import Predictor

    key = (model_name, version, batch_size)
    if key not in _PREDICTORS:
        model = load_model_dir(SparkFiles.get(model_name))
        _PREDICTORS[key] = Predictor(model, version=version, batch_size=batch_size)
    return _PREDICTORS[key]


def _scorer(model_name: str, version: str, batch_size: int | None, keys: list[str], columns: list[str]):
    """The mapInPandas function: article frames in, sentence row frames out. Every article
    gets every metadata key (None where it has none), so no column is ever missing."""

    def score(frames):
        import pandas as pd

        from .score import score_documents

        predictor = _predictor(model_name, version, batch_size)
        for frame in frames:
            for start in range(0, len(frame), ARTICLES_PER_CALL):
                part = frame.iloc[start:start + ARTICLES_PER_CALL]
                docs = [(d, t, dict.fromkeys(keys) | json.loads(m))
                        for d, t, m in zip(part["doc_id"], part["text"], part["meta"])]
                rows = score_documents(predictor, docs)
                if rows:
                    yield pd.DataFrame(rows, columns=columns)

    return score


def _model_dir(model: str, tmp: Path) -> Path:
    """A local model directory: ``model`` itself, or an export of it."""
    if Path(model).is_dir():
        return Path(model)
    from .registry import export

    return export(model, tmp / "model")


def _fitted_dir(model_dir: Path) -> Path:
    """The fitted-model folder to ship: the MLflow folder's artifact, or ``model_dir`` itself."""
    from .models import META_FILE

    if (model_dir / META_FILE).exists():
        return model_dir
    found = sorted(model_dir.glob(f"artifacts/*/{META_FILE}"))
    if not found:
        raise ValueError(f"{model_dir}: holds no stance model (no artifacts/*/{META_FILE})")
    return found[0].parent


def score_spark(inputs: list[str | Path], out: str | Path, model: str, master: str | None = None,
                force: bool = False, batch_size: int | None = None, partitions: int | None = None,
                log=None) -> ScoreReport:
    """Score every article under ``inputs`` on Spark into the Parquet folder ``out``.

    Bad files and rows are reported to ``log`` (default: stderr) and skipped, as locally. The
    folder appears only once complete (written beside it, then renamed).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from .predict import load

    log = log or sys.stderr
    out = Path(out)
    if out.suffix != ".parquet":
        raise ValueError(f"{out}: the Spark engine writes a Parquet folder; name it NAME.parquet")
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to overwrite)")
    files = [f for f in find_inputs(inputs) if out.resolve() not in f.resolve().parents]
    if not files:
        raise ArticleError(f"{', '.join(map(str, inputs))}: no article files found")
    report = ScoreReport()
    with tempfile.TemporaryDirectory(prefix="stance-spark-") as tmp:
        model_dir = _model_dir(model, Path(tmp))
        predictor = load(model_dir, batch_size=batch_size)
        spark = session(master)
        shipped = _fitted_dir(model_dir).resolve()
        spark.sparkContext.addFile(str(shipped), recursive=True)
        read = read_articles(spark, files).persist(StorageLevel.MEMORY_AND_DISK)
        for row in read.where("problem IS NOT NULL").select("problem").collect():
            report.skipped.append(row.problem)
            print(f"skipped: {row.problem}", file=log)
        found = read.where("problem IS NULL")
        report.documents = found.count()
        keys = _meta_keys(found)
        schema = output_schema(predictor, keys)
        count = partitions or max(spark.sparkContext.defaultParallelism,
                                  math.ceil(report.documents / ARTICLES_PER_PARTITION))
        # one shuffle, by id: repeated ids meet for renaming, in the partitions that are scored
        articles = unique_ids(found.repartition(count, "doc_id"))
        scored = (articles.select("doc_id", "text", "meta")
                  .mapInPandas(_scorer(shipped.name, predictor.version, batch_size, keys,
                                       schema.fieldNames()), schema))
        writer = scored.write.mode("overwrite")
        if "date" in keys:
            writer = scored.withColumn("day", F.substring("date", 1, 10)).write.mode("overwrite").partitionBy("day")
        staging = out.with_name(f".{out.name}.spark-tmp")
        writer.parquet(str(staging.resolve()))
        read.unpersist()
        report.sentences = spark.read.parquet(str(staging.resolve())).count()
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    os.replace(staging, out)
    return report
