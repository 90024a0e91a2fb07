"""The `stance` command line: thin wrappers over the library's functions.

Every command prints a one-line error naming the file and the problem (no traceback) and
exits non-zero on bad input.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

DEFAULT_MODEL = "models:/stance@champion"
DEFAULT_RECIPE = "training/embed_mpnet.yaml"
MODEL_HELP = "model URI or exported model folder (default: %(default)s)"
LABELS_HELP = "folder of label batches (default: %(default)s)"


def _print_metrics(metrics: dict) -> None:
    keys = ["stance_macro_f1", "tone_macro_f1", "hard_stance_macro_f1", "stance_accuracy",
            "tone_accuracy", "train_seconds"]
    print("  " + "  ".join(f"{k}={metrics[k]:.3f}" for k in keys if k in metrics))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _where_runs_are() -> str:
    from .registry import tracking_uri

    uri = tracking_uri()
    return f"runs and models are in {uri}; browse them with: mlflow ui --backend-store-uri {uri}"


def cmd_train(args) -> int:
    from .train import train

    result = train(args.recipe, labels=args.labels, limit=args.limit, log=_progress, corpus=args.corpus)
    print(f"run {result['run_id']} -> registered stance version {result['version']}")
    _print_metrics(result["metrics"])
    _progress(_where_runs_are())
    return 0


def _score_spark(args) -> int:
    from .score import summarise
    from .spark import score_spark

    report = score_spark(args.inputs, args.out, args.model, master=args.master, force=args.force,
                         batch_size=args.batch_size)
    print(f"scored {report.documents} articles, {report.sentences} sentences on Spark -> {args.out}")
    if args.summary:
        print(summarise(args.out))
    return 2 if report.skipped else 0


def cmd_score(args) -> int:
    if args.engine == "spark":
        return _score_spark(args)
    from .predict import load
    from .score import check_output, score_articles, summarise

    check_output(args.out, args.force)
    predictor = load(args.model, batch_size=args.batch_size)
    report = score_articles(args.inputs, args.out, predictor, force=args.force, workers=args.workers,
                            batch_sentences=args.checkpoint_every)
    resumed = f" ({report.resumed} resumed from an interrupted run)" if report.resumed else ""
    print(f"scored {report.documents} articles, {report.sentences} sentences{resumed} -> {args.out}")
    if args.summary:
        print(summarise(args.out))
    if report.skipped:
        print(f"{len(report.skipped)} file(s) or row(s) skipped (listed above); everything else "
              f"was scored", file=sys.stderr)
        return 2
    return 0


def cmd_export(args) -> int:
    from .registry import export

    out = export(args.model, Path(args.out), force=args.force)
    print(f"exported {args.model} -> {out}")
    return 0


def cmd_serve(args) -> int:
    from .registry import check_model, tracking_uri

    version = check_model(args.model)  # a one-line error here rather than a traceback from the server
    # MLflow starts the server as `exec uvicorn ...` through the shell: put this environment's
    # scripts first on PATH so it is found even when the virtual environment is not activated.
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri(),
           "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}
    if not Path(args.model).is_dir():  # an exported folder names its own version
        env["STANCE_MODEL_VERSION"] = version
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", args.model,
               "--env-manager", "local", "-h", args.host, "-p", str(args.port)]
    print(" ".join(command[2:]), file=sys.stderr)
    # The server (MLflow, then uvicorn and its workers) runs in its own process group; a SIGTERM
    # or Ctrl-C here is passed to the whole group, so nothing is left holding the port.
    # preexec_fn is safe here: this process runs no threads
    die_with_parent = _die_with_parent if sys.platform.startswith("linux") else None
    server = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=die_with_parent)  # noqa: PLW1509
    stopped = []

    def forward(signum, frame):
        stopped.append(signum)
        _signal_group(server.pid, signum)

    handlers = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = server.wait()
    finally:
        _stop_group(server.pid)
        for s, handler in handlers.items():
            signal.signal(s, handler)
    if stopped:
        print(f"stopped the server on {args.host}:{args.port}", file=sys.stderr)
        return 0
    return code


def _die_with_parent() -> None:
    """Run in the server's process before it starts: SIGTERM it if `stance serve` dies, even by kill -9."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _signal_group(pgid: int, signum: int) -> bool:
    """Send a signal to a process group; False when the group is gone."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop_group(pgid: int, grace: float = 10.0) -> None:
    """Wait up to ``grace`` seconds for what is left of the group to exit, then kill it."""
    import time

    deadline = time.monotonic() + grace
    while _signal_group(pgid, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)


def cmd_compare(args) -> int:
    from .compare import compare, log_and_promote

    rows = compare(args.labels, baselines=not args.no_baselines, log=lambda m: print(m, file=sys.stderr))
    result = log_and_promote(rows, promote=args.promote)
    print(result["table"])
    for row in rows:
        if row.get("error"):
            print(f"error: {row['model']}: {row['error']}", file=sys.stderr)
    if result["decision"]:
        print(f"champion -> stance/{result['decision']['version']}: {result['decision']['reason']}")
    elif args.promote:
        print("no registered version to promote", file=sys.stderr)
        return 1
    return 0


def cmd_promote(args) -> int:
    from .promote import promote

    result = promote(args.labels, force=args.force)
    if result["table"]:
        print(result["table"])
    if not result["table"]:
        print(f"champion -> stance/{result['challenger']} (there was no other champion)")
        return 0
    print(f"{result['decision']}")
    if result["promoted"]:
        print(f"champion -> stance/{result['challenger']}; previous -> stance/{result['champion']} "
              f"(undo with: stance rollback)")
        return 0
    print("champion unchanged (use --force to promote anyway)", file=sys.stderr)
    return 1


def cmd_rollback(args) -> int:
    from .promote import champion_history, rollback

    restored, demoted = rollback()
    older = len(champion_history())
    print(f"champion -> stance/{restored} (was stance/{demoted}); "
          f"{older} older champion(s) left to roll back to")
    return 0


def cmd_labels_import(args) -> int:
    from .batches import import_batch

    report = import_batch(args.file, args.batch, labels=args.labels, fmt=args.format,
                          skip_invalid=args.skip_invalid, annotator=args.annotator)
    for line in report.errors:
        print(f"rejected: {line}", file=sys.stderr)
    for line in report.conflicts:
        print(f"conflict: {line}", file=sys.stderr)
    target = report.path or "(nothing new to write)"
    print(f"{args.file}: {report.written} new rows -> {target}; {report.skipped_same} already labelled the same, "
          f"{report.in_test_split} in the test split (kept out), {len(report.conflicts)} conflicts, "
          f"{report.rejected} rejected")
    if report.conflicts:
        print("conflicting rows are kept in the batch and left out of training until settled with: "
              "stance labels resolve ID --stance S --tone T", file=sys.stderr)
    return 0


def cmd_labels_conflicts(args) -> int:
    from .batches import list_conflicts

    found = list_conflicts(args.labels)
    for line in found:
        print(line)
    print(f"{len(found)} unresolved conflict(s); settle one with: stance labels resolve ID --stance S --tone T",
          file=sys.stderr)
    return 1 if found else 0


def cmd_labels_resolve(args) -> int:
    from .batches import resolve

    n = resolve(args.row, args.stance, args.tone, args.labels)
    print(f"resolved: {n} row(s) now {args.stance}/{args.tone}")
    return 0


def cmd_labels_audit(args) -> int:
    import json as _json

    from .audit import audit

    review, batches = audit(args.labels, folds=args.folds)
    lines = [_json.dumps(r, ensure_ascii=False) for r in review[: args.top]]
    if args.out:
        from .score import write_text

        write_text(Path(args.out), "\n".join(lines) + "\n")
        print(f"{len(review)} likely label errors; top {len(lines)} -> {args.out}")
    else:
        print("\n".join(lines))
        print(f"{len(review)} likely label errors (showing {len(lines)})", file=sys.stderr)
    print("batch                                     rows  stance-mix  tone-mix  note")
    for b in batches:
        note = "UNUSUAL label mix" if b["unusual"] else ""
        print(f"{b['batch']:<40}{b['rows']:>6}{b.get('stance_js_distance', 0):>12.3f}"
              f"{b.get('tone_js_distance', 0):>10.3f}  {note}")
    return 0


def cmd_summarise(args) -> int:
    from .summaries import summarise

    paths = summarise(args.scores, args.out_dir, fmt=args.format, period=args.period, force=args.force)
    for name, path in paths.items():
        print(f"{name} -> {path}")
    return 0


def cmd_report(args) -> int:
    from .report import build_report

    result = build_report(args.scores, args.out, articles=args.articles, per_page=args.per_page,
                          force=args.force)
    print(f"report of {result['articles']} articles, {result['sentences']} sentences "
          f"({result['bytes'] / 1e6:.1f} MB) -> {args.out}")
    return 0


def cmd_suggest(args) -> int:
    from .suggest import suggest

    n = suggest(args.scores, args.n, args.out, fmt=args.format, method=args.method, force=args.force)
    print(f"{n} sentences to label -> {args.out}")
    return 0


def cmd_labels_validate(args) -> int:
    from .batches import list_conflicts
    from .data import load_training_labels, read_test_docs

    # Invalid rows and duplicate ids fail; a conflict is a pending decision, as in training.
    rows, conflicts = load_training_labels(args.labels)
    test = read_test_docs(args.labels)
    for line in list_conflicts(args.labels):
        print(f"conflict: {line}", file=sys.stderr)
    pending = (f", {len(conflicts)} unresolved conflict(s) left out of training (settle with: stance labels "
               f"resolve ID --stance S --tone T)") if conflicts else ""
    print(f"{args.labels}: {len(rows)} sentences in {len({r['doc_id'] for r in rows})} articles, "
          f"{len(test)} test articles{pending}: OK")
    return 0


def cmd_labels_articles(args) -> int:
    from .data import article_texts, load_labels
    from .score import write_text

    texts = article_texts(load_labels(args.labels))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for doc_id, text in texts.items():
        write_text(out / f"{doc_id}.txt", text)
    print(f"wrote {len(texts)} articles to {out}")
    return 0


def cmd_weights(args) -> int:
    from .weights import encoder_path

    print(f"{args.encoder}: {encoder_path(args.encoder)}")
    return 0


def cmd_quickstart(args) -> int:
    """The README's main job: train the default model if none is champion, then score the examples."""
    from . import registry
    from .predict import load
    from .score import score_articles, summarise
    from .train import train

    registry.use_tracking()
    if registry.alias_version("champion") is None:
        print(f"no champion registered yet: training {args.recipe} ...")
        result = train(args.recipe, labels=args.labels, log=_progress)
        print(f"registered stance version {result['version']} as champion")
        _print_metrics(result["metrics"])
    predictor = load(DEFAULT_MODEL)
    # The quick start rewrites its own demo output on every run.
    report = score_articles([args.examples], args.out, predictor, force=True)
    print(f"model {predictor.version}: scored {report.documents} articles -> {args.out}")
    print(summarise(args.out))
    print(_where_runs_are())
    return 2 if report.skipped else 0


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return number


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stance")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a recipe, log it to MLflow and register a version")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe file in training/ (default: %(default)s)")
    p.add_argument("--labels", default="labels", help="folder of label batches (default: %(default)s)")
    p.add_argument("--limit", type=int, help="train on the first N training rows only (quick checks)")
    p.add_argument("--corpus", help="articles (files or a folder) whose sentences the distill family "
                                     "learns from the teacher, unlabelled")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("score", help="score articles (.txt, .jsonl or folders) into jsonl/csv/parquet")
    p.add_argument("inputs", nargs="+", help="article files or folders")
    p.add_argument("--out", required=True, help="output file: .jsonl, .csv or .parquet")
    p.add_argument("--model", default=DEFAULT_MODEL, help="model URI or directory (default: %(default)s)")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="sentences per model call (default: the model batches by itself)")
    p.add_argument("--checkpoint-every", type=_positive_int, default=4096, metavar="N",
                   help="sentences per saved batch: an interrupted run loses at most this many "
                        "(default: %(default)s)")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="processes that split articles and find speakers (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--summary", action="store_true", help="print sentences per stance and tone")
    p.add_argument("--engine", choices=["local", "spark"], default="local",
                   help="spark: score on Spark, writing a Parquet folder (default: %(default)s)")
    p.add_argument("--master", help="Spark master URL for --engine spark (default: spark-submit's, "
                                    "else local[*])")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("export", help="write a registered model to a directory for offline use")
    p.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    p.add_argument("--out", required=True, help="folder to write, e.g. models/champion")
    p.add_argument("--force", action="store_true", help="replace the folder if it exists")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help="serve a model over HTTP with MLflow's scoring server "
                                     "(SIGTERM or Ctrl-C stops it and frees the port)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=5001, help="port to listen on (default: %(default)s)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("compare", help="evaluate every registered version and the baselines on the "
                                       "genre-shift and test splits")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--promote", action="store_true", help="give `champion` to the best version")
    p.add_argument("--no-baselines", action="store_true", help="skip the lexicon and zero-shot baselines")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("promote", help="make the challenger champion if it is at least as good")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("rollback", help="give champion back to the champion before it (again: one more step back)")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("summarise", help="per-article and per-actor tables from a scored file")
    p.add_argument("scores", help="output of stance score (.jsonl/.csv/.parquet)")
    p.add_argument("--out-dir", required=True, help="folder for articles, actors and actors_by_PERIOD tables")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="default: %(default)s")
    p.add_argument("--period", choices=["month", "week"], default="month",
                   help="time buckets when the rows carry a date (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite existing tables")
    p.set_defaults(func=cmd_summarise)

    p = sub.add_parser("report", help="one self-contained HTML page: highlighted articles, actors, charts")
    p.add_argument("scores", help="output of stance score (.jsonl/.csv/.parquet)")
    p.add_argument("--out", required=True, help="e.g. report.html")
    p.add_argument("--articles", nargs="+", help="the scored articles (files or folders) to show their own text; "
                                      "default: rebuilt from the scored sentences")
    p.add_argument("--per-page", type=int, default=50, help="articles per page (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing report")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("suggest", help="pick the sentences most worth labelling from a scored file")
    p.add_argument("--scores", required=True, help="output of stance score (.jsonl/.csv/.parquet)")
    p.add_argument("-n", type=int, default=200, help="how many (default: %(default)s)")
    p.add_argument("--out", required=True, help="file to write the sentences to")
    p.add_argument("--format", choices=["jsonl", "label-studio"], default="jsonl",
                   help="jsonl, or a Label Studio import file (default: %(default)s)")
    p.add_argument("--method", choices=["margin", "entropy"], default="margin",
                   help="uncertainty measure that ranks the sentences (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("weights", help="assemble and check an encoder's pretrained weights; print their folder")
    p.add_argument("--encoder", choices=["minilm", "mpnet"], default="mpnet", help="default: %(default)s")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("quickstart", help="train the default model if needed, score examples/articles")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe trained when no champion is registered "
                                                            "(default: %(default)s)")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--examples", default="examples/articles", help="articles to score (default: %(default)s)")
    p.add_argument("--out", default="scores/examples.jsonl", help="scored sentences (default: %(default)s)")
    p.set_defaults(func=cmd_quickstart)

    labels = sub.add_parser("labels", help="work with the labelled data").add_subparsers(dest="labels_command", required=True)
    p = labels.add_parser("validate", help="check every label file; print file:line errors")
    p.add_argument("labels", nargs="?", default="labels", help=LABELS_HELP)
    p.set_defaults(func=cmd_labels_validate)
    p = labels.add_parser("import", help="add a batch of new labels (jsonl, csv, Label Studio, Argilla)")
    p.add_argument("file", help="the export to import")
    p.add_argument("--batch", required=True, help="name of the new batch file labels/NAME.jsonl")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--format", choices=["jsonl", "csv", "label-studio", "argilla"], help="default: detected")
    p.add_argument("--skip-invalid", action="store_true", help="write the valid rows; bad ones to labels/rejects/")
    p.add_argument("--annotator", help="recorded on every imported row")
    p.set_defaults(func=cmd_labels_import)
    p = labels.add_parser("conflicts", help="list the same text labelled two ways")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.set_defaults(func=cmd_labels_conflicts)
    p = labels.add_parser("resolve", help="settle a conflict (appends to labels/resolutions/)")
    p.add_argument("row", help="a row id or the sentence text")
    p.add_argument("--stance", required=True, help="the stance every row with this text takes")
    p.add_argument("--tone", required=True, help="the tone every row with this text takes")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.set_defaults(func=cmd_labels_resolve)
    p = labels.add_parser("audit", help="likely label errors (out-of-fold) and unusual batches")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: %(default)s)")
    p.add_argument("--top", type=int, default=50, help="how many likely errors to list (default: %(default)s)")
    p.add_argument("--out", help="write the review list (JSONL) here")
    p.set_defaults(func=cmd_labels_audit)
    p = labels.add_parser("articles", help="rebuild the labelled articles as .txt files (for scoring)")
    p.add_argument("--labels", default="labels", help=LABELS_HELP)
    p.add_argument("--out", default="labels/articles", help="folder to write them to (default: %(default)s)")
    p.set_defaults(func=cmd_labels_articles)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before any heavy import: --help answers at once
    from .articles import ArticleError
    from .data import LabelError
    from .errors import RecipeError
    from .weights import WeightsError

    try:
        return args.func(args)
    except LabelError as err:
        for line in err.errors[:50]:
            print(f"error: {line}", file=sys.stderr)
        if len(err.errors) > 50:
            print(f"error: ... and {len(err.errors) - 50} more", file=sys.stderr)
        return 1
    except (ArticleError, RecipeError, WeightsError, FileExistsError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: finished documents are kept; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
