"""The batch scorer under hostile use: concurrent runs, kills at any point, bad rows and files.

Every test runs real `stance score` processes on real files with a real TF-IDF model saved to
disk, and checks the rows that come out against a reference run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = ["doc_id", "sentence_index"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tfidf_model):
    from stance.models import save_model_dir

    return save_model_dir(tfidf_model, tmp_path_factory.mktemp("model") / "tfidf")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[dict]:
    """Forty real articles (the example articles, each under three ids), as JSONL rows."""
    rows = [json.loads(line) for line in (ROOT / "examples/articles/more_articles.jsonl").read_text().splitlines()]
    rows += [{"id": p.stem, "text": p.read_text()} for p in sorted((ROOT / "examples/articles").glob("*.txt"))]
    return [{**r, "id": f"{r['id']}-{k}", "source": f"feed-{k}"} for k in range(3) for r in rows][:40]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def score(*args, cwd):
    return subprocess.run([sys.executable, "-m", "stance.cli", "score", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)


def read(path: Path) -> pd.DataFrame:
    frame = pd.read_json(path, lines=True, dtype=False)
    return frame.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, corpus, model_dir):
    """The rows of one undisturbed run over the corpus."""
    folder = tmp_path_factory.mktemp("reference")
    out = folder / "ref.jsonl"
    result = score(write_jsonl(folder / "corpus.jsonl", corpus), "--model", model_dir, "--out", out, cwd=folder)
    assert result.returncode == 0, result.stderr
    frame = read(out)
    assert frame["doc_id"].nunique() == len(corpus) and not frame.duplicated(KEY).any()
    return frame


def start_on_fifo(folder: Path, model_dir: Path, out: Path, *extra) -> tuple[subprocess.Popen, Path]:
    """A scorer reading articles from a named pipe: it holds its output until the pipe closes."""
    fifo = folder / "feed.jsonl"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "stance.cli", "score", str(fifo), "--model", str(model_dir),
                                "--out", str(out), *extra], cwd=folder, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    return process, fifo


def wait_for(condition, process, seconds=300):
    deadline = time.time() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "timed out"
        time.sleep(0.1)


def test_second_scorer_on_the_same_output_refuses_and_the_first_finishes(tmp_path, corpus, model_dir, reference):
    out = tmp_path / "scores.jsonl"
    first, fifo = start_on_fifo(tmp_path, model_dir, out)
    with open(fifo, "w") as feed:  # blocks until the first scorer has opened it: it holds the lock
        wait_for(lambda: out.with_name(".scores.jsonl.lock").exists(), first)
        second = score(write_jsonl(tmp_path / "same.jsonl", corpus), "--model", model_dir, "--out", out,
                       "--force", cwd=tmp_path)
        assert second.returncode == 1
        assert second.stderr.strip().splitlines()[-1].startswith(f"error: {out}: another stance score (pid ")
        feed.write("".join(json.dumps(r) + "\n" for r in corpus))
    assert first.wait(timeout=600) == 0, first.communicate()
    pd.testing.assert_frame_equal(read(out), reference)


@pytest.mark.parametrize("parts_before_kill", [1, 3])
def test_kill_9_mid_run_then_rerun_gives_the_reference_rows(tmp_path, corpus, model_dir, reference,
                                                            parts_before_kill):
    out = tmp_path / "scores.jsonl"
    process, fifo = start_on_fifo(tmp_path, model_dir, out, "--checkpoint-every", "1")
    work = tmp_path / ".scores.jsonl.partial"
    with open(fifo, "w") as feed:
        feed.writelines(json.dumps(row) + "\n" for row in corpus[:10])
        feed.flush()
        wait_for(lambda: len(list(work.glob("part-*.parquet"))) >= parts_before_kill, process)
        process.send_signal(signal.SIGKILL)
        process.wait()
    # a part cut off while it was being written is left as a temporary file: it must not count
    (work / "part-000099.tmp").write_bytes(b"PAR1 half a part")
    rerun = score(write_jsonl(tmp_path / "all.jsonl", corpus), "--model", model_dir, "--out", out, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed from an interrupted run" in rerun.stdout
    pd.testing.assert_frame_equal(read(out), reference)
    assert not work.exists()


def test_kill_9_at_many_points_never_loses_or_repeats_rows(tmp_path, corpus, model_dir, reference):
    """Kills at staggered times land in loading, scoring, assembling or after the end."""
    source = write_jsonl(tmp_path / "corpus.jsonl", corpus)
    out = tmp_path / "scores.jsonl"
    for delay in (0.5, 2.0, 4.0, 6.0, 8.0):
        process = subprocess.Popen([sys.executable, "-m", "stance.cli", "score", str(source), "--model",
                                    str(model_dir), "--out", str(out), "--checkpoint-every", "50"],
                                   cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if out.exists():
            break
    if not out.exists():
        rerun = score(source, "--model", model_dir, "--out", out, cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stderr
    pd.testing.assert_frame_equal(read(out), reference)


def test_output_inside_the_input_folder_is_not_read_back(tmp_path, corpus, model_dir, reference):
    folder = tmp_path / "d"
    folder.mkdir()
    write_jsonl(folder / "corpus.jsonl", corpus)
    for _ in range(2):
        result = score(folder, "--model", model_dir, "--out", folder / "scores.jsonl", "--force", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(read(folder / "scores.jsonl"), reference)
    # an earlier output under another name is recognised and skipped, not scored as articles
    shutil.copy(folder / "scores.jsonl", folder / "old.jsonl")
    result = score(folder, "--model", model_dir, "--out", tmp_path / "again.jsonl", cwd=tmp_path)
    assert result.returncode == 2 and "old.jsonl: a stance scores file, not articles" in result.stderr
    pd.testing.assert_frame_equal(read(tmp_path / "again.jsonl"), reference)


def test_bad_lines_are_named_and_the_good_articles_kept(tmp_path, corpus, model_dir, reference):
    lines = [*corpus[:20], '{"id": "broken", "text": ', {"id": "no-text"}, {"id": "num", "text": 42},
             {"id": "null", "text": None}, "[1, 2]", *corpus[20:]]
    result = score(write_jsonl(tmp_path / "mixed.jsonl", lines), "--model", model_dir, "--out",
                   tmp_path / "s.jsonl", cwd=tmp_path)
    assert result.returncode == 2
    err = result.stderr
    for n, problem in [(21, "broken JSON"), (22, "'text' must be a string, got missing"),
                       (23, "'text' must be a string, got number 42"), (24, "'text' must be a string, got null"),
                       (25, "expected a JSON object, got array")]:
        assert f"skipped: {tmp_path / 'mixed.jsonl'}:{n}: {problem}" in err
    pd.testing.assert_frame_equal(read(tmp_path / "s.jsonl"), reference)


@pytest.mark.parametrize("args,message", [
    (["--batch-size", "-1"], "argument --batch-size: -1 must be 1 or more"),
    (["--workers", "0"], "argument --workers: 0 must be 1 or more"),
])
def test_nonsense_numbers_are_refused(tmp_path, corpus, model_dir, args, message):
    result = score(write_jsonl(tmp_path / "c.jsonl", corpus[:2]), "--model", model_dir, "--out",
                   tmp_path / "s.jsonl", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and not (tmp_path / "s.jsonl").exists()


def test_a_folder_as_output_is_refused_before_any_work(tmp_path, corpus, model_dir):
    (tmp_path / "out.jsonl").mkdir()
    result = score(write_jsonl(tmp_path / "c.jsonl", corpus[:2]), "--model", model_dir, "--out",
                   tmp_path / "out.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'out.jsonl'}: is a folder; --out takes a file name " \
                                    "ending in .jsonl, .csv, .parquet"


def test_upper_case_and_markdown_files_are_articles(tmp_path, model_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    examples = sorted((ROOT / "examples/articles").glob("*.txt"))[:2]
    shutil.copy(examples[0], folder / "ONE.TXT")
    shutil.copy(examples[1], folder / "two.md")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    result = score(folder, "--model", model_dir, "--out", tmp_path / "s.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(read(tmp_path / "s.jsonl")["doc_id"]) == {"ONE", "two"}
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF-1.4")
    result = score(empty, "--model", model_dir, "--out", tmp_path / "e.jsonl", cwd=tmp_path)
    assert result.returncode == 1 and "no article files found" in result.stderr


def test_duplicate_and_null_ids_give_unique_keys(tmp_path, corpus, model_dir):
    rows = [{"id": "same", "text": corpus[0]["text"]}, {"id": "same", "text": corpus[1]["text"]},
            {"id": None, "text": corpus[2]["text"]}]
    result = score(write_jsonl(tmp_path / "dups.jsonl", rows), "--model", model_dir, "--out",
                   tmp_path / "s.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "duplicate id 'same' scored as 'same#2'" in result.stderr
    frame = read(tmp_path / "s.jsonl")
    assert set(frame["doc_id"]) == {"same", "same#2", "dups:3"} and not frame.duplicated(KEY).any()


def test_outputs_honour_the_umask_and_carry_input_fields(tmp_path, corpus, model_dir):
    source = write_jsonl(tmp_path / "c.jsonl", [{**corpus[0], "date": "2026-11-02", "url": "https://x.test/a",
                                                 "tags": ["a", "b"], "stance": "kept apart"}])
    for suffix in (".jsonl", ".csv", ".parquet"):
        out = tmp_path / f"s{suffix}"
        command = (f"umask 022 && exec {sys.executable} -m stance.cli score {source} "
                   f"--model {model_dir} --out {out}")
        result = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        frame = {".jsonl": read, ".csv": pd.read_csv, ".parquet": pd.read_parquet}[suffix](out)
        assert set(frame["date"]) == {"2026-11-02"} and set(frame["url"]) == {"https://x.test/a"}
        assert set(frame["tags"]) == {'["a", "b"]'} and set(frame["input_stance"]) == {"kept apart"}
        assert set(frame["quote"]) <= {"direct", "reported", "none"}
