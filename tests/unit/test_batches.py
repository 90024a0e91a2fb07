"""Importing label batches: formats, validation with file:line errors, merge rules, no partial writes."""

import json
import shutil

import pytest

from stance.batches import import_batch, list_conflicts, resolve
from stance.data import LabelError, load_labels, load_training_labels


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def label_studio_task(text, stance, tone, task_id=1):
    result = [{"from_name": h, "to_name": "text", "type": "choices", "value": {"choices": [v]}}
              for h, v in (("stance", stance), ("tone", tone)) if v]
    return {"id": task_id, "data": {"text": text}, "annotations": [{"id": 9, "result": result}]}


def test_csv_import_skips_same_counts_conflicts_and_keeps_test_text_out(labels, tmp_path, seed_rows):
    src = tmp_path / "new.csv"
    src.write_text(
        "text,stance,tone,speaker,doc_id\n"
        '"The army said it had repelled the attack on the bridge.",claim_of_success,neutral,the army,x\n'
        '"the army said it had  repelled the attack on the bridge.",none,neutral,,x\n'
        '"""There is no threat to the harbour,"" the port chief said.",denial,confident,the port chief,x\n'
        '"Rebels urged residents to leave the town before dusk.",appeal,neutral,rebels,x\n'
    )
    report = import_batch(src, "week-47", labels=labels)
    assert (report.written, report.skipped_same, report.in_test_split, len(report.conflicts)) == (2, 1, 1, 1)
    written = [json.loads(x) for x in (labels / "week-47.jsonl").read_text().splitlines()]
    assert [r["text"][:10] for r in written] == ["the army s", "Rebels urg"]
    assert all(r["source"] == "new.csv" for r in written)
    # the conflict is listed and both rows stay out of training until resolved
    assert len(list_conflicts(labels)) == 1
    with pytest.raises(LabelError, match="same text as"):
        load_labels(labels)
    rows, conflicts = load_training_labels(labels)
    assert len(conflicts) == 1 and not any("repelled" in r["text"] for r in rows)
    assert resolve("a-00", "claim_of_success", "neutral", labels) == 2
    assert list_conflicts(labels) == []
    assert sum("repelled" in r["text"] for r in load_labels(labels)) == 2
    assert (labels / "seed.jsonl").read_text() == "".join(json.dumps(r) + "\n" for r in seed_rows)


def test_label_studio_and_argilla_exports(labels, tmp_path):
    ls = tmp_path / "ls.json"
    ls.write_text(json.dumps([label_studio_task("The envoy called on both sides to hold fire.", "appeal", "neutral")]))
    assert import_batch(ls, "ls-1", labels=labels).written == 1
    argilla = tmp_path / "argilla.json"
    argilla.write_text(json.dumps([
        {"id": "r1", "fields": {"text": "The ministry dismissed the report as invented."},
         "responses": {"stance": [{"value": "denial", "user_id": "u"}], "tone": [{"value": "hostile", "user_id": "u"}]},
         "metadata": {"doc_id": "m1", "speaker": "the ministry"}, "status": "completed"},
        {"id": "r2", "text": "Drones were shot down over the port, the navy said.",
         "stance.responses": ["claim_of_success"], "tone.responses": ["neutral"]},
    ]))
    report = import_batch(argilla, "argilla-1", labels=labels)
    rows = [json.loads(x) for x in (labels / "argilla-1.jsonl").read_text().splitlines()]
    assert report.written == 2 and rows[0]["doc_id"] == "m1" and rows[1]["stance"] == "claim_of_success"


@pytest.mark.parametrize("name,content,message", [
    ("bad.jsonl", ('{"id": "n1", "doc_id": "n", "text": "A new sentence was written.", "stance": "warning", '
                   '"tone": "neutral", "speaker": null}\n'), "bad.jsonl:1: unknown stance 'warning' (allowed: "),
    ("empty.csv", "text,stance,tone\n,appeal,neutral\n", "empty.csv:2: empty text"),
    ("broken.jsonl", '{"id": "n1", "text": "Half a row\n', "broken.jsonl:1: broken JSON"),
    ("ls.json", json.dumps([label_studio_task("The envoy called for calm in the city.", "appeal", None)]),
     "ls.json:1: task 1 has no 'tone' choice (allowed: hostile, conciliatory, alarmed, confident, neutral)"),
    ("cols.csv", "sentence,stance\nHello there again.,none\n", "cols.csv:1: missing column(s) text, tone"),
])
def test_bad_imports_are_refused_and_change_nothing(labels, tmp_path, name, content, message):
    src = tmp_path / name
    src.write_text(content)
    before = snapshot(labels)
    with pytest.raises(LabelError) as err:
        import_batch(src, "refused", labels=labels)
    assert message in str(err.value)
    assert snapshot(labels) == before


def test_skip_invalid_writes_good_rows_and_rejects_the_rest(labels, tmp_path):
    src = tmp_path / "mixed.csv"
    src.write_text("text,stance,tone\nThe mayor begged the world for help.,appeal,alarmed\nOops.,maybe,neutral\n")
    report = import_batch(src, "mixed", labels=labels, skip_invalid=True)
    assert (report.written, report.rejected) == (1, 1)
    assert "unknown stance 'maybe'" in (labels / "rejects" / "mixed.jsonl").read_text()


def test_existing_batch_is_never_replaced(labels, tmp_path):
    shutil.copy(labels / "seed.jsonl", tmp_path / "copy.jsonl")
    with pytest.raises(LabelError, match="batch already exists"):
        import_batch(tmp_path / "copy.jsonl", "seed", labels=labels)


def test_import_keeps_a_rows_own_source_and_date(labels, tmp_path):
    src = tmp_path / "w09.jsonl"
    rows = [{"doc_id": "w", "text": "Rebels urged residents to leave the town before dusk.", "stance": "appeal",
             "tone": "alarmed", "speaker": "rebels", "source": "written", "added": "2026-11-01"},
            {"doc_id": "w", "text": "The ministry said the bridge had reopened to traffic.",
             "stance": "claim_of_success", "tone": "neutral", "speaker": "the ministry"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    import_batch(src, "round-2", labels=labels)
    written = [json.loads(x) for x in (labels / "round-2.jsonl").read_text().splitlines()]
    assert (written[0]["source"], written[0]["added"]) == ("written", "2026-11-01")
    assert written[1]["source"] == "w09.jsonl" and written[1]["added"] != "2026-11-01"
