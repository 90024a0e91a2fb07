"""Issue 14, case 14: odd but real exports give one-line errors, not AttributeError tracebacks;
an imported conflict is kept (nothing is lost) and `stance labels validate` agrees with
`stance labels import` that the labels are usable."""

import json
import re


def task(text, stance_value, tone="neutral", task_id=1):
    return {"id": task_id, "data": {"text": text}, "annotations": [{"result": [
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": stance_value},
        {"from_name": "tone", "to_name": "text", "type": "choices", "value": {"choices": [tone]}}]}]}


def test_label_studio_value_null_is_a_one_line_error(stance, labels, tmp_path):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task("Rebels urged residents to leave.", {"choices": ["appeal"]}),
                                  task("Talks resumed on Monday.", None, task_id=2)], indent=1))
    before = sorted(p.name for p in labels.rglob("*"))
    result = stance("labels", "import", export, "--batch", "ls", "--labels", labels, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.fullmatch(rf"error: {re.escape(str(export))}:\d+: task 2 has no 'stance' choice \(allowed: "
                        r"threat, denial, appeal, claim_of_success, none\)\n", result.stderr)
    assert sorted(p.name for p in labels.rglob("*")) == before  # nothing written

    result = stance("labels", "import", export, "--batch", "ls", "--labels", labels, "--skip-invalid", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "task 2 has no 'stance' choice" in result.stderr
    assert [json.loads(x)["text"] for x in (labels / "ls.jsonl").read_text().splitlines()] == [
        "Rebels urged residents to leave."]


def test_csv_row_with_an_extra_cell_is_rejected_on_one_line(stance, labels, tmp_path):
    src = tmp_path / "new.csv"
    src.write_text("text,stance,tone\n"
                   '"Rebels urged residents to leave the town.",appeal,neutral\n'
                   "The ministry said, as before, that it denied it,denial,neutral\n"
                   '"Talks resumed on Monday.",none,neutral\n')
    result = stance("labels", "import", src, "--batch", "wk", "--labels", labels, "--skip-invalid", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"rejected: {src}:3: 5 cells but the header has 3 (quote a text that holds a comma)" in result.stderr
    written = [json.loads(x)["text"] for x in (labels / "wk.jsonl").read_text().splitlines()]
    assert written == ["Rebels urged residents to leave the town.", "Talks resumed on Monday."]
    assert stance("labels", "validate", labels, cwd=tmp_path).returncode == 0


def test_an_imported_conflict_is_kept_and_validate_stays_green(stance, labels, tmp_path, seed_rows):
    src = tmp_path / "new.jsonl"
    src.write_text(json.dumps({"text": seed_rows[0]["text"], "stance": "none", "tone": "neutral"}) + "\n")
    result = stance("labels", "import", src, "--batch", "second-opinion", "--labels", labels, cwd=tmp_path)
    assert result.returncode == 0 and "1 conflicts" in result.stdout
    assert "left out of training until settled with: stance labels resolve" in result.stderr
    assert (labels / "second-opinion.jsonl").exists()  # the second annotator's label is not lost

    result = stance("labels", "validate", labels, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 unresolved conflict(s) left out of training" in result.stdout
    assert "conflict: " in result.stderr and "same text as" in result.stderr

    broken = labels / "broken.jsonl"  # a real error still fails validation
    broken.write_text(json.dumps({"id": "b", "doc_id": "b", "text": "x", "stance": "angry", "tone": "neutral",
                                  "speaker": None}) + "\n")
    result = stance("labels", "validate", labels, cwd=tmp_path)
    assert result.returncode == 1 and f"{broken}:1: unknown stance 'angry'" in result.stderr
