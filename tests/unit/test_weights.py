"""Assembling encoder weights from a split zip: the hash is checked, failures are one line."""

import hashlib
import io
import zipfile

import pytest

from stance.weights import MPNET_PARTS, WeightsError, assemble, mpnet_part_files


def _split_zip(tmp_path, parts=3):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny-encoder/config.json", '{"hidden_size": 4}')
        archive.writestr("tiny-encoder/model.safetensors", b"\x00" * 5000)
    blob = buffer.getvalue()
    size = len(blob) // parts + 1
    paths = []
    for i in range(parts):
        path = tmp_path / f"tiny.zip.{i + 1:03d}"
        path.write_bytes(blob[i * size : (i + 1) * size])
        paths.append(path)
    return paths, hashlib.sha256(blob).hexdigest()


def test_assemble_joins_parts_checks_hash_and_reuses_the_folder(tmp_path):
    parts, sha = _split_zip(tmp_path)
    cache = tmp_path / "cache"
    folder = assemble(parts, sha, cache, "tiny-encoder")
    assert folder == cache / f"tiny-encoder-{sha[:12]}"
    assert (folder / "config.json").read_text() == '{"hidden_size": 4}'
    assert (folder / "model.safetensors").stat().st_size == 5000
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no temp folders left behind
    for part in parts:  # once assembled, the parts are no longer read
        part.unlink()
    assert assemble(parts, sha, cache, "tiny-encoder") == folder


def test_assemble_refuses_a_wrong_hash_and_leaves_nothing(tmp_path):
    parts, sha = _split_zip(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match=rf"tiny-encoder: the assembled parts have SHA-256 {sha[:16]}\.\.\., expected 0000"):
        assemble(parts, "0" * 64, cache, "tiny-encoder")
    assert list(cache.iterdir()) == []


def test_assemble_refuses_parts_in_the_wrong_order(tmp_path):
    parts, sha = _split_zip(tmp_path)
    with pytest.raises(WeightsError, match="SHA-256"):
        assemble(list(reversed(parts)), sha, tmp_path / "cache", "tiny-encoder")


def test_a_missing_part_is_named(tmp_path):
    parts, sha = _split_zip(tmp_path)
    parts[1].unlink()
    with pytest.raises(WeightsError, match=r"tiny\.zip\.002: weight part missing"):
        assemble(parts, sha, tmp_path / "cache", "tiny-encoder")


def test_the_installed_mpnet_parts_are_found_in_order():
    parts = mpnet_part_files()
    assert len(parts) == len(MPNET_PARTS) == 5
    assert [p.name for p in parts] == [f"all-mpnet-base-v2.zip.{i:03d}" for i in range(1, 6)]


def test_weights_command_prints_the_checked_folder(capsys):
    from stance.cli import main

    assert main(["weights", "--encoder", "mpnet"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("mpnet: ") and out.endswith(f"all-mpnet-base-v2-{'eb8d12eec2a0'}")


def test_a_corrupt_part_is_a_one_line_error_from_the_command(tmp_path, monkeypatch, capsys):
    from stance import weights
    from stance.cli import main

    parts, _ = _split_zip(tmp_path)
    monkeypatch.setattr(weights, "mpnet_part_files", lambda: parts)  # real files, wrong content
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    assert main(["weights", "--encoder", "mpnet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: all-mpnet-base-v2: the assembled parts have SHA-256")
