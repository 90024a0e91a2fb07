import json

import pytest

from stance.data import (
    LabelError,
    dev_split,
    load_labels,
    normalise_text,
    read_test_docs,
    split_by_doc,
    to_dataset,
)
from stance.schema import STANCES, TONES

GOOD = {"id": "d1-00", "doc_id": "d1", "text": "The army said it repelled the attack.",
        "stance": "claim_of_success", "tone": "neutral", "speaker": "the army"}


def write(folder, rows, name="batch.jsonl"):
    path = folder / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def errors_for(tmp_path, rows):
    write(tmp_path, rows)
    with pytest.raises(LabelError) as err:
        load_labels(tmp_path)
    return err.value.errors


def test_valid_rows_load(tmp_path):
    write(tmp_path, [GOOD, {**GOOD, "id": "d1-01", "text": "Fighting went on.", "stance": "none", "speaker": None}])
    assert [r["id"] for r in load_labels(tmp_path)] == ["d1-00", "d1-01"]


def test_unknown_label_names_line_and_allowed_values(tmp_path):
    errors = errors_for(tmp_path, [GOOD, {**GOOD, "id": "d1-01", "text": "Other.", "stance": "warning"}])
    assert errors == [f"{tmp_path / 'batch.jsonl'}:2: unknown stance 'warning' (allowed: {', '.join(STANCES)})"]


def test_unknown_tone(tmp_path):
    errors = errors_for(tmp_path, [{**GOOD, "tone": "angry"}])
    assert errors == [f"{tmp_path / 'batch.jsonl'}:1: unknown tone 'angry' (allowed: {', '.join(TONES)})"]


def test_empty_text_and_missing_field(tmp_path):
    missing = {k: v for k, v in GOOD.items() if k != "tone"}
    errors = errors_for(tmp_path, [{**GOOD, "text": "  "}, {**missing, "id": "d1-02"}])
    assert errors[0].endswith("batch.jsonl:1: empty text")
    assert errors[1].endswith("batch.jsonl:2: missing field(s) tone (required: id, doc_id, text, stance, tone, speaker)")


def test_duplicate_id(tmp_path):
    errors = errors_for(tmp_path, [GOOD, {**GOOD, "text": "Another sentence entirely."}])
    assert errors == [f"{tmp_path / 'batch.jsonl'}:2: duplicate id 'd1-00' (first at {tmp_path / 'batch.jsonl'}:1)"]


def test_same_text_with_other_labels_across_files(tmp_path):
    write(tmp_path, [GOOD], "a.jsonl")
    write(tmp_path, [{**GOOD, "id": "x-00", "text": "the army said it  repelled the attack.", "stance": "none"}], "b.jsonl")
    with pytest.raises(LabelError) as err:
        load_labels(tmp_path)
    assert "b.jsonl:1: same text as" in str(err.value) and "(none/neutral vs claim_of_success/neutral)" in str(err.value)


def test_broken_json_is_reported_with_line(tmp_path):
    errors = errors_for(tmp_path, [GOOD, '{"id": "d1-01", "text": '])
    assert errors[0].startswith(f"{tmp_path / 'batch.jsonl'}:2: broken JSON")


def test_normalise_text_folds_case_space_and_quotes():
    assert normalise_text("“No  Threat,” he said") == normalise_text('"no threat," He said')


def test_split_by_doc_and_dev_split_keep_documents_whole(all_rows):
    test_docs = read_test_docs("labels")
    train, test = split_by_doc(all_rows, test_docs)
    assert {r["doc_id"] for r in train}.isdisjoint({r["doc_id"] for r in test})
    fit, dev = dev_split(train, fraction=0.2)
    assert {r["doc_id"] for r in fit}.isdisjoint({r["doc_id"] for r in dev})
    assert 0.1 < len({r["doc_id"] for r in dev}) / len({r["doc_id"] for r in train}) < 0.3
    assert dev_split(train, fraction=0.2) == (fit, dev)  # stable


def test_to_dataset_uses_class_labels():
    ds = to_dataset([{**GOOD, "_file": "x", "_line": 1}])
    assert ds.features["stance"].names == list(STANCES)
    assert ds.features["tone"].names == list(TONES)
    assert ds[0]["stance"] == STANCES.index("claim_of_success")
