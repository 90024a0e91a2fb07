"""Issue 14, case 16: `stance --help` answers before anything heavy is imported (it took ~6 s),
every option says what it does, `--version` exists, training says what it is doing, and the
quick start says where the MLflow store is and how to browse it."""

import argparse
import subprocess
import sys
from importlib.metadata import version

import pytest

from stance.cli import build_parser

HEAVY = ("mlflow", "pandas", "torch", "numpy", "sklearn", "onnxruntime")


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["score", "--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(argv):
    code = ("import sys, stance.cli\ntry:\n    stance.cli.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_and_argument_has_help():
    missing = [f"{parser.prog}: {'/'.join(a.option_strings) or a.dest}"
               for parser in _parsers(build_parser()) for a in parser._actions
               if not isinstance(a, argparse._SubParsersAction) and not a.help]
    assert missing == []


def test_version():
    result = subprocess.run([sys.executable, "-m", "stance.cli", "--version"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == f"stance {version('stance')}"


@pytest.mark.slow
def test_training_says_what_it_is_doing_and_where_runs_go(trained_store):
    err = trained_store["train"].stderr
    steps = ["loading labels from", "training tfidf on", "evaluating on the test split", "calibrating on the dev",
             f"logging the run and the model to {trained_store['uri']}"]
    positions = [err.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), err
    assert f"browse them with: mlflow ui --backend-store-uri {trained_store['uri']}" in err


@pytest.mark.slow
def test_quickstart_says_where_the_store_is(stance, store_copy, articles_dir):
    result = stance("quickstart", "--examples", articles_dir, "--out", "out.jsonl", cwd=store_copy["folder"])
    assert result.returncode == 0, result.stderr
    assert (f"runs and models are in {store_copy['uri']}; browse them with: mlflow ui --backend-store-uri "
            f"{store_copy['uri']}") in result.stdout
